using FsCheck;
using FsCheck.Fluent;
using Selene.Kernel.Os;

namespace Selene.Kernel.Tests;

/// <summary>GATE-U4 / GATE-U5 (reference §1.7): metrics, thresholds, streak and action, one rule per row.</summary>
public sealed class UtilityReviewTests
{
    private const string Engine = "PH1.SEARCH";
    private static readonly UtilityThresholds V1 = UtilityThresholds.MvpV1;

    private static OsOutcomeEntry Row(OsOutcomeActionClass cls = OsOutcomeActionClass.ActNow, bool delta = false, uint latency = 5, string engine = Engine) =>
        new(engine, "SEARCH_RESULT", new CorrelationId(1), new TurnId(1), cls, cls == OsOutcomeActionClass.Drop ? OsOutcomeEntry.NotConsumed : "PH1.X",
            latency, delta, "PH1_OS_OK_POLICY_EVALUATE");

    private static List<OsOutcomeEntry> Rows(int count, Func<int, OsOutcomeEntry> make) => Enumerable.Range(0, count).Select(make).ToList();

    private static UtilityReviewResult Reviewed(IReadOnlyList<OsOutcomeEntry> rows, int previous = 0, string engine = Engine) =>
        Assert.IsType<UtilityReviewOutcome.Reviewed>(UtilityReview.Review(engine, rows, previous, V1)).Result;

    /// <summary>A day that passes every U4 threshold: 10 % decision delta, nothing dropped, 5 ms everywhere.</summary>
    private static List<OsOutcomeEntry> PassingDay() => Rows(10, i => Row(delta: i == 0));

    /// <summary>A day that fails U4: no decision delta and no queue-learn conversion.</summary>
    private static List<OsOutcomeEntry> FailingDay() => Rows(10, _ => Row());

    // ---- acceptance tests (reference §1.9) -----------------------------------------------------------------

    [Fact]
    public void AT_OS_11_UtilityKeep_WhenEveryThresholdPasses_KeepsAndResetsTheStreak()
    {
        var r = Reviewed(PassingDay(), previous: 6);
        Assert.True(r.GateU4Pass);
        Assert.False(r.GateU5Triggered);
        Assert.Equal(OsUtilityAction.Keep, r.Action);
        Assert.Equal(0, r.FailStreakDays);
        Assert.Equal(ReasonCodes.OsUtilityReviewOk, r.Reason);
        Assert.Equal("mvp_v1", r.ThresholdsVersion);
        Assert.Equal(new UtilityMetrics(10, 1000, 0, 0, 5, 5), r.Metrics);
    }

    [Fact]
    public void AT_OS_12_DisableCandidateAtSevenDayStreak_SixthFailingDayDegradesSeventhIsCandidate()
    {
        var streak = 0;
        var actions = new List<OsUtilityAction>();
        for (var day = 1; day <= 7; day++)
        {
            var r = Reviewed(FailingDay(), streak);
            Assert.False(r.GateU4Pass);
            Assert.Equal(day, r.FailStreakDays);
            actions.Add(r.Action);
            streak = r.FailStreakDays;
        }
        OsUtilityAction[] expected = [.. Enumerable.Repeat(OsUtilityAction.Degrade, 6), OsUtilityAction.DisableCandidate];
        Assert.Equal(expected, actions);
        Assert.True(Reviewed(FailingDay(), 6).GateU5Triggered);
        Assert.False(Reviewed(FailingDay(), 5).GateU5Triggered);
    }

    // ---- refusals --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("PH1.NLP")]       // ALWAYS_ON
    [InlineData("PH1.OS")]        // ENTERPRISE_SUPPORT
    [InlineData("PH1.PATTERN")]   // OFFLINE_ONLY
    [InlineData("ph1.search")]    // ids are case-sensitive
    [InlineData("PH1.UNKNOWN")]
    [InlineData("")]
    public void Review_EngineNotTurnOptional_IsRefused(string engine)
    {
        var refused = Assert.IsType<UtilityReviewOutcome.Refused>(UtilityReview.Review(engine, [Row(engine: engine)], 0, V1));
        Assert.Equal(ReasonCodes.OsUtilityEngineNotOptional, refused.Reason);
    }

    [Fact]
    public void Review_NoRows_IsRefusedNoOutcomes()
    {
        var refused = Assert.IsType<UtilityReviewOutcome.Refused>(UtilityReview.Review(Engine, [], 0, V1));
        Assert.Equal(ReasonCodes.OsUtilityNoOutcomes, refused.Reason);
    }

    [Fact]
    public void Review_OnlyOtherEnginesRows_IsRefusedNoOutcomes_AndOthersAreIgnoredOtherwise()
    {
        var others = Rows(5, _ => Row(OsOutcomeActionClass.Drop, latency: 999, engine: "PH1.LANG"));
        Assert.Equal(ReasonCodes.OsUtilityNoOutcomes, Assert.IsType<UtilityReviewOutcome.Refused>(UtilityReview.Review(Engine, others, 0, V1)).Reason);
        var mixed = PassingDay().Concat(others).ToList();
        Assert.Equal(Reviewed(PassingDay()), Reviewed(mixed));
    }

    [Fact]
    public void Review_NegativePreviousStreakOrBadThresholds_AreCallerBugs()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => UtilityReview.Review(Engine, PassingDay(), -1, V1));
        Assert.Throws<ArgumentException>(() => UtilityReview.Review(Engine, PassingDay(), 0, V1 with { NoValueMaxBps = 10_001 }));
        Assert.Throws<ArgumentException>(() => UtilityReview.Review(Engine, PassingDay(), 0, V1 with { DisableStreakDays = 0 }));
        Assert.Throws<ArgumentException>(() => UtilityReview.Review(Engine, PassingDay(), 0, V1 with { Version = "" }));
    }

    // ---- metrics -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(1, 1, 10_000)]
    [InlineData(1, 3, 3333)]      // floor, not 3333.33…
    [InlineData(2, 3, 6666)]      // floor, not rounded to 6667
    [InlineData(1, 12, 833)]
    [InlineData(1, 13, 769)]
    [InlineData(7, 7, 10_000)]
    [InlineData(0, 0, 0)]         // no denominator: 0 (no QUEUE_LEARN rows)
    [InlineData(int.MaxValue, int.MaxValue, 10_000)] // 64-bit intermediate: no overflow
    public void RateBps_IsFlooredBasisPoints(int numerator, int denominator, int expected) =>
        Assert.Equal(expected, UtilityReview.RateBps(numerator, denominator));

    [Theory]
    // n, percentile, expected index (values are 1..n, so value = index + 1)
    [InlineData(1, 95, 0)]
    [InlineData(1, 99, 0)]
    [InlineData(2, 95, 1)]        // ceil(1.9) = 2
    [InlineData(10, 95, 9)]       // ceil(9.5) = 10
    [InlineData(20, 95, 18)]      // ceil(19) = 19
    [InlineData(20, 99, 19)]      // ceil(19.8) = 20
    [InlineData(100, 95, 94)]
    [InlineData(100, 99, 98)]
    [InlineData(101, 99, 99)]     // ceil(99.99) = 100
    [InlineData(200, 99, 197)]    // ceil(198) = 198
    public void NearestRank_IsCeilOfPTimesNOverHundredMinusOne(int n, int percentile, int index)
    {
        var values = Enumerable.Range(1, n).Select(v => (uint)v).ToArray();
        Assert.Equal((uint)(index + 1), UtilityReview.NearestRank(values, percentile));
    }

    [Fact]
    public void Metrics_CountEachRule()
    {
        // 20 rows: 4 QUEUE_LEARN (1 with delta), 5 DROP, 3 ACT_NOW with delta, the rest AUDIT_ONLY; latencies 1..20 shuffled.
        var rows = new List<OsOutcomeEntry>();
        for (var i = 0; i < 20; i++)
        {
            var (cls, delta) = i switch
            {
                0 => (OsOutcomeActionClass.QueueLearn, true),
                < 4 => (OsOutcomeActionClass.QueueLearn, false),
                < 9 => (OsOutcomeActionClass.Drop, false),
                < 12 => (OsOutcomeActionClass.ActNow, true),
                _ => (OsOutcomeActionClass.AuditOnly, false),
            };
            rows.Add(Row(cls, delta, latency: (uint)((i * 7 % 20) + 1)));
        }
        var m = UtilityReview.Metrics(Engine, rows)!;
        Assert.Equal(new UtilityMetrics(20, 2000, 2500, 2500, 19, 20), m);
    }

    [Fact]
    public void Metrics_RowOrder_DoesNotMatter()
    {
        var rows = Rows(37, i => Row((OsOutcomeActionClass)(i % 4), i % 3 == 0, (uint)(i * 13 % 50)));
        var reversed = rows.AsEnumerable().Reverse().ToList();
        Assert.Equal(UtilityReview.Metrics(Engine, rows), UtilityReview.Metrics(Engine, reversed));
    }

    // ---- GATE-U4, one threshold at a time ---------------------------------------------------------------------

    [Theory]
    // decision delta, QL conversion, no value, p95, p99 → U4
    [InlineData(800, 0, 6000, 20u, 40u, true)]              // every threshold exactly at its limit
    [InlineData(799, 0, 0, 1u, 1u, false)]                  // decision delta 1 bp short, no QL
    [InlineData(0, 2000, 0, 1u, 1u, true)]                  // decision delta short, QL at its limit
    [InlineData(799, 1999, 0, 1u, 1u, false)]               // both 1 bp short
    [InlineData(10_000, 10_000, 6001, 1u, 1u, false)]       // no value 1 bp over
    [InlineData(10_000, 0, 0, 21u, 21u, false)]             // p95 1 ms over
    [InlineData(10_000, 0, 0, 20u, 41u, false)]             // p99 1 ms over
    [InlineData(10_000, 10_000, 0, 0u, 0u, true)]
    public void GateU4_EachThreshold(int delta, int queueLearn, int noValue, uint p95, uint p99, bool pass) =>
        Assert.Equal(pass, UtilityReview.GateU4(new UtilityMetrics(100, delta, queueLearn, noValue, p95, p99), V1));

    [Fact]
    public void Review_LatencyTail_FailsU4()
    {
        // 100 rows, delta everywhere; two slow rows push p99 (index 98) to 41 ms while p95 stays at 5 ms.
        var rows = Rows(100, i => Row(delta: true, latency: i < 98 ? 5u : 41u));
        var r = Reviewed(rows);
        Assert.Equal(5u, r.Metrics.LatencyP95Ms);
        Assert.Equal(41u, r.Metrics.LatencyP99Ms);
        Assert.False(r.GateU4Pass);
        Assert.Equal(OsUtilityAction.Degrade, r.Action);
    }

    [Fact]
    public void Review_QueueLearnConversion_RescuesALowDecisionDelta()
    {
        // 20 rows: 1 QUEUE_LEARN with delta (Δ = 500 bp < 800) and 4 QUEUE_LEARN in all (QL = 2500 bp ≥ 2000).
        var rows = Rows(20, i => i < 4 ? Row(OsOutcomeActionClass.QueueLearn, delta: i == 0) : Row(OsOutcomeActionClass.AuditOnly));
        var r = Reviewed(rows);
        Assert.Equal(500, r.Metrics.DecisionDeltaRateBps);
        Assert.Equal(2500, r.Metrics.QueueLearnConversionRateBps);
        Assert.Equal(OsUtilityAction.Keep, r.Action);
    }

    // ---- streak and action -------------------------------------------------------------------------------------

    [Theory]
    [InlineData(true, 0, 0, OsUtilityAction.Keep)]
    [InlineData(true, 30, 0, OsUtilityAction.Keep)]           // a pass resets any streak
    [InlineData(false, 0, 1, OsUtilityAction.Degrade)]
    [InlineData(false, 5, 6, OsUtilityAction.Degrade)]
    [InlineData(false, 6, 7, OsUtilityAction.DisableCandidate)]
    [InlineData(false, 7, 8, OsUtilityAction.DisableCandidate)]
    [InlineData(false, int.MaxValue, int.MaxValue, OsUtilityAction.DisableCandidate)] // saturates, never overflows
    public void StreakAndAction(bool pass, int previous, int streak, OsUtilityAction action)
    {
        Assert.Equal(streak, UtilityReview.NextFailStreak(pass, previous));
        Assert.Equal(action, UtilityReview.ActionFor(pass, streak, V1));
    }

    [Fact]
    public void PassingDay_AfterAFailStreak_ResetsIt()
    {
        var failed = Reviewed(FailingDay(), 6);
        Assert.Equal(OsUtilityAction.DisableCandidate, failed.Action);
        var kept = Reviewed(PassingDay(), failed.FailStreakDays);
        Assert.Equal((OsUtilityAction.Keep, 0), (kept.Action, kept.FailStreakDays));
        var again = Reviewed(FailingDay(), kept.FailStreakDays);
        Assert.Equal((OsUtilityAction.Degrade, 1), (again.Action, again.FailStreakDays));
    }

    // ---- tiers -----------------------------------------------------------------------------------------------

    [Fact]
    public void Tiers_FollowReference_AndCoverEveryOptionalEngine()
    {
        string[] strict = ["PH1.ENDPOINT", "PH1.LANG", "PH1.PRON", "PH1.PRUNE", "PH1.DIAG", "PH1.SEARCH", "PH1.PREFETCH"];
        string[] balanced = ["PH1.DOC", "PH1.SUMMARY", "PH1.VISION", "PH1.COST", "PH1.EXPLAIN", "PH1.LISTEN", "PH1.EMO.GUIDE", "PH1.PERSONA",
            "PH1.FEEDBACK", "PH1.CACHE", "PH1.KNOW"];
        string[] rich = ["PH1.EMO.CORE", "PH1.LEARN", "PH1.PAE", "PH1.MULTI", "PH1.KG", "PH1.BCAST", "PH1.DELIVERY"];
        Assert.All(strict, e => Assert.Equal(OsOptionalEngineTier.Strict, UtilityReview.TierOf(e)));
        Assert.All(balanced, e => Assert.Equal(OsOptionalEngineTier.Balanced, UtilityReview.TierOf(e)));
        Assert.All(rich, e => Assert.Equal(OsOptionalEngineTier.Rich, UtilityReview.TierOf(e)));
        Assert.Equal(OsEngineIds.TurnOptional.Order(StringComparer.Ordinal), strict.Concat(balanced).Concat(rich).Order(StringComparer.Ordinal));
        Assert.Equal(OsOptionalEngineTier.Strict, Reviewed(PassingDay()).Tier);
    }

    [Fact]
    public void WireNames_AreTheReferenceNames()
    {
        Assert.Equal("DISABLE_CANDIDATE", WireNames.Of(OsUtilityAction.DisableCandidate));
        Assert.Equal("KEEP", WireNames.Of(OsUtilityAction.Keep));
        Assert.Equal("BALANCED", WireNames.Of(OsOptionalEngineTier.Balanced));
    }

    // ---- properties --------------------------------------------------------------------------------------------

    private static readonly Config Seeded = Config.QuickThrowOnFailure.WithMaxTest(1000).WithReplay(20260301UL, 7UL);

    private static Gen<List<OsOutcomeEntry>> Days() =>
        from count in Gen.Choose(0, 60)
        from rows in Gen.ArrayOf(
            from cls in Gen.Elements(OsOutcomeActionClass.ActNow, OsOutcomeActionClass.QueueLearn, OsOutcomeActionClass.AuditOnly, OsOutcomeActionClass.Drop)
            from delta in ArbMap.Default.GeneratorFor<bool>()
            from latency in Gen.OneOf(Gen.Choose(0, 60), Gen.Constant(int.MaxValue))
            from engine in Gen.Elements(Engine, Engine, Engine, "PH1.LANG")
            select Row(cls, delta, (uint)latency, engine), count)
        select rows.ToList();

    [Fact]
    public void Property_MetricsInRange_StreakAndActionConsistent_Deterministic() =>
        Prop.ForAll(Days().ToArbitrary(), Gen.Choose(0, 10).ToArbitrary(), (rows, previous) =>
        {
            var outcome = UtilityReview.Review(Engine, rows, previous, V1);
            var shuffled = UtilityReview.Review(Engine, rows.OrderBy(r => r.LatencyCostMs).ThenBy(r => r.ActionClass).ToList(), previous, V1);
            if (outcome is UtilityReviewOutcome.Refused refused)
                return refused.Reason == ReasonCodes.OsUtilityNoOutcomes && rows.All(r => r.EngineId != Engine) && shuffled == outcome;
            var r = ((UtilityReviewOutcome.Reviewed)outcome).Result;
            var m = r.Metrics;
            var own = rows.Where(x => x.EngineId == Engine).ToList();
            return m.Entries == own.Count
                && m.DecisionDeltaRateBps is >= 0 and <= 10_000
                && m.QueueLearnConversionRateBps is >= 0 and <= 10_000
                && m.NoValueRateBps is >= 0 and <= 10_000
                && m.LatencyP95Ms <= m.LatencyP99Ms
                && m.LatencyP99Ms <= own.Max(x => x.LatencyCostMs)
                && own.Any(x => x.LatencyCostMs == m.LatencyP95Ms)
                && (r.GateU4Pass ? r.FailStreakDays == 0 && r.Action == OsUtilityAction.Keep : r.FailStreakDays == previous + 1)
                && r.GateU5Triggered == (r.Action == OsUtilityAction.DisableCandidate)
                && r.GateU5Triggered == (!r.GateU4Pass && r.FailStreakDays >= 7)
                && shuffled == outcome;
        }).Check(Seeded);
}
