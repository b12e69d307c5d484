using System.Text.Json;
using Selene.Kernel.Os;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Os;
using Selene.Testing;

namespace Selene.Runtime.Tests;

/// <summary>The daily utility review over stored outcome rows: streaks across days, look-back, persistence and journal.</summary>
public sealed class UtilityReviewRunnerTests : IAsyncLifetime
{
    private const string Search = "PH1.SEARCH";
    private static readonly DateOnly Day1 = new(2026, 3, 1);
    private SeleneDatabase _db = null!;
    private UtilityReviewRunner _runner = null!;
    private ulong _turn;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(_db, "acme", "u1");
        await TestCluster.SeedUserAsync(_db, "globex", "u1");
        _runner = new UtilityReviewRunner(_db, TimeProvider.System);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static DateOnly D(int n) => Day1.AddDays(n - 1);

    /// <summary>One turn on <paramref name="day"/> with ten rows of <paramref name="engine"/>: one with a decision delta when passing, none when failing.</summary>
    private async Task SeedDayAsync(DateOnly day, bool passing, string engine = Search, string tenant = "acme")
    {
        var correlation = new CorrelationId(9000);
        var turn = new TurnId(++_turn);
        var entries = Enumerable.Range(0, 10)
            .Select(i => new OsOutcomeEntry(engine, "RESULT", correlation, turn, OsOutcomeActionClass.ActNow, "PH1.X", 5, passing && i == 0, "PH1_OS_OK_POLICY_EVALUATE"))
            .ToArray();
        await using var tx = await TenantTransaction.BeginAsync(_db.App, tenant);
        Assert.Equal(10, await OsOutcomeStore.AppendOutcomesAsync(tx, correlation, turn, day, entries, 1, default));
        await tx.CommitAsync();
    }

    private async Task<UtilityReviewRun> RunAsync(DateOnly day, string tenant = "acme") =>
        Assert.Single(await _runner.RunAsync(tenant, day));

    private static (OsUtilityAction, int) ActionOf(UtilityReviewRun run, string engine = Search)
    {
        var r = Assert.Single(run.Reviews, x => x.Result.EngineId == engine).Result;
        return (r.Action, r.FailStreakDays);
    }

    private async Task<T> ReadAsync<T>(string tenant, Func<TenantTransaction, Task<T>> read)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, tenant);
        return await read(tx);
    }

    [Fact]
    public async Task SevenFailingDays_ReviewedDaily_DegradeOnDaySix_DisableCandidateOnDaySeven()
    {
        for (var n = 1; n <= 7; n++)
        {
            await SeedDayAsync(D(n), passing: false);
            var run = await RunAsync(D(n));
            Assert.Empty(run.Backfilled);
            Assert.Equal(n == 7 ? (OsUtilityAction.DisableCandidate, 7) : (OsUtilityAction.Degrade, n), ActionOf(run));
        }
        var stored = await ReadAsync("acme", tx => OsOutcomeStore.CurrentReviewAsync(tx, D(7), Search, default));
        Assert.Equal((OsUtilityAction.DisableCandidate, 7, true), (stored!.Result.Action, stored.Result.FailStreakDays, stored.Result.GateU5Triggered));
        Assert.Equal(OsUtilityAction.Degrade, (await ReadAsync("acme", tx => OsOutcomeStore.CurrentReviewAsync(tx, D(6), Search, default)))!.Result.Action);
    }

    [Fact]
    public async Task PassingDay_ResetsTheStreak()
    {
        var expected = new[] { (false, OsUtilityAction.Degrade, 1), (false, OsUtilityAction.Degrade, 2), (true, OsUtilityAction.Keep, 0), (false, OsUtilityAction.Degrade, 1) };
        for (var n = 1; n <= expected.Length; n++)
        {
            await SeedDayAsync(D(n), expected[n - 1].Item1);
            Assert.Equal((expected[n - 1].Item2, expected[n - 1].Item3), ActionOf(await RunAsync(D(n))));
        }
    }

    [Fact]
    public async Task UnreviewedEarlierDays_AreReviewedFirst_SoDaySevenAloneIsDisableCandidate()
    {
        for (var n = 1; n <= 7; n++) await SeedDayAsync(D(n), passing: false);

        var run = await RunAsync(D(7));

        Assert.Equal((OsUtilityAction.DisableCandidate, 7), ActionOf(run));
        Assert.Equal(Enumerable.Range(1, 6).Select(D), run.Backfilled.Select(b => b.Day));
        Assert.Equal(Enumerable.Range(1, 6), run.Backfilled.Select(b => b.Result.FailStreakDays));
        Assert.All(run.Backfilled, b => Assert.True(b.Appended));
        var day6 = await ReadAsync("acme", tx => OsOutcomeStore.CurrentReviewAsync(tx, D(6), Search, default));
        Assert.Equal((OsUtilityAction.Degrade, 6, run.Correlation.ToString()), (day6!.Result.Action, day6.Result.FailStreakDays, day6.CorrelationId));
    }

    [Fact]
    public async Task LookBack_IsBoundedToSevenEarlierDays()
    {
        for (var n = 1; n <= 10; n++) await SeedDayAsync(D(n), passing: false);

        var run = await RunAsync(D(10));

        // D10 plus D3..D9: D3 finds no stored review of D2 and the bound stops there, so its streak starts at 1.
        Assert.Equal(UtilityReviewRunner.LookBackDays, run.Backfilled.Count);
        Assert.Equal(D(3), run.Backfilled[0].Day);
        Assert.Equal((OsUtilityAction.DisableCandidate, 8), ActionOf(run));
        Assert.Null(await ReadAsync("acme", tx => OsOutcomeStore.CurrentReviewAsync(tx, D(2), Search, default)));
    }

    [Fact]
    public async Task DayWithoutRows_RestartsTheStreak()
    {
        for (var n = 1; n <= 3; n++) await SeedDayAsync(D(n), passing: false);
        Assert.Equal((OsUtilityAction.Degrade, 3), ActionOf(await RunAsync(D(3))));
        // D4: the engine produced nothing.
        await SeedDayAsync(D(5), passing: false);
        var run = await RunAsync(D(5));
        Assert.Equal((OsUtilityAction.Degrade, 1), ActionOf(run));
        Assert.Empty(run.Backfilled);
    }

    [Fact]
    public async Task OnlyTurnOptionalEngines_AreReviewed_InCanonicalOrder()
    {
        await SeedDayAsync(D(1), passing: true, engine: "PH1.DELIVERY");
        await SeedDayAsync(D(1), passing: true, engine: "PH1.NLP");
        await SeedDayAsync(D(1), passing: false, engine: "PH1.LANG");
        var run = await RunAsync(D(1));
        Assert.Equal(["PH1.LANG", "PH1.DELIVERY"], run.Reviews.Select(r => r.Result.EngineId));
        Assert.Equal(["PH1.NLP"], run.SkippedEngines);
    }

    [Fact]
    public async Task Run_JournalsOneEntry_AndAnUnchangedRerunAppendsNoReview()
    {
        await SeedDayAsync(D(1), passing: false);
        await SeedDayAsync(D(2), passing: false);
        var first = await RunAsync(D(2));
        var again = await RunAsync(D(2));
        Assert.False(Assert.Single(again.Reviews).Appended);
        Assert.Single(await ReadAsync("acme", tx => OsOutcomeStore.ReviewHistoryAsync(tx, D(2), Search, default)));

        var journal = await ReadAsync("acme", tx => JournalStore.ByCorrelationAsync(tx, first.Correlation, 10, default));
        var entry = Assert.Single(journal);
        Assert.Equal((first.JournalSeq, "PH1.OS", "OS_UTILITY_REVIEWED", "PH1_OS_OK_UTILITY_REVIEW"), ((long?)entry.Seq, entry.Engine, entry.EventType, entry.ReasonCode));
        var payload = JsonSerializer.Deserialize<Dictionary<string, string>>(entry.PayloadJson)!;
        Assert.Equal("2026-03-02", payload["day"]);
        Assert.Equal("mvp_v1", payload["thresholds_version"]);
        Assert.Equal(("1", "1", "2", "1"), (payload["engines_reviewed"], payload["degrade"], payload["reviews_appended"], payload["backfilled_reviews"]));
        var second = await ReadAsync("acme", tx => JournalStore.ByCorrelationAsync(tx, again.Correlation, 10, default));
        Assert.Equal("0", JsonSerializer.Deserialize<Dictionary<string, string>>(Assert.Single(second).PayloadJson)!["reviews_appended"]);
    }

    [Fact]
    public async Task NoRows_ReviewsNothing_AndJournalsNothing()
    {
        var run = await RunAsync(D(1));
        Assert.Empty(run.Reviews);
        Assert.Null(run.JournalSeq);
    }

    [Fact]
    public async Task Tenants_AreReviewedSeparately()
    {
        await SeedDayAsync(D(1), passing: true);
        await SeedDayAsync(D(1), passing: false, tenant: "globex");
        var runs = await _runner.RunAsync(null, D(1));
        Assert.Equal(["acme", "globex"], runs.Select(r => r.TenantId));
        Assert.Equal((OsUtilityAction.Keep, 0), ActionOf(runs[0]));
        Assert.Equal((OsUtilityAction.Degrade, 1), ActionOf(runs[1]));
        Assert.Equal(10, Assert.Single(runs[1].Reviews).Result.Metrics.Entries); // acme's rows are not globex's
        Assert.Empty(await _runner.RunAsync("initech", D(1)));
    }
}
