using System.Collections.Immutable;

namespace Selene.Engines.Link;

/// <summary>A PH1.LINK ledger event: draft events go to the draft's stream, token events to the token's.</summary>
public abstract record LinkEvent(string TenantId, string ActorUserId, string ReasonCode, long At);

/// <summary>An event of a draft's stream.</summary>
public abstract record LinkDraftEvent(string TenantId, string DraftId, string ActorUserId, string ReasonCode, long At) : LinkEvent(TenantId, ActorUserId, ReasonCode, At);

/// <summary>The draft was created with its first token (<see cref="TokenId"/>); its required fields are fixed from here on.</summary>
public sealed record LinkDraftCreated(
    string TenantId,
    string DraftId,
    string ActorUserId,
    string ReasonCode,
    long At,
    InviteeType InviteeType,
    string? SchemaVersionId,
    string SchemaRef,
    string? ExpirationPolicyId,
    string PayloadHash,
    ImmutableSortedDictionary<string, string> Fields,
    ImmutableArray<string> RequiredFields,
    string TokenId) : LinkDraftEvent(TenantId, DraftId, ActorUserId, ReasonCode, At);

/// <summary>
/// The draft changed by <see cref="Action"/>: fields set (<see cref="Fields"/>, merged over the known ones), a new
/// active token (<see cref="NewTokenId"/>, on recovery), or its status (<see cref="To"/>: COMMITTED, REVOKED).
/// </summary>
public sealed record LinkDraftChanged(
    string TenantId,
    string DraftId,
    string ActorUserId,
    string ReasonCode,
    long At,
    LinkAction Action,
    LinkDraftStatus From,
    LinkDraftStatus? To = null,
    ImmutableSortedDictionary<string, string>? Fields = null,
    string? NewTokenId = null) : LinkDraftEvent(TenantId, DraftId, ActorUserId, ReasonCode, At);

/// <summary>An event of a token's stream.</summary>
public abstract record LinkTokenEvent(string TenantId, string TokenId, string ActorUserId, string ReasonCode, long At) : LinkEvent(TenantId, ActorUserId, ReasonCode, At);

/// <summary>A token was issued for <see cref="DraftId"/> (the first with the draft, later ones by recovery from <see cref="RecoveredFromTokenId"/>).</summary>
public sealed record LinkTokenIssued(
    string TenantId,
    string TokenId,
    string ActorUserId,
    string ReasonCode,
    long At,
    string DraftId,
    int Generation,
    long ExpiresAt,
    string? RecoveredFromTokenId) : LinkTokenEvent(TenantId, TokenId, ActorUserId, ReasonCode, At);

/// <summary>
/// A token changed by <see cref="Action"/> from <see cref="From"/> to <see cref="To"/> (equal for a recorded forward
/// block). The action's own fields are set, the others null: activation (device hash, platform, app instance,
/// nonce, open time), forward block (the presented device's hash), revoke (reason, AP override), recovery (the new token).
/// </summary>
public sealed record LinkTokenChanged(
    string TenantId,
    string TokenId,
    string ActorUserId,
    string ReasonCode,
    long At,
    LinkAction Action,
    LinkTokenStatus From,
    LinkTokenStatus To,
    string? DeviceFingerprintHash = null,
    AppPlatform? AppPlatform = null,
    string? AppInstanceId = null,
    string? DeepLinkNonce = null,
    long? LinkOpenedAt = null,
    string? RevokedReason = null,
    string? ApOverrideRef = null,
    string? RecoveredByTokenId = null) : LinkTokenEvent(TenantId, TokenId, ActorUserId, ReasonCode, At);

/// <summary>A role proposal was drafted (its own stream).</summary>
public sealed record LinkRoleProposed(string TenantId, string ActorUserId, string ReasonCode, long At, string RoleProposalId, string RequestedRoleName,
    string ProposalText, string? RequestedPositionTemplate) : LinkEvent(TenantId, ActorUserId, ReasonCode, At);

/// <summary>A dual-role conflict was escalated (its own stream).</summary>
public sealed record LinkConflictEscalated(string TenantId, string ActorUserId, string ReasonCode, long At, string EscalationCaseId, string InviteeIdentityHint,
    string? TokenId, string ConflictReason) : LinkEvent(TenantId, ActorUserId, ReasonCode, At);
