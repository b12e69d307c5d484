namespace Selene.Engines.Access;

/// <summary>Where an access profile (AP schema) lives (reference §7.1): platform-wide or one tenant's.</summary>
public enum ApScope
{
    /// <summary>Platform truth shared by every tenant; written only by a platform-operator tenant. scope_key "GLOBAL".</summary>
    Global,
    /// <summary>One tenant's own profile. scope_key = the tenant id.</summary>
    Tenant,
}

/// <summary>
/// The status of a versioned stream (an access profile in one scope, an overlay): ACTIVE while one of its versions is
/// in force, INACTIVE otherwise. It is the stream's projection status, which listings filter on.
/// </summary>
public enum VersionedStreamStatus
{
    Active,
    Inactive,
}

/// <summary>Lifecycle of one AP schema version or overlay version: DRAFT → ACTIVE → RETIRED, never backwards.</summary>
public enum ApLifecycle
{
    /// <summary>Being written; may be updated, reviewed, activated or retired.</summary>
    Draft,
    /// <summary>The single current version of its profile (or overlay).</summary>
    Active,
    /// <summary>Ended (terminal): retired explicitly, or superseded when another version was activated.</summary>
    Retired,
}

/// <summary>How an administrator reviews a drafted profile (reference §7.1).</summary>
public enum ReviewChannel
{
    /// <summary>On a phone or desktop screen.</summary>
    PhoneDesktop,
    /// <summary>Read out loud, rule by rule.</summary>
    ReadOutLoud,
}

/// <summary>Where an authoring review stands. No review row at all is the reference's NEEDS_CHANNEL_CHOICE.</summary>
public enum ConfirmationState
{
    /// <summary>A channel was chosen; rule actions are being recorded.</summary>
    ReviewInProgress,
    /// <summary>Rules reviewed; waiting for the administrator's final confirmation.</summary>
    PendingActivationConfirmation,
    /// <summary>Confirmed: the version may be activated (terminal for the review).</summary>
    ConfirmedForActivation,
    /// <summary>Declined: the version can never be activated (terminal for the review).</summary>
    Declined,
}

/// <summary>What the reviewer did with one rule (reference §7.1 payload shapes).</summary>
public enum RuleAction
{
    /// <summary>Agrees with a suggested rule (needs suggested_rule_ref).</summary>
    Agree,
    /// <summary>Disagrees with a suggested rule (needs suggested_rule_ref).</summary>
    Disagree,
    /// <summary>Edits a suggested rule (needs suggested_rule_ref and capability_id).</summary>
    Edit,
    /// <summary>Deletes a suggested rule (needs suggested_rule_ref).</summary>
    Delete,
    /// <summary>Disables a suggested rule (needs suggested_rule_ref).</summary>
    Disable,
    /// <summary>Adds a rule of the reviewer's own (needs capability_id, no suggested_rule_ref).</summary>
    AddCustomRule,
}

/// <summary>The event_action of an overlay update.</summary>
public enum OverlayEventAction
{
    /// <summary>Drafts a new overlay version.</summary>
    CreateDraft,
    /// <summary>Replaces the ops of a DRAFT version.</summary>
    UpdateDraft,
    /// <summary>Makes a DRAFT version the overlay's single ACTIVE version (the previous one is retired).</summary>
    Activate,
    /// <summary>Retires a DRAFT or ACTIVE version.</summary>
    Retire,
}

/// <summary>The kinds of overlay op (reference §7.1).</summary>
public enum OverlayOpKind
{
    /// <summary>Adds a requested_action to the compiled allow list (capability_id).</summary>
    AddPermission,
    /// <summary>Removes a requested_action from the compiled allow list (capability_id).</summary>
    RemovePermission,
    /// <summary>Records a tighter constraint (constraint_ref); not yet enforced by the gate.</summary>
    TightenConstraint,
    /// <summary>Records the escalation policy to use (escalation_policy_ref); not yet enforced by the gate.</summary>
    SetEscalationPolicy,
}

/// <summary>
/// The content of an AP schema version (profile_payload). <see cref="CapabilityAllowList"/> holds requested_action
/// tokens, or exactly ["*"] for every action.
/// </summary>
public sealed record ApProfilePayload(
    string ProfileName,
    IReadOnlyList<string> CapabilityAllowList,
    AccessMode AccessMode,
    bool FinancialAuth,
    string? DerivedFromGlobalProfileId = null);

/// <summary>One version of a profile in one scope, and where it stands.</summary>
public sealed record ApVersionState(int SchemaVersionId, ApLifecycle Lifecycle, ApProfilePayload Payload, long LastEventAt);

/// <summary>Every version of one profile in one scope, and which one is current (ACTIVE).</summary>
public sealed record ApProfileState(IReadOnlyDictionary<int, ApVersionState> Versions, int? CurrentVersionId)
{
    public static ApProfileState Empty { get; } = new(new Dictionary<int, ApVersionState>(), null);
}

/// <summary>
/// One profile in one scope as its stream holds it (stream id <see cref="ProfileDecider.StreamId"/>): where it lives
/// and its versions. A GLOBAL profile's stream is shared by every tenant.
/// </summary>
public sealed record ApProfileStream(ApScope Scope, string ScopeKey, string AccessProfileId, ApProfileState Profile);

/// <summary>
/// The authoring review of one version as its stream holds it (stream id <see cref="ProfileDecider.VersionStreamId"/>):
/// channel (null when declined without one), confirmation state and the review ledger event that produced it.
/// </summary>
public sealed record ApReviewStream(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, ReviewChannel? Channel,
    ConfirmationState State, long LatestReviewEventId);

/// <summary>The rule actions recorded on one version (stream id <see cref="ProfileDecider.VersionStreamId"/>): their ledger ids, ascending.</summary>
public sealed record ApRuleActionsStream(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, IReadOnlyList<long> RuleActionIds);

/// <summary>The authoring review of one version: its channel (null when declined without one), state and rule actions.</summary>
/// <param name="LatestReviewEventId">The review ledger row that produced this state.</param>
/// <param name="RuleActionIds">The ids of the recorded rule actions, ascending.</param>
public sealed record ApReviewState(ReviewChannel? Channel, ConfirmationState State, long LatestReviewEventId, IReadOnlyList<long> RuleActionIds);

/// <summary>One overlay op, validated by <see cref="OverlayDecider.ReadOps"/>.</summary>
public sealed record OverlayOp(OverlayOpKind Op, string? CapabilityId = null, string? ConstraintRef = null, string? EscalationPolicyRef = null);

/// <summary>One version of an overlay.</summary>
public sealed record OverlayVersionState(int OverlayVersionId, ApLifecycle Lifecycle, IReadOnlyList<OverlayOp> Ops, long LastEventAt);

/// <summary>Every version of one overlay, and which one is ACTIVE (the state of one overlay stream).</summary>
public sealed record OverlayState(string OverlayId, IReadOnlyDictionary<int, OverlayVersionState> Versions, int? ActiveVersionId)
{
    /// <summary>An overlay with no version yet.</summary>
    public static OverlayState Empty(string overlayId) => new(overlayId, new Dictionary<int, OverlayVersionState>(), null);
}
