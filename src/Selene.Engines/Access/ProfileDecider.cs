using System.Globalization;
using System.Text.RegularExpressions;

namespace Selene.Engines.Access;

/// <summary>What the runtime hands the AP decider: who, when, and the facts it looked up.</summary>
/// <param name="PlatformOperator">The acting tenant is a platform operator (may write GLOBAL profiles).</param>
/// <param name="Review">The authoring review of the command's version (null: none exists).</param>
public sealed record ApContext(string TenantId, string ActorUserId, UnixNanos Now, bool PlatformOperator, ApReviewState? Review);

/// <summary>
/// PH2.ACCESS.002 "master access schema", pure (reference §7.1, §7.4): versioned access profiles in GLOBAL or
/// TENANT scope with a monotone DRAFT → ACTIVE → RETIRED lifecycle and one current version per (scope_key,
/// profile), and the authoring review that, once it exists for a version, gates that version's activation.
/// </summary>
public static partial class ProfileDecider
{
    public const string GlobalScopeKey = "GLOBAL";
    public const int MaxAllowList = 128;
    public const int MaxReasonLength = 256;
    public const string Wildcard = "*";

    /// <summary>requested_action tokens: UPPER_SNAKE, 1..128 characters.</summary>
    [GeneratedRegex("^[A-Z][A-Z0-9_]{0,127}$")]
    private static partial Regex TokenPattern();

    public static bool IsCapabilityToken(string? token) => token is not null && TokenPattern().IsMatch(token);

    /// <summary>"GLOBAL" for platform profiles, the tenant id for a tenant's own.</summary>
    public static string ScopeKey(ApScope scope, string tenantId) => scope == ApScope.Global ? GlobalScopeKey : tenantId;

    /// <summary>The stream of one profile in one scope: <c>GLOBAL:&lt;id&gt;</c> (shared by every tenant) or <c>TENANT:&lt;id&gt;</c>.</summary>
    public static string StreamId(ApScope scope, string accessProfileId) => WireNames.Of(scope) + ":" + accessProfileId;

    /// <summary>The review and rule-action streams of one version: <c>&lt;profile stream&gt;:&lt;version&gt;</c>.</summary>
    public static string VersionStreamId(ApScope scope, string accessProfileId, int schemaVersionId) =>
        StreamId(scope, accessProfileId) + ":" + schemaVersionId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether a profile (or version) stream id is a GLOBAL one.</summary>
    public static bool IsGlobalStream(string streamId) => streamId.StartsWith(WireNames.Of(ApScope.Global) + ":", StringComparison.Ordinal);

    /// <summary>A digest of the rule actions a version was activated under: <c>ras_</c> + 32 hex of their ids in ascending order.</summary>
    public static string RuleActionSetRef(IEnumerable<long> ruleActionIds) =>
        "ras_" + Hashing.ShortHash(32, ruleActionIds.Order().Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());

    /// <summary>Shape and bounds of a command, before storage is touched; null when valid.</summary>
    public static Decision<ApEvent>.Rejected? Validate(ApCommand command)
    {
        if (!IdRules.IsValidName(command.AccessProfileId))
            return Invalid(AccessReasons.AccessContractValidationFailed, "access_profile_id must be 1..64 of [A-Za-z0-9_.-]");
        if (command.SchemaVersionId <= 0)
            return Invalid(AccessReasons.AccessContractValidationFailed, "schema_version_id must be a positive integer");
        if (!IdRules.IsBoundedText(command.Reason, MaxReasonLength))
            return Invalid(AccessReasons.AccessContractValidationFailed, $"reason must be 1..{MaxReasonLength} printable chars");
        return command switch
        {
            CreateApDraft c => ValidatePayload(c.Scope, c.Payload),
            UpdateApDraft u => ValidatePayload(u.Scope, u.Payload),
            RecordRuleAction r => ValidateRuleAction(r),
            ConfirmReview { State: ConfirmationState.ReviewInProgress } =>
                Invalid(AccessReasons.AccessContractValidationFailed, "authoring_confirmation_state must be PENDING_ACTIVATION_CONFIRMATION, CONFIRMED_FOR_ACTIVATION or DECLINED"),
            _ => null,
        };
    }

    /// <summary>The bounded profile payload (reference KC.26.1): a name, a non-empty allow list of tokens or exactly ["*"], and derivation only for TENANT.</summary>
    public static Decision<ApEvent>.Rejected? ValidatePayload(ApScope scope, ApProfilePayload p)
    {
        if (!IdRules.IsBoundedText(p.ProfileName, 128))
            return Invalid(AccessReasons.AccessApSchemaInvalid, "profile_name must be 1..128 printable chars");
        var list = p.CapabilityAllowList;
        if (list.Count is 0 or > MaxAllowList)
            return Invalid(AccessReasons.AccessApSchemaInvalid, $"capability_allow_list holds 1..{MaxAllowList} requested_action tokens, or exactly [\"*\"]");
        if (list.Contains(Wildcard) && list.Count != 1)
            return Invalid(AccessReasons.AccessApSchemaInvalid, "\"*\" stands alone in capability_allow_list");
        if (list.FirstOrDefault(t => t != Wildcard && !IsCapabilityToken(t)) is { } bad)
            return Invalid(AccessReasons.AccessApSchemaInvalid, $"'{IdRules.Shorten(bad)}' is not a requested_action token (UPPER_SNAKE, at most 128 chars)");
        if (list.Distinct(StringComparer.Ordinal).Count() != list.Count)
            return Invalid(AccessReasons.AccessApSchemaInvalid, "capability_allow_list repeats a token");
        if (p.DerivedFromGlobalProfileId is { } derived)
        {
            if (scope == ApScope.Global)
                return Invalid(AccessReasons.AccessApSchemaInvalid, "a GLOBAL profile is not derived from another");
            if (!IdRules.IsValidName(derived))
                return Invalid(AccessReasons.AccessApSchemaInvalid, "derived_from_global_profile_id must be 1..64 of [A-Za-z0-9_.-]");
        }
        return null;
    }

    private static Decision<ApEvent>.Rejected? ValidateRuleAction(RecordRuleAction r)
    {
        // Reference §7.1: ADD_CUSTOM_RULE ⇒ capability_id and no suggested_rule_ref; AGREE/DISAGREE/DELETE/DISABLE ⇒
        // suggested_rule_ref (and no capability_id); EDIT ⇒ both. Refs are identifiers, never free text.
        var (needsSuggested, needsCapability) = r.Action switch
        {
            RuleAction.AddCustomRule => (false, true),
            RuleAction.Edit => (true, true),
            _ => (true, false),
        };
        var action = WireNames.Of(r.Action);
        if (needsSuggested != (r.SuggestedRuleRef is not null))
            return Invalid(AccessReasons.AccessContractValidationFailed, needsSuggested ? $"{action} needs suggested_rule_ref" : $"{action} takes no suggested_rule_ref");
        if (needsCapability != (r.CapabilityId is not null))
            return Invalid(AccessReasons.AccessContractValidationFailed, needsCapability ? $"{action} needs capability_id" : $"{action} takes no capability_id");
        if (r.SuggestedRuleRef is { } s && !IdRules.IsValidName(s, 128))
            return Invalid(AccessReasons.AccessContractValidationFailed, "suggested_rule_ref must be 1..128 of [A-Za-z0-9_.-]");
        if (r.CapabilityId is { } c && !IsCapabilityToken(c))
            return Invalid(AccessReasons.AccessContractValidationFailed, "capability_id must be a requested_action token (UPPER_SNAKE, at most 128 chars)");
        if (r.ConstraintRef is { } k && !IdRules.IsValidName(k, 128))
            return Invalid(AccessReasons.AccessContractValidationFailed, "constraint_ref must be 1..128 of [A-Za-z0-9_.-]");
        if (r.EscalationPolicyRef is { } e && !IdRules.IsValidName(e, 128))
            return Invalid(AccessReasons.AccessContractValidationFailed, "escalation_policy_ref must be 1..128 of [A-Za-z0-9_.-]");
        return null;
    }

    /// <summary>Decides one command against the profile's versions in the command's scope.</summary>
    public static Decision<ApEvent> Decide(ApProfileState profile, ApCommand command, ApContext ctx)
    {
        if (Validate(command) is { } invalid) return invalid;
        if (command.Scope == ApScope.Global && !ctx.PlatformOperator)
            return Invalid(AccessReasons.AccessApScopeViolation, "only a platform-operator tenant writes GLOBAL profiles");
        if (command.Scope == ApScope.Tenant && string.Equals(ctx.TenantId, GlobalScopeKey, StringComparison.Ordinal))
            return Invalid(AccessReasons.AccessApScopeViolation, "a tenant named GLOBAL cannot hold TENANT profiles: its scope_key would be the platform's");

        var key = ScopeKey(command.Scope, ctx.TenantId);
        var v = command.SchemaVersionId;
        var at = ctx.Now.Value;
        profile.Versions.TryGetValue(v, out var version);
        if (command is not CreateApDraft && version is null)
            return Invalid(AccessReasons.AccessSchemaRefMissing, $"version {v} of {command.AccessProfileId} was never drafted in scope {key}");

        switch (command)
        {
            case CreateApDraft c:
                if (version is not null) return Transition($"version {v} exists already ({WireNames.Of(version.Lifecycle)}): draft a new version");
                return Accept(new ApVersionWritten(c.Scope, key, c.AccessProfileId, v, ctx.ActorUserId, at, c.Reason, c.Payload, IsUpdate: false),
                    AccessReasons.AccessApSchemaDrafted);

            case UpdateApDraft u:
                if (version!.Lifecycle != ApLifecycle.Draft) return Transition($"version {v} is {WireNames.Of(version.Lifecycle)}: only a DRAFT is updated");
                if (ctx.Review is { State: ConfirmationState.ConfirmedForActivation or ConfirmationState.Declined } closed)
                    return Transition($"the review of version {v} is {WireNames.Of(closed.State)}: draft a new version");
                return Accept(new ApVersionWritten(u.Scope, key, u.AccessProfileId, v, ctx.ActorUserId, at, u.Reason, u.Payload, IsUpdate: true),
                    AccessReasons.AccessApSchemaUpdated);

            case ActivateAp a:
                if (version!.Lifecycle != ApLifecycle.Draft) return Transition($"version {v} is {WireNames.Of(version.Lifecycle)}: only a DRAFT is activated");
                ApActivationLineage? lineage = null;
                if (ctx.Review is { } review)
                {
                    // Reference §7.4: once a review exists it must be confirmed, with at least one rule action, before activation.
                    if (review.State != ConfirmationState.ConfirmedForActivation || review.RuleActionIds.Count == 0)
                        return Invalid(AccessReasons.AccessApActivationConflict,
                            $"the authoring review of version {v} is {WireNames.Of(review.State)} with {review.RuleActionIds.Count} rule action(s); activation needs CONFIRMED_FOR_ACTIVATION and at least one");
                    lineage = new ApActivationLineage(review.LatestReviewEventId, review.RuleActionIds.Count, RuleActionSetRef(review.RuleActionIds));
                }
                var activated = new ApVersionActivated(a.Scope, key, a.AccessProfileId, v, ctx.ActorUserId, at, a.Reason, lineage);
                if (profile.CurrentVersionId is { } previous)
                {
                    var superseded = new ApVersionRetired(a.Scope, key, a.AccessProfileId, previous, ctx.ActorUserId, at, a.Reason, SupersededBy: v, WasCurrent: true);
                    return new Decision<ApEvent>.Accepted([superseded, activated], AccessReasons.AccessApSchemaActivated, []);
                }
                return Accept(activated, AccessReasons.AccessApSchemaActivated);

            case RetireAp r:
                if (version!.Lifecycle == ApLifecycle.Retired) return Transition($"version {v} is RETIRED already");
                return Accept(new ApVersionRetired(r.Scope, key, r.AccessProfileId, v, ctx.ActorUserId, at, r.Reason, SupersededBy: null,
                    WasCurrent: profile.CurrentVersionId == v), AccessReasons.AccessApSchemaRetired);

            case ChooseReviewChannel ch:
                if (ReviewProblem(version!, ctx.Review) is { } chProblem) return chProblem;
                return Accept(new ApReviewChannelChosen(ch.Scope, key, ch.AccessProfileId, v, ctx.ActorUserId, at, ch.Reason, ch.Channel),
                    AccessReasons.AccessApReviewChannelChosen);

            case RecordRuleAction ra:
                if (ReviewProblem(version!, ctx.Review) is { } raProblem) return raProblem;
                if (ctx.Review?.Channel is null) return Transition($"choose a review channel for version {v} before recording rule actions");
                return Accept(new ApRuleActionRecorded(ra.Scope, key, ra.AccessProfileId, v, ctx.ActorUserId, at, ra.Reason, ra.Action, ra.SuggestedRuleRef,
                    ra.CapabilityId, ra.ConstraintRef, ra.EscalationPolicyRef), AccessReasons.AccessApRuleActionRecorded);

            case ConfirmReview cf:
                if (ReviewProblem(version!, ctx.Review) is { } cfProblem) return cfProblem;
                if (cf.State != ConfirmationState.Declined)
                {
                    if (ctx.Review?.Channel is null) return Transition($"choose a review channel for version {v} before confirming");
                    if (ctx.Review.RuleActionIds.Count == 0) return Transition($"record at least one rule action on version {v} before confirming");
                }
                if (ctx.Review?.State == cf.State) return Transition($"the review of version {v} is {WireNames.Of(cf.State)} already");
                return Accept(new ApReviewConfirmed(cf.Scope, key, cf.AccessProfileId, v, ctx.ActorUserId, at, cf.Reason, cf.State),
                    AccessReasons.AccessApReviewConfirmed);

            default:
                return Invalid(ReasonCodes.InputSchemaInvalid, "unknown command");
        }
    }

    /// <summary>Only a DRAFT version is reviewed, and a CONFIRMED or DECLINED review is closed.</summary>
    private static Decision<ApEvent>.Rejected? ReviewProblem(ApVersionState version, ApReviewState? review)
    {
        if (version.Lifecycle != ApLifecycle.Draft)
            return Transition($"version {version.SchemaVersionId} is {WireNames.Of(version.Lifecycle)}: only a DRAFT is reviewed");
        if (review is { State: ConfirmationState.ConfirmedForActivation or ConfirmationState.Declined })
            return Transition($"the review of version {version.SchemaVersionId} is {WireNames.Of(review.State)}: it is closed");
        return null;
    }

    /// <summary>Folds a schema event into the profile's versions and current version (review events leave it unchanged).</summary>
    public static ApProfileState Evolve(ApProfileState state, ApEvent e)
    {
        var versions = new Dictionary<int, ApVersionState>(state.Versions);
        switch (e)
        {
            case ApVersionWritten w:
                versions[w.SchemaVersionId] = new ApVersionState(w.SchemaVersionId, ApLifecycle.Draft, w.Payload, w.At);
                return state with { Versions = versions };
            case ApVersionActivated a:
                versions[a.SchemaVersionId] = versions[a.SchemaVersionId] with { Lifecycle = ApLifecycle.Active, LastEventAt = a.At };
                return new ApProfileState(versions, a.SchemaVersionId);
            case ApVersionRetired r:
                versions[r.SchemaVersionId] = versions[r.SchemaVersionId] with { Lifecycle = ApLifecycle.Retired, LastEventAt = r.At };
                return new ApProfileState(versions, state.CurrentVersionId == r.SchemaVersionId ? null : state.CurrentVersionId);
            default:
                return state;
        }
    }

    /// <summary>Folds a schema event into its profile stream (pure: the event and nothing else).</summary>
    public static ApProfileStream EvolveStream(ApProfileStream? stream, ApSchemaEvent e) =>
        new(e.Scope, e.ScopeKey, e.AccessProfileId, Evolve(stream?.Profile ?? ApProfileState.Empty, e));

    /// <summary>Folds a review event (with the id its ledger row received) into the version's review stream.</summary>
    public static ApReviewStream EvolveReview(ApReviewStream? review, ApReviewEvent e, long eventId) => e switch
    {
        ApReviewChannelChosen c => new(c.Scope, c.ScopeKey, c.AccessProfileId, c.SchemaVersionId, c.Channel, ConfirmationState.ReviewInProgress, eventId),
        ApReviewConfirmed c => new(c.Scope, c.ScopeKey, c.AccessProfileId, c.SchemaVersionId, review?.Channel, c.State, eventId),
        _ => throw new ArgumentException($"review event {e.GetType().Name} is not handled", nameof(e)),
    };

    /// <summary>Adds a recorded rule action (with the id its ledger row received) to the version's rule actions.</summary>
    public static ApRuleActionsStream EvolveRuleActions(ApRuleActionsStream? actions, ApRuleActionRecorded e, long eventId) =>
        new(e.Scope, e.ScopeKey, e.AccessProfileId, e.SchemaVersionId, [.. actions?.RuleActionIds ?? [], eventId]);

    /// <summary>The review a decision sees: the review stream with the rule actions of the same version (null: no review yet).</summary>
    public static ApReviewState? ReviewOf(ApReviewStream? review, ApRuleActionsStream? actions) =>
        review is null ? null : new ApReviewState(review.Channel, review.State, review.LatestReviewEventId, actions?.RuleActionIds ?? []);

    private static Decision<ApEvent>.Accepted Accept(ApEvent e, ReasonCode reason) => new([e], reason, []);

    private static Decision<ApEvent>.Rejected Transition(string detail) => new(AccessReasons.AccessApTransitionInvalid, detail);

    private static Decision<ApEvent>.Rejected Invalid(ReasonCode reason, string detail) => new(reason, detail);
}
