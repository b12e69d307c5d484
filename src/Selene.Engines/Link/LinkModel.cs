using System.Collections.Immutable;

namespace Selene.Engines.Link;

/// <summary>Who is invited (reference §3.1).</summary>
public enum InviteeType
{
    Company,
    Customer,
    Employee,
    FamilyMember,
    Friend,
    Associate,
}

/// <summary>
/// Where the invitee opened the link (reference §3.1 IOS | ANDROID | DESKTOP, and WEB: the invitee's web page served
/// by Selene, which is how most invitees open it).
/// </summary>
public enum AppPlatform
{
    Ios,
    Android,
    Desktop,
    Web,
}

/// <summary>
/// A token's status (reference §3.2, <c>onboarding_link_tokens.status</c>). Two of the reference's are not statuses
/// here: OPENED is transient inside open-activate (DRAFT_CREATED|SENT → OPENED → ACTIVATED in one commit), so it is
/// never stored; and a forwarded link BLOCKs the other device (recorded on the token's ledger), never the invitee's
/// own (docs/decisions.md).
/// </summary>
public enum LinkTokenStatus
{
    /// <summary>Created with its draft, not delivered yet.</summary>
    DraftCreated,
    /// <summary>Delivered (projected after LINK_DELIVER_INVITE's delivery succeeded).</summary>
    Sent,
    /// <summary>Opened and bound to the first device that opened it.</summary>
    Activated,
    /// <summary>Onboarding completed with it (terminal).</summary>
    Consumed,
    /// <summary>Revoked (terminal; cannot be recovered).</summary>
    Revoked,
    /// <summary>Past its expiry, recorded when it was recovered (terminal; its draft lives on in the new token).</summary>
    Expired,
}

/// <summary>
/// A draft's status (reference §3.2, <c>onboarding_drafts.status</c>), monotonic toward the terminal two. The
/// reference's EXPIRED draft is not kept: an expired token's draft lives on in the recovered token, so nothing would set it.
/// </summary>
public enum LinkDraftStatus
{
    /// <summary>Some required field is still missing.</summary>
    DraftCreated,
    /// <summary>No required field is missing.</summary>
    DraftReady,
    /// <summary>Onboarding completed (terminal).</summary>
    Committed,
    /// <summary>Its link was revoked (terminal).</summary>
    Revoked,
}

/// <summary>
/// How an invite is delivered (reference §3.6 lists SELENE_APP | SMS | WHATSAPP | WECHAT | EMAIL). Only the Selene app
/// is a first delivery BCAST's fallback policy allows for someone who is not a user yet (the others are fallback steps
/// after the app, and SMS needs the recipient's own SMS app setup): docs/decisions.md.
/// </summary>
public enum InviteDeliveryMethod
{
    SeleneApp,
}

/// <summary>What happened to a token or draft (one per simulation and projection of §3.4).</summary>
public enum LinkAction
{
    Generate,
    DraftUpdate,
    OpenActivate,
    ForwardBlock,
    Revoke,
    ExpiredRecovery,
    MarkSent,
    /// <summary>LINK_DELIVER_INVITE started for the token: recorded on it, status unchanged (DRAFT_CREATED).</summary>
    DeliveryRequest,
    Consume,
    RolePropose,
    DualRoleConflictEscalate,
}

/// <summary>
/// One invite draft (one row of <c>link_draft_current</c>; stream = draft id). <see cref="Fields"/> are what the
/// creator (and later the invitee) provided, by field key; <see cref="RequiredFields"/> is fixed at creation from the
/// pinned schema or the invitee type's defaults; <see cref="MissingFields"/> = required − provided, sorted.
/// <see cref="SchemaRef"/> is <c>position:{id}</c> for an EMPLOYEE invite pinned to a position's schema, else
/// <c>invitee:{TYPE}</c>.
/// </summary>
public sealed record LinkDraft(
    string TenantId,
    string DraftId,
    string InviterUserId,
    InviteeType InviteeType,
    string? SchemaVersionId,
    string SchemaRef,
    string? ExpirationPolicyId,
    string PayloadHash,
    ImmutableSortedDictionary<string, string> Fields,
    ImmutableArray<string> RequiredFields,
    ImmutableArray<string> MissingFields,
    LinkDraftStatus Status,
    string ActiveTokenId,
    int TokenCount,
    string LastReasonCode,
    long SourceEventId,
    long CreatedAt,
    long UpdatedAt);

/// <summary>
/// One invite token (one row of <c>link_token_current</c>; stream = token id). It carries no personal data: the
/// draft holds the fields, the token only its lifecycle, its device binding (a hash, never the fingerprint) and its
/// lineage. The secret that makes a link openable is derived by the runtime and never stored (docs/decisions.md).
/// </summary>
public sealed record LinkToken(
    string TenantId,
    string TokenId,
    string DraftId,
    int Generation,
    LinkTokenStatus Status,
    long ExpiresAt,
    string? BoundDeviceFingerprintHash,
    AppPlatform? AppPlatform,
    string? AppInstanceId,
    string? DeepLinkNonce,
    long? LinkOpenedAt,
    int ForwardBlockCount,
    string? LastBlockedFingerprintHash,
    string? RevokedReason,
    string? ApOverrideRef,
    string? RecoveredFromTokenId,
    string? RecoveredByTokenId,
    string LastReasonCode,
    long SourceEventId,
    long CreatedAt,
    long UpdatedAt);

/// <summary>A role proposal for AP approval (LINK_ROLE_PROPOSE_DRAFT; stream = role proposal id).</summary>
public sealed record LinkRoleProposal(string TenantId, string RoleProposalId, string RequestedRoleName, string ProposalText, string? RequestedPositionTemplate,
    string ProposerUserId, string Status, long CreatedAt);

/// <summary>A dual-role conflict escalation (LINK_INVITE_DUAL_ROLE_CONFLICT_ESCALATE_DRAFT; stream = escalation case id).</summary>
public sealed record LinkConflictEscalation(string TenantId, string EscalationCaseId, string InviteeIdentityHint, string? TokenId, string ConflictReason,
    string EscalatedByUserId, string Status, long CreatedAt);

/// <summary>
/// The position an EMPLOYEE invite pins, as LINK reads it (POSITION owns it and computes what its ACTIVE schema
/// requires under its selectors): the position's company, its lifecycle (wire name), the active schema version (null:
/// none) and the field keys that version requires.
/// </summary>
public sealed record LinkSchemaFacts(string PositionId, string CompanyId, string Lifecycle, string? ActiveSchemaVersionId, IReadOnlyList<string> RequiredFieldKeys)
{
    /// <summary>The lifecycle a position must have to be invited to.</summary>
    public const string ActiveLifecycle = "ACTIVE";
}

/// <summary>What the runtime hands the decider besides state and command: who, the request's key, and when.</summary>
public sealed record LinkContext(string TenantId, string ActorUserId, UnixNanos Now, string IdempotencyKey);
