namespace Selene.Engines.Rem;

/// <summary>
/// The eleven PH1.REM simulations (reference §10.3), all COMMIT and ACTIVE, governed by the requested action
/// REMINDER_MANAGE at mode W. The two firings (pre-alert and due) are handoff-only: only the due worker fires a reminder,
/// at its time, so no caller can fire one early or twice.
/// </summary>
public static class RemSimulations
{
    public const string Schedule = "REMINDER_SCHEDULE_COMMIT";
    public const string Update = "REMINDER_UPDATE_COMMIT";
    public const string Cancel = "REMINDER_CANCEL_COMMIT";
    public const string Snooze = "REMINDER_SNOOZE_COMMIT";
    public const string DeliverPre = "REMINDER_DELIVER_PRE_COMMIT";
    public const string DeliverDue = "REMINDER_DELIVER_DUE_COMMIT";
    public const string FollowupSchedule = "REMINDER_FOLLOWUP_SCHEDULE_COMMIT";
    public const string Escalate = "REMINDER_ESCALATE_COMMIT";
    public const string RetrySchedule = "REMINDER_DELIVERY_RETRY_SCHEDULE_COMMIT";
    public const string MarkCompleted = "REMINDER_MARK_COMPLETED_COMMIT";
    public const string MarkFailed = "REMINDER_MARK_FAILED_COMMIT";

    /// <summary>The requested action of every REM simulation.</summary>
    public const string RequestedAction = "REMINDER_MANAGE";

    private static readonly ReasonCode[] Common =
        [RemReasons.RemFailInputSchemaInvalid, RemReasons.RemFailNotFound, RemReasons.RemFailStateTransitionInvalid];

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        Record(Schedule, "tenant+user+due+type+key", RemReasons.ReminderScheduled, RemReasons.RemFailTimeAmbiguousNeedsConfirm, RemReasons.RemFailTimezoneInvalid,
            RemReasons.RemFailScopeViolation),
        Record(Update, "reminder+key", RemReasons.ReminderUpdated, RemReasons.RemFailTimeAmbiguousNeedsConfirm, RemReasons.RemFailScopeViolation),
        Record(Cancel, "reminder+key", RemReasons.ReminderCanceled),
        Record(Snooze, "reminder+occurrence+key", RemReasons.ReminderSnoozed, RemReasons.RemFailBoundExceeded),
        Record(DeliverPre, "reminder+occurrence+delivery_attempt_id", RemReasons.ReminderDeliveredPre, RemReasons.ReminderDeferredQuietHours,
            RemReasons.ReminderFiringSuperseded) with { HandoffOnly = true },
        Record(DeliverDue, "reminder+occurrence+delivery_attempt_id", RemReasons.ReminderDeliveredDue, RemReasons.ReminderDeferredQuietHours,
            RemReasons.ReminderRetryScheduled, RemReasons.ReminderFailed, RemReasons.ReminderFiringSuperseded, RemReasons.ReminderBcastFollowupFired) with { HandoffOnly = true },
        Record(FollowupSchedule, "reminder+occurrence+key", RemReasons.ReminderFollowupScheduled, RemReasons.RemFailBoundExceeded),
        Record(Escalate, "reminder+occurrence+delivery_attempt_id", RemReasons.ReminderEscalated, RemReasons.RemFailBoundExceeded, RemReasons.RemFailScopeViolation),
        Record(RetrySchedule, "reminder+occurrence+key", RemReasons.ReminderRetryScheduled, RemReasons.RemFailBoundExceeded),
        Record(MarkCompleted, "reminder+occurrence+key", RemReasons.ReminderCompleted),
        Record(MarkFailed, "reminder+occurrence+key", RemReasons.ReminderFailed),
    ];

    private static SimulationRecord Record(string id, string scope, params ReasonCode[] reasons) =>
        new(id, RemReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, RequestedAction, AccessMode.W, scope, [.. reasons, .. Common]);
}
