namespace Selene.Engines.Rem;

/// <summary>
/// PH1.REM's engine id and reason codes (block 16xxx: 160xx successes, 161xx refusals), with the names of reference
/// §10.3 where it names them. Ids are stable once allocated and names are never reused. No REM refusal passes later
/// for the same request, so none is retryable.
/// </summary>
public static class RemReasons
{
    /// <summary>The journal's engine id for reminders (implementation PH1.REM.001).</summary>
    public const string EngineId = "PH1.REM";

    /// <summary>A reminder and its first occurrence were scheduled.</summary>
    public static readonly ReasonCode ReminderScheduled = new("REMINDER_SCHEDULED", 16001, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A reminder's fields (and, with a new time, its open occurrence) were updated.</summary>
    public static readonly ReasonCode ReminderUpdated = new("REMINDER_UPDATED", 16002, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The reminder and its open occurrences were canceled.</summary>
    public static readonly ReasonCode ReminderCanceled = new("REMINDER_CANCELED", 16003, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An occurrence was snoozed until snooze_until.</summary>
    public static readonly ReasonCode ReminderSnoozed = new("REMINDER_SNOOZED", 16004, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A follow-up of an unacknowledged occurrence was scheduled.</summary>
    public static readonly ReasonCode ReminderFollowupScheduled = new("REMINDER_FOLLOWUP_SCHEDULED", 16005, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A delivery retry was scheduled (by the caller, or by a due firing while the user is offline).</summary>
    public static readonly ReasonCode ReminderRetryScheduled = new("REMINDER_RETRY_SCHEDULED", 16006, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The pre-alert of an occurrence was recorded as delivered (or deferred by quiet hours).</summary>
    public static readonly ReasonCode ReminderDeliveredPre = new("REMINDER_DELIVERED_PRE", 16007, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The due firing of an occurrence was recorded as delivered.</summary>
    public static readonly ReasonCode ReminderDeliveredDue = new("REMINDER_DELIVERED_DUE", 16008, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An ignored occurrence was escalated to another channel.</summary>
    public static readonly ReasonCode ReminderEscalated = new("REMINDER_ESCALATED", 16009, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An occurrence was acknowledged and is COMPLETED.</summary>
    public static readonly ReasonCode ReminderCompleted = new("REMINDER_COMPLETED", 16010, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An occurrence FAILED (marked by the caller, or closed by a firing that failed closed).</summary>
    public static readonly ReasonCode ReminderFailed = new("REMINDER_FAILED", 16011, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A due firing fell inside the user's quiet hours: the occurrence is due again at their end.</summary>
    public static readonly ReasonCode ReminderDeferredQuietHours = new("REMINDER_DEFERRED_QUIET_HOURS", 16012, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A firing whose occurrence moved on (snoozed, rescheduled, closed, fired already): nothing happens.</summary>
    public static readonly ReasonCode ReminderFiringSuperseded = new("REMINDER_FIRING_SUPERSEDED", 16013, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A BCAST_MHP_FOLLOWUP occurrence fired: handed to BCAST (REM_BCAST_FOLLOWUP_FIRED), REM delivers nothing itself.</summary>
    public static readonly ReasonCode ReminderBcastFollowupFired = new("REMINDER_BCAST_FOLLOWUP_FIRED", 16014, EngineId, Severity.Info, ReasonKind.Success, false);

    /// <summary>The desired time is not one REM resolves deterministically (or lies in the past): ask the user to confirm a time.</summary>
    public static readonly ReasonCode RemFailTimeAmbiguousNeedsConfirm = new("REM_FAIL_TIME_AMBIGUOUS_NEEDS_CONFIRM", 16101, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>The reminder, or the occurrence on it, does not exist.</summary>
    public static readonly ReasonCode RemFailNotFound = new("REM_FAIL_NOT_FOUND", 16102, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    /// <summary>The request reaches outside the actor's own reminders, or a BCAST follow-up lacks its linkage fields.</summary>
    public static readonly ReasonCode RemFailScopeViolation = new("REM_FAIL_SCOPE_VIOLATION", 16103, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>The action is not allowed from the occurrence's or reminder's state (§10.2).</summary>
    public static readonly ReasonCode RemFailStateTransitionInvalid = new("REM_FAIL_STATE_TRANSITION_INVALID", 16104, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A broken invariant inside PH1.REM (never the caller's input).</summary>
    public static readonly ReasonCode RemFailInternal = new("REM_FAIL_INTERNAL", 16105, EngineId, Severity.Error, ReasonKind.Internal, false);
    /// <summary>The user's time zone is not an IANA zone id of the embedded database.</summary>
    public static readonly ReasonCode RemFailTimezoneInvalid = new("REM_FAIL_TIMEZONE_INVALID", 16106, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>A request's shape or bounds are wrong (an id, a text, a duration, a recurrence rule, an enum value).</summary>
    public static readonly ReasonCode RemFailInputSchemaInvalid = new("REM_FAIL_INPUT_SCHEMA_INVALID", 16107, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>An occurrence used up its snoozes, follow-ups, retries or escalation levels.</summary>
    public static readonly ReasonCode RemFailBoundExceeded = new("REM_FAIL_BOUND_EXCEEDED", 16108, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A BCAST follow-up fired for a recipient that is CONCLUDED (or otherwise closed, or unknown): failed closed, nothing handed on.</summary>
    public static readonly ReasonCode RemFailBcastRecipientClosed = new("REM_FAIL_BCAST_RECIPIENT_CLOSED", 16109, EngineId, Severity.Warn, ReasonKind.Conflict, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(RemReasons));
}
