using System.Collections.Immutable;
using System.Globalization;
using NodaTime;

namespace Selene.Engines.Rem;

/// <summary>
/// PH1.REM, pure (reference §10): the reminder and occurrence state machine of §10.2, the eleven simulations of §10.3,
/// and the timing of snooze, follow-up, retry, escalation, quiet hours and recurrence. <see cref="Decide"/> turns
/// (state, command, context, facts) into events and outbox messages or a refusal; <see cref="Evolve"/> folds an event.
/// REM is timing only: every firing is a timed outbox message (<see cref="OutboxMessage.NotBefore"/> = the due time) that
/// the due worker runs as a firing simulation, and a BCAST follow-up is handed back to BCAST, never delivered by REM.
/// </summary>
public static class RemDecider
{
    public const string DueEvent = "REM_OCCURRENCE_DUE";
    public const string PreDueEvent = "REM_OCCURRENCE_PRE_DUE";
    public const string BcastFollowupFiredEvent = "REM_BCAST_FOLLOWUP_FIRED";

    /// <summary>The BCAST recipient status that waits for a follow-up reminder; any other fails the firing closed.</summary>
    public const string BcastWaitingStatus = "REMINDER_SET";
    public const string OperationType = "SIMULATION_COMMIT";

    public const long MinSnoozeMs = 60_000;
    public const long MaxSnoozeMs = 86_400_000;
    public const int MaxSnoozes = 10;
    public const long MinFollowupDelayMs = 60_000;
    public const long MaxFollowupDelayMs = 86_400_000;
    public const int MaxFollowups = 5;
    /// <summary>A retry is due within a day.</summary>
    public const long MaxRetryAheadMs = 86_400_000;
    /// <summary>An offline firing retries after five minutes.</summary>
    public const long OfflineRetryNs = 5 * RemTime.NsPerMinute;
    public const int MaxEscalationLevel = 3;
    public const long MinPreAlertMs = 60_000;
    public const long MaxPreAlertMs = 7 * 86_400_000L;
    public const int MaxMaxAttempts = 10;
    public const int MaxRequestTextLength = 512;
    public const int MaxReasonLength = 256;
    public const int MaxChannels = 5;
    public const int MaxPromptDedupeKeyLength = 200;

    /// <summary>CANCELED, COMPLETED and FAILED are final (§10.2).</summary>
    public static bool IsTerminal(ReminderStatus status) => status is ReminderStatus.Canceled or ReminderStatus.Completed or ReminderStatus.Failed;

    /// <summary>The statuses an occurrence action is allowed from (§10.2); the firings' further guards are in <see cref="Decide"/>.</summary>
    public static IReadOnlyList<ReminderStatus> AllowedFrom(RemAction action) => action switch
    {
        RemAction.Update or RemAction.Cancel or RemAction.Snooze or RemAction.FollowupSchedule or RemAction.RetrySchedule or RemAction.Escalate
            or RemAction.MarkCompleted or RemAction.MarkFailed or RemAction.DeliverDue =>
            [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        RemAction.DeliverPre => [ReminderStatus.Scheduled],
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "not an action on an existing reminder"),
    };

    /// <summary>Bounds and shapes of a command, checked before any state is read; null when valid.</summary>
    public static Decision<ReminderEvent>.Rejected? Validate(RemCommand command)
    {
        switch (command)
        {
            case ScheduleReminder s:
                if (!Enum.IsDefined(s.ReminderType) || !Enum.IsDefined(s.PriorityLevel) || !Enum.IsDefined(s.LocalTimeMode))
                    return Schema("reminder_type, priority_level or local_time_mode is not a known value");
                if (s.UserId is not null && !IdRules.IsValidName(s.UserId)) return Schema("user_id must be 1..64 of [A-Za-z0-9_.-]");
                if (s.DeviceId is not null && !IdRules.IsValidName(s.DeviceId)) return Schema("device_id must be 1..64 of [A-Za-z0-9_.-]");
                if (!IdRules.IsBoundedText(s.ReminderRequestText, MaxRequestTextLength)) return Schema($"reminder_request_text must be 1..{MaxRequestTextLength} printable chars");
                if (!IdRules.IsBoundedText(s.DesiredTime, RemTime.MaxTextLength)) return Schema($"desired_time must be 1..{RemTime.MaxTextLength} printable chars");
                if (RemTime.Zone(s.UserTimezone) is null)
                    return new(RemReasons.RemFailTimezoneInvalid, $"user_timezone '{IdRules.Shorten(s.UserTimezone ?? "")}' is not an IANA zone");
                if (ChannelsProblem(s.ChannelPreferences) is { } channels) return Schema(channels);
                if (s.RecurrenceRule is not null && RemRecurrence.Parse(s.RecurrenceRule, out var ruleError) is null) return Schema(ruleError!);
                if ((s.QuietHoursStart is null) != (s.QuietHoursEnd is null)) return Schema("quiet_hours_start and quiet_hours_end come together");
                if (s.QuietHoursStart is not null &&
                    (RemTime.Clock(s.QuietHoursStart) is not { } qs || RemTime.Clock(s.QuietHoursEnd) is not { } qe || qs == qe))
                    return Schema("quiet hours are two different HH:mm times");
                if (s.PreAlertMs is { } pre && pre is < MinPreAlertMs or > MaxPreAlertMs) return Schema($"pre_alert_ms must be {MinPreAlertMs}..{MaxPreAlertMs}");
                if (s.MaxAttempts is < 1 or > MaxMaxAttempts) return Schema($"max_attempts must be 1..{MaxMaxAttempts}");
                if (s.Bcast is { } link)
                {
                    if (link.BroadcastId.Length == 0 || link.RecipientId.Length == 0 || link.PromptDedupeKey.Length == 0)
                        return new(RemReasons.RemFailScopeViolation, "BCAST linkage needs broadcast_id, recipient_id and prompt_dedupe_key together");
                    if (!IdRules.IsValidName(link.BroadcastId) || !IdRules.IsValidName(link.RecipientId))
                        return Schema("broadcast_id and recipient_id must be names of [A-Za-z0-9_.-]");
                    // BCAST's per-recipient prompt keys carry a separator (<key>:<recipient>): bounded text, not a name.
                    if (!IdRules.IsBoundedText(link.PromptDedupeKey, MaxPromptDedupeKeyLength)) return Schema($"prompt_dedupe_key must be 1..{MaxPromptDedupeKeyLength} printable chars");
                }
                return null;
            case ReminderCommand r when !RemIds.IsReminderId(r.ReminderId):
                return Schema("reminder_id must look like rem_<16 hex>");
            case OccurrenceCommand o when !RemIds.IsOccurrenceId(o.OccurrenceId):
                return Schema("occurrence_id must look like occ_<16 hex>");
            case UpdateReminder u:
                if (u.ReminderRequestText is null && u.DesiredTime is null && u.PriorityLevel is null && u.ChannelPreferences is null)
                    return Schema("name at least one field to update");
                if (u.ReminderRequestText is not null && !IdRules.IsBoundedText(u.ReminderRequestText, MaxRequestTextLength))
                    return Schema($"reminder_request_text must be 1..{MaxRequestTextLength} printable chars");
                if (u.DesiredTime is not null && !IdRules.IsBoundedText(u.DesiredTime, RemTime.MaxTextLength)) return Schema($"desired_time must be 1..{RemTime.MaxTextLength} printable chars");
                if (u.PriorityLevel is { } p && !Enum.IsDefined(p)) return Schema("priority_level is not a known value");
                return u.ChannelPreferences is not null && ChannelsProblem(u.ChannelPreferences) is { } problem ? Schema(problem) : null;
            case CancelReminder c:
                return c.CancelReason is not null && !IdRules.IsBoundedText(c.CancelReason, MaxReasonLength) ? Schema($"cancel_reason must be 1..{MaxReasonLength} printable chars") : null;
            case SnoozeOccurrence s:
                return s.SnoozeDurationMs is < MinSnoozeMs or > MaxSnoozeMs ? Schema($"snooze_duration_ms must be {MinSnoozeMs}..{MaxSnoozeMs}") : null;
            case ScheduleFollowup f:
                return f.FollowupDelayMs is < MinFollowupDelayMs or > MaxFollowupDelayMs ? Schema($"followup_delay_ms must be {MinFollowupDelayMs}..{MaxFollowupDelayMs}") : null;
            case ScheduleRetry r:
                return r.RetryTimeMs <= 0 ? Schema("retry_time_ms must be a positive time in ms") : null;
            case EscalateOccurrence e:
                if (!Enum.IsDefined(e.FromChannel) || !Enum.IsDefined(e.ToChannel)) return Schema("from_channel and to_channel must be known channels");
                if (e.FromChannel == e.ToChannel) return Schema("an escalation goes to another channel");
                return IdRules.IsValidName(e.DeliveryAttemptId, 128) ? null : Schema("delivery_attempt_id must be 1..128 of [A-Za-z0-9_.-]");
            case CompleteOccurrence c:
                return Enum.IsDefined(c.AckSource) ? null : Schema("ack_source must be VOICE, TEXT or UI");
            case FailOccurrence f:
                return IdRules.IsBoundedText(f.FailureReason, MaxReasonLength) ? null : Schema($"failure_reason must be 1..{MaxReasonLength} printable chars");
            case FireOccurrence f:
                if (f.Kind is not (RemAction.DeliverPre or RemAction.DeliverDue)) return Schema("a firing is DELIVER_PRE or DELIVER_DUE");
                if (f.FireVersion < 1) return Schema("fire_version must be at least 1");
                return Enum.IsDefined(f.OfflineState) ? null : Schema("offline_state must be ONLINE or OFFLINE");
            default:
                return Schema("unknown command");
        }
    }

    private static string? ChannelsProblem(IReadOnlyList<ReminderChannel>? channels) =>
        channels is null || channels.Count is 0 or > MaxChannels || channels.Any(c => !Enum.IsDefined(c)) || channels.Distinct().Count() != channels.Count
            ? $"channel_preferences must be 1..{MaxChannels} distinct channels of VOICE, PUSH, TEXT, EMAIL, PHONE_APP"
            : null;

    /// <summary>
    /// The stream a command acts on: a schedule's derived reminder id (from its resolved due time; when the time does not
    /// resolve, an id the decision then refuses), else the named reminder.
    /// </summary>
    public static string TargetOf(RemCommand command, RemContext context) => command switch
    {
        ScheduleReminder s => RemIds.ReminderId(context.TenantId, s.UserId ?? context.ActorUserId, Resolve(s, context).At ?? -1, s.ReminderType, context.IdempotencyKey),
        ReminderCommand r => r.ReminderId,
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };

    // A BCAST follow-up is due exactly at BCAST's due_at even when the handoff runs after it: it then fires at once.
    private static ResolvedTime Resolve(ScheduleReminder s, RemContext context)
    {
        if (RemTime.Zone(s.UserTimezone) is not { } zone) return ResolvedTime.Ambiguous("no zone");
        var resolved = RemTime.Parse(s.DesiredTime, context.Now, zone);
        if (resolved.At is null && s.ReminderType == ReminderType.BcastMhpFollowup && s.DesiredTime.All(char.IsAsciiDigit) && s.DesiredTime.Length >= 16 &&
            long.TryParse(s.DesiredTime, NumberStyles.None, CultureInfo.InvariantCulture, out var exact))
            return ResolvedTime.Ok(exact);
        return resolved;
    }

    /// <summary>Decides one command against the reminder's state (null when it does not exist yet).</summary>
    public static Decision<ReminderEvent> Decide(ReminderState? state, RemCommand command, RemContext context, RemFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (Validate(command) is { } invalid) return invalid;
        if (command is ScheduleReminder schedule) return DecideSchedule(state, schedule, context);

        var reminderCommand = (ReminderCommand)command;
        if (state is null) return new Decision<ReminderEvent>.Rejected(RemReasons.RemFailNotFound, $"no reminder {reminderCommand.ReminderId}");
        if (state.ReminderId != reminderCommand.ReminderId)
            throw new InvalidOperationException($"state of {state.ReminderId} was loaded for a command on {reminderCommand.ReminderId}");
        if (command is UpdateReminder update) return DecideUpdate(state, update, context);
        if (command is CancelReminder cancel) return DecideCancel(state, cancel, context);

        var o = (OccurrenceCommand)command;
        if (state.Occurrence(o.OccurrenceId) is not { } occurrence)
            return new Decision<ReminderEvent>.Rejected(RemReasons.RemFailNotFound, $"reminder {state.ReminderId} has no occurrence {o.OccurrenceId}");
        if (command is FireOccurrence fire) return DecideFire(state, occurrence, fire, context, facts);
        if (!AllowedFrom(command.Action).Contains(occurrence.Status))
            return Transition($"occurrence {occurrence.OccurrenceId} is {WireNames.Of(occurrence.Status)}: no {WireNames.Of(command.Action)}");

        return command switch
        {
            SnoozeOccurrence s => DecideSnooze(state, occurrence, s, context),
            ScheduleFollowup f => DecideFollowup(state, occurrence, f, context),
            ScheduleRetry r => DecideRetry(state, occurrence, r, context),
            EscalateOccurrence e => DecideEscalate(state, occurrence, e, context),
            CompleteOccurrence c => Close(state, occurrence, RemAction.MarkCompleted, ReminderStatus.Completed, WireNames.Of(c.AckSource), RemReasons.ReminderCompleted, context),
            FailOccurrence f => Close(state, occurrence, RemAction.MarkFailed, ReminderStatus.Failed, f.FailureReason, RemReasons.ReminderFailed, context),
            _ => Schema("unknown command"),
        };
    }

    private static Decision<ReminderEvent> DecideSchedule(ReminderState? state, ScheduleReminder s, RemContext ctx)
    {
        var userId = s.UserId ?? ctx.ActorUserId;
        if (s.ReminderType == ReminderType.BcastMhpFollowup)
        {
            if (s.Bcast is not { } link) return Scope("a BCAST_MHP_FOLLOWUP names its broadcast_id, recipient_id and prompt_dedupe_key");
            if (link.RecipientId != userId) return Scope("a BCAST_MHP_FOLLOWUP is the recipient's reminder: user_id must be the recipient_id");
            if (s.RecurrenceRule is not null) return Schema("a BCAST_MHP_FOLLOWUP does not recur");
        }
        else
        {
            if (s.Bcast is not null) return Scope("only a BCAST_MHP_FOLLOWUP carries BCAST linkage fields");
            if (userId != ctx.ActorUserId) return Scope("a reminder is scheduled for oneself");
        }
        var resolved = Resolve(s, ctx);
        if (resolved.At is not { } due) return new Decision<ReminderEvent>.Rejected(resolved.Refusal!, resolved.Detail!);
        var reminderId = RemIds.ReminderId(ctx.TenantId, userId, due, s.ReminderType, ctx.IdempotencyKey);
        if (state is not null) return Transition($"reminder {reminderId} exists already ({WireNames.Of(state.Status)})");

        var spec = new ReminderSpec(s.ReminderType, s.ReminderRequestText, s.DesiredTime, due, s.UserTimezone, s.LocalTimeMode, s.PriorityLevel,
            s.RecurrenceRule, [.. s.ChannelPreferences], s.DeviceId, s.QuietHoursStart, s.QuietHoursEnd, s.PreAlertMs, s.MaxAttempts, s.Bcast);
        var occurrenceId = RemIds.OccurrenceId(reminderId, 0);
        var e = new ReminderEvent(ctx.TenantId, reminderId, ctx.ActorUserId, RemReasons.ReminderScheduled.Name, ctx.Now, RemAction.Schedule,
            ReminderEventType.ReminderScheduled, UserId: userId, Spec: spec, OccurrenceId: occurrenceId, OccurrenceIndex: 0, ScheduledTime: due, DueAt: due,
            To: ReminderStatus.Scheduled);
        return new Decision<ReminderEvent>.Accepted([e], RemReasons.ReminderScheduled,
            [.. Firings(reminderId, spec, occurrenceId, due, due, 1, ctx.Now)]);
    }

    private static Decision<ReminderEvent> DecideUpdate(ReminderState state, UpdateReminder u, RemContext ctx)
    {
        if (IsTerminal(state.Status)) return Transition($"reminder {state.ReminderId} is {WireNames.Of(state.Status)}: no UPDATE");
        if (state.Spec.ReminderType == ReminderType.BcastMhpFollowup) return Scope("BCAST owns its follow-up: it changes through BCAST, not REMINDER_UPDATE");
        var spec = state.Spec with
        {
            ReminderRequestText = u.ReminderRequestText ?? state.Spec.ReminderRequestText,
            PriorityLevel = u.PriorityLevel ?? state.Spec.PriorityLevel,
            ChannelPreferences = u.ChannelPreferences is null ? state.Spec.ChannelPreferences : [.. u.ChannelPreferences],
        };
        var events = new List<ReminderEvent>();
        var outbox = new List<OutboxMessage>();
        if (u.DesiredTime is not null)
        {
            var resolved = RemTime.Parse(u.DesiredTime, ctx.Now, RemTime.Zone(spec.UserTimezone)!);
            if (resolved.At is not { } due) return new Decision<ReminderEvent>.Rejected(resolved.Refusal!, resolved.Detail!);
            spec = spec with { DesiredTimeText = u.DesiredTime, ResolvedDueAt = due };
            // The reminder's current occurrence moves to the new time (its earlier occurrences keep theirs).
            var current = state.Current;
            if (!IsTerminal(current.Status))
            {
                events.Add(Event(state, ctx, RemAction.Update, ReminderEventType.OccurrenceRescheduled, RemReasons.ReminderUpdated) with
                {
                    OccurrenceId = current.OccurrenceId, ScheduledTime = due, DueAt = due, To = ReminderStatus.Scheduled,
                });
                outbox.AddRange(Firings(state.ReminderId, spec, current.OccurrenceId, due, due, current.FireVersion + 1, ctx.Now));
            }
        }
        events.Insert(0, Event(state, ctx, RemAction.Update, ReminderEventType.ReminderUpdated, RemReasons.ReminderUpdated) with { Spec = spec });
        return new Decision<ReminderEvent>.Accepted(events, RemReasons.ReminderUpdated, outbox);
    }

    private static Decision<ReminderEvent> DecideCancel(ReminderState state, CancelReminder c, RemContext ctx)
    {
        if (IsTerminal(state.Status)) return Transition($"reminder {state.ReminderId} is {WireNames.Of(state.Status)}: no CANCEL");
        var events = state.Occurrences.Where(o => !IsTerminal(o.Status))
            .Select(o => Event(state, ctx, RemAction.Cancel, ReminderEventType.OccurrenceClosed, RemReasons.ReminderCanceled) with
            {
                OccurrenceId = o.OccurrenceId, To = ReminderStatus.Canceled, Note = c.CancelReason,
            }).ToList();
        // A reminder whose occurrences all ended but which is not terminal cannot exist (its status is its current occurrence's).
        if (events.Count == 0) throw new InvalidOperationException($"reminder {state.ReminderId} is {WireNames.Of(state.Status)} with no open occurrence");
        return new Decision<ReminderEvent>.Accepted(events, RemReasons.ReminderCanceled, []);
    }

    private static Decision<ReminderEvent> DecideSnooze(ReminderState state, ReminderOccurrence o, SnoozeOccurrence s, RemContext ctx)
    {
        if (ctx.Now < o.ScheduledTime) return Transition($"occurrence {o.OccurrenceId} is not due yet: only a due or followed-up reminder is snoozed");
        if (o.Snoozes >= MaxSnoozes) return Bound($"occurrence {o.OccurrenceId} was snoozed {MaxSnoozes} times");
        var until = ctx.Now + s.SnoozeDurationMs * 1_000_000;
        return Reschedule(state, o, RemAction.Snooze, ReminderStatus.Snoozed, until, RemReasons.ReminderSnoozed, ctx);
    }

    private static Decision<ReminderEvent> DecideFollowup(ReminderState state, ReminderOccurrence o, ScheduleFollowup f, RemContext ctx)
    {
        if (!o.DueDelivered) return Transition($"occurrence {o.OccurrenceId} was not delivered yet: a follow-up follows a delivered reminder");
        if (o.Followups >= MaxFollowups) return Bound($"occurrence {o.OccurrenceId} had {MaxFollowups} follow-ups");
        return Reschedule(state, o, RemAction.FollowupSchedule, ReminderStatus.FollowupPending, ctx.Now + f.FollowupDelayMs * 1_000_000,
            RemReasons.ReminderFollowupScheduled, ctx);
    }

    private static Decision<ReminderEvent> DecideRetry(ReminderState state, ReminderOccurrence o, ScheduleRetry r, RemContext ctx)
    {
        if (o.Attempts.LastOrDefault() is not { Status: ReminderDeliveryStatus.RetryScheduled or ReminderDeliveryStatus.Failed })
            return Transition($"occurrence {o.OccurrenceId} has no failed delivery to retry");
        if (o.Retries >= state.Spec.MaxAttempts) return Bound($"occurrence {o.OccurrenceId} used its {state.Spec.MaxAttempts} retries");
        var at = r.RetryTimeMs > long.MaxValue / 1_000_000 ? long.MaxValue : r.RetryTimeMs * 1_000_000;
        if (at <= ctx.Now || at - ctx.Now > MaxRetryAheadMs * 1_000_000) return Schema("retry_time_ms must be after now and at most a day ahead");
        return Reschedule(state, o, RemAction.RetrySchedule, o.Status, at, RemReasons.ReminderRetryScheduled, ctx);
    }

    private static Decision<ReminderEvent> DecideEscalate(ReminderState state, ReminderOccurrence o, EscalateOccurrence e, RemContext ctx)
    {
        if (state.Spec.ReminderType == ReminderType.BcastMhpFollowup) return Scope("BCAST decides how its follow-up reaches the recipient");
        if (o.Attempts.Any(a => a.DeliveryAttemptId == e.DeliveryAttemptId))
            return new Decision<ReminderEvent>.Accepted([], RemReasons.ReminderEscalated, []);
        if (!o.DueDelivered) return Transition($"occurrence {o.OccurrenceId} was not delivered yet: nothing was ignored");
        if (o.EscalationLevel >= MaxEscalationLevel) return Bound($"occurrence {o.OccurrenceId} is at escalation level {MaxEscalationLevel}");
        var attempt = new ReminderDeliveryAttempt(RemIds.AttemptId(o.OccurrenceId, e.DeliveryAttemptId), e.DeliveryAttemptId, ReminderAttemptKind.Escalation,
            e.ToChannel, ReminderDeliveryStatus.Delivered, RemReasons.ReminderEscalated.Name, ctx.Now, null, null);
        return new Decision<ReminderEvent>.Accepted(
            [Event(state, ctx, RemAction.Escalate, ReminderEventType.AttemptRecorded, RemReasons.ReminderEscalated) with { OccurrenceId = o.OccurrenceId, Attempt = attempt }],
            RemReasons.ReminderEscalated, []);
    }

    private static Decision<ReminderEvent> DecideFire(ReminderState state, ReminderOccurrence o, FireOccurrence f, RemContext ctx, RemFacts facts)
    {
        var deliveryAttemptId = f.Kind == RemAction.DeliverPre ? $"pre_{o.OccurrenceId}" : $"due_{o.OccurrenceId}_{f.FireVersion.ToString(CultureInfo.InvariantCulture)}";
        // The occurrence moved on since this firing was scheduled (snoozed, rescheduled, closed, fired already): no second firing.
        if (!AllowedFrom(f.Kind).Contains(o.Status) || o.Attempts.Any(a => a.DeliveryAttemptId == deliveryAttemptId) ||
            (f.Kind == RemAction.DeliverDue && f.FireVersion != o.FireVersion) || (f.Kind == RemAction.DeliverPre && ctx.Now >= o.DueAt))
            return new Decision<ReminderEvent>.Accepted([], RemReasons.ReminderFiringSuperseded, []);
        if (f.Kind == RemAction.DeliverDue && ctx.Now < o.DueAt) return Transition($"occurrence {o.OccurrenceId} is not due before {o.DueAt}");

        var spec = state.Spec;
        var zone = RemTime.Zone(spec.UserTimezone)!;
        var channel = spec.ChannelPreferences[0];
        ReminderDeliveryAttempt Attempt(ReminderDeliveryStatus status, ReasonCode reason, long? next = null) =>
            new(RemIds.AttemptId(o.OccurrenceId, deliveryAttemptId), deliveryAttemptId, f.Kind == RemAction.DeliverPre ? ReminderAttemptKind.Pre : ReminderAttemptKind.Due,
                channel, status, reason.Name, ctx.Now, next, null);
        ReminderEvent Recorded(ReminderDeliveryAttempt attempt, ReasonCode reason) =>
            Event(state, ctx, f.Kind, ReminderEventType.AttemptRecorded, reason) with { OccurrenceId = o.OccurrenceId, Attempt = attempt };

        if (spec.ReminderType == ReminderType.BcastMhpFollowup)
        {
            var link = spec.Bcast!;
            // Fail closed (reference §10): a recipient that BCAST concluded, closed or does not know gets no follow-up, and
            // neither does one that moved on without it (delivered again, deferred otherwise): only REMINDER_SET waits for it.
            if (facts.BcastRecipientStatus != BcastWaitingStatus)
            {
                var why = $"BCAST recipient {link.RecipientId} of {link.BroadcastId} is {facts.BcastRecipientStatus ?? "unknown"}, not {BcastWaitingStatus}";
                return new Decision<ReminderEvent>.Accepted(
                [
                    Recorded(Attempt(ReminderDeliveryStatus.Failed, RemReasons.RemFailBcastRecipientClosed), RemReasons.ReminderFailed),
                    Event(state, ctx, f.Kind, ReminderEventType.OccurrenceClosed, RemReasons.ReminderFailed) with
                    {
                        OccurrenceId = o.OccurrenceId, To = ReminderStatus.Failed, Note = why,
                    },
                ], RemReasons.ReminderFailed, []);
            }
            // REM's part ends here: BCAST owns the follow-up (device first) from REMINDER_FIRED on.
            var fired = new OutboxMessage(OperationType, $"rem_fired:{state.ReminderId}:{o.OccurrenceId}", BcastFollowupFiredEvent,
                new Dictionary<string, string>
                {
                    ["tenant_id"] = state.TenantId, ["broadcast_id"] = link.BroadcastId, ["recipient_id"] = link.RecipientId,
                    ["reminder_ref"] = $"{state.ReminderId}:{o.OccurrenceId}",
                });
            return new Decision<ReminderEvent>.Accepted(
            [
                Recorded(Attempt(ReminderDeliveryStatus.Delivered, RemReasons.ReminderBcastFollowupFired), RemReasons.ReminderBcastFollowupFired),
                Event(state, ctx, f.Kind, ReminderEventType.OccurrenceClosed, RemReasons.ReminderBcastFollowupFired) with
                {
                    OccurrenceId = o.OccurrenceId, To = ReminderStatus.Completed, Note = "handed to BCAST",
                },
            ], RemReasons.ReminderBcastFollowupFired, [fired]);
        }

        var deliveredReason = f.Kind == RemAction.DeliverPre ? RemReasons.ReminderDeliveredPre : RemReasons.ReminderDeliveredDue;
        if (QuietUntil(spec, ctx.Now, zone) is { } quietEnd)
        {
            if (f.Kind == RemAction.DeliverPre)
                // A pre-alert inside quiet hours is recorded as deferred and dropped: the due firing still comes.
                return new Decision<ReminderEvent>.Accepted(
                    [Recorded(Attempt(ReminderDeliveryStatus.DeferredQuietHours, RemReasons.ReminderDeferredQuietHours), RemReasons.ReminderDeferredQuietHours)],
                    RemReasons.ReminderDeferredQuietHours, []);
            var deferred = Reschedule(state, o, f.Kind, o.Status, quietEnd, RemReasons.ReminderDeferredQuietHours, ctx);
            return Prepend(deferred, Recorded(Attempt(ReminderDeliveryStatus.DeferredQuietHours, RemReasons.ReminderDeferredQuietHours, quietEnd),
                RemReasons.ReminderDeferredQuietHours));
        }
        if (f.Kind == RemAction.DeliverPre)
            return new Decision<ReminderEvent>.Accepted([Recorded(Attempt(ReminderDeliveryStatus.Delivered, deliveredReason), deliveredReason)], deliveredReason, []);

        if (f.OfflineState == ReminderOfflineState.Offline)
        {
            if (o.Retries >= spec.MaxAttempts)
            {
                var closed = Close(state, o, RemAction.DeliverDue, ReminderStatus.Failed, "the user stayed offline through every retry", RemReasons.ReminderFailed, ctx);
                return Prepend(closed, Recorded(Attempt(ReminderDeliveryStatus.Failed, RemReasons.ReminderFailed), RemReasons.ReminderFailed));
            }
            var retryAt = ctx.Now + OfflineRetryNs;
            var retry = Reschedule(state, o, RemAction.DeliverDue, o.Status, retryAt, RemReasons.ReminderRetryScheduled, ctx);
            return Prepend(retry, Recorded(Attempt(ReminderDeliveryStatus.RetryScheduled, RemReasons.ReminderRetryScheduled, retryAt), RemReasons.ReminderRetryScheduled));
        }

        var events = new List<ReminderEvent> { Recorded(Attempt(ReminderDeliveryStatus.Delivered, deliveredReason), deliveredReason) };
        var outbox = new List<OutboxMessage>();
        // The first delivery of the newest occurrence makes the next one of the recurrence.
        if (!o.DueDelivered) AddNext(state, o, ctx, deliveredReason, f.Kind, events, outbox);
        return new Decision<ReminderEvent>.Accepted(events, deliveredReason, outbox);
    }

    /// <summary>The end of the quiet hours a firing at <paramref name="now"/> falls in, or null (none set, outside them, or CRITICAL).</summary>
    public static long? QuietUntil(ReminderSpec spec, long now, DateTimeZone zone)
    {
        if (spec.PriorityLevel == ReminderPriorityLevel.Critical || RemTime.Clock(spec.QuietHoursStart) is not { } start || RemTime.Clock(spec.QuietHoursEnd) is not { } end)
            return null;
        var until = RemTime.QuietHoursEnd(now, start, end, zone);
        return until > now ? until : null;
    }

    private static Decision<ReminderEvent> Reschedule(ReminderState state, ReminderOccurrence o, RemAction action, ReminderStatus to, long due, ReasonCode reason,
        RemContext ctx) =>
        new Decision<ReminderEvent>.Accepted(
            [Event(state, ctx, action, ReminderEventType.OccurrenceRescheduled, reason) with { OccurrenceId = o.OccurrenceId, DueAt = due, To = to }],
            reason, [DueFiring(state.ReminderId, o.OccurrenceId, o.FireVersion + 1, due)]);

    private static Decision<ReminderEvent> Close(ReminderState state, ReminderOccurrence o, RemAction action, ReminderStatus to, string note, ReasonCode reason, RemContext ctx)
    {
        var events = new List<ReminderEvent>
        {
            Event(state, ctx, action, ReminderEventType.OccurrenceClosed, reason) with { OccurrenceId = o.OccurrenceId, To = to, Note = note },
        };
        var outbox = new List<OutboxMessage>();
        // An occurrence closed before it was delivered still hands the recurrence on.
        if (!o.DueDelivered) AddNext(state, o, ctx, reason, action, events, outbox);
        return new Decision<ReminderEvent>.Accepted(events, reason, outbox);
    }

    private static Decision<ReminderEvent> Prepend(Decision<ReminderEvent> decision, ReminderEvent first) => decision is Decision<ReminderEvent>.Accepted a
        ? a with { Events = [first, .. a.Events] }
        : decision;

    /// <summary>
    /// The next occurrence of the recurrence after <paramref name="o"/>, when <paramref name="o"/> is the newest: the first
    /// time of the expansion after both its scheduled time and now (missed occurrences are not replayed), within the
    /// rule's COUNT and UNTIL and the bound of 365.
    /// </summary>
    public static long? NextOccurrenceTime(ReminderState state, ReminderOccurrence o, long now)
    {
        if (state.Spec.RecurrenceRule is not { } text || o.OccurrenceIndex != state.Current.OccurrenceIndex) return null;
        var rule = RemRecurrence.Parse(text, out _) ?? throw new InvalidOperationException($"reminder {state.ReminderId} stores an invalid rule");
        var after = Math.Max(o.ScheduledTime, now);
        var times = RemRecurrence.Expand(rule, state.Spec.ResolvedDueAt, RemTime.Zone(state.Spec.UserTimezone)!, state.Spec.LocalTimeMode);
        return state.Occurrences.Count >= RemRecurrence.MaxOccurrences ? null : times.Where(t => t > after).Select(t => (long?)t).FirstOrDefault();
    }

    private static void AddNext(ReminderState state, ReminderOccurrence o, RemContext ctx, ReasonCode reason, RemAction action, List<ReminderEvent> events,
        List<OutboxMessage> outbox)
    {
        if (NextOccurrenceTime(state, o, ctx.Now) is not { } next) return;
        var index = o.OccurrenceIndex + 1;
        var id = RemIds.OccurrenceId(state.ReminderId, index);
        events.Add(Event(state, ctx, action, ReminderEventType.OccurrenceCreated, reason) with
        {
            OccurrenceId = id, OccurrenceIndex = index, ScheduledTime = next, DueAt = next, To = ReminderStatus.Scheduled,
        });
        outbox.AddRange(Firings(state.ReminderId, state.Spec, id, next, next, 1, ctx.Now));
    }

    /// <summary>The timed outbox messages of a newly scheduled occurrence: its due firing, and its pre-alert when one is set and still ahead.</summary>
    private static IEnumerable<OutboxMessage> Firings(string reminderId, ReminderSpec spec, string occurrenceId, long scheduled, long due, int version, long now)
    {
        yield return DueFiring(reminderId, occurrenceId, version, due);
        if (spec.PreAlertMs is { } pre && scheduled - pre * 1_000_000 > now)
            yield return new OutboxMessage(OperationType, $"rem_pre:{occurrenceId}", PreDueEvent,
                new Dictionary<string, string> { ["reminder_id"] = reminderId, ["occurrence_id"] = occurrenceId, ["fire_version"] = "1" },
                scheduled - pre * 1_000_000);
    }

    /// <summary>
    /// The due worker's message for one firing: due at <paramref name="due"/> (<see cref="OutboxMessage.NotBefore"/>), keyed by
    /// occurrence and firing version so each firing is one row.
    /// </summary>
    public static OutboxMessage DueFiring(string reminderId, string occurrenceId, int version, long due) =>
        new(OperationType, $"rem_due:{occurrenceId}:{version.ToString(CultureInfo.InvariantCulture)}", DueEvent,
            new Dictionary<string, string>
            {
                ["reminder_id"] = reminderId, ["occurrence_id"] = occurrenceId, ["fire_version"] = version.ToString(CultureInfo.InvariantCulture),
                ["due_at"] = due.ToString(CultureInfo.InvariantCulture),
            }, due);

    private static ReminderEvent Event(ReminderState state, RemContext ctx, RemAction action, ReminderEventType type, ReasonCode reason) =>
        new(ctx.TenantId, state.ReminderId, ctx.ActorUserId, reason.Name, ctx.Now, action, type);

    /// <summary>Folds one event into the reminder's state (pure; uses nothing but the event and its id). Throws on an event the state cannot take.</summary>
    public static ReminderState Evolve(ReminderState? state, ReminderEvent e, long eventId)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Type == ReminderEventType.ReminderScheduled)
        {
            if (state is not null) throw new InvalidOperationException($"reminder {e.ReminderId} is scheduled twice (event {eventId})");
            var first = NewOccurrence(e);
            return new ReminderState(e.ReminderId, e.TenantId, e.UserId!, e.ActorUserId, e.Spec!, ReminderStatus.Scheduled, [first], e.At, e.At, eventId);
        }
        if (state is null) throw new InvalidOperationException($"event {eventId} ({WireNames.Of(e.Type)}) on reminder {e.ReminderId}, which does not exist");

        var occurrences = state.Occurrences;
        var spec = state.Spec;
        switch (e.Type)
        {
            case ReminderEventType.ReminderUpdated:
                spec = e.Spec!;
                break;
            case ReminderEventType.OccurrenceCreated:
                occurrences = occurrences.Add(NewOccurrence(e));
                break;
            default:
                var index = occurrences.FindIndex(o => o.OccurrenceId == e.OccurrenceId);
                if (index < 0) throw new InvalidOperationException($"event {eventId} names occurrence {e.OccurrenceId}, which reminder {e.ReminderId} does not have");
                occurrences = occurrences.SetItem(index, EvolveOccurrence(occurrences[index], e));
                break;
        }
        var status = e.Action == RemAction.Cancel ? ReminderStatus.Canceled : occurrences[^1].Status;
        return state with { Spec = spec, Occurrences = occurrences, Status = status, UpdatedAt = e.At, SourceEventId = eventId };
    }

    private static ReminderOccurrence NewOccurrence(ReminderEvent e) =>
        new(e.OccurrenceId!, e.OccurrenceIndex!.Value, e.ScheduledTime!.Value, e.DueAt!.Value, ReminderStatus.Scheduled, 1,
            null, null, null, null, null, 0, 0, 0, 0, false, []);

    private static ReminderOccurrence EvolveOccurrence(ReminderOccurrence o, ReminderEvent e) => e.Type switch
    {
        ReminderEventType.OccurrenceRescheduled => (o with { DueAt = e.DueAt!.Value, Status = e.To!.Value, FireVersion = o.FireVersion + 1 }) switch
        {
            var r when e.Action == RemAction.Snooze => r with { SnoozeUntil = e.DueAt, Snoozes = o.Snoozes + 1 },
            var r when e.Action == RemAction.FollowupSchedule => r with { FollowupTime = e.DueAt, Followups = o.Followups + 1 },
            var r when e.ReasonCode == RemReasons.ReminderRetryScheduled.Name => r with { RetryTime = e.DueAt, Retries = o.Retries + 1 },
            var r when e.Action == RemAction.Update => r with { ScheduledTime = e.ScheduledTime!.Value },
            var r => r,
        },
        ReminderEventType.AttemptRecorded => o with
        {
            Attempts = o.Attempts.Add(e.Attempt!),
            DueDelivered = o.DueDelivered || e.Attempt!.Kind == ReminderAttemptKind.Due && e.Attempt.Status == ReminderDeliveryStatus.Delivered,
            EscalationLevel = e.Attempt!.Kind == ReminderAttemptKind.Escalation ? o.EscalationLevel + 1 : o.EscalationLevel,
        },
        ReminderEventType.OccurrenceClosed => o with
        {
            Status = e.To!.Value,
            CompletedAt = e.To == ReminderStatus.Completed ? e.At : o.CompletedAt,
            FailureReason = e.To == ReminderStatus.Failed ? e.Note : o.FailureReason,
        },
        _ => throw new InvalidOperationException($"event type {WireNames.Of(e.Type)} is not an occurrence event"),
    };

    private static Decision<ReminderEvent>.Rejected Schema(string detail) => new(RemReasons.RemFailInputSchemaInvalid, detail);

    private static Decision<ReminderEvent>.Rejected Scope(string detail) => new(RemReasons.RemFailScopeViolation, detail);

    private static Decision<ReminderEvent>.Rejected Transition(string detail) => new(RemReasons.RemFailStateTransitionInvalid, detail);

    private static Decision<ReminderEvent>.Rejected Bound(string detail) => new(RemReasons.RemFailBoundExceeded, detail);
}
