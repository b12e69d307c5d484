using Selene.Kernel.Access;

namespace Selene.Engines.Access;

/// <summary>A command on one version of one access profile in one scope (reference §7.5, AP schema and authoring simulations).</summary>
public abstract record ApCommand(ApScope Scope, string AccessProfileId, int SchemaVersionId, string Reason);

/// <summary>ACCESS_AP_SCHEMA_CREATE_DRAFT.</summary>
public sealed record CreateApDraft(ApScope Scope, string AccessProfileId, int SchemaVersionId, ApProfilePayload Payload, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>ACCESS_AP_SCHEMA_UPDATE_COMMIT: replaces the payload of a DRAFT version.</summary>
public sealed record UpdateApDraft(ApScope Scope, string AccessProfileId, int SchemaVersionId, ApProfilePayload Payload, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>ACCESS_AP_SCHEMA_ACTIVATE_COMMIT.</summary>
public sealed record ActivateAp(ApScope Scope, string AccessProfileId, int SchemaVersionId, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>ACCESS_AP_SCHEMA_RETIRE_COMMIT.</summary>
public sealed record RetireAp(ApScope Scope, string AccessProfileId, int SchemaVersionId, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>ACCESS_AP_AUTHORING_REVIEW_CHANNEL_COMMIT.</summary>
public sealed record ChooseReviewChannel(ApScope Scope, string AccessProfileId, int SchemaVersionId, ReviewChannel Channel, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>ACCESS_AP_AUTHORING_RULE_ACTION_COMMIT; which refs are required depends on <see cref="Action"/>.</summary>
public sealed record RecordRuleAction(ApScope Scope, string AccessProfileId, int SchemaVersionId, RuleAction Action, string? SuggestedRuleRef,
    string? CapabilityId, string? ConstraintRef, string? EscalationPolicyRef, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>ACCESS_AP_AUTHORING_CONFIRM_COMMIT: PENDING_ACTIVATION_CONFIRMATION, CONFIRMED_FOR_ACTIVATION or DECLINED.</summary>
public sealed record ConfirmReview(ApScope Scope, string AccessProfileId, int SchemaVersionId, ConfirmationState State, string Reason)
    : ApCommand(Scope, AccessProfileId, SchemaVersionId, Reason);

/// <summary>A ledger event of the AP schema and authoring-review engine.</summary>
public abstract record ApEvent(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason);

/// <summary>An event of a profile's versions (one ledger row of <c>access_ap_schema_ledger</c>; its <c>event_type</c> names its record).</summary>
public abstract record ApSchemaEvent(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason)
    : ApEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>A version was drafted (<see cref="IsUpdate"/> false) or its draft replaced (true); it is DRAFT.</summary>
public sealed record ApVersionWritten(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason,
    ApProfilePayload Payload, bool IsUpdate)
    : ApSchemaEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>The authoring review a version was activated under (reference §7.4 activation lineage).</summary>
/// <param name="RuleActionSetRef">A digest of the ids of the rule actions recorded, see <see cref="ProfileDecider.RuleActionSetRef"/>.</param>
public sealed record ApActivationLineage(long ReviewEventId, int RuleActionCount, string RuleActionSetRef);

/// <summary>A version became the current (ACTIVE) one; <see cref="Lineage"/> is set when a review gated it.</summary>
public sealed record ApVersionActivated(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason,
    ApActivationLineage? Lineage)
    : ApSchemaEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>
/// A version was retired: explicitly (<see cref="SupersededBy"/> null) or because another version was activated.
/// <see cref="WasCurrent"/>: it was the current version (an explicit retirement then clears the projection).
/// </summary>
public sealed record ApVersionRetired(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason,
    int? SupersededBy, bool WasCurrent)
    : ApSchemaEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>An event of a version's authoring review (one ledger row of <c>access_ap_authoring_review_ledger</c>; its <c>event_type</c> names its record).</summary>
public abstract record ApReviewEvent(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason)
    : ApEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>A review channel was chosen; the review is REVIEW_IN_PROGRESS.</summary>
public sealed record ApReviewChannelChosen(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason,
    ReviewChannel Channel)
    : ApReviewEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>A reviewer's action on one rule was recorded (one ledger row of <c>access_ap_rule_review_actions_ledger</c>, its action the <c>event_type</c>).</summary>
public sealed record ApRuleActionRecorded(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason,
    RuleAction Action, string? SuggestedRuleRef, string? CapabilityId, string? ConstraintRef, string? EscalationPolicyRef)
    : ApEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>The review reached a confirmation state.</summary>
public sealed record ApReviewConfirmed(ApScope Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string ActorUserId, long At, string Reason,
    ConfirmationState State)
    : ApReviewEvent(Scope, ScopeKey, AccessProfileId, SchemaVersionId, ActorUserId, At, Reason);

/// <summary>One overlay op as it arrives on the wire; <see cref="OverlayDecider.ReadOps"/> turns it into an <see cref="OverlayOp"/>.</summary>
public sealed record OverlayOpText(string Op, string? CapabilityId = null, string? ConstraintRef = null, string? EscalationPolicyRef = null);

/// <summary>
/// ACCESS_AP_OVERLAY_UPDATE_COMMIT. <see cref="Ops"/> (as on the wire; <see cref="OverlayDecider.Validate"/> reads
/// them) is required for CREATE_DRAFT and UPDATE_DRAFT and absent otherwise.
/// </summary>
public sealed record UpdateOverlay(string OverlayId, int OverlayVersionId, OverlayEventAction Action, IReadOnlyList<OverlayOpText>? Ops, string Reason);

/// <summary>
/// A ledger event of a tenant overlay (one ledger row of <c>access_ap_overlay_ledger</c>; its <c>event_type</c>, the
/// version's action, names its record).
/// </summary>
public abstract record OverlayEvent(string TenantId, string OverlayId, int OverlayVersionId, string ActorUserId, long At, string Reason);

/// <summary>An overlay version was drafted or its draft replaced; it is DRAFT.</summary>
public sealed record OverlayVersionWritten(string TenantId, string OverlayId, int OverlayVersionId, string ActorUserId, long At, string Reason,
    IReadOnlyList<OverlayOp> Ops, bool IsUpdate)
    : OverlayEvent(TenantId, OverlayId, OverlayVersionId, ActorUserId, At, Reason);

/// <summary>An overlay version became the overlay's single ACTIVE version.</summary>
public sealed record OverlayVersionActivated(string TenantId, string OverlayId, int OverlayVersionId, string ActorUserId, long At, string Reason)
    : OverlayEvent(TenantId, OverlayId, OverlayVersionId, ActorUserId, At, Reason);

/// <summary>An overlay version was retired, explicitly or superseded by <see cref="SupersededBy"/>.</summary>
public sealed record OverlayVersionRetired(string TenantId, string OverlayId, int OverlayVersionId, string ActorUserId, long At, string Reason,
    int? SupersededBy, bool WasActive)
    : OverlayEvent(TenantId, OverlayId, OverlayVersionId, ActorUserId, At, Reason);

/// <summary>A reference to one overlay version in a compile request.</summary>
public sealed record OverlayVersionRef(string OverlayId, int OverlayVersionId);

/// <summary>ACCESS_INSTANCE_COMPILE_COMMIT: compile a user's access instance from the permission chain.</summary>
/// <param name="Lifecycle">For a new instance (default ACTIVE); an existing instance keeps its own unless given. Same for the three after it.</param>
public sealed record CompileInstance(
    string TargetUserId,
    string AccessProfileId,
    int GlobalProfileVersionRef,
    int? TenantProfileVersionRef,
    IReadOnlyList<OverlayVersionRef> OverlayVersionRefs,
    string? PositionId,
    string CompileReason,
    AccessLifecycle? Lifecycle = null,
    bool? IdentityVerified = null,
    VerificationLevel? VerificationLevel = null,
    DeviceTrustLevel? DeviceTrust = null);

/// <summary>The posture of a user's existing access instance that a compile keeps unless told otherwise.</summary>
public sealed record ExistingInstance(AccessLifecycle Lifecycle, bool IdentityVerified, VerificationLevel VerificationLevel, DeviceTrustLevel DeviceTrust);

/// <summary>What the runtime looked up for a compile: both scopes of the profile, the tenant's overlays, the position, the instance.</summary>
/// <param name="Overlays">The tenant's overlays named by the request, by overlay id (missing ones are absent).</param>
public sealed record CompileFacts(
    ApProfileState Global,
    ApProfileState Tenant,
    IReadOnlyDictionary<string, OverlayState> Overlays,
    bool PositionExists,
    ExistingInstance? Existing);

/// <summary>Where a compiled instance came from (reference §7.1 compiled lineage).</summary>
public sealed record CompiledLineage(string GlobalProfileId, int GlobalProfileVersion, string? TenantProfileId, int? TenantProfileVersion,
    string? OverlaySetRef, string? PositionId);

/// <summary>The compiled access instance of a user: allow list, mode, financial authorization, posture and lineage.</summary>
/// <param name="Allow">Sorted, distinct requested_action tokens, or exactly ["*"].</param>
/// <param name="ConstraintRefs">Sorted, distinct constraint refs of the overlays' TIGHTEN_CONSTRAINT ops (recorded, not yet enforced).</param>
/// <param name="EscalationPolicyRefs">Sorted, distinct refs of the overlays' SET_ESCALATION_POLICY ops (recorded, not yet enforced).</param>
public sealed record InstanceCompiled(
    string TenantId,
    string TargetUserId,
    string RoleTemplateId,
    IReadOnlyList<string> Allow,
    AccessMode Mode,
    bool FinancialAuth,
    AccessLifecycle Lifecycle,
    bool IdentityVerified,
    VerificationLevel VerificationLevel,
    DeviceTrustLevel DeviceTrust,
    CompiledLineage Lineage,
    IReadOnlyList<string> ConstraintRefs,
    IReadOnlyList<string> EscalationPolicyRefs,
    bool NewInstance,
    string CompileReason,
    string ActorUserId,
    long At);
