using System.Collections.Immutable;
using Selene.Engines.Rem;

namespace Selene.Engines.Tests;

/// <summary>Shared REM test data: a context at a fixed time and reminders built by the decider itself.</summary>
public static class RemFixture
{
    /// <summary>2030-01-02T03:04:05Z.</summary>
    public static readonly long T0 = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000;
    public const long Minute = 60_000_000_000;

    public static RemContext Ctx(long now, string key = "k-1", string actor = "alice") => new("acme", actor, now, key);

    public static ScheduleReminder Schedule(string desired = "in 10 m", string zone = "UTC", string? rule = null, ReminderPriorityLevel priority = ReminderPriorityLevel.Normal,
        string? quietStart = null, string? quietEnd = null, long? preAlertMs = null, int maxAttempts = 3, ReminderType type = ReminderType.Task, BcastLink? bcast = null,
        string? userId = null, ReminderLocalTimeMode mode = ReminderLocalTimeMode.LocalTime) =>
        new(userId, null, type, "take the pills", desired, zone, mode, priority, rule, [ReminderChannel.Push, ReminderChannel.Voice], quietStart, quietEnd, preAlertMs,
            maxAttempts, bcast);

    /// <summary>Folds an accepted decision's events into the state (event ids continue after the state's).</summary>
    public static ReminderState Apply(ReminderState? state, Decision<ReminderEvent> decision)
    {
        var accepted = Assert.IsType<Decision<ReminderEvent>.Accepted>(decision);
        var id = state?.SourceEventId ?? 0;
        foreach (var e in accepted.Events) state = RemDecider.Evolve(state, e, ++id);
        return state!;
    }

    /// <summary>A scheduled reminder (due at T0 + 10 min unless told otherwise).</summary>
    public static ReminderState Scheduled(ScheduleReminder? command = null, long? now = null)
    {
        command ??= Schedule();
        var ctx = Ctx(now ?? T0);
        return Apply(null, RemDecider.Decide(null, command, ctx, new RemFacts(null)));
    }

    /// <summary>The state with its current occurrence (and the reminder's status) set to <paramref name="status"/>, other fields as given.</summary>
    public static ReminderState WithCurrent(ReminderState s, ReminderStatus status, Func<ReminderOccurrence, ReminderOccurrence>? change = null)
    {
        var o = (change ?? (x => x))(s.Current with { Status = status });
        return s with { Occurrences = s.Occurrences.SetItem(s.Occurrences.Count - 1, o), Status = status };
    }

    public static ReminderDeliveryAttempt FailedAttempt(string occurrenceId) =>
        new(RemIds.AttemptId(occurrenceId, "x1"), "x1", ReminderAttemptKind.Due, ReminderChannel.Push, ReminderDeliveryStatus.RetryScheduled, "REMINDER_RETRY_SCHEDULED",
            T0, null, null);

    public static ImmutableList<ReminderDeliveryAttempt> Attempts(params ReminderDeliveryAttempt[] a) => [.. a];

    public static FireOccurrence Due(ReminderState s, int? version = null, ReminderOfflineState offline = ReminderOfflineState.Online) =>
        new(RemAction.DeliverDue, s.ReminderId, s.Current.OccurrenceId, version ?? s.Current.FireVersion, offline);

    public static long Utc(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() * 1_000_000;

    public static string Iso(long ns) => DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
