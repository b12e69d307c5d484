using Selene.Engines.Access;

namespace Selene.Engines.Tests;

/// <summary>The AP schema lifecycle and the authoring review that gates activation (reference §7.1, §7.4), as a table.</summary>
public sealed class AccessProfileDeciderTests
{
    private const string Tenant = "acme";
    private static readonly ApProfilePayload Payload = new("Warehouse lead", ["CAPREQ_MANAGE"], AccessMode.W, false);

    private static ApContext Ctx(bool platformOperator = false, ApReviewState? review = null, string tenant = Tenant) =>
        new(tenant, "alice", new UnixNanos(1000), platformOperator, review);

    /// <summary>A profile whose version 1 is in <paramref name="v1"/> (null: never drafted), and which has <paramref name="current"/> as its current version.</summary>
    private static ApProfileState Profile(ApLifecycle? v1, int? current = null, ApLifecycle? v2 = null)
    {
        var versions = new Dictionary<int, ApVersionState>();
        if (v1 is { } l1) versions[1] = new ApVersionState(1, l1, Payload, 1);
        if (v2 is { } l2) versions[2] = new ApVersionState(2, l2, Payload, 1);
        return new ApProfileState(versions, current ?? (v1 == ApLifecycle.Active ? 1 : v2 == ApLifecycle.Active ? 2 : null));
    }

    private static ApCommand Command(string kind, int version = 1, ApScope scope = ApScope.Tenant) => kind switch
    {
        "create" => new CreateApDraft(scope, "ap1", version, Payload, "why"),
        "update" => new UpdateApDraft(scope, "ap1", version, Payload with { AccessMode = AccessMode.A }, "why"),
        "activate" => new ActivateAp(scope, "ap1", version, "why"),
        "retire" => new RetireAp(scope, "ap1", version, "why"),
        "channel" => new ChooseReviewChannel(scope, "ap1", version, ReviewChannel.PhoneDesktop, "why"),
        "rule" => new RecordRuleAction(scope, "ap1", version, RuleAction.Agree, "rule.a", null, null, null, "why"),
        "confirm" => new ConfirmReview(scope, "ap1", version, ConfirmationState.ConfirmedForActivation, "why"),
        "decline" => new ConfirmReview(scope, "ap1", version, ConfirmationState.Declined, "why"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static ReasonCode? Outcome(Decision<ApEvent> d) => d switch
    {
        Decision<ApEvent>.Accepted => null,
        Decision<ApEvent>.Rejected r => r.Reason,
        _ => throw new InvalidOperationException(),
    };

    public static TheoryData<string, ApLifecycle?, string?> Lifecycle => new()
    {
        // command, state of version 1 (null: never drafted), expected refusal (null: accepted)
        { "create", null, null },
        { "create", ApLifecycle.Draft, "ACCESS_AP_TRANSITION_INVALID" },
        { "create", ApLifecycle.Active, "ACCESS_AP_TRANSITION_INVALID" },
        { "create", ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
        { "update", null, "ACCESS_SCHEMA_REF_MISSING" },
        { "update", ApLifecycle.Draft, null },
        { "update", ApLifecycle.Active, "ACCESS_AP_TRANSITION_INVALID" },
        { "update", ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
        { "activate", null, "ACCESS_SCHEMA_REF_MISSING" },
        { "activate", ApLifecycle.Draft, null },
        { "activate", ApLifecycle.Active, "ACCESS_AP_TRANSITION_INVALID" },
        { "activate", ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
        { "retire", null, "ACCESS_SCHEMA_REF_MISSING" },
        { "retire", ApLifecycle.Draft, null },
        { "retire", ApLifecycle.Active, null },
        { "retire", ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
        { "channel", null, "ACCESS_SCHEMA_REF_MISSING" },
        { "channel", ApLifecycle.Draft, null },
        { "channel", ApLifecycle.Active, "ACCESS_AP_TRANSITION_INVALID" },
        { "channel", ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
    };

    [Theory]
    [MemberData(nameof(Lifecycle))]
    public void Lifecycle_IsMonotone_AndNeedsAnExistingVersion(string command, ApLifecycle? v1, string? expected) =>
        Assert.Equal(expected, Outcome(ProfileDecider.Decide(Profile(v1), Command(command), Ctx()))?.Name);

    public static TheoryData<string, ConfirmationState?, int, string?> Review => new()
    {
        // command on a DRAFT version, review state (null: none), rule actions recorded, expected refusal
        { "activate", null, 0, null },
        { "activate", ConfirmationState.ReviewInProgress, 2, "ACCESS_AP_ACTIVATION_CONFLICT" },
        { "activate", ConfirmationState.PendingActivationConfirmation, 2, "ACCESS_AP_ACTIVATION_CONFLICT" },
        { "activate", ConfirmationState.Declined, 2, "ACCESS_AP_ACTIVATION_CONFLICT" },
        { "activate", ConfirmationState.ConfirmedForActivation, 0, "ACCESS_AP_ACTIVATION_CONFLICT" },
        { "activate", ConfirmationState.ConfirmedForActivation, 1, null },
        { "channel", ConfirmationState.ReviewInProgress, 1, null },
        { "channel", ConfirmationState.PendingActivationConfirmation, 1, null },
        { "channel", ConfirmationState.ConfirmedForActivation, 1, "ACCESS_AP_TRANSITION_INVALID" },
        { "channel", ConfirmationState.Declined, 0, "ACCESS_AP_TRANSITION_INVALID" },
        { "rule", null, 0, "ACCESS_AP_TRANSITION_INVALID" },
        { "rule", ConfirmationState.ReviewInProgress, 0, null },
        { "rule", ConfirmationState.PendingActivationConfirmation, 1, null },
        { "rule", ConfirmationState.ConfirmedForActivation, 1, "ACCESS_AP_TRANSITION_INVALID" },
        { "rule", ConfirmationState.Declined, 1, "ACCESS_AP_TRANSITION_INVALID" },
        { "confirm", null, 0, "ACCESS_AP_TRANSITION_INVALID" },
        { "confirm", ConfirmationState.ReviewInProgress, 0, "ACCESS_AP_TRANSITION_INVALID" },
        { "confirm", ConfirmationState.ReviewInProgress, 1, null },
        { "confirm", ConfirmationState.PendingActivationConfirmation, 1, null },
        { "confirm", ConfirmationState.ConfirmedForActivation, 1, "ACCESS_AP_TRANSITION_INVALID" },
        { "decline", null, 0, null },
        { "decline", ConfirmationState.ReviewInProgress, 0, null },
        { "decline", ConfirmationState.Declined, 0, "ACCESS_AP_TRANSITION_INVALID" },
        { "update", ConfirmationState.PendingActivationConfirmation, 1, null },
        { "update", ConfirmationState.ConfirmedForActivation, 1, "ACCESS_AP_TRANSITION_INVALID" },
        { "update", ConfirmationState.Declined, 1, "ACCESS_AP_TRANSITION_INVALID" },
    };

    [Theory]
    [MemberData(nameof(Review))]
    public void AuthoringReview_GatesActivation_AndClosesWhenConfirmedOrDeclined(string command, ConfirmationState? state, int ruleActions, string? expected)
    {
        var review = state is { } s ? new ApReviewState(ReviewChannel.ReadOutLoud, s, 10, Enumerable.Range(20, ruleActions).Select(i => (long)i).ToArray()) : null;
        Assert.Equal(expected, Outcome(ProfileDecider.Decide(Profile(ApLifecycle.Draft), Command(command), Ctx(review: review)))?.Name);
    }

    [Fact]
    public void Activate_UnderAConfirmedReview_CarriesTheLineage_AndRetiresThePreviousCurrentVersion()
    {
        var review = new ApReviewState(ReviewChannel.PhoneDesktop, ConfirmationState.ConfirmedForActivation, 42, [7, 9]);
        var decision = Assert.IsType<Decision<ApEvent>.Accepted>(
            ProfileDecider.Decide(Profile(ApLifecycle.Active, v2: ApLifecycle.Draft), Command("activate", 2), Ctx(review: review)));
        Assert.Equal(AccessReasons.AccessApSchemaActivated, decision.Reason);
        var retired = Assert.IsType<ApVersionRetired>(decision.Events[0]);
        var activated = Assert.IsType<ApVersionActivated>(decision.Events[1]);
        Assert.Equal((1, 2, true), (retired.SchemaVersionId, retired.SupersededBy, retired.WasCurrent));
        Assert.Equal(new ApActivationLineage(42, 2, ProfileDecider.RuleActionSetRef([9, 7])), activated.Lineage);
        var after = decision.Events.Aggregate(Profile(ApLifecycle.Active, v2: ApLifecycle.Draft), ProfileDecider.Evolve);
        Assert.Equal((2, ApLifecycle.Retired, ApLifecycle.Active), (after.CurrentVersionId, after.Versions[1].Lifecycle, after.Versions[2].Lifecycle));
    }

    [Fact]
    public void Retire_OfTheCurrentVersion_ClearsIt()
    {
        var decision = Assert.IsType<Decision<ApEvent>.Accepted>(ProfileDecider.Decide(Profile(ApLifecycle.Active), Command("retire"), Ctx()));
        Assert.True(Assert.IsType<ApVersionRetired>(Assert.Single(decision.Events)).WasCurrent);
        Assert.Null(ProfileDecider.Evolve(Profile(ApLifecycle.Active), decision.Events[0]).CurrentVersionId);
    }

    [Theory]
    [InlineData(ApScope.Global, false, Tenant, "ACCESS_AP_SCOPE_VIOLATION")]
    [InlineData(ApScope.Global, true, Tenant, null)]
    [InlineData(ApScope.Tenant, false, Tenant, null)]
    [InlineData(ApScope.Tenant, true, "GLOBAL", "ACCESS_AP_SCOPE_VIOLATION")]
    public void GlobalScope_NeedsAPlatformOperator(ApScope scope, bool platformOperator, string tenant, string? expected)
    {
        var decision = ProfileDecider.Decide(ApProfileState.Empty, Command("create", scope: scope), Ctx(platformOperator, tenant: tenant));
        Assert.Equal(expected, Outcome(decision)?.Name);
        if (decision is Decision<ApEvent>.Accepted a) Assert.Equal(scope == ApScope.Global ? "GLOBAL" : tenant, a.Events[0].ScopeKey);
    }

    public static TheoryData<ApScope, ApProfilePayload, string?> Payloads => new()
    {
        { ApScope.Tenant, Payload, null },
        { ApScope.Tenant, Payload with { CapabilityAllowList = ["*"] }, null },
        { ApScope.Tenant, Payload with { DerivedFromGlobalProfileId = "ap.global" }, null },
        { ApScope.Global, Payload with { DerivedFromGlobalProfileId = "ap.global" }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { CapabilityAllowList = [] }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { CapabilityAllowList = ["*", "CAPREQ_MANAGE"] }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { CapabilityAllowList = ["capreq_manage"] }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { CapabilityAllowList = ["A", "A"] }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { CapabilityAllowList = Enumerable.Range(0, 129).Select(i => "A" + i).ToArray() }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { ProfileName = "" }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { ProfileName = new string('x', 129) }, "ACCESS_AP_SCHEMA_INVALID" },
        { ApScope.Tenant, Payload with { DerivedFromGlobalProfileId = "not an id" }, "ACCESS_AP_SCHEMA_INVALID" },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void ProfilePayload_IsBounded(ApScope scope, ApProfilePayload payload, string? expected) =>
        Assert.Equal(expected, ProfileDecider.ValidatePayload(scope, payload)?.Reason.Name);

    public static TheoryData<RuleAction, string?, string?, string?> RuleShapes => new()
    {
        // action, suggested_rule_ref, capability_id, expected refusal
        { RuleAction.AddCustomRule, null, "CAPREQ_MANAGE", null },
        { RuleAction.AddCustomRule, "rule.a", "CAPREQ_MANAGE", "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.AddCustomRule, null, null, "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.Edit, "rule.a", "CAPREQ_MANAGE", null },
        { RuleAction.Edit, "rule.a", null, "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.Edit, null, "CAPREQ_MANAGE", "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.Agree, "rule.a", null, null },
        { RuleAction.Disagree, "rule.a", null, null },
        { RuleAction.Delete, "rule.a", null, null },
        { RuleAction.Disable, "rule.a", null, null },
        { RuleAction.Agree, null, null, "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.Disable, "rule.a", "CAPREQ_MANAGE", "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.Agree, "free text is refused", null, "ACCESS_CONTRACT_VALIDATION_FAILED" },
        { RuleAction.AddCustomRule, null, "let them approve", "ACCESS_CONTRACT_VALIDATION_FAILED" },
    };

    [Theory]
    [MemberData(nameof(RuleShapes))]
    public void RuleAction_PayloadShape_FollowsTheReference(RuleAction action, string? suggested, string? capability, string? expected) =>
        Assert.Equal(expected, ProfileDecider.Validate(new RecordRuleAction(ApScope.Tenant, "ap1", 1, action, suggested, capability, null, null, "why"))?.Reason.Name);

    [Theory]
    [InlineData("", 1, "why")]
    [InlineData("ap 1", 1, "why")]
    [InlineData("ap1", 0, "why")]
    [InlineData("ap1", -3, "why")]
    [InlineData("ap1", 1, " ")]
    public void Command_Bounds_AreContractFailures(string profile, int version, string reason) =>
        Assert.Equal(AccessReasons.AccessContractValidationFailed, ProfileDecider.Validate(new RetireAp(ApScope.Tenant, profile, version, reason))?.Reason);

    [Fact]
    public void Confirm_ToReviewInProgress_IsNotAConfirmation() =>
        Assert.Equal(AccessReasons.AccessContractValidationFailed,
            ProfileDecider.Validate(new ConfirmReview(ApScope.Tenant, "ap1", 1, ConfirmationState.ReviewInProgress, "why"))?.Reason);

    [Fact]
    public void Decide_IsDeterministic()
    {
        var review = new ApReviewState(ReviewChannel.PhoneDesktop, ConfirmationState.ConfirmedForActivation, 5, [3]);
        var a = Assert.IsType<Decision<ApEvent>.Accepted>(ProfileDecider.Decide(Profile(ApLifecycle.Draft), Command("activate"), Ctx(review: review)));
        var b = Assert.IsType<Decision<ApEvent>.Accepted>(ProfileDecider.Decide(Profile(ApLifecycle.Draft), Command("activate"), Ctx(review: review)));
        Assert.Equal(a.Events, b.Events);
        Assert.Equal(ProfileDecider.RuleActionSetRef([1, 2, 3]), ProfileDecider.RuleActionSetRef([3, 1, 2]));
        Assert.NotEqual(ProfileDecider.RuleActionSetRef([1, 2]), ProfileDecider.RuleActionSetRef([12]));
        Assert.Matches("^ras_[0-9a-f]{32}$", ProfileDecider.RuleActionSetRef([1]));
    }

    [Fact]
    public void EvolveReview_FollowsChannelRuleActionsAndConfirmation()
    {
        var review = ProfileDecider.EvolveReview(null, new ApReviewChannelChosen(ApScope.Tenant, Tenant, "ap1", 1, "alice", 1, "why", ReviewChannel.ReadOutLoud), 10);
        var actions = ProfileDecider.EvolveRuleActions(null, new ApRuleActionRecorded(ApScope.Tenant, Tenant, "ap1", 1, "alice", 2, "why", RuleAction.Agree, "r", null, null, null), 31);
        review = ProfileDecider.EvolveReview(review, new ApReviewConfirmed(ApScope.Tenant, Tenant, "ap1", 1, "alice", 3, "why", ConfirmationState.ConfirmedForActivation), 11);
        var seen = ProfileDecider.ReviewOf(review, actions);
        Assert.Equal((ReviewChannel.ReadOutLoud, ConfirmationState.ConfirmedForActivation, 11L), (seen!.Channel, seen.State, seen.LatestReviewEventId));
        Assert.Equal([31L], seen.RuleActionIds);
        Assert.Null(ProfileDecider.ReviewOf(null, actions)); // no review stream, no review
    }
}
