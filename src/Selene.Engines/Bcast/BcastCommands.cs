namespace Selene.Engines.Bcast;

/// <summary>A PH1.BCAST command, one per simulation of reference §8.3. Tenant, actor, key and time come from the context.</summary>
public abstract record BcastCommand(BcastAction Action)
{
    /// <summary>The broadcast this command acts on (derived from the envelope for <see cref="CreateBroadcastDraft"/>).</summary>
    public abstract string? TargetBroadcastId(BcastContext context);
}

/// <summary>BCAST_CREATE_DRAFT inputs: the envelope, immutable from here on.</summary>
/// <param name="ExpiryAt">When the broadcast may be expired (ns); null: only an explicit EXPIRE ends it.</param>
/// <param name="PromptDedupeKey">Suppresses repeated prompts of one follow-up; null: derived from broadcast and recipient.</param>
/// <param name="ContentText">The message a person reads (subject line first); null: the provider gets only the payload ref.</param>
public sealed record CreateBroadcastDraft(
    BcastClassification Classification,
    string AudienceSpec,
    string ContentPayloadRef,
    BcastRequiredAck RequiredAck = BcastRequiredAck.None,
    long? ExpiryAt = null,
    string? PromptDedupeKey = null,
    string? ContentText = null) : BcastCommand(BcastAction.DraftCreate)
{
    public override string? TargetBroadcastId(BcastContext context) =>
        BcastIds.BroadcastId(context.TenantId, context.ActorUserId, BcastIds.EnvelopeHash(this), context.IdempotencyKey);
}

/// <summary>A command on one recipient of an existing broadcast.</summary>
public abstract record BcastRecipientCommand(BcastAction Kind, string? BroadcastId, string? RecipientId) : BcastCommand(Kind)
{
    public override string? TargetBroadcastId(BcastContext context) => BroadcastId;
}

/// <summary>BCAST_DELIVER_COMMIT inputs (reference §8.1 DeliverCommit).</summary>
/// <param name="AppUnavailable">The Selene App cannot reach the recipient: only then may a fallback method be used.</param>
/// <param name="SimulationContext">The OS simulation this delivery runs in; empty ⇒ BCAST_FAIL_SIMULATION_CONTEXT_MISSING.</param>
public sealed record DeliverToRecipient(
    string? BroadcastId,
    string? RecipientId,
    BcastDeliveryMethod DeliveryMethod,
    BcastRecipientRegion RecipientRegion,
    bool AppUnavailable,
    string DeliveryPlanRef,
    string? SimulationContext) : BcastRecipientCommand(BcastAction.DeliverCommit, BroadcastId, RecipientId);

/// <summary>BCAST_DEFER_COMMIT inputs: exactly one of <paramref name="DeferUntil"/> (ns) and <paramref name="DeferDurationMs"/>.</summary>
/// <param name="HandoffToReminder">true: REMINDER_SET and REM schedules the follow-up; false: DEFERRED until retry_at.</param>
public sealed record DeferRecipient(
    string? BroadcastId,
    string? RecipientId,
    long? DeferUntil,
    long? DeferDurationMs,
    bool HandoffToReminder) : BcastRecipientCommand(BcastAction.DeferCommit, BroadcastId, RecipientId);

/// <summary>BCAST_REMINDER_FIRED_COMMIT inputs: REM's reminder for this recipient fired.</summary>
public sealed record RecordReminderFired(string? BroadcastId, string? RecipientId, string ReminderRef)
    : BcastRecipientCommand(BcastAction.ReminderFiredCommit, BroadcastId, RecipientId);

/// <summary>BCAST_ACK_COMMIT inputs.</summary>
public sealed record RecordAck(string? BroadcastId, string? RecipientId, BcastAckType AckType)
    : BcastRecipientCommand(BcastAction.AckCommit, BroadcastId, RecipientId);

/// <summary>
/// BCAST_DELIVERY_PROOF_COMMIT inputs (handoff only): DELIVERY settled attempt <paramref name="DeliveryAttemptId"/> of the
/// delivery <paramref name="DeliveryRequestRef"/> on <paramref name="Channel"/>, sent with <paramref name="ProofRef"/> or
/// failed with <paramref name="ProviderReasonCode"/>.
/// </summary>
public sealed record RecordDeliveryProof(
    string? BroadcastId,
    string? RecipientId,
    string DeliveryRequestRef,
    string DeliveryAttemptId,
    string Channel,
    BcastDeliveryOutcome Outcome,
    string? ProofRef,
    string ProviderReasonCode) : BcastRecipientCommand(BcastAction.DeliveryProofCommit, BroadcastId, RecipientId);

/// <summary>BCAST_ESCALATE_COMMIT inputs.</summary>
public sealed record EscalateRecipient(string? BroadcastId, string? RecipientId, string EscalationReason)
    : BcastRecipientCommand(BcastAction.EscalateCommit, BroadcastId, RecipientId);

/// <summary>BCAST_EXPIRE_COMMIT inputs.</summary>
public sealed record ExpireBroadcast(string? BroadcastId, string ExpiryReason) : BcastCommand(BcastAction.ExpireCommit)
{
    public override string? TargetBroadcastId(BcastContext context) => BroadcastId;
}

/// <summary>BCAST_CANCEL_COMMIT inputs.</summary>
public sealed record CancelBroadcast(string? BroadcastId, string CancelReason) : BcastCommand(BcastAction.CancelCommit)
{
    public override string? TargetBroadcastId(BcastContext context) => BroadcastId;
}

/// <summary>Deterministic PH1.BCAST ids and hashes (reference §8.1), all derived from their inputs.</summary>
public static class BcastIds
{
    public const string BroadcastPrefix = "bcast_";
    public const string EnvelopeHashPrefix = "bcast_env_";
    public const string DeliveryRequestPrefix = "delivery_";
    public const string AckRecordPrefix = "bcast_ack_";
    public const string SenderNoticePrefix = "bcast_notice_";

    /// <summary>
    /// <c>bcast_{short_hash(tenant, sender, envelope_hash, key)}</c>: the reference's <c>bcast_{seq:016x}</c> shape,
    /// derived instead of counted so the decider stays pure; it is the simulation's idempotency scope (§8.3).
    /// </summary>
    public static string BroadcastId(string tenantId, string senderUserId, string envelopeHash, string idempotencyKey) =>
        BroadcastPrefix + Hashing.ShortHash(16, tenantId, senderUserId, envelopeHash, idempotencyKey);

    public static bool IsWellFormed(string? id) => IdRules.IsShortHashId(id, BroadcastPrefix);

    /// <summary>The hash of the envelope's content: equal content, equal hash.</summary>
    public static string EnvelopeHash(CreateBroadcastDraft d) =>
        EnvelopeHashPrefix + Hashing.ShortHash(16, WireNames.Of(d.Classification), d.AudienceSpec, d.ContentPayloadRef,
            WireNames.Of(d.RequiredAck), d.ExpiryAt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", d.PromptDedupeKey ?? "",
            d.ContentText ?? "");

    /// <summary><c>delivery_{short_hash(broadcast_id, recipient_id, delivery_plan_ref, idempotency_key)}</c> (reference §8.1).</summary>
    public static string DeliveryRequestRef(string broadcastId, string recipientId, string deliveryPlanRef, string idempotencyKey) =>
        DeliveryRequestPrefix + Hashing.ShortHash(16, broadcastId, recipientId, deliveryPlanRef, idempotencyKey);

    /// <summary>The envelope's prompt dedupe key when the draft names none (per recipient it is suffixed with the recipient id).</summary>
    public static string DefaultPromptDedupeKey(string broadcastId) => "bcast_pdk_" + Hashing.ShortHash(16, broadcastId);
}
