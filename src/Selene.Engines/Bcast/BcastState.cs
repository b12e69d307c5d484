using System.Collections.Immutable;

namespace Selene.Engines.Bcast;

/// <summary>
/// The envelope of one broadcast (one row of the envelope projection). Its content (classification, audience,
/// payload, required ack, expiry, prompt dedupe key, hash) is set by the draft and never changes; only
/// <see cref="Status"/>, <see cref="SentAt"/> and the bookkeeping fields move.
/// </summary>
public sealed record BcastEnvelope(
    string TenantId,
    string BroadcastId,
    string SenderUserId,
    BcastClassification Classification,
    string AudienceSpec,
    string ContentPayloadRef,
    BcastRequiredAck RequiredAck,
    long? ExpiryAt,
    string PromptDedupeKey,
    string EnvelopeHash,
    BcastEnvelopeStatus Status,
    long? SentAt,
    string LastReasonCode,
    long SourceEventId,
    long CreatedAt,
    long UpdatedAt,
    string? ContentText = null);

/// <summary>
/// One recipient of one broadcast (one row of the recipient projection). <see cref="Region"/> is fixed by the first
/// delivery; <see cref="FallbackStep"/> is the furthest fallback used (0: the Selene App only). <see cref="Version"/>
/// counts the recipient's events; a prompt is a repeat when its dedupe key and the version it was made at are unchanged.
/// </summary>
public sealed record BcastRecipient(
    string TenantId,
    string BroadcastId,
    string RecipientId,
    BcastRecipientStatus Status,
    BcastRecipientRegion Region,
    BcastDeliveryMethod LastDeliveryMethod,
    int FallbackStep,
    int AttemptCount,
    string LastDeliveryRequestRef,
    long? WaitUntil,
    bool FollowupImmediate,
    long? RetryAt,
    long? ReminderDueAt,
    string? ReminderRef,
    string? LastPromptDedupeKey,
    int? LastPromptVersion,
    BcastAckType? AckType,
    string? AckRecordId,
    string? SenderNoticeRef,
    int Version,
    BcastAction LastAction,
    string LastReasonCode,
    long SourceEventId,
    long CreatedAt,
    long UpdatedAt,
    string? LastDeliveryAttemptId = null,
    BcastDeliveryOutcome? LastDeliveryOutcome = null,
    string? LastDeliveryProofRef = null,
    int FailedAttemptCount = 0);

/// <summary>
/// What the decider reads for one command: the envelope (null: no such broadcast) and recipient rows by id. EXPIRE and
/// CANCEL need every recipient row of the broadcast; a recipient command needs at least its own recipient's row.
/// </summary>
public sealed record BcastState(BcastEnvelope? Envelope, ImmutableSortedDictionary<string, BcastRecipient> Recipients)
{
    public static BcastState Empty { get; } = new(null, ImmutableSortedDictionary.Create<string, BcastRecipient>(StringComparer.Ordinal));

    public BcastRecipient? Recipient(string? recipientId) =>
        recipientId is not null && Recipients.TryGetValue(recipientId, out var r) ? r : null;

    /// <summary>Value equality over the envelope and every recipient row (the dictionary itself compares by reference).</summary>
    public bool SameAs(BcastState other) =>
        Equals(Envelope, other.Envelope) && Recipients.Count == other.Recipients.Count &&
        Recipients.All(r => other.Recipients.TryGetValue(r.Key, out var o) && Equals(r.Value, o));
}
