using Selene.Engines.Access;
using Selene.Kernel.Access;

namespace Selene.Engines.Tests;

/// <summary>
/// Overrides, escalation cases, board votes and access instances, pure (reference §7.1, §7.3–§7.5): who may grant,
/// revoke, vote or write an instance, which events each decision appends, and how each stream folds.
/// </summary>
public sealed class AccessEscalationDeciderTests
{
    private static readonly UnixNanos Now = new(1_000_000_000);
    private static readonly GovernanceContext Ctx = new("acme", "alice", Now);
    private const string Policy = """{"members":["v1","v2"],"primitive":"UNANIMOUS_BOARD"}""";

    private static readonly AccessInstanceView Admin = new("ai_a", "acme", "alice", AccessMode.X, ["*"], true, true, DeviceTrustLevel.Dtl4, AccessLifecycle.Active);

    private static EscalationCaseState Case(EscalationStatus status = EscalationStatus.Open, string? policy = Policy) =>
        new("esc_00000000000000c1", "erin", "ai_e", "CAPREQ_APPROVE_COMMIT", "k1", new string('a', 64), "CAPREQ_MANAGE", AccessMode.A, AccessMode.W,
            EscalationTrigger.ApApprovalRequired, policy is null ? null : "board", policy is null ? null : 1, policy, status, null, null, "7", 10, null);

    private static BoardPolicyPayload? Parse(string json) => new(ApprovalPrimitive.UnanimousBoard, ["v1", "v2"]);

    private static CastBoardVote Vote(VoteValue value, string? voter = null) =>
        new("ACCESS_BOARD_VOTE_COMMIT", "esc_00000000000000c1", "board", value, "looked at it", voter);

    private static OverrideFacts Facts(string? instance = "ai_e", EscalationCaseState? escalation = null, IReadOnlyList<StoredOverride>? inForce = null) =>
        new(Admin, [], instance, escalation, inForce ?? []);

    private static GrantOverride Grant(OverrideType type, long? duration = null, string? caseId = null, string scope = "CAPREQ_MANAGE") =>
        new("ACCESS_OVERRIDE_TEMP_GRANT_COMMIT", "erin", null, scope, AccessMode.A, type, duration, caseId, null, "by phone");

    [Fact]
    public void Vote_FirstOfAUnanimousBoard_AppendsOnlyTheVote_Pending()
    {
        var accepted = Assert.IsType<Decision<GovernanceEvent>.Accepted>(
            EscalationDecider.Vote(null, Vote(VoteValue.Approve), Case(), Parse, Ctx with { ActorUserId = "v1" }));
        var vote = Assert.IsType<BoardVoteCast>(Assert.Single(accepted.Events));
        Assert.Equal((ThresholdStatus.Pending, "v1", 1), (vote.ThresholdStatus, vote.VoterUserId, vote.PolicyVersionId));
    }

    [Fact]
    public void Vote_ThatSatisfiesTheBoard_GrantsAOneShotForTheCase_ThenApprovesIt()
    {
        var votes = EscalationDecider.EvolveVotes(null,
            new BoardVoteCast("esc_00000000000000c1", "board", 1, "v1", VoteValue.Approve, "ok", ThresholdStatus.Pending, 5), 41);
        var accepted = Assert.IsType<Decision<GovernanceEvent>.Accepted>(
            EscalationDecider.Vote(votes, Vote(VoteValue.Approve), Case(), Parse, Ctx with { ActorUserId = "v2" }));
        Assert.Equal([typeof(BoardVoteCast), typeof(OverrideGranted), typeof(EscalationCaseResolved)], accepted.Events.Select(e => e.GetType()));
        var granted = (OverrideGranted)accepted.Events[1];
        // One board answer per case, whatever key the deciding voter used.
        Assert.Equal(Governance.OverrideId("acme", "ai_e", "ACCESS_BOARD_VOTE_COMMIT", "case:esc_00000000000000c1"), granted.OverrideId);
        Assert.Equal((OverrideType.OneShot, "CAPREQ_MANAGE", AccessMode.A, "esc_00000000000000c1", (long?)null),
            (granted.OverrideType, granted.Scope, granted.GrantMode, granted.EscalationCaseId, granted.ExpiresAt));
        var resolved = (EscalationCaseResolved)accepted.Events[2];
        Assert.Equal((EscalationStatus.Approved, ResolvedVia.BoardVote, granted.OverrideId), (resolved.Status, resolved.ResolvedVia, resolved.OverrideId));
    }

    [Fact]
    public void Vote_ThatMakesTheThresholdUnreachable_DeniesTheCase_WithoutAnOverride()
    {
        var accepted = Assert.IsType<Decision<GovernanceEvent>.Accepted>(
            EscalationDecider.Vote(null, Vote(VoteValue.Reject), Case(), Parse, Ctx with { ActorUserId = "v1" }));
        Assert.Equal([typeof(BoardVoteCast), typeof(EscalationCaseResolved)], accepted.Events.Select(e => e.GetType()));
        Assert.Equal(EscalationStatus.Denied, ((EscalationCaseResolved)accepted.Events[1]).Status);
    }

    public static TheoryData<string, string> VoteRefusals => new()
    {
        { "another voter named", "ACCESS_SCOPE_MISMATCH" },
        { "no case", "ACCESS_ESCALATION_CASE_NOT_FOUND" },
        { "closed case", "ACCESS_ESCALATION_CASE_CLOSED" },
        { "not a member", "ACCESS_BOARD_MEMBER_REQUIRED" },
        { "voted already", "ACCESS_BOARD_VOTE_DUPLICATE" },
        { "no policy bound", "ACCESS_BOARD_POLICY_INVALID" },
    };

    [Theory]
    [MemberData(nameof(VoteRefusals))]
    public void Vote_Refusals(string scenario, string reason)
    {
        var voted = EscalationDecider.EvolveVotes(null,
            new BoardVoteCast("esc_00000000000000c1", "board", 1, "v1", VoteValue.Approve, "ok", ThresholdStatus.Pending, 5), 41);
        var decision = scenario switch
        {
            "another voter named" => EscalationDecider.Vote(null, Vote(VoteValue.Approve, voter: "v2"), Case(), Parse, Ctx with { ActorUserId = "v1" }),
            "no case" => EscalationDecider.Vote(null, Vote(VoteValue.Approve), null, Parse, Ctx with { ActorUserId = "v1" }),
            "closed case" => EscalationDecider.Vote(null, Vote(VoteValue.Approve), Case(EscalationStatus.Approved), Parse, Ctx with { ActorUserId = "v1" }),
            "not a member" => EscalationDecider.Vote(null, Vote(VoteValue.Approve), Case(), Parse, Ctx),
            "voted already" => EscalationDecider.Vote(voted, Vote(VoteValue.Reject), Case(), Parse, Ctx with { ActorUserId = "v1" }),
            _ => EscalationDecider.Vote(null, Vote(VoteValue.Approve), Case(policy: null), Parse, Ctx with { ActorUserId = "v1" }),
        };
        Assert.Equal(reason, Assert.IsType<Decision<GovernanceEvent>.Rejected>(decision).Reason.Name);
    }

    [Fact]
    public void Grant_NamingAnOpenCase_WritesTheOverrideThenApprovesTheCase()
    {
        var accepted = Assert.IsType<Decision<GovernanceEvent>.Accepted>(
            EscalationDecider.Grant(Grant(OverrideType.OneShot, caseId: "esc_00000000000000c1"), "ovr_1", Facts(escalation: Case()), Ctx));
        Assert.Equal(AccessReasons.AccessOverrideTempGranted, accepted.Reason);
        var granted = Assert.IsType<OverrideGranted>(accepted.Events[0]);
        Assert.Equal(("ovr_1", "ai_e", "alice", Now.Value), (granted.OverrideId, granted.AccessInstanceId, granted.ApprovedByUserId, granted.StartsAt));
        Assert.Equal(EscalationStatus.Approved, Assert.IsType<EscalationCaseResolved>(accepted.Events[1]).Status);
    }

    public static TheoryData<string, string> GrantRefusals => new()
    {
        { "no instance", "ACCESS_INSTANCE_MISSING" },
        { "no case", "ACCESS_ESCALATION_CASE_NOT_FOUND" },
        { "closed case", "ACCESS_ESCALATION_CASE_CLOSED" },
        { "does not answer", "ACCESS_GRANT_EXCEEDS_AUTHORITY" },
        { "conflict", "ACCESS_OVERRIDE_CONFLICT" },
        { "to oneself", "ACCESS_SELF_GRANT_FORBIDDEN" },
    };

    [Theory]
    [MemberData(nameof(GrantRefusals))]
    public void Grant_Refusals(string scenario, string reason)
    {
        var clash = new StoredOverride("ovr_0", "erin", OverrideType.Permanent, "CAPREQ_MANAGE", AccessMode.A, false, 1, null, null);
        var caseGrant = Grant(OverrideType.OneShot, caseId: "esc_00000000000000c1");
        var decision = scenario switch
        {
            "no instance" => EscalationDecider.Grant(Grant(OverrideType.Permanent), "ovr_1", Facts(instance: null), Ctx),
            "no case" => EscalationDecider.Grant(caseGrant, "ovr_1", Facts(), Ctx),
            "closed case" => EscalationDecider.Grant(caseGrant, "ovr_1", Facts(escalation: Case(EscalationStatus.Denied)), Ctx),
            "does not answer" => EscalationDecider.Grant(caseGrant with { OverrideScope = "POSITION_MANAGE" }, "ovr_1", Facts(escalation: Case()), Ctx),
            "conflict" => EscalationDecider.Grant(Grant(OverrideType.Temporary, duration: 60_000), "ovr_1", Facts(inForce: [clash]), Ctx),
            _ => EscalationDecider.Grant(Grant(OverrideType.Permanent) with { TargetUserId = "alice" }, "ovr_1", Facts(), Ctx),
        };
        Assert.Equal(reason, Assert.IsType<Decision<GovernanceEvent>.Rejected>(decision).Reason.Name);
    }

    [Fact]
    public void Revoke_AnExpiredOverride_IsNotActive_AndARevokedOneFoldsToRevoked()
    {
        var granted = new OverrideGranted("ovr_1", "ai_e", "erin", OverrideType.Temporary, "CAPREQ_MANAGE", AccessMode.A, 10, Now.Value, null, "alice",
            "ACCESS_OVERRIDE_TEMP_GRANT_COMMIT", null, "an hour", 10);
        var state = EscalationDecider.EvolveOverride(null, granted);
        var revoke = new RevokeOverride("ACCESS_OVERRIDE_REVOKE_COMMIT", "erin", "ovr_1", null, null, "done");
        Assert.Equal(OverrideStatus.Expired, state.StatusAt(Now));
        Assert.Equal(AccessReasons.AccessOverrideNotActive, Assert.IsType<Decision<GovernanceEvent>.Rejected>(EscalationDecider.Revoke(state, revoke, Facts(), Ctx)).Reason);

        var earlier = Ctx with { Now = new UnixNanos(20) };
        var accepted = Assert.IsType<Decision<GovernanceEvent>.Accepted>(EscalationDecider.Revoke(state, revoke, Facts(), earlier));
        var revoked = EscalationDecider.EvolveOverride(state, Assert.IsType<OverrideRevoked>(Assert.Single(accepted.Events)));
        Assert.Equal((OverrideStatus.Revoked, 10L, 20L), (revoked.Status, revoked.CreatedAt, revoked.UpdatedAt));
    }

    [Fact]
    public void Votes_FoldInLedgerOrder_EachVoteRowIdItsEventId()
    {
        var first = EscalationDecider.EvolveVotes(null,
            new BoardVoteCast("esc_00000000000000c1", "board", 1, "v1", VoteValue.Approve, "ok", ThresholdStatus.Pending, 5), 41);
        var both = EscalationDecider.EvolveVotes(first,
            new BoardVoteCast("esc_00000000000000c1", "board", 1, "v2", VoteValue.Approve, "ok", ThresholdStatus.Satisfied, 6), 57);
        Assert.Equal([41L, 57L], both.Votes.Select(v => v.VoteRowId));
        Assert.Equal(ThresholdStatus.Satisfied, both.ThresholdStatus);
    }

    [Fact]
    public void Instance_UpsertOfOneself_IsRefused_AndAnUpsertKeepsTheFirstWriteTime()
    {
        var upsert = new UpsertInstance("zed", "staff", ["CAPREQ_MANAGE", "CAPREQ_MANAGE"], null, false, true, VerificationLevel.PasscodeTime,
            DeviceTrustLevel.Dtl3, AccessLifecycle.Active);
        var authority = new InstanceAuthority(Admin, [], null);
        Assert.Equal(AccessReasons.AccessSelfGrantForbidden, Assert.IsType<Decision<GovernanceEvent>.Rejected>(
            InstanceDecider.Upsert(upsert with { TargetUserId = "alice" }, authority, Ctx)).Reason);

        var first = Assert.IsType<AccessInstanceWritten>(Assert.Single(Assert.IsType<Decision<GovernanceEvent>.Accepted>(
            InstanceDecider.Upsert(upsert, authority, Ctx with { Now = new UnixNanos(5) })).Events));
        Assert.Equal((AccessMode.R, """{"allow":["CAPREQ_MANAGE"],"financial_auth":false}""", InstanceDecider.AccessInstanceId("acme", "zed")),
            (first.AccessMode, first.BaselinePermissionsJson, first.AccessInstanceId)); // the role's default mode; the list sorted and distinct
        var second = first with { AccessMode = AccessMode.W, CreatedAt = 9 };
        var state = InstanceDecider.Evolve(InstanceDecider.Evolve(null, first), second);
        Assert.Equal((AccessMode.W, 5L, 9L), (state.AccessMode, state.CreatedAt, state.UpdatedAt));
    }
}
