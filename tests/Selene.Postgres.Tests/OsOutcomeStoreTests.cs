using Selene.Contracts;
using Selene.Kernel.Os;
using Selene.Postgres.Stores;
using Selene.Testing;

namespace Selene.Postgres.Tests;

/// <summary>Outcome-utilization rows and utility reviews (migration 0009) against real PostgreSQL.</summary>
public sealed class OsOutcomeStoreTests : IAsyncLifetime
{
    private static readonly DateOnly Day = new(2026, 3, 2);
    private static readonly CorrelationId BigCorrelation = new(UInt128.MaxValue >> 1);
    private SeleneDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(_db, "acme", "u1");
        await TestCluster.SeedUserAsync(_db, "globex", "u1");
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static OsOutcomeEntry Entry(CorrelationId c, TurnId t, string engine, OsOutcomeActionClass cls, uint latency, bool delta) =>
        new(engine, "OUTCOME_" + WireNames.Of(cls), c, t, cls, cls == OsOutcomeActionClass.Drop ? OsOutcomeEntry.NotConsumed : "PH1.X", latency, delta,
            "PH1_OS_OK_POLICY_EVALUATE");

    private async Task<int> AppendAsync(string tenant, CorrelationId c, TurnId t, DateOnly day, params OsOutcomeEntry[] entries)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, tenant);
        var added = await OsOutcomeStore.AppendOutcomesAsync(tx, c, t, day, entries, 1_000 + entries.Length, default);
        await tx.CommitAsync();
        return added;
    }

    private async Task<T> ReadAsync<T>(string tenant, Func<TenantTransaction, Task<T>> read)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, tenant);
        return await read(tx);
    }

    [Fact]
    public async Task AppendOutcomes_ReadBack_RoundTripsEveryField()
    {
        var turn = new TurnId(long.MaxValue);
        OsOutcomeEntry[] entries =
        [
            Entry(BigCorrelation, turn, "PH1.SEARCH", OsOutcomeActionClass.ActNow, 0, true),
            Entry(BigCorrelation, turn, "PH1.SEARCH", OsOutcomeActionClass.QueueLearn, uint.MaxValue, false),
            Entry(BigCorrelation, turn, "PH1.LANG", OsOutcomeActionClass.AuditOnly, 7, false),
            Entry(BigCorrelation, turn, "PH1.SEARCH", OsOutcomeActionClass.Drop, 12, false),
        ];
        Assert.Equal(4, await AppendAsync("acme", BigCorrelation, turn, Day, entries));

        var all = await ReadAsync("acme", tx => OsOutcomeStore.ReadDayAsync(tx, Day, null, default));
        Assert.Equal(entries, all.Select(r => r.Entry));
        Assert.Equal([0, 1, 2, 3], all.Select(r => r.EntryIndex));
        Assert.All(all, r => Assert.Equal((Day, 1_004L), (r.Day, r.RecordedAt)));
        var search = await ReadAsync("acme", tx => OsOutcomeStore.ReadDayAsync(tx, Day, "PH1.SEARCH", default));
        Assert.Equal(entries.Where(e => e.EngineId == "PH1.SEARCH"), search.Select(r => r.Entry));
        Assert.Empty(await ReadAsync("acme", tx => OsOutcomeStore.ReadDayAsync(tx, Day.AddDays(1), null, default)));
        Assert.Equal(["PH1.LANG", "PH1.SEARCH"], await ReadAsync("acme", tx => OsOutcomeStore.EnginesOfDayAsync(tx, Day, default)));
    }

    [Fact]
    public async Task AppendOutcomes_SameTurnAgain_AddsNothing()
    {
        var c = new CorrelationId(41);
        var t = new TurnId(3);
        var e = Entry(c, t, "PH1.DOC", OsOutcomeActionClass.ActNow, 4, true);
        Assert.Equal(2, await AppendAsync("acme", c, t, Day, e, e));
        Assert.Equal(0, await AppendAsync("acme", c, t, Day, e, e));
        Assert.Equal(1, await AppendAsync("acme", c, new TurnId(4), Day, Entry(c, new TurnId(4), "PH1.DOC", OsOutcomeActionClass.ActNow, 4, true)));
        Assert.Equal(3, (await ReadAsync("acme", tx => OsOutcomeStore.ReadDayAsync(tx, Day, "PH1.DOC", default))).Count);
    }

    [Fact]
    public async Task AppendOutcomes_EntryOfAnotherTurn_IsACallerBug()
    {
        var c = new CorrelationId(50);
        await Assert.ThrowsAsync<ArgumentException>(() => AppendAsync("acme", c, new TurnId(1), Day,
            Entry(c, new TurnId(2), "PH1.DOC", OsOutcomeActionClass.ActNow, 1, false)));
        Assert.Equal(0, await AppendAsync("acme", c, new TurnId(1), Day));
    }

    [Fact]
    public async Task Outcomes_AndReviews_AreIsolatedByTenant()
    {
        var c = new CorrelationId(60);
        var t = new TurnId(1);
        await AppendAsync("acme", c, t, Day, Entry(c, t, "PH1.KG", OsOutcomeActionClass.ActNow, 1, true));
        await AppendAsync("globex", c, t, Day, Entry(c, t, "PH1.KG", OsOutcomeActionClass.Drop, 99, false));
        var acme = await ReadAsync("acme", tx => OsOutcomeStore.ReadDayAsync(tx, Day, "PH1.KG", default));
        var globex = await ReadAsync("globex", tx => OsOutcomeStore.ReadDayAsync(tx, Day, "PH1.KG", default));
        Assert.Equal(OsOutcomeActionClass.ActNow, Assert.Single(acme).Entry.ActionClass);
        Assert.Equal(OsOutcomeActionClass.Drop, Assert.Single(globex).Entry.ActionClass);

        await using (var tx = await TenantTransaction.BeginAsync(_db.App, "acme"))
        {
            var review = ((UtilityReviewOutcome.Reviewed)UtilityReview.Review("PH1.KG", acme.Select(r => r.Entry).ToList(), 0, UtilityThresholds.MvpV1)).Result;
            Assert.NotNull(await OsOutcomeStore.AppendReviewAsync(tx, Day, review, c, 5, default));
            await tx.CommitAsync();
        }
        Assert.NotNull(await ReadAsync("acme", tx => OsOutcomeStore.CurrentReviewAsync(tx, Day, "PH1.KG", default)));
        Assert.Null(await ReadAsync("globex", tx => OsOutcomeStore.CurrentReviewAsync(tx, Day, "PH1.KG", default)));
        Assert.Empty(await ReadAsync("globex", tx => OsOutcomeStore.CurrentReviewsAsync(tx, Day, default)));

        // Without a tenant setting the view shows nothing either (security_invoker: the table's policy applies).
        Assert.Equal(0, await Sql.CountAsync(_db.App, null, "os_utility_review_current"));
        Assert.Equal(0, await Sql.CountAsync(_db.Reader, null, "os_utility_review_current"));
        var error = await Sql.FailsAsync(_db.App, "globex", """
            INSERT INTO selene.os_outcome_utilization (tenant_id, correlation_id, turn_id, entry_index, day, engine_id, outcome_type, action_class,
                consumed_by, latency_cost_ms, decision_delta, reason_code, recorded_at)
            VALUES ('acme', 1, 1, 9, '2026-03-02', 'PH1.KG', 'X', 'DROP', 'NONE', 1, false, 'R', 1)
            """);
        Assert.Equal("42501", error.SqlState);
    }

    [Fact]
    public async Task Reviews_RerunUnchanged_AppendsNothing_ChangedAppendsAndBecomesCurrent()
    {
        var c = new CorrelationId(70);
        var t = new TurnId(1);
        var first = ((UtilityReviewOutcome.Reviewed)UtilityReview.Review("PH1.COST",
            [Entry(c, t, "PH1.COST", OsOutcomeActionClass.ActNow, 1, false)], 2, UtilityThresholds.MvpV1)).Result;
        var second = ((UtilityReviewOutcome.Reviewed)UtilityReview.Review("PH1.COST",
            [Entry(c, t, "PH1.COST", OsOutcomeActionClass.ActNow, 1, true)], 2, UtilityThresholds.MvpV1)).Result;
        Assert.Equal((OsUtilityAction.Degrade, OsUtilityAction.Keep), (first.Action, second.Action));

        await using (var tx = await TenantTransaction.BeginAsync(_db.App, "acme"))
        {
            var id = await OsOutcomeStore.AppendReviewAsync(tx, Day, first, c, 10, default);
            Assert.NotNull(id);
            Assert.Null(await OsOutcomeStore.AppendReviewAsync(tx, Day, first, new CorrelationId(71), 11, default));
            Assert.Equal(first, (await OsOutcomeStore.CurrentReviewAsync(tx, Day, "PH1.COST", default))!.Result);
            var newer = await OsOutcomeStore.AppendReviewAsync(tx, Day, second, new CorrelationId(72), 12, default);
            Assert.True(newer > id);
            // Going back to the first result is a change again: it is appended and is current.
            Assert.NotNull(await OsOutcomeStore.AppendReviewAsync(tx, Day, first, new CorrelationId(73), 13, default));
            await tx.CommitAsync();
        }

        var history = await ReadAsync("acme", tx => OsOutcomeStore.ReviewHistoryAsync(tx, Day, "PH1.COST", default));
        Assert.Equal([first, second, first], history.Select(h => h.Result));
        Assert.Equal(["70", "72", "73"], history.Select(h => h.CorrelationId));
        var current = Assert.Single(await ReadAsync("acme", tx => OsOutcomeStore.CurrentReviewsAsync(tx, Day, default)));
        Assert.Equal((history[^1].ReviewId, first, 13L), (current.ReviewId, current.Result, current.ComputedAt));
    }

    [Fact]
    public async Task Review_Inconsistent_IsRefusedByTheDatabase()
    {
        var c = new CorrelationId(80);
        var keep = ((UtilityReviewOutcome.Reviewed)UtilityReview.Review("PH1.COST",
            [Entry(c, new TurnId(1), "PH1.COST", OsOutcomeActionClass.ActNow, 1, true)], 0, UtilityThresholds.MvpV1)).Result;
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            OsOutcomeStore.AppendReviewAsync(tx, Day, keep with { FailStreakDays = 3 }, c, 1, default));
        Assert.Equal("23514", error.SqlState); // check_violation: a passing review carries no fail streak
    }
}
