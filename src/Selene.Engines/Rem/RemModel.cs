using System.Collections.Immutable;

namespace Selene.Engines.Rem;

/// <summary>What a reminder is for (reference §10.1). BCAST_MHP_FOLLOWUP is BCAST's follow-up: REM times it, BCAST delivers it.</summary>
public enum ReminderType { Task, Meeting, Timer, Medical, Custom, BcastMhpFollowup }

/// <summary>How important a reminder is; CRITICAL is never held back by quiet hours.</summary>
public enum ReminderPriorityLevel { Low, Normal, High, Critical }

/// <summary>
/// How a recurrence keeps its time: LOCAL_TIME keeps the wall-clock time in the user's zone across DST changes;
/// FIXED_TIMEZONE keeps the first occurrence's UTC offset, so across a DST change the local time moves by the shift.
/// </summary>
public enum ReminderLocalTimeMode { FixedTimezone, LocalTime }

/// <summary>The channels a reminder may use (reference §10.1).</summary>
public enum ReminderChannel { Voice, Push, Text, Email, PhoneApp }

/// <summary>
/// Where an occurrence stands (reference §10.2, the runtime set); a reminder's status is its current occurrence's, or
/// CANCELED. CANCELED, COMPLETED and FAILED are terminal and final.
/// </summary>
public enum ReminderStatus { Scheduled, Snoozed, FollowupPending, Canceled, Completed, Failed }

/// <summary>The outcome of one delivery attempt (reference §10.1).</summary>
public enum ReminderDeliveryStatus { Delivered, DeferredQuietHours, RetryScheduled, Failed }

/// <summary>Which firing an attempt records.</summary>
public enum ReminderAttemptKind { Pre, Due, Escalation }

/// <summary>Where an acknowledgement came from (reference §10.1).</summary>
public enum ReminderAckSource { Voice, Text, Ui }

/// <summary>Whether the user's device is reachable at a due firing (the OS's presence fact; offline ⇒ RETRY_SCHEDULED).</summary>
public enum ReminderOfflineState { Online, Offline }

/// <summary>The actions of PH1.REM, one per simulation of reference §10.3.</summary>
public enum RemAction
{
    Schedule, Update, Cancel, Snooze, DeliverPre, DeliverDue, FollowupSchedule, Escalate, RetrySchedule, MarkCompleted, MarkFailed,
}

/// <summary>The BCAST recipient a BCAST_MHP_FOLLOWUP reminder belongs to (reference §8.5, §10.1).</summary>
public sealed record BcastLink(string BroadcastId, string RecipientId, string PromptDedupeKey);

/// <summary>
/// A reminder's settings: what, for whom, when (the text as given and the instant it resolved to), where (the IANA zone
/// and the local-time mode), how often (a recurrence rule of <see cref="RemRecurrence"/>'s subset), how loud (priority,
/// channels, quiet hours, pre-alert) and how persistent (max attempts per occurrence).
/// </summary>
/// <param name="QuietHoursStart">Local HH:mm the quiet hours start (with <paramref name="QuietHoursEnd"/>, or both null).</param>
/// <param name="PreAlertMs">How long before each occurrence's scheduled time a pre-alert fires; null: none.</param>
public sealed record ReminderSpec(
    ReminderType ReminderType,
    string ReminderRequestText,
    string DesiredTimeText,
    long ResolvedDueAt,
    string UserTimezone,
    ReminderLocalTimeMode LocalTimeMode,
    ReminderPriorityLevel PriorityLevel,
    string? RecurrenceRule,
    ImmutableList<ReminderChannel> ChannelPreferences,
    string? DeviceId,
    string? QuietHoursStart,
    string? QuietHoursEnd,
    long? PreAlertMs,
    int MaxAttempts,
    BcastLink? Bcast);

/// <summary>One delivery attempt (append-only; reference §10.1 delivery attempt row). Dedupe: one per delivery_attempt_id per occurrence.</summary>
public sealed record ReminderDeliveryAttempt(
    string AttemptId,
    string DeliveryAttemptId,
    ReminderAttemptKind Kind,
    ReminderChannel Channel,
    ReminderDeliveryStatus Status,
    string ReasonCode,
    long CreatedAt,
    long? NextAttemptAt,
    string? ProofRef);

/// <summary>
/// One occurrence of a reminder. <see cref="ScheduledTime"/> is the time the recurrence (or the request) gave it;
/// <see cref="DueAt"/> is when it fires next (moved by snooze, follow-up, retry, quiet hours or an update), and
/// <see cref="FireVersion"/> counts the firings scheduled for it: a firing names the version it was scheduled as, so a
/// firing that was superseded is recognised and does nothing.
/// </summary>
public sealed record ReminderOccurrence(
    string OccurrenceId,
    int OccurrenceIndex,
    long ScheduledTime,
    long DueAt,
    ReminderStatus Status,
    int FireVersion,
    long? SnoozeUntil,
    long? FollowupTime,
    long? RetryTime,
    long? CompletedAt,
    string? FailureReason,
    int Snoozes,
    int Followups,
    int Retries,
    int EscalationLevel,
    bool DueDelivered,
    ImmutableList<ReminderDeliveryAttempt> Attempts);

/// <summary>
/// One reminder: its settings, its occurrences (the next is made when the newest is first delivered or closes, so an older one
/// may still be open, e.g. snoozed) and its status: the newest occurrence's, or CANCELED.
/// </summary>
public sealed record ReminderState(
    string ReminderId,
    string TenantId,
    string UserId,
    string CreatedBy,
    ReminderSpec Spec,
    ReminderStatus Status,
    ImmutableList<ReminderOccurrence> Occurrences,
    long CreatedAt,
    long UpdatedAt,
    long SourceEventId)
{
    /// <summary>The occurrence with the highest index: the one that is (or was last) open.</summary>
    public ReminderOccurrence Current => Occurrences[^1];

    public ReminderOccurrence? Occurrence(string? occurrenceId) => Occurrences.FirstOrDefault(o => o.OccurrenceId == occurrenceId);
}

/// <summary>The kinds of REM ledger events (the <c>event_type</c> of <c>reminder_ledger</c>).</summary>
public enum ReminderEventType
{
    /// <summary>The reminder was made, with its first occurrence.</summary>
    ReminderScheduled,
    /// <summary>Its settings changed (<see cref="ReminderEvent.Spec"/> is the whole new spec).</summary>
    ReminderUpdated,
    /// <summary>The next occurrence of its recurrence was made.</summary>
    OccurrenceCreated,
    /// <summary>An occurrence got a new due time (and status): snooze, follow-up, retry, quiet hours, update.</summary>
    OccurrenceRescheduled,
    /// <summary>A delivery attempt was recorded on an occurrence.</summary>
    AttemptRecorded,
    /// <summary>An occurrence ended: COMPLETED, FAILED or CANCELED.</summary>
    OccurrenceClosed,
}

/// <summary>
/// One PH1.REM ledger event. The fields of its <see cref="Type"/> are set, the others null: the spec (scheduled,
/// updated), the occurrence and its due time (created, rescheduled), the attempt (recorded), the status after
/// (rescheduled, closed) and a reason text (a failure reason, a cancel reason, an acknowledgement source).
/// </summary>
public sealed record ReminderEvent(
    string TenantId,
    string ReminderId,
    string ActorUserId,
    string ReasonCode,
    long At,
    RemAction Action,
    ReminderEventType Type,
    string? UserId = null,
    ReminderSpec? Spec = null,
    string? OccurrenceId = null,
    int? OccurrenceIndex = null,
    long? ScheduledTime = null,
    long? DueAt = null,
    ReminderStatus? To = null,
    ReminderDeliveryAttempt? Attempt = null,
    string? Note = null);
