namespace Selene.Engines.Rem;

/// <summary>What the runtime hands the decider besides state and command: who, the request's key, and when (ns).</summary>
public sealed record RemContext(string TenantId, string ActorUserId, long Now, string IdempotencyKey);

/// <summary>A PH1.REM command, one per simulation of reference §10.3. Tenant, actor, key and time come from the context.</summary>
public abstract record RemCommand(RemAction Action);

/// <summary>REMINDER_SCHEDULE_COMMIT inputs (reference §10.3).</summary>
/// <param name="UserId">Whose reminder; null: the actor's. Only a BCAST_MHP_FOLLOWUP names another user (its recipient).</param>
/// <param name="MaxAttempts">Delivery retries an occurrence may use (1..10).</param>
public sealed record ScheduleReminder(
    string? UserId,
    string? DeviceId,
    ReminderType ReminderType,
    string ReminderRequestText,
    string DesiredTime,
    string UserTimezone,
    ReminderLocalTimeMode LocalTimeMode,
    ReminderPriorityLevel PriorityLevel,
    string? RecurrenceRule,
    IReadOnlyList<ReminderChannel> ChannelPreferences,
    string? QuietHoursStart,
    string? QuietHoursEnd,
    long? PreAlertMs,
    int MaxAttempts,
    BcastLink? Bcast) : RemCommand(RemAction.Schedule);

/// <summary>A command on an existing reminder.</summary>
public abstract record ReminderCommand(RemAction Kind, string ReminderId) : RemCommand(Kind);

/// <summary>REMINDER_UPDATE_COMMIT inputs: the fields to change (at least one); a new desired time reschedules the open occurrence.</summary>
public sealed record UpdateReminder(
    string ReminderId,
    string? ReminderRequestText,
    string? DesiredTime,
    ReminderPriorityLevel? PriorityLevel,
    IReadOnlyList<ReminderChannel>? ChannelPreferences) : ReminderCommand(RemAction.Update, ReminderId);

/// <summary>REMINDER_CANCEL_COMMIT inputs.</summary>
public sealed record CancelReminder(string ReminderId, string? CancelReason) : ReminderCommand(RemAction.Cancel, ReminderId);

/// <summary>A command on one occurrence of a reminder.</summary>
public abstract record OccurrenceCommand(RemAction Kind, string ReminderId, string OccurrenceId) : ReminderCommand(Kind, ReminderId);

/// <summary>REMINDER_SNOOZE_COMMIT inputs.</summary>
public sealed record SnoozeOccurrence(string ReminderId, string OccurrenceId, long SnoozeDurationMs)
    : OccurrenceCommand(RemAction.Snooze, ReminderId, OccurrenceId);

/// <summary>REMINDER_FOLLOWUP_SCHEDULE_COMMIT inputs.</summary>
public sealed record ScheduleFollowup(string ReminderId, string OccurrenceId, long FollowupDelayMs)
    : OccurrenceCommand(RemAction.FollowupSchedule, ReminderId, OccurrenceId);

/// <summary>REMINDER_DELIVERY_RETRY_SCHEDULE_COMMIT inputs: the retry time in ms since the epoch.</summary>
public sealed record ScheduleRetry(string ReminderId, string OccurrenceId, long RetryTimeMs)
    : OccurrenceCommand(RemAction.RetrySchedule, ReminderId, OccurrenceId);

/// <summary>REMINDER_ESCALATE_COMMIT inputs: an ignored occurrence goes to another channel.</summary>
public sealed record EscalateOccurrence(string ReminderId, string OccurrenceId, ReminderChannel FromChannel, ReminderChannel ToChannel, string DeliveryAttemptId)
    : OccurrenceCommand(RemAction.Escalate, ReminderId, OccurrenceId);

/// <summary>REMINDER_MARK_COMPLETED_COMMIT inputs.</summary>
public sealed record CompleteOccurrence(string ReminderId, string OccurrenceId, ReminderAckSource AckSource)
    : OccurrenceCommand(RemAction.MarkCompleted, ReminderId, OccurrenceId);

/// <summary>REMINDER_MARK_FAILED_COMMIT inputs.</summary>
public sealed record FailOccurrence(string ReminderId, string OccurrenceId, string FailureReason)
    : OccurrenceCommand(RemAction.MarkFailed, ReminderId, OccurrenceId);

/// <summary>
/// A firing by the due worker (REMINDER_DELIVER_PRE_COMMIT or REMINDER_DELIVER_DUE_COMMIT): the occurrence and the
/// firing version it was scheduled as (a firing of an older version was superseded and does nothing).
/// </summary>
/// <param name="OfflineState">The user's device presence at the firing: OFFLINE schedules a retry instead of a delivery.</param>
public sealed record FireOccurrence(RemAction Kind, string ReminderId, string OccurrenceId, int FireVersion, ReminderOfflineState OfflineState)
    : OccurrenceCommand(Kind, ReminderId, OccurrenceId);

/// <summary>
/// Facts the runtime reads for a decision: for a BCAST_MHP_FOLLOWUP firing, the BCAST recipient's status (its wire
/// name, null when BCAST has no such recipient).
/// </summary>
public sealed record RemFacts(string? BcastRecipientStatus);

/// <summary>PH1.REM's ids: derived from what they identify, so the decider stays pure (reference: <c>rem_</c>/<c>occ_</c> + 16 hex).</summary>
public static class RemIds
{
    public const string ReminderPrefix = "rem_";
    public const string OccurrencePrefix = "occ_";
    public const string AttemptPrefix = "rematt_";

    /// <summary><c>rem_{short_hash(tenant, user, due, type, key)}</c>: the schedule's idempotency scope of §10.3.</summary>
    public static string ReminderId(string tenantId, string userId, long dueAt, ReminderType type, string idempotencyKey) =>
        ReminderPrefix + Hashing.ShortHash(16, tenantId, userId, dueAt.ToString(System.Globalization.CultureInfo.InvariantCulture), WireNames.Of(type), idempotencyKey);

    public static string OccurrenceId(string reminderId, int index) =>
        OccurrencePrefix + Hashing.ShortHash(16, reminderId, index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string AttemptId(string occurrenceId, string deliveryAttemptId) => AttemptPrefix + Hashing.ShortHash(16, occurrenceId, deliveryAttemptId);

    public static bool IsReminderId(string? id) => IdRules.IsShortHashId(id, ReminderPrefix);

    public static bool IsOccurrenceId(string? id) => IdRules.IsShortHashId(id, OccurrencePrefix);
}
