namespace Selene.Engines.Bcast;

/// <summary>A PH1.BCAST ledger event: envelope events go to the broadcast's stream, recipient events to the recipient's.</summary>
public abstract record BcastEvent(string TenantId, string BroadcastId, string ActorUserId, string ReasonCode, long At);

/// <summary>An event of the envelope stream (keyed by broadcast id).</summary>
public abstract record BcastEnvelopeEvent(string TenantId, string BroadcastId, string ActorUserId, string ReasonCode, long At)
    : BcastEvent(TenantId, BroadcastId, ActorUserId, ReasonCode, At);

/// <summary>The envelope was drafted. The only event that carries its content, so the content cannot change later.</summary>
public sealed record BroadcastDraftCreated(
    string TenantId,
    string BroadcastId,
    string ActorUserId,
    string ReasonCode,
    long At,
    BcastClassification Classification,
    string AudienceSpec,
    string ContentPayloadRef,
    BcastRequiredAck RequiredAck,
    long? ExpiryAt,
    string PromptDedupeKey,
    string EnvelopeHash,
    string? ContentText = null) : BcastEnvelopeEvent(TenantId, BroadcastId, ActorUserId, ReasonCode, At);

/// <summary>The envelope's status changed (SENT on the first delivery, EXPIRED, CANCELED); <see cref="Reference"/> is the expiry or cancel reason.</summary>
public sealed record BroadcastStatusChanged(
    string TenantId,
    string BroadcastId,
    string ActorUserId,
    string ReasonCode,
    long At,
    BcastAction Action,
    BcastEnvelopeStatus From,
    BcastEnvelopeStatus To,
    string? Reference) : BcastEnvelopeEvent(TenantId, BroadcastId, ActorUserId, ReasonCode, At);

/// <summary>
/// One recipient moved from <see cref="From"/> (null: a new recipient) to <see cref="To"/> by <see cref="Action"/>.
/// The action's own fields are set, the others null: delivery (method, region, fallback step, request ref, wait_until,
/// followup_immediate), defer (retry_at or reminder_due_at), reminder (reminder_ref, prompt key), ack (ack_type),
/// escalation (sender_notice_ref), delivery proof (attempt id, outcome, proof ref, with the provider's reason code as
/// <see cref="Reference"/>); otherwise <see cref="Reference"/> is the escalation, expiry or cancel reason.
/// </summary>
public sealed record BcastRecipientTransitioned(
    string TenantId,
    string BroadcastId,
    string RecipientId,
    string ActorUserId,
    string ReasonCode,
    long At,
    BcastAction Action,
    BcastRecipientStatus? From,
    BcastRecipientStatus To,
    BcastDeliveryMethod? DeliveryMethod = null,
    BcastRecipientRegion? Region = null,
    int? FallbackStep = null,
    string? DeliveryRequestRef = null,
    long? WaitUntil = null,
    bool FollowupImmediate = false,
    long? RetryAt = null,
    long? ReminderDueAt = null,
    string? ReminderRef = null,
    string? PromptDedupeKey = null,
    BcastAckType? AckType = null,
    string? AckRecordId = null,
    string? SenderNoticeRef = null,
    string? Reference = null,
    string? DeliveryAttemptId = null,
    BcastDeliveryOutcome? DeliveryOutcome = null,
    string? DeliveryProofRef = null) : BcastEvent(TenantId, BroadcastId, ActorUserId, ReasonCode, At);
