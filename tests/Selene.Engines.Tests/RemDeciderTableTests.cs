using Selene.Engines.Rem;
using static Selene.Engines.Tests.RemFixture;

namespace Selene.Engines.Tests;

/// <summary>
/// PH1.REM's state machine (reference §10.2) as tables: every action on an existing reminder from every occurrence state,
/// legal or illegal, with every other guard satisfied; then each guard, bound and firing rule on its own.
/// </summary>
public sealed class RemDeciderTableTests
{
    private static readonly long Later = T0 + 60 * Minute;

    /// <summary>The legal source states of each action, spelled out (not derived from the decider).</summary>
    private static readonly Dictionary<RemAction, ReminderStatus[]> Legal = new()
    {
        [RemAction.Update] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.Cancel] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.Snooze] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.FollowupSchedule] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.RetrySchedule] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.Escalate] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.MarkCompleted] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.MarkFailed] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.DeliverDue] = [ReminderStatus.Scheduled, ReminderStatus.Snoozed, ReminderStatus.FollowupPending],
        [RemAction.DeliverPre] = [ReminderStatus.Scheduled],
    };

    private static readonly Dictionary<RemAction, (string Reason, ReminderStatus? To)> Success = new()
    {
        [RemAction.Update] = ("REMINDER_UPDATED", ReminderStatus.Scheduled),
        [RemAction.Cancel] = ("REMINDER_CANCELED", ReminderStatus.Canceled),
        [RemAction.Snooze] = ("REMINDER_SNOOZED", ReminderStatus.Snoozed),
        [RemAction.FollowupSchedule] = ("REMINDER_FOLLOWUP_SCHEDULED", ReminderStatus.FollowupPending),
        [RemAction.RetrySchedule] = ("REMINDER_RETRY_SCHEDULED", null),
        [RemAction.Escalate] = ("REMINDER_ESCALATED", null),
        [RemAction.MarkCompleted] = ("REMINDER_COMPLETED", ReminderStatus.Completed),
        [RemAction.MarkFailed] = ("REMINDER_FAILED", ReminderStatus.Failed),
        [RemAction.DeliverDue] = ("REMINDER_DELIVERED_DUE", null),
        [RemAction.DeliverPre] = ("REMINDER_DELIVERED_PRE", null),
    };

    public static TheoryData<RemAction, ReminderStatus> EveryActionFromEveryState()
    {
        var data = new TheoryData<RemAction, ReminderStatus>();
        foreach (var action in Legal.Keys)
            foreach (var status in Enum.GetValues<ReminderStatus>())
                data.Add(action, status);
        return data;
    }

    /// <summary>
    /// A reminder whose one occurrence is <paramref name="status"/> and satisfies every other guard of
    /// <paramref name="action"/>: due reached and delivered, a failed attempt to retry (for a pre-alert: not yet due).
    /// </summary>
    private static (ReminderState State, RemCommand Command, long Now) Prepared(RemAction action, ReminderStatus status)
    {
        var s = Scheduled(Schedule(preAlertMs: 5 * 60_000));
        var occ = s.Current.OccurrenceId;
        if (action == RemAction.DeliverPre)
            return (WithCurrent(s, status), new FireOccurrence(RemAction.DeliverPre, s.ReminderId, occ, 1, ReminderOfflineState.Online), T0 + 6 * Minute);
        s = WithCurrent(s, status, o => o with { DueDelivered = true, Attempts = Attempts(FailedAttempt(occ)) });
        RemCommand command = action switch
        {
            RemAction.Update => new UpdateReminder(s.ReminderId, null, "in 5 m", null, null),
            RemAction.Cancel => new CancelReminder(s.ReminderId, "not needed"),
            RemAction.Snooze => new SnoozeOccurrence(s.ReminderId, occ, 5 * 60_000),
            RemAction.FollowupSchedule => new ScheduleFollowup(s.ReminderId, occ, 5 * 60_000),
            RemAction.RetrySchedule => new ScheduleRetry(s.ReminderId, occ, (Later + Minute) / 1_000_000),
            RemAction.Escalate => new EscalateOccurrence(s.ReminderId, occ, ReminderChannel.Push, ReminderChannel.Voice, "esc-1"),
            RemAction.MarkCompleted => new CompleteOccurrence(s.ReminderId, occ, ReminderAckSource.Ui),
            RemAction.MarkFailed => new FailOccurrence(s.ReminderId, occ, "no answer"),
            RemAction.DeliverDue => Due(s),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };
        return (s, command, Later);
    }

    [Theory]
    [MemberData(nameof(EveryActionFromEveryState))]
    public void Transition_FromEveryState_IsLegalExactlyWhereTheTableSays(RemAction action, ReminderStatus from)
    {
        var (state, command, now) = Prepared(action, from);
        var decision = RemDecider.Decide(state, command, Ctx(now), new RemFacts(null));
        if (Legal[action].Contains(from))
        {
            var accepted = Assert.IsType<Decision<ReminderEvent>.Accepted>(decision);
            Assert.Equal(Success[action].Reason, accepted.Reason.Name);
            Assert.NotEmpty(accepted.Events);
            var after = Apply(state, decision);
            var occurrence = after.Occurrence(state.Current.OccurrenceId)!;
            Assert.Equal(Success[action].To ?? from, occurrence.Status);
        }
        else if (action is RemAction.DeliverDue or RemAction.DeliverPre)
        {
            // A firing of an occurrence that moved on is a no-op, never a refusal that would retry it.
            var accepted = Assert.IsType<Decision<ReminderEvent>.Accepted>(decision);
            Assert.Equal(("REMINDER_FIRING_SUPERSEDED", 0, 0), (accepted.Reason.Name, accepted.Events.Count, accepted.Outbox.Count));
        }
        else
        {
            var rejected = Assert.IsType<Decision<ReminderEvent>.Rejected>(decision);
            Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", rejected.Reason.Name);
        }
    }

    [Theory]
    [InlineData(ReminderStatus.Canceled)]
    [InlineData(ReminderStatus.Completed)]
    [InlineData(ReminderStatus.Failed)]
    public void TerminalStates_AreFinal_NothingLeadsOutOfThem(ReminderStatus terminal)
    {
        Assert.True(RemDecider.IsTerminal(terminal));
        foreach (var action in Legal.Keys) Assert.DoesNotContain(terminal, Legal[action]);
        // Scheduling again with the same key and time makes the same id: refused, never SCHEDULED again.
        var s = WithCurrent(Scheduled(), terminal);
        var again = RemDecider.Decide(s, Schedule(), Ctx(T0), new RemFacts(null));
        Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", Assert.IsType<Decision<ReminderEvent>.Rejected>(again).Reason.Name);
    }

    [Fact]
    public void Schedule_MakesAScheduledReminder_WithItsDueFiringAsATimedOutboxMessage()
    {
        var decision = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(null, Schedule(preAlertMs: 120_000), Ctx(T0), new RemFacts(null)));
        var s = Apply(null, decision);
        Assert.Equal((ReminderStatus.Scheduled, "alice", T0 + 10 * Minute, 1), (s.Status, s.UserId, s.Current.DueAt, s.Current.FireVersion));
        Assert.Equal(RemDecider.TargetOf(Schedule(), Ctx(T0)), s.ReminderId);
        var due = Assert.Single(decision.Outbox, m => m.EventType == RemDecider.DueEvent);
        Assert.Equal((T0 + 10 * Minute, $"rem_due:{s.Current.OccurrenceId}:1"), (due.NotBefore, due.IdempotencyKey));
        var pre = Assert.Single(decision.Outbox, m => m.EventType == RemDecider.PreDueEvent);
        Assert.Equal(T0 + 8 * Minute, pre.NotBefore);
    }

    [Fact]
    public void Schedule_Refusals_ScopeTimeZoneAndTime()
    {
        Decision<ReminderEvent> Run(ScheduleReminder c) => RemDecider.Decide(null, c, Ctx(T0), new RemFacts(null));
        string Reason(ScheduleReminder c) => Assert.IsType<Decision<ReminderEvent>.Rejected>(Run(c)).Reason.Name;

        Assert.Equal("REM_FAIL_SCOPE_VIOLATION", Reason(Schedule(userId: "bob")));
        Assert.Equal("REM_FAIL_SCOPE_VIOLATION", Reason(Schedule(type: ReminderType.BcastMhpFollowup, userId: "ann")));
        Assert.Equal("REM_FAIL_SCOPE_VIOLATION", Reason(Schedule(type: ReminderType.BcastMhpFollowup, userId: "ann", bcast: new BcastLink("bcast_1", "ben", "p1"))));
        Assert.Equal("REM_FAIL_SCOPE_VIOLATION", Reason(Schedule(bcast: new BcastLink("bcast_1", "alice", "p1"))));
        Assert.Equal("REM_FAIL_SCOPE_VIOLATION", Reason(Schedule(type: ReminderType.BcastMhpFollowup, userId: "ann", bcast: new BcastLink("", "ann", "p1"))));
        Assert.Equal("REM_FAIL_TIMEZONE_INVALID", Reason(Schedule(zone: "Mars/Olympus")));
        Assert.Equal("REM_FAIL_TIME_AMBIGUOUS_NEEDS_CONFIRM", Reason(Schedule(desired: "soonish")));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Reason(Schedule(rule: "FREQ=HOURLY")));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Reason(Schedule(quietStart: "22:00")));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Reason(Schedule(quietStart: "22:00", quietEnd: "22:00")));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Reason(Schedule(maxAttempts: 11)));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Reason(Schedule(preAlertMs: 1000)));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID",
            Reason(Schedule(type: ReminderType.BcastMhpFollowup, userId: "ann", bcast: new BcastLink("bcast_1", "ann", "p1"), rule: "FREQ=DAILY")));
    }

    [Fact]
    public void BcastFollowup_IsDueExactlyAtDueAt_EvenWhenTheHandoffRunsAfterIt()
    {
        var dueAt = T0 - Minute;
        var command = Schedule(desired: dueAt.ToString(System.Globalization.CultureInfo.InvariantCulture), type: ReminderType.BcastMhpFollowup, userId: "ann",
            bcast: new BcastLink("bcast_0123456789abcdef", "ann", "pdk-1"));
        var s = Scheduled(command);
        Assert.Equal((dueAt, "ann", "alice"), (s.Current.DueAt, s.UserId, s.CreatedBy));
        // A user reminder in the past is not guessed at: it needs a confirmed time.
        var past = RemDecider.Decide(null, Schedule(desired: dueAt.ToString(System.Globalization.CultureInfo.InvariantCulture)), Ctx(T0), new RemFacts(null));
        Assert.Equal("REM_FAIL_TIME_AMBIGUOUS_NEEDS_CONFIRM", Assert.IsType<Decision<ReminderEvent>.Rejected>(past).Reason.Name);
    }

    [Fact]
    public void Snooze_Guards_NotBeforeDue_AndAtMostTenTimes()
    {
        var s = Scheduled();
        var occ = s.Current.OccurrenceId;
        var early = RemDecider.Decide(s, new SnoozeOccurrence(s.ReminderId, occ, 60_000), Ctx(T0 + Minute), new RemFacts(null));
        Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", Assert.IsType<Decision<ReminderEvent>.Rejected>(early).Reason.Name);

        var now = T0 + 10 * Minute;
        for (var i = 0; i < RemDecider.MaxSnoozes; i++)
        {
            var d = RemDecider.Decide(s, new SnoozeOccurrence(s.ReminderId, occ, 60_000), Ctx(now), new RemFacts(null));
            s = Apply(s, d);
            Assert.Equal((ReminderStatus.Snoozed, now + Minute, i + 2), (s.Current.Status, s.Current.SnoozeUntil!.Value, s.Current.FireVersion));
            Assert.Equal(now + Minute, Assert.Single(((Decision<ReminderEvent>.Accepted)d).Outbox).NotBefore);
            now += Minute;
        }
        var eleventh = RemDecider.Decide(s, new SnoozeOccurrence(s.ReminderId, occ, 60_000), Ctx(now), new RemFacts(null));
        Assert.Equal("REM_FAIL_BOUND_EXCEEDED", Assert.IsType<Decision<ReminderEvent>.Rejected>(eleventh).Reason.Name);
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID",
            Assert.IsType<Decision<ReminderEvent>.Rejected>(RemDecider.Decide(s, new SnoozeOccurrence(s.ReminderId, occ, 59_999), Ctx(now), new RemFacts(null))).Reason.Name);
    }

    [Fact]
    public void Followup_Retry_Escalation_Guards_AndBounds()
    {
        var s = Scheduled(Schedule(maxAttempts: 1));
        var occ = s.Current.OccurrenceId;
        string Refusal(ReminderState st, RemCommand c) => Assert.IsType<Decision<ReminderEvent>.Rejected>(RemDecider.Decide(st, c, Ctx(Later), new RemFacts(null))).Reason.Name;

        Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", Refusal(s, new ScheduleFollowup(s.ReminderId, occ, 60_000)));
        Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", Refusal(s, new ScheduleRetry(s.ReminderId, occ, (Later + Minute) / 1_000_000)));
        Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", Refusal(s, new EscalateOccurrence(s.ReminderId, occ, ReminderChannel.Push, ReminderChannel.Voice, "e1")));

        var delivered = WithCurrent(s, ReminderStatus.Scheduled, o => o with { DueDelivered = true, Followups = RemDecider.MaxFollowups, EscalationLevel = RemDecider.MaxEscalationLevel });
        Assert.Equal("REM_FAIL_BOUND_EXCEEDED", Refusal(delivered, new ScheduleFollowup(s.ReminderId, occ, 60_000)));
        Assert.Equal("REM_FAIL_BOUND_EXCEEDED", Refusal(delivered, new EscalateOccurrence(s.ReminderId, occ, ReminderChannel.Push, ReminderChannel.Voice, "e1")));

        var failed = WithCurrent(s, ReminderStatus.Scheduled, o => o with { Attempts = Attempts(FailedAttempt(occ)), Retries = 1 });
        Assert.Equal("REM_FAIL_BOUND_EXCEEDED", Refusal(failed, new ScheduleRetry(s.ReminderId, occ, (Later + Minute) / 1_000_000)));
        var retryable = failed with { Occurrences = [failed.Current with { Retries = 0 }] };
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Refusal(retryable, new ScheduleRetry(s.ReminderId, occ, (Later - Minute) / 1_000_000)));
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Refusal(retryable, new ScheduleRetry(s.ReminderId, occ, (Later + 25 * 60 * Minute) / 1_000_000)));

        // An escalation with a delivery_attempt_id already recorded is the same escalation: nothing new.
        var escalated = Apply(delivered with { Occurrences = [delivered.Current with { EscalationLevel = 0 }] },
            RemDecider.Decide(delivered with { Occurrences = [delivered.Current with { EscalationLevel = 0 }] },
                new EscalateOccurrence(s.ReminderId, occ, ReminderChannel.Push, ReminderChannel.Voice, "e1"), Ctx(Later), new RemFacts(null)));
        Assert.Equal((1, ReminderChannel.Voice), (escalated.Current.EscalationLevel, escalated.Current.Attempts[^1].Channel));
        var again = Assert.IsType<Decision<ReminderEvent>.Accepted>(
            RemDecider.Decide(escalated, new EscalateOccurrence(s.ReminderId, occ, ReminderChannel.Push, ReminderChannel.Voice, "e1"), Ctx(Later), new RemFacts(null)));
        Assert.Empty(again.Events);
    }

    [Fact]
    public void UnknownReminderOrOccurrence_IsNotFound()
    {
        var s = Scheduled();
        Assert.Equal("REM_FAIL_NOT_FOUND",
            Assert.IsType<Decision<ReminderEvent>.Rejected>(RemDecider.Decide(null, new CancelReminder(s.ReminderId, null), Ctx(T0), new RemFacts(null))).Reason.Name);
        Assert.Equal("REM_FAIL_NOT_FOUND", Assert.IsType<Decision<ReminderEvent>.Rejected>(
            RemDecider.Decide(s, new SnoozeOccurrence(s.ReminderId, RemIds.OccurrenceId(s.ReminderId, 7), 60_000), Ctx(Later), new RemFacts(null))).Reason.Name);
        Assert.Equal("REM_FAIL_INPUT_SCHEMA_INVALID", Assert.IsType<Decision<ReminderEvent>.Rejected>(
            RemDecider.Decide(s, new CancelReminder("rem_nothex", null), Ctx(T0), new RemFacts(null))).Reason.Name);
    }

    [Fact]
    public void Cancel_CancelsEveryOpenOccurrence_AndTheReminder()
    {
        var s = Scheduled(Schedule(rule: "FREQ=DAILY;COUNT=3"));
        s = Apply(s, RemDecider.Decide(s, Due(s), Ctx(T0 + 10 * Minute), new RemFacts(null)));
        Assert.Equal(2, s.Occurrences.Count);
        s = Apply(s, RemDecider.Decide(s, new CancelReminder(s.ReminderId, "done"), Ctx(T0 + 11 * Minute), new RemFacts(null)));
        Assert.Equal(ReminderStatus.Canceled, s.Status);
        Assert.All(s.Occurrences, o => Assert.Equal(ReminderStatus.Canceled, o.Status));
    }

    [Fact]
    public void Update_WithANewTime_ReschedulesTheOccurrence_AndSupersedesItsEarlierFiring()
    {
        var s = Scheduled();
        var oldFiring = Due(s);
        var d = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, new UpdateReminder(s.ReminderId, null, "in 1 h", ReminderPriorityLevel.High, null),
            Ctx(T0), new RemFacts(null)));
        s = Apply(s, d);
        Assert.Equal((T0 + 60 * Minute, T0 + 60 * Minute, 2, ReminderPriorityLevel.High), (s.Current.ScheduledTime, s.Current.DueAt, s.Current.FireVersion, s.Spec.PriorityLevel));
        Assert.Equal(T0 + 60 * Minute, Assert.Single(d.Outbox).NotBefore);
        var stale = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, oldFiring, Ctx(T0 + 10 * Minute), new RemFacts(null)));
        Assert.Equal(("REMINDER_FIRING_SUPERSEDED", 0), (stale.Reason.Name, stale.Events.Count));
        var bcast = Scheduled(Schedule(type: ReminderType.BcastMhpFollowup, userId: "ann", bcast: new BcastLink("bcast_0123456789abcdef", "ann", "p")));
        Assert.Equal("REM_FAIL_SCOPE_VIOLATION", Assert.IsType<Decision<ReminderEvent>.Rejected>(
            RemDecider.Decide(bcast, new UpdateReminder(bcast.ReminderId, "x", null, null, null), Ctx(T0), new RemFacts(null))).Reason.Name);
    }

    [Fact]
    public void DueFiring_OnceAtItsVersion_ASecondFiringOfTheSameVersionDoesNothing()
    {
        var s = Scheduled();
        var fire = Due(s);
        var early = RemDecider.Decide(s, fire, Ctx(T0 + 10 * Minute - 1), new RemFacts(null));
        Assert.Equal("REM_FAIL_STATE_TRANSITION_INVALID", Assert.IsType<Decision<ReminderEvent>.Rejected>(early).Reason.Name);
        s = Apply(s, RemDecider.Decide(s, fire, Ctx(T0 + 10 * Minute), new RemFacts(null)));
        var attempt = Assert.Single(s.Current.Attempts);
        Assert.Equal((ReminderDeliveryStatus.Delivered, ReminderChannel.Push, true), (attempt.Status, attempt.Channel, s.Current.DueDelivered));
        var second = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, fire, Ctx(T0 + 11 * Minute), new RemFacts(null)));
        Assert.Equal(("REMINDER_FIRING_SUPERSEDED", 0, 0), (second.Reason.Name, second.Events.Count, second.Outbox.Count));
    }

    [Fact]
    public void DueFiring_InQuietHours_IsDeferredToTheirEnd_ExceptCritical()
    {
        // Due 23:14:05 UTC; quiet 22:00–07:00 UTC.
        var at = Utc("2030-01-02T23:04:05Z");
        var s = Scheduled(Schedule(quietStart: "22:00", quietEnd: "07:00"), at);
        var d = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, Due(s), Ctx(at + 10 * Minute), new RemFacts(null)));
        Assert.Equal("REMINDER_DEFERRED_QUIET_HOURS", d.Reason.Name);
        s = Apply(s, d);
        Assert.Equal((Utc("2030-01-03T07:00:00Z"), 2, ReminderDeliveryStatus.DeferredQuietHours), (s.Current.DueAt, s.Current.FireVersion, s.Current.Attempts[0].Status));
        Assert.Equal(Utc("2030-01-03T07:00:00Z"), Assert.Single(d.Outbox).NotBefore);
        s = Apply(s, RemDecider.Decide(s, Due(s), Ctx(Utc("2030-01-03T07:00:00Z")), new RemFacts(null)));
        Assert.Equal(ReminderDeliveryStatus.Delivered, s.Current.Attempts[^1].Status);

        var critical = Scheduled(Schedule(quietStart: "22:00", quietEnd: "07:00", priority: ReminderPriorityLevel.Critical), at);
        Assert.Equal("REMINDER_DELIVERED_DUE", Assert.IsType<Decision<ReminderEvent>.Accepted>(
            RemDecider.Decide(critical, Due(critical), Ctx(at + 10 * Minute), new RemFacts(null))).Reason.Name);
    }

    [Fact]
    public void DueFiring_Offline_RetriesAfterFiveMinutes_ThenFailsPastMaxAttempts()
    {
        var s = Scheduled(Schedule(maxAttempts: 1));
        var now = T0 + 10 * Minute;
        var d = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, Due(s, offline: ReminderOfflineState.Offline), Ctx(now), new RemFacts(null)));
        s = Apply(s, d);
        Assert.Equal(("REMINDER_RETRY_SCHEDULED", now + 5 * Minute, 1), (d.Reason.Name, s.Current.RetryTime!.Value, s.Current.Retries));
        var last = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, Due(s, offline: ReminderOfflineState.Offline), Ctx(now + 5 * Minute), new RemFacts(null)));
        s = Apply(s, last);
        Assert.Equal(("REMINDER_FAILED", ReminderStatus.Failed, ReminderStatus.Failed), (last.Reason.Name, s.Current.Status, s.Status));
    }

    [Theory]
    [InlineData("REMINDER_SET", true)]
    [InlineData("REMINDER_FIRED", false)]
    [InlineData("WAITING", false)]
    [InlineData("DEFERRED", false)]
    [InlineData("CONCLUDED", false)]
    [InlineData("CANCELED", false)]
    [InlineData("EXPIRED", false)]
    [InlineData(null, false)]
    public void BcastFollowupFiring_HandsToBcastOnlyARecipientWaitingForIt_OrFailsClosed(string? recipientStatus, bool fires)
    {
        var s = Scheduled(Schedule(type: ReminderType.BcastMhpFollowup, userId: "ann", bcast: new BcastLink("bcast_0123456789abcdef", "ann", "pdk-1")));
        var d = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, Due(s), Ctx(T0 + 10 * Minute), new RemFacts(recipientStatus)));
        var after = Apply(s, d);
        if (fires)
        {
            Assert.Equal(("REMINDER_BCAST_FOLLOWUP_FIRED", ReminderStatus.Completed), (d.Reason.Name, after.Current.Status));
            var m = Assert.Single(d.Outbox);
            Assert.Equal((RemDecider.BcastFollowupFiredEvent, "acme", "bcast_0123456789abcdef", "ann", $"{s.ReminderId}:{s.Current.OccurrenceId}"),
                (m.EventType, m.Payload["tenant_id"], m.Payload["broadcast_id"], m.Payload["recipient_id"], m.Payload["reminder_ref"]));
        }
        else
        {
            Assert.Equal(("REMINDER_FAILED", ReminderStatus.Failed, "REM_FAIL_BCAST_RECIPIENT_CLOSED"), (d.Reason.Name, after.Current.Status, after.Current.Attempts[0].ReasonCode));
            Assert.Empty(d.Outbox);
        }
    }

    [Fact]
    public void PreAlert_FiresOnceBeforeDue_AndIsDroppedInQuietHours()
    {
        var s = Scheduled(Schedule(preAlertMs: 5 * 60_000));
        var pre = new FireOccurrence(RemAction.DeliverPre, s.ReminderId, s.Current.OccurrenceId, 1, ReminderOfflineState.Online);
        var d = RemDecider.Decide(s, pre, Ctx(T0 + 5 * Minute), new RemFacts(null));
        s = Apply(s, d);
        Assert.Equal((ReminderAttemptKind.Pre, false), (s.Current.Attempts[0].Kind, s.Current.DueDelivered));
        Assert.Equal("REMINDER_FIRING_SUPERSEDED", Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, pre, Ctx(T0 + 6 * Minute), new RemFacts(null))).Reason.Name);

        var quiet = Scheduled(Schedule(preAlertMs: 5 * 60_000, quietStart: "03:00", quietEnd: "04:00"));
        var q = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(quiet, pre with { ReminderId = quiet.ReminderId, OccurrenceId = quiet.Current.OccurrenceId },
            Ctx(T0 + 5 * Minute), new RemFacts(null)));
        Assert.Equal(("REMINDER_DEFERRED_QUIET_HOURS", 0), (q.Reason.Name, q.Outbox.Count));
    }

    [Fact]
    public void Recurrence_TheFirstDeliveryMakesTheNextOccurrence_UpToCount()
    {
        var s = Scheduled(Schedule(rule: "FREQ=DAILY;COUNT=2"));
        var d = Assert.IsType<Decision<ReminderEvent>.Accepted>(RemDecider.Decide(s, Due(s), Ctx(T0 + 10 * Minute), new RemFacts(null)));
        s = Apply(s, d);
        Assert.Equal(2, s.Occurrences.Count);
        Assert.Equal((1, T0 + 10 * Minute + 24 * 60 * Minute, ReminderStatus.Scheduled), (s.Current.OccurrenceIndex, s.Current.DueAt, s.Status));
        Assert.Equal(s.Current.DueAt, Assert.Single(d.Outbox).NotBefore);
        // The last occurrence of COUNT=2 makes none; completing it completes the reminder.
        s = Apply(s, RemDecider.Decide(s, Due(s), Ctx(s.Current.DueAt), new RemFacts(null)));
        Assert.Equal(2, s.Occurrences.Count);
        s = Apply(s, RemDecider.Decide(s, new CompleteOccurrence(s.ReminderId, s.Current.OccurrenceId, ReminderAckSource.Voice), Ctx(s.Current.DueAt + Minute), new RemFacts(null)));
        Assert.Equal(ReminderStatus.Completed, s.Status);
    }

    [Fact]
    public void Evolve_RefusesAnEventItCannotTake()
    {
        var s = Scheduled();
        var first = new ReminderEvent("acme", s.ReminderId, "alice", "REMINDER_SCHEDULED", T0, RemAction.Schedule, ReminderEventType.ReminderScheduled);
        Assert.Throws<InvalidOperationException>(() => RemDecider.Evolve(s, first, 9));
        Assert.Throws<InvalidOperationException>(() => RemDecider.Evolve(null,
            new ReminderEvent("acme", s.ReminderId, "alice", "REMINDER_CANCELED", T0, RemAction.Cancel, ReminderEventType.OccurrenceClosed, OccurrenceId: "occ_x"), 1));
    }
}
