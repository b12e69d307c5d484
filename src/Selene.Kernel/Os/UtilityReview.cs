namespace Selene.Kernel.Os;

/// <summary>The utility tier of a TURN_OPTIONAL engine (reference §1.7). Informational: the mvp_v1 thresholds are the same for every tier.</summary>
public enum OsOptionalEngineTier
{
    /// <summary>ENDPOINT, LANG, PRON, PRUNE, DIAG, SEARCH, PREFETCH.</summary>
    Strict,
    /// <summary>DOC, SUMMARY, VISION, COST, EXPLAIN, LISTEN, EMO.GUIDE, PERSONA, FEEDBACK, CACHE, KNOW.</summary>
    Balanced,
    /// <summary>Every other TURN_OPTIONAL engine (EMO.CORE, LEARN, PAE, MULTI, KG, BCAST, DELIVERY).</summary>
    Rich,
}

/// <summary>What the daily review says to do with an optional engine (reference §1.7; the seed's action contract).</summary>
public enum OsUtilityAction
{
    /// <summary>GATE-U4 passed: keep invoking the engine.</summary>
    Keep,
    /// <summary>GATE-U4 failed on a fail streak shorter than the threshold: degrade the engine's posture.</summary>
    Degrade,
    /// <summary>GATE-U4 failed for the threshold's number of consecutive days (GATE-U5): propose disabling it.</summary>
    DisableCandidate,
}

/// <summary>
/// The GATE-U4 thresholds and the GATE-U5 streak length. Rates are integer basis points (0..10000), latencies
/// milliseconds. U4 passes when (decision_delta_rate ≥ <see cref="DecisionDeltaMinBps"/> OR
/// queue_learn_conversion_rate ≥ <see cref="QueueLearnConversionMinBps"/>) AND no_value_rate ≤
/// <see cref="NoValueMaxBps"/> AND p95 ≤ <see cref="LatencyP95MaxMs"/> AND p99 ≤ <see cref="LatencyP99MaxMs"/>.
/// </summary>
/// <param name="DisableStreakDays">GATE-U5: a fail streak of at least this many days (today included) is DISABLE_CANDIDATE.</param>
/// <param name="Version">Stored with every review, so a review can be traced to the thresholds that made it.</param>
public sealed record UtilityThresholds(
    int DecisionDeltaMinBps,
    int QueueLearnConversionMinBps,
    int NoValueMaxBps,
    uint LatencyP95MaxMs,
    uint LatencyP99MaxMs,
    int DisableStreakDays,
    string Version)
{
    /// <summary>The design's thresholds: Δ ≥ 8 % or QL ≥ 20 %, no-value ≤ 60 %, p95 ≤ 20 ms, p99 ≤ 40 ms, 7-day streak.</summary>
    public static UtilityThresholds MvpV1 { get; } = new(800, 2000, 6000, 20, 40, 7, "mvp_v1");

    /// <summary>Null when usable, else why not: rates 0..10000, a streak of at least one day, a version of 1..32 printable characters.</summary>
    public string? Validate()
    {
        static bool Bps(int v) => v is >= 0 and <= UtilityReview.BasisPoints;
        if (!Bps(DecisionDeltaMinBps) || !Bps(QueueLearnConversionMinBps) || !Bps(NoValueMaxBps)) return "rate thresholds are basis points 0..10000";
        if (DisableStreakDays < 1) return "the disable streak is at least one day";
        if (!IdRules.IsBoundedText(Version, 32)) return "the thresholds version is 1..32 printable characters";
        return null;
    }
}

/// <summary>
/// The five utility metrics of one engine over one set of outcome rows. Rates are basis points, always 0..10000,
/// computed as floor(10000 · numerator / denominator) in 64-bit integers (floor: a rate is never rounded up over a
/// threshold it did not reach). Latencies are nearest-rank percentiles of latency_cost_ms.
/// </summary>
/// <param name="Entries">How many rows of this engine were reviewed (≥ 1).</param>
/// <param name="DecisionDeltaRateBps">#decision_delta / #entries.</param>
/// <param name="QueueLearnConversionRateBps">#(QUEUE_LEARN ∧ decision_delta) / #QUEUE_LEARN; 0 when no row is QUEUE_LEARN.</param>
/// <param name="NoValueRateBps">#DROP / #entries.</param>
/// <param name="LatencyP95Ms">Sorted latencies at index ceil(95·n/100) − 1.</param>
/// <param name="LatencyP99Ms">Sorted latencies at index ceil(99·n/100) − 1.</param>
public sealed record UtilityMetrics(
    int Entries,
    int DecisionDeltaRateBps,
    int QueueLearnConversionRateBps,
    int NoValueRateBps,
    uint LatencyP95Ms,
    uint LatencyP99Ms);

/// <summary>One engine's review: its metrics, the gates and the action, with the fail streak after today.</summary>
/// <param name="FailStreakDays">0 when U4 passed; otherwise the previous streak plus one (today counts).</param>
/// <param name="GateU5Triggered">U4 failed and the streak reached <see cref="UtilityThresholds.DisableStreakDays"/>.</param>
/// <param name="ThresholdsVersion">The <see cref="UtilityThresholds.Version"/> applied.</param>
/// <param name="Reason">Always PH1_OS_OK_UTILITY_REVIEW: a failing engine is a result, not a refusal.</param>
public sealed record UtilityReviewResult(
    string EngineId,
    OsOptionalEngineTier Tier,
    UtilityMetrics Metrics,
    bool GateU4Pass,
    bool GateU5Triggered,
    OsUtilityAction Action,
    int FailStreakDays,
    string ThresholdsVersion,
    ReasonCode Reason);

/// <summary>The outcome of <see cref="UtilityReview.Review(string, IReadOnlyList{OsOutcomeEntry}, int, UtilityThresholds)"/>: a review or a reason-coded refusal.</summary>
public abstract record UtilityReviewOutcome
{
    private UtilityReviewOutcome() { }

    /// <summary>The engine was reviewed.</summary>
    public sealed record Reviewed(UtilityReviewResult Result) : UtilityReviewOutcome;

    /// <summary>Nothing to review: PH1_OS_UTILITY_ENGINE_NOT_OPTIONAL or PH1_OS_UTILITY_NO_OUTCOMES.</summary>
    public sealed record Refused(ReasonCode Reason, string Detail) : UtilityReviewOutcome;
}

/// <summary>
/// GATE-U4 / GATE-U5, the daily utility review of TURN_OPTIONAL engines (reference §1.7, seed "utility review
/// rule"). Pure and deterministic: integer arithmetic only (checked in this project), the order of the rows does not
/// matter, and the review never touches execution posture: it tunes optional engines only.
/// </summary>
public static class UtilityReview
{
    /// <summary>10000 basis points = 100 %.</summary>
    public const int BasisPoints = 10_000;

    /// <summary>
    /// Reviews <paramref name="engineId"/> over the rows of <paramref name="entries"/> that belong to it (rows of other
    /// engines are ignored, so a whole day's rows may be passed). <paramref name="previousFailStreakDays"/> is the streak
    /// recorded by the previous day's review (0 when it passed or there was none).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative previous streak (a caller bug).</exception>
    /// <exception cref="ArgumentException">Thresholds that do not <see cref="UtilityThresholds.Validate"/>.</exception>
    public static UtilityReviewOutcome Review(string engineId, IReadOnlyList<OsOutcomeEntry> entries, int previousFailStreakDays, UtilityThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(thresholds);
        ArgumentOutOfRangeException.ThrowIfNegative(previousFailStreakDays);
        if (thresholds.Validate() is { } invalid) throw new ArgumentException(invalid, nameof(thresholds));

        if (!IsTurnOptional(engineId))
            return new UtilityReviewOutcome.Refused(ReasonCodes.OsUtilityEngineNotOptional,
                $"{IdRules.Shorten(engineId ?? "")} is not a TURN_OPTIONAL engine");

        var metrics = Metrics(engineId, entries);
        if (metrics is null)
            return new UtilityReviewOutcome.Refused(ReasonCodes.OsUtilityNoOutcomes, $"no outcome rows for {engineId}");

        var pass = GateU4(metrics, thresholds);
        var streak = NextFailStreak(pass, previousFailStreakDays);
        var action = ActionFor(pass, streak, thresholds);
        return new UtilityReviewOutcome.Reviewed(new UtilityReviewResult(engineId, TierOf(engineId), metrics, pass,
            action == OsUtilityAction.DisableCandidate, action, streak, thresholds.Version, ReasonCodes.OsUtilityReviewOk));
    }

    /// <summary>True for the 25 TURN_OPTIONAL engine ids of reference §0.5 (exact, case-sensitive).</summary>
    public static bool IsTurnOptional(string? engineId) =>
        engineId is not null && OsEngineIds.TurnOptional.Contains(engineId, StringComparer.Ordinal);

    /// <summary>The tier of a TURN_OPTIONAL engine (reference §1.7); anything not STRICT or BALANCED is RICH.</summary>
    public static OsOptionalEngineTier TierOf(string engineId) => engineId switch
    {
        "PH1.ENDPOINT" or "PH1.LANG" or "PH1.PRON" or "PH1.PRUNE" or "PH1.DIAG" or "PH1.SEARCH" or "PH1.PREFETCH" => OsOptionalEngineTier.Strict,
        "PH1.DOC" or "PH1.SUMMARY" or "PH1.VISION" or "PH1.COST" or "PH1.EXPLAIN" or "PH1.LISTEN" or "PH1.EMO.GUIDE" or "PH1.PERSONA"
            or "PH1.FEEDBACK" or "PH1.CACHE" or "PH1.KNOW" => OsOptionalEngineTier.Balanced,
        _ => OsOptionalEngineTier.Rich,
    };

    /// <summary>The metrics over the rows of <paramref name="engineId"/>; null when there are none.</summary>
    public static UtilityMetrics? Metrics(string engineId, IReadOnlyList<OsOutcomeEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var latencies = new List<uint>(entries.Count);
        int delta = 0, queueLearn = 0, queueLearnDelta = 0, drops = 0;
        foreach (var e in entries)
        {
            if (!string.Equals(e.EngineId, engineId, StringComparison.Ordinal)) continue;
            latencies.Add(e.LatencyCostMs);
            if (e.DecisionDelta) delta++;
            if (e.ActionClass == OsOutcomeActionClass.QueueLearn)
            {
                queueLearn++;
                if (e.DecisionDelta) queueLearnDelta++;
            }
            if (e.ActionClass == OsOutcomeActionClass.Drop) drops++;
        }
        if (latencies.Count == 0) return null;
        latencies.Sort();
        var n = latencies.Count;
        return new UtilityMetrics(n, RateBps(delta, n), RateBps(queueLearnDelta, queueLearn), RateBps(drops, n),
            NearestRank(latencies, 95), NearestRank(latencies, 99));
    }

    /// <summary>floor(10000 · <paramref name="numerator"/> / <paramref name="denominator"/>); 0 when the denominator is 0.</summary>
    public static int RateBps(int numerator, int denominator)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numerator);
        ArgumentOutOfRangeException.ThrowIfNegative(denominator);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numerator, denominator);
        return denominator == 0 ? 0 : (int)((long)numerator * BasisPoints / denominator);
    }

    /// <summary>Nearest rank over ascending values: rank = ceil(p·n/100), the value at index rank − 1.</summary>
    public static uint NearestRank(IReadOnlyList<uint> ascending, int percentile)
    {
        ArgumentNullException.ThrowIfNull(ascending);
        ArgumentOutOfRangeException.ThrowIfZero(ascending.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        var rank = ((long)percentile * ascending.Count + 99) / 100;
        return ascending[(int)(rank - 1)];
    }

    /// <summary>GATE-U4: (decision delta OR queue-learn conversion) AND no-value AND p95 AND p99.</summary>
    public static bool GateU4(UtilityMetrics metrics, UtilityThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(thresholds);
        return (metrics.DecisionDeltaRateBps >= thresholds.DecisionDeltaMinBps || metrics.QueueLearnConversionRateBps >= thresholds.QueueLearnConversionMinBps)
            && metrics.NoValueRateBps <= thresholds.NoValueMaxBps
            && metrics.LatencyP95Ms <= thresholds.LatencyP95MaxMs
            && metrics.LatencyP99Ms <= thresholds.LatencyP99MaxMs;
    }

    /// <summary>A pass resets the streak to 0; a fail extends it by today (saturating at <see cref="int.MaxValue"/>).</summary>
    public static int NextFailStreak(bool gateU4Pass, int previousFailStreakDays)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(previousFailStreakDays);
        if (gateU4Pass) return 0;
        return previousFailStreakDays == int.MaxValue ? int.MaxValue : previousFailStreakDays + 1;
    }

    /// <summary>KEEP on a pass; on a fail DISABLE_CANDIDATE once the streak (today included) reaches the threshold, else DEGRADE.</summary>
    public static OsUtilityAction ActionFor(bool gateU4Pass, int failStreakDays, UtilityThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (gateU4Pass) return OsUtilityAction.Keep;
        return failStreakDays >= thresholds.DisableStreakDays ? OsUtilityAction.DisableCandidate : OsUtilityAction.Degrade;
    }
}
