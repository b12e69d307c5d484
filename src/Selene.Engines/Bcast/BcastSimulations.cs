namespace Selene.Engines.Bcast;

/// <summary>
/// The eight PH1.BCAST simulations (reference §8.3), the only variants a caller may ask for (AT-BCAST-13), and the
/// handoff-only BCAST_DELIVERY_PROOF_COMMIT through which DELIVERY's proofs come back into BCAST's state (seed ph1-os-ecm:
/// DELIVERY "returns proofs back to PH1.BCAST.001 state flow"). Each is governed by its own capability of §8.3 as the
/// requested action (the proof by the delivery's). The reference's catalog lists them as DRAFT; they are ACTIVE here
/// because issue 12 puts BCAST on the platform (docs/decisions.md).
/// </summary>
public static class BcastSimulations
{
    public const string CreateDraft = "BCAST_CREATE_DRAFT";
    public const string DeliverCommit = "BCAST_DELIVER_COMMIT";
    public const string DeferCommit = "BCAST_DEFER_COMMIT";
    public const string ReminderFiredCommit = "BCAST_REMINDER_FIRED_COMMIT";
    public const string AckCommit = "BCAST_ACK_COMMIT";
    public const string EscalateCommit = "BCAST_ESCALATE_COMMIT";
    public const string ExpireCommit = "BCAST_EXPIRE_COMMIT";
    public const string CancelCommit = "BCAST_CANCEL_COMMIT";
    public const string DeliveryProofCommit = "BCAST_DELIVERY_PROOF_COMMIT";

    /// <summary>The idempotency scopes of §8.3.</summary>
    public const string DraftScope = "tenant+sender+envelope_hash+key";
    public const string RecipientScope = "tenant+broadcast+recipient+key";
    public const string EscalateScope = "tenant+broadcast+reason+key";
    public const string BroadcastScope = "tenant+broadcast+key";

    /// <summary>The simulation of each action.</summary>
    public static string Of(BcastAction action) => action switch
    {
        BcastAction.DraftCreate => CreateDraft,
        BcastAction.DeliverCommit => DeliverCommit,
        BcastAction.DeferCommit => DeferCommit,
        BcastAction.ReminderFiredCommit => ReminderFiredCommit,
        BcastAction.AckCommit => AckCommit,
        BcastAction.EscalateCommit => EscalateCommit,
        BcastAction.ExpireCommit => ExpireCommit,
        BcastAction.CancelCommit => CancelCommit,
        BcastAction.DeliveryProofCommit => DeliveryProofCommit,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        Record(CreateDraft, SimulationType.Draft, "BCAST_DRAFT_CREATE", DraftScope,
            BcastReasons.BcastDraftCreated, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailStateTransitionInvalid),
        Record(DeliverCommit, SimulationType.Commit, "BCAST_DELIVER_COMMIT", RecipientScope,
            BcastReasons.BcastDelivered, BcastReasons.BcastFollowupImmediateUrgent, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound,
            BcastReasons.BcastFailStateTransitionInvalid, BcastReasons.BcastFailSimulationContextMissing, BcastReasons.BcastFailFallbackPolicy),
        Record(DeferCommit, SimulationType.Commit, "BCAST_DEFER_AND_SCHEDULE_RETRY_COMMIT", RecipientScope,
            BcastReasons.BcastDeferred, BcastReasons.BcastReminderSet, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound,
            BcastReasons.BcastFailStateTransitionInvalid),
        Record(ReminderFiredCommit, SimulationType.Commit, "BCAST_REMINDER_FIRED_COMMIT", RecipientScope,
            BcastReasons.BcastReminderFired, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound, BcastReasons.BcastFailStateTransitionInvalid),
        Record(AckCommit, SimulationType.Commit, "BCAST_ACK_RECORD_COMMIT", RecipientScope,
            BcastReasons.BcastAckRecorded, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound, BcastReasons.BcastFailStateTransitionInvalid,
            BcastReasons.BcastFailAckRequirementNotMet, BcastReasons.BcastFailAckNotRecipient),
        Record(EscalateCommit, SimulationType.Commit, "BCAST_ESCALATE_TO_SENDER_COMMIT", EscalateScope,
            BcastReasons.BcastEscalated, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound, BcastReasons.BcastFailStateTransitionInvalid,
            BcastReasons.BcastFailWaitingWindowNotElapsed),
        Record(ExpireCommit, SimulationType.Commit, "BCAST_EXPIRE_COMMIT", BroadcastScope,
            BcastReasons.BcastExpired, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound, BcastReasons.BcastFailStateTransitionInvalid),
        Record(CancelCommit, SimulationType.Commit, "BCAST_CANCEL_COMMIT", BroadcastScope,
            BcastReasons.BcastCanceled, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound, BcastReasons.BcastFailStateTransitionInvalid),
        Record(DeliveryProofCommit, SimulationType.Commit, "BCAST_DELIVER_COMMIT", RecipientScope,
            BcastReasons.BcastDeliveryProofRecorded, BcastReasons.BcastFallbackAdvanced, BcastReasons.BcastFailSchemaInvalid, BcastReasons.BcastFailNotFound) with
            { HandoffOnly = true },
    ];

    // Every BCAST simulation writes lifecycle truth for the actor's own broadcasts: mode W (reference §7.1 ranks R < W < A < X).
    private static SimulationRecord Record(string id, SimulationType type, string requestedAction, string scope, params ReasonCode[] reasons) =>
        new(id, BcastReasons.EngineId, type, SimulationStatus.Active, requestedAction, AccessMode.W, scope, reasons);
}
