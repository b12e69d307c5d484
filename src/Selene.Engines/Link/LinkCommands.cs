using System.Collections.Immutable;

namespace Selene.Engines.Link;

/// <summary>A PH1.LINK command, one per simulation of reference §3.4 (and the two OS projections). Tenant, actor, key and time come from the context.</summary>
public abstract record LinkCommand(LinkAction Action);

/// <summary>
/// LINK_INVITE_GENERATE_DRAFT: a new draft and its first token. <paramref name="PrefilledFields"/> are the creator's
/// selector and prefill hints by field key (position_id pins an EMPLOYEE invite to that position's ACTIVE schema).
/// </summary>
public sealed record GenerateInvite(
    InviteeType InviteeType,
    string? SchemaVersionId,
    ImmutableSortedDictionary<string, string> PrefilledFields,
    string? ExpirationPolicyId = null) : LinkCommand(LinkAction.Generate);

/// <summary>LINK_INVITE_DRAFT_UPDATE_COMMIT: the creator sets (or corrects) fields of the draft.</summary>
public sealed record UpdateDraft(string DraftId, ImmutableSortedDictionary<string, string> Fields) : LinkCommand(LinkAction.DraftUpdate);

/// <summary>A command on one token.</summary>
public abstract record LinkTokenCommand(LinkAction Kind, string TokenId) : LinkCommand(Kind);

/// <summary>
/// LINK_INVITE_OPEN_ACTIVATE_COMMIT: the invitee's device opened the link. The device fingerprint is hashed with the
/// token id before anything keeps it; the app-open context (platform, app instance, deep-link nonce, open time) is
/// what ONB's session start must present again.
/// </summary>
public sealed record OpenActivate(string TokenId, string DeviceFingerprint, AppPlatform AppPlatform, string AppInstanceId, string DeepLinkNonce, long LinkOpenedAt)
    : LinkTokenCommand(LinkAction.OpenActivate, TokenId);

/// <summary>LINK_INVITE_FORWARD_BLOCK_COMMIT: another device presented a token bound to a different one.</summary>
public sealed record ForwardBlock(string TokenId, string PresentedDeviceFingerprint) : LinkTokenCommand(LinkAction.ForwardBlock, TokenId);

/// <summary>LINK_INVITE_REVOKE_REVOKE. <paramref name="ApOverrideRef"/> is required once the link was opened.</summary>
public sealed record RevokeInvite(string TokenId, string Reason, string? ApOverrideRef = null) : LinkTokenCommand(LinkAction.Revoke, TokenId);

/// <summary>LINK_INVITE_EXPIRED_RECOVERY_COMMIT: a new token for the expired token's draft.</summary>
public sealed record RecoverExpired(string TokenId) : LinkTokenCommand(LinkAction.ExpiredRecovery, TokenId);

/// <summary>
/// LINK_DELIVER_INVITE_START_COMMIT: the inviter confirmed where the invite goes (reference §3.6: destination and
/// channel). LINK records the request on the token and hands the delivery to the OS (BCAST, then DELIVERY); LINK itself
/// sends nothing. <paramref name="Destination"/> is the invitee's address on the channel of <paramref name="DeliveryMethod"/>:
/// it travels to DELIVERY's channel setup of the invitee (recipient id = the token id), never into the token.
/// </summary>
public sealed record RequestInviteDelivery(string TokenId, InviteDeliveryMethod DeliveryMethod, string Destination)
    : LinkTokenCommand(LinkAction.DeliveryRequest, TokenId);

/// <summary>The OS's projection after LINK_DELIVER_INVITE delivered the invite: DRAFT_CREATED → SENT.</summary>
public sealed record MarkSent(string TokenId) : LinkTokenCommand(LinkAction.MarkSent, TokenId);

/// <summary>Onboarding completed with the token (ONB_COMPLETE_COMMIT, in its transaction): token CONSUMED, draft COMMITTED.</summary>
public sealed record ConsumeInvite(string TokenId) : LinkTokenCommand(LinkAction.Consume, TokenId);

/// <summary>LINK_ROLE_PROPOSE_DRAFT: a role the tenant lacks, proposed for AP approval.</summary>
public sealed record ProposeRole(string RequestedRoleName, string ProposalText, string? RequestedPositionTemplate = null) : LinkCommand(LinkAction.RolePropose);

/// <summary>LINK_INVITE_DUAL_ROLE_CONFLICT_ESCALATE_DRAFT: an invitee who would hold two conflicting roles, escalated.</summary>
public sealed record EscalateDualRoleConflict(string InviteeIdentityHint, string ConflictReason, string? TokenId = null) : LinkCommand(LinkAction.DualRoleConflictEscalate);
