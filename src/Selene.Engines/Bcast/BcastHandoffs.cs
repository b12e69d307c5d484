namespace Selene.Engines.Bcast;

/// <summary>
/// The outbox event types PH1.BCAST hands to the orchestrator. BCAST never calls DELIVERY or REM: an accepted
/// decision carries these as outbox messages, and the OS runs the consuming simulation (seed ph1-os-ecm, delivery
/// ownership; reference §8.5).
/// </summary>
public static class BcastHandoffs
{
    /// <summary>Outbox operation type: each handoff is run as another engine's simulation commit.</summary>
    public const string OperationType = "SIMULATION_COMMIT";

    /// <summary>A recipient's delivery, for DELIVERY_SEND_COMMIT; keyed by delivery_request_ref.</summary>
    public const string DeliverySendRequested = "BCAST_DELIVERY_SEND_REQUESTED";

    /// <summary>A reminder for REM to schedule (type BCAST_MHP_FOLLOWUP); keyed by broadcast, recipient, due_at, prompt key.</summary>
    public const string ReminderScheduleRequested = "BCAST_REMINDER_SCHEDULE_REQUESTED";

    /// <summary>A follow-up prompt for the OS to deliver, device first; keyed by prompt dedupe key and recipient version.</summary>
    public const string FollowupPromptDue = "BCAST_FOLLOWUP_PROMPT_DUE";

    /// <summary>DELIVERY settled an attempt of a BCAST delivery (sent with its proof, or failed terminally); BCAST records it.</summary>
    public const string DeliveryAttemptSettled = "DELIVERY_ATTEMPT_SETTLED_BCAST";

    /// <summary>REM fired a BCAST_MHP_FOLLOWUP reminder; BCAST records REMINDER_FIRED.</summary>
    public const string FollowupReminderFired = "REM_BCAST_FOLLOWUP_FIRED";

    /// <summary>The REM reminder type of a BCAST follow-up (reference §8.5).</summary>
    public const string ReminderType = "BCAST_MHP_FOLLOWUP";
}
