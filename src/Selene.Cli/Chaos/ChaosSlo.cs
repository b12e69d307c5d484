using System.Globalization;
using Selene.Cli.Bench;

namespace Selene.Cli.Chaos;

/// <summary>
/// What the load saw: every attempt, every injection, the windows in which the harness itself had the server down
/// (kill-server: from the SIGKILL until the new process answers), and when the fault ended (seconds since the run started).
/// </summary>
public sealed record LoadRecord(IReadOnlyList<Attempt> Attempts, IReadOnlyList<Injection> Injections, IReadOnlyList<(double From, double To)> DownWindows,
    double FaultEnded);

/// <summary>
/// The SLOs of a run, evaluated from its <see cref="LoadRecord"/> alone (docs/reliability.md): availability during the fault,
/// success after it, no hang, recovery time p50 and max. A transport error counts against availability unless the harness
/// had the server process down at that moment; a request the harness abandoned on purpose is not counted at all.
/// </summary>
public static class ChaosSlo
{
    /// <summary>A refused or reset connection this long after a restarted server answered still belongs to the outage (a pooled connection to the dead process).</summary>
    public static TimeSpan DownGrace { get; } = TimeSpan.FromSeconds(1);

    public static IReadOnlyList<Check> Evaluate(LoadRecord run, ChaosThresholds t)
    {
        var during = run.Attempts.Where(a => a.SentAt < run.FaultEnded && a.Outcome != AttemptOutcome.Abandoned).ToList();
        var down = during.Where(a => a.Outcome == AttemptOutcome.Transport && WhileDown(run, a)).ToList();
        var counted = during.Except(down).ToList();
        var good = counted.Count(a => a.Outcome is AttemptOutcome.Success or AttemptOutcome.Retryable503);
        var abandoned = run.Attempts.Count(a => a.Outcome == AttemptOutcome.Abandoned);
        var duringShare = counted.Count == 0 ? 0 : (double)good / counted.Count;
        var duringFigures = $"{Percent(duringShare)} of {counted.Count} attempt(s): {Tally(counted)}" +
            (down.Count > 0 ? $"; {down.Count} refused or reset while the server process was down (not counted)" : "") +
            (abandoned > 0 ? $"; {abandoned} abandoned by the harness on purpose (not counted)" : "");

        var after = run.Attempts.Where(a => a.SentAt >= run.FaultEnded && a.Outcome != AttemptOutcome.Abandoned).ToList();
        var afterShare = after.Count == 0 ? 0 : (double)after.Count(a => a.Outcome == AttemptOutcome.Success) / after.Count;
        var hangs = run.Attempts.Count(a => a.Outcome == AttemptOutcome.Hang);

        var recovered = run.Injections.Where(i => i.RecoveredAt is not null).Select(i => (long)Math.Round(i.RecoverySeconds!.Value * 1000)).Order().ToArray();
        var unrecovered = run.Injections.Count - recovered.Length;
        var p50 = recovered.Length > 0 ? Percentiles.NearestRank(recovered, 50) : (long?)null;
        var max = recovered.Length > 0 ? recovered[^1] : (long?)null;
        var recoveryFigures = run.Injections.Count == 0
            ? "no fault was injected"
            : $"{recovered.Length} of {run.Injections.Count} injection(s) recovered" + (unrecovered > 0 ? $", {unrecovered} never" : "");

        return
        [
            new Check("availability during the fault", counted.Count > 0 && duringShare >= t.AvailabilityDuringFault, duringFigures, ReasonCodes.ChaosSloMissed,
                $">= {Percent(t.AvailabilityDuringFault)} 2xx or retryable 503"),
            new Check("availability after recovery", after.Count > 0 && afterShare >= t.SuccessAfterRecovery,
                $"{Percent(afterShare)} of {after.Count} attempt(s): {Tally(after)}", ReasonCodes.ChaosSloMissed, $">= {Percent(t.SuccessAfterRecovery)} 2xx"),
            new Check("no request hangs", hangs == 0, $"{hangs} request(s) unanswered after {Seconds(t.Hang.TotalSeconds)}", ReasonCodes.ChaosSloMissed, "0"),
            new Check("recovery time p50", p50 is { } m && m <= t.RecoveryP50.TotalMilliseconds && run.Injections.Count > 0,
                (p50 is { } a ? Seconds(a / 1000.0) + "; " : "") + recoveryFigures, ReasonCodes.ChaosSloMissed, $"<= {Seconds(t.RecoveryP50.TotalSeconds)}"),
            new Check("recovery time max", max is { } x && x <= t.RecoveryMax.TotalMilliseconds && unrecovered == 0 && run.Injections.Count > 0,
                (max is { } b ? Seconds(b / 1000.0) + "; " : "") + recoveryFigures, ReasonCodes.ChaosSloMissed, $"<= {Seconds(t.RecoveryMax.TotalSeconds)}"),
        ];
    }

    private static bool WhileDown(LoadRecord run, Attempt a) =>
        run.DownWindows.Any(w => (a.SentAt >= w.From && a.SentAt <= w.To) || (a.EndedAt >= w.From && a.EndedAt <= w.To + DownGrace.TotalSeconds));

    /// <summary>"2xx × 12, 503 STORAGE_UNAVAILABLE × 3", most frequent first.</summary>
    public static string Tally(IEnumerable<Attempt> attempts)
    {
        var groups = attempts.GroupBy(a => a.Describe()).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        return groups.Count == 0 ? "none" : string.Join(", ", groups.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} × {g.Count()}")));
    }

    public static string Percent(double share) => string.Create(CultureInfo.InvariantCulture, $"{share * 100:0.##} %");

    public static string Seconds(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.##} s");
}
