namespace Selene.Engines.Link;

/// <summary>
/// PH1.LINK's engine id and reason codes (block 8xxx: 80xx successes, 81xx refusals), with the names of reference
/// §3.4 where it names one. The reference's single LINK_REFUSE_INVALID is split where a caller must tell cases apart
/// (a state that forbids the move, an expired, revoked or consumed token, a missing AP override); ids are stable once
/// allocated and names are never reused.
/// </summary>
public static class LinkReasons
{
    /// <summary>The journal's engine id for invite links.</summary>
    public const string EngineId = "PH1.LINK";

    /// <summary>An invite draft and its first token were created (or the same invite was asked for again).</summary>
    public static readonly ReasonCode LinkOkGenerateDraft = new("LINK_OK_GENERATE_DRAFT", 8001, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The creator updated the draft's fields; the missing fields were recomputed.</summary>
    public static readonly ReasonCode LinkOkDraftUpdateCommit = new("LINK_OK_DRAFT_UPDATE_COMMIT", 8002, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The token was opened and activated on (bound to) this device, or re-opened on the same device.</summary>
    public static readonly ReasonCode LinkOkOpenActivate = new("LINK_OK_OPEN_ACTIVATE", 8003, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The token (and its draft) was revoked.</summary>
    public static readonly ReasonCode LinkOkRevoke = new("LINK_OK_REVOKE", 8004, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An expired token was recovered into a new token for the same draft.</summary>
    public static readonly ReasonCode LinkOkExpiredRecoveryCommit = new("LINK_OK_EXPIRED_RECOVERY_COMMIT", 8005, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>Another device presented a token bound to a different device: that device is BLOCKED and the attempt recorded.</summary>
    public static readonly ReasonCode LinkOkForwardBlockCommit = new("LINK_OK_FORWARD_BLOCK_COMMIT", 8006, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A role proposal was drafted for AP approval.</summary>
    public static readonly ReasonCode LinkOkRolePropose = new("LINK_OK_ROLE_PROPOSE_DRAFT", 8007, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A dual-role conflict was escalated.</summary>
    public static readonly ReasonCode LinkOkDualRoleConflictEscalate = new("LINK_OK_DUAL_ROLE_CONFLICT_ESCALATE_DRAFT", 8008, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The invite was delivered: the token is projected DRAFT_CREATED → SENT (or was SENT already).</summary>
    public static readonly ReasonCode LinkOkMarkSent = new("LINK_OK_MARK_SENT", 8009, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>Onboarding completed: the token is CONSUMED and the draft COMMITTED.</summary>
    public static readonly ReasonCode LinkOkConsume = new("LINK_OK_CONSUME", 8010, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>LINK_DELIVER_INVITE started: the request is recorded on the token and its delivery handed to BCAST.</summary>
    public static readonly ReasonCode LinkOkDeliveryRequest = new("LINK_OK_DELIVERY_REQUEST", 8011, EngineId, Severity.Info, ReasonKind.Success, false);

    /// <summary>A request's shape or bounds are wrong, or it contradicts the tenant's facts (§3.4 LINK_REFUSE_INVALID).</summary>
    public static readonly ReasonCode LinkRefuseInvalid = new("LINK_REFUSE_INVALID", 8101, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>No such token, draft, or position schema.</summary>
    public static readonly ReasonCode LinkRefuseNotFound = new("LINK_REFUSE_NOT_FOUND", 8102, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    /// <summary>The token's or draft's status forbids the move (§3.2).</summary>
    public static readonly ReasonCode LinkRefuseStateInvalid = new("LINK_REFUSE_STATE_INVALID", 8103, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The token is past its expiry: it can only be recovered into a new one.</summary>
    public static readonly ReasonCode LinkTokenExpired = new("LINK_TOKEN_EXPIRED", 8104, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The token was revoked.</summary>
    public static readonly ReasonCode LinkTokenRevoked = new("LINK_TOKEN_REVOKED", 8105, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The token was used to complete onboarding already.</summary>
    public static readonly ReasonCode LinkTokenConsumed = new("LINK_TOKEN_CONSUMED", 8106, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>Revoking an opened or activated link needs an AP override reference that is in force.</summary>
    public static readonly ReasonCode LinkApOverrideRequired = new("LINK_AP_OVERRIDE_REQUIRED", 8107, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>The process has no link key, so it cannot issue or show an invite secret (a host configuration problem, never the caller's input).</summary>
    public static readonly ReasonCode LinkSecretKeyUnavailable = new("LINK_SECRET_KEY_UNAVAILABLE", 8108, EngineId, Severity.Error, ReasonKind.Unavailable, false);
    /// <summary>The invite's delivery has not settled yet (the OS looks again after the handoff's backoff).</summary>
    public static readonly ReasonCode LinkInviteDeliveryPending = new("LINK_INVITE_DELIVERY_PENDING", 8109, EngineId, Severity.Warn, ReasonKind.Unavailable, true);
    /// <summary>The invite's delivery failed (the provider's reason is beside it): the token stays DRAFT_CREATED, to be delivered again.</summary>
    public static readonly ReasonCode LinkInviteDeliveryFailed = new("LINK_INVITE_DELIVERY_FAILED", 8110, EngineId, Severity.Warn, ReasonKind.Conflict, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(LinkReasons));
}
