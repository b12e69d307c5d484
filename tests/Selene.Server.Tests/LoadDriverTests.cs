using Selene.Cli.Bench;

namespace Selene.Server.Tests;

/// <summary>The core of <c>selene bench turns</c> against the fixture's real server: it executes, without errors.</summary>
[Collection(SeleneServerCollection.Name)]
public class LoadDriverTests(SeleneServerFixture f)
{
    [Fact]
    public async Task RunAsync_TwoClientsForTwoSeconds_ExecutesWithoutErrorsAndOrderedPercentiles()
    {
        var before = await f.CountsAsync();

        var report = await LoadDriver.RunAsync(new LoadOptions(f.BaseAddress, [f.AliceKey, f.CarolKey], Clients: 2,
            Duration: TimeSpan.FromSeconds(2), Warmup: TimeSpan.FromMilliseconds(300)));

        Assert.True(report.Executions > 0, $"no executions; errors: {string.Join(", ", report.Errors)}");
        Assert.Empty(report.Errors);
        Assert.Empty(report.WarmupErrors);
        // /v1/turns when the server has it, else the fallback, which is only taken on 404 ROUTE_NOT_FOUND.
        Assert.Contains(report.Path, (string[])["/v1/turns", "/v1/simulations/CAPREQ_CREATE_DRAFT"]);
        Assert.Equal(report.Path != "/v1/turns", report.FellBack);
        var l = report.Latency;
        Assert.Equal(report.Executions, l.Count);
        Assert.True(0 < l.P50Ms && l.P50Ms <= l.P95Ms && l.P95Ms <= l.P99Ms && l.P99Ms <= l.MaxMs, l.ToString());
        // Every counted execution (and every warmup one, and the probe) created one capability request.
        var after = await f.CountsAsync();
        Assert.True(after.CapreqCurrent - before.CapreqCurrent >= report.Executions + report.WarmupExecutions,
            $"{after.CapreqCurrent - before.CapreqCurrent} new capability requests for {report.Executions} + {report.WarmupExecutions} executions");
    }

    [Fact]
    public async Task RunAsync_ExplicitSimulationsEndpoint_MeasuresIt()
    {
        var before = await f.CountsAsync();
        var report = await LoadDriver.RunAsync(new LoadOptions(f.BaseAddress, [f.AliceKey], Clients: 1,
            Duration: TimeSpan.FromMilliseconds(500), Warmup: TimeSpan.Zero, Endpoint: BenchEndpoint.Simulations));

        Assert.Equal(BenchEndpoint.Simulations, report.Endpoint);
        Assert.False(report.FellBack);
        Assert.Empty(report.Errors);
        // The driver sends at least one request; on a busy machine its answer may come after the 500 ms window and
        // so not be counted, but its effect is there either way (the count does not depend on the machine's speed).
        var after = await f.CountsAsync();
        Assert.True(after.CapreqCurrent - before.CapreqCurrent >= Math.Max(1, report.Executions),
            $"{after.CapreqCurrent - before.CapreqCurrent} new capability requests for {report.Executions} executions");
        Assert.Equal(report.Executions, report.Latency.Count);
    }

    [Fact]
    public async Task RunAsync_AWindowOverBeforeTheClientStarts_StillSendsOnce()
    {
        // A window of one tick is over before any client loop runs, as a late-scheduled client finds it on a loaded machine.
        var before = await f.CountsAsync();
        var report = await LoadDriver.RunAsync(new LoadOptions(f.BaseAddress, [f.AliceKey], Clients: 1,
            Duration: TimeSpan.FromTicks(1), Warmup: TimeSpan.Zero, Endpoint: BenchEndpoint.Simulations));

        Assert.Empty(report.Errors);
        Assert.Equal(1, (await f.CountsAsync()).CapreqCurrent - before.CapreqCurrent);
    }

    [Fact]
    public async Task RunAsync_SettleJit_OpensTheWindowAfterAQuietProbe_AndSaysSo()
    {
        // The fixture's server runs in this process, as bench's own does: the warmup lasts at least one probe of the
        // JIT's compile rate, and the report says whether it settled (a light load settles long before the cap).
        var report = await LoadDriver.RunAsync(new LoadOptions(f.BaseAddress, [f.AliceKey], Clients: 1,
            Duration: TimeSpan.FromMilliseconds(300), Warmup: TimeSpan.Zero, Endpoint: BenchEndpoint.Simulations, SettleJit: true));

        Assert.True(report.JitSettled);
        Assert.True(report.WarmupSeconds >= LoadDriver.SettleProbe.TotalSeconds, $"warmup {report.WarmupSeconds} s");
        Assert.True(report.WarmupExecutions > 0);
        Assert.Empty(report.Errors);
        Assert.Empty(report.WarmupErrors);

        var plain = await LoadDriver.RunAsync(new LoadOptions(f.BaseAddress, [f.AliceKey], Clients: 1,
            Duration: TimeSpan.FromMilliseconds(100), Warmup: TimeSpan.Zero, Endpoint: BenchEndpoint.Simulations));
        Assert.Null(plain.JitSettled);
    }

    [Fact]
    public async Task RunAsync_InvalidKey_CountsErrorsByStatusAndReason()
    {
        var report = await LoadDriver.RunAsync(new LoadOptions(f.BaseAddress, ["not-a-key"], Clients: 1,
            Duration: TimeSpan.FromMilliseconds(300), Warmup: TimeSpan.Zero, Endpoint: BenchEndpoint.Simulations));

        Assert.Equal(0, report.Executions);
        var error = Assert.Single(report.Errors);
        Assert.Equal("401 AUTH_KEY_INVALID", error.Key);
        Assert.Equal(0, report.Latency.Count);
    }
}

/// <summary>The arithmetic and parsing behind the bench report.</summary>
public class BenchFiguresTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(10, 1)]
    [InlineData(10.1, 2)]
    [InlineData(50, 5)]
    [InlineData(95, 10)]
    [InlineData(99, 10)]
    [InlineData(100, 10)]
    public void NearestRank_TenSamples_IsTheCeilRankSample(double percentile, long expected)
    {
        long[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(expected, Percentiles.NearestRank(sorted, percentile));
    }

    [Fact]
    public void NearestRank_HundredSamples_P95IsTheNinetyFifth()
    {
        var sorted = Enumerable.Range(1, 100).Select(i => (long)i * 10).ToArray();
        Assert.Equal(500, Percentiles.NearestRank(sorted, 50));
        Assert.Equal(950, Percentiles.NearestRank(sorted, 95));
        Assert.Equal(990, Percentiles.NearestRank(sorted, 99));
        Assert.Equal(1000, Percentiles.NearestRank(sorted, 100));
    }

    [Fact]
    public void NearestRank_OneSample_IsThatSampleAtEveryPercentile()
    {
        Assert.All((double[])[0, 50, 99.9, 100], p => Assert.Equal(7, Percentiles.NearestRank([7], p)));
    }

    [Fact]
    public void NearestRank_NoSamplesOrPercentileOutOfRange_Throws()
    {
        Assert.Throws<ArgumentException>(() => Percentiles.NearestRank([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1], 100.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1], -1));
    }

    [Fact]
    public void LatencySummary_SeveralRecordersAcrossChunks_MergesEverySample()
    {
        var a = new LatencyRecorder();
        var b = new LatencyRecorder();
        for (var i = 1; i <= LatencyRecorder.ChunkSize + 5; i++) a.Record(i);
        b.Record(1_000_000);

        var summary = LatencySummary.From([a, b]);

        Assert.Equal(LatencyRecorder.ChunkSize + 6, summary.Count);
        Assert.True(summary.P50Ms <= summary.P95Ms && summary.P95Ms <= summary.P99Ms && summary.P99Ms <= summary.MaxMs);
        Assert.Equal(1_000_000 * 1000.0 / System.Diagnostics.Stopwatch.Frequency, summary.MaxMs, 9);
    }

    [Fact]
    public void LatencySummary_Nothing_IsAllZero()
    {
        Assert.Equal(new LatencySummary(0, 0, 0, 0, 0, 0), LatencySummary.From([new LatencyRecorder()]));
    }

    // Verbatim output of pgbench 15 (Debian 15.18) for -N -M prepared -c 2 -j 2 -T 3.
    private const string PgBench15 = """
        pgbench (15.18 (Debian 15.18-0+deb12u1))
        transaction type: <builtin: simple update>
        scaling factor: 1
        query mode: prepared
        number of clients: 2
        number of threads: 2
        maximum number of tries: 1
        duration: 3 s
        number of transactions actually processed: 7142
        number of failed transactions: 0 (0.000%)
        latency average = 0.840 ms
        initial connection time = 4.318 ms
        tps = 2380.518846 (without initial connection time)
        """;

    // PostgreSQL 13 and earlier print two tps lines; the one excluding connection time is the one to use.
    private const string PgBench13 = """
        number of transactions actually processed: 12000
        latency average = 1.333 ms
        tps = 1490.117 (including connections establishing)
        tps = 1500.5 (excluding connections establishing)
        """;

    [Fact]
    public void PgBenchParser_Version15_ReadsTpsLatencyAndTransactions()
    {
        Assert.Equal(2380.518846, PgBench.TryParseTps(PgBench15));
        Assert.Equal(0.840, PgBench.TryParseLatencyAverage(PgBench15));
        Assert.Equal(7142, PgBench.TryParseTransactions(PgBench15));
    }

    [Fact]
    public void PgBenchParser_Version13_TakesTheTpsExcludingConnections()
    {
        Assert.Equal(1500.5, PgBench.TryParseTps(PgBench13));
        Assert.Equal(1.333, PgBench.TryParseLatencyAverage(PgBench13));
    }

    [Theory]
    [InlineData("")]
    [InlineData("pgbench: error: connection to server failed")]
    [InlineData("tps = 12.5 (including connections establishing)")]
    public void PgBenchParser_NoUsableTpsLine_IsNull(string output)
    {
        Assert.Null(PgBench.TryParseTps(output));
    }
}
