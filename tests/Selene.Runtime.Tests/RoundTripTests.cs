using System.Collections.Concurrent;
using System.Diagnostics;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Postgres.Stores;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// What one governed execution costs the database in round trips (issue 14, docs/performance.md), counted from Npgsql's own
/// trace (one activity per command or batch sent; a commit or rollback of its own, which Npgsql does not trace, would be one
/// more): deterministic, unlike a throughput figure on a shared machine. And the API key's check that rides in the first of them.
/// </summary>
public sealed class RoundTripTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private const string TestSource = "Selene.Runtime.Tests.RoundTrips";
    private static readonly ActivitySource Test = new(TestSource);

    /// <summary>Runs <paramref name="run"/> under a trace of its own; returns the statements and batches Npgsql sent within it.</summary>
    private static async Task<(T Result, string[] Sent)> TracedAsync<T>(Func<Task<T>> run)
    {
        var sent = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or TestSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = sent.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        T result;
        ActivityTraceId trace;
        using (var root = Test.StartActivity("execution")!)
        {
            trace = root.TraceId;
            result = await run();
        }
        return (result, sent.Where(a => a.TraceId == trace && a.Source.Name == "Npgsql")
            .Select(a => (a.GetTagItem("db.query.text") ?? a.GetTagItem("db.statement")) as string ?? a.DisplayName).ToArray());
    }

    private async Task<ApiKeyCheck> UnverifiedKeyAsync(string actor)
    {
        var key = await KeyStore.CreateKeyAsync(f.Db, new TenantId("acme"), new UserId(actor), 1, default);
        return new ApiKeyCheck(KeyStore.HashKey(key!), new TenantId("acme"), new UserId(actor), verified: false);
    }

    private Task<ExecutionResult> CreateDraftAsync(string key, ApiKeyCheck? check)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(CreateBody("roundtrip." + key));
        return f.Executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId("alice"), CapreqSimulations.CreateDraft, key,
            doc.RootElement.Clone(), f.NextCorrelation(), new TurnId(1)), key: check);
    }

    [Fact]
    public async Task DispatchedCreateDraft_IsFourRoundTrips_WithTheKeyCheckedInTheFirstAndTheCommitInTheLast()
    {
        var check = await UnverifiedKeyAsync("alice");
        var (result, sent) = await TracedAsync(() => CreateDraftAsync(Key("rt"), check));
        Assert.Equal(ExecutionOutcome.Executed, result.Outcome);
        Assert.True(check.Verified);
        // The tenant, the key check, the claim, the gate's facts and the stream's lock and load; the ledger insert; the chain
        // head; the journal with every deferred write and the COMMIT. (Before issue 14: a key lookup on a connection of its
        // own, then eight batches and the commit.)
        Assert.True(sent.Length == 4, string.Join(" | ", sent));
        Assert.EndsWith("COMMIT", sent[^1].TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_IsOneRoundTrip()
    {
        var key = Key("rt-replay");
        Assert.Equal(ExecutionOutcome.Executed, (await CreateDraftAsync(key, null)).Outcome);
        var (again, sent) = await TracedAsync(() => CreateDraftAsync(key, null));
        Assert.Equal(ExecutionOutcome.Replayed, again.Outcome);
        Assert.True(sent.Length == 1, string.Join(" | ", sent));
    }

    [Fact]
    public async Task RevokedKey_FailsTheFirstBatch_AndNothingIsWritten()
    {
        var check = await UnverifiedKeyAsync("alice");
        await using (var owner = f.Db.Owner.CreateCommand("UPDATE selene.api_keys SET revoked_at = 2 WHERE key_hash = $1"))
        {
            owner.Parameters.Add(new Npgsql.NpgsqlParameter { Value = check.KeyHash });
            Assert.Equal(1, await owner.ExecuteNonQueryAsync());
        }
        var journal = await f.CountAsync("acme", "journal");
        var keys = await f.CountAsync("acme", "idempotency_keys");
        var ledger = await f.CountAsync("acme", "capreq_ledger");

        await Assert.ThrowsAsync<ApiKeyRejectedException>(() => CreateDraftAsync(Key("rt-revoked"), check));
        Assert.False(check.Verified);
        Assert.Equal(journal, await f.CountAsync("acme", "journal"));
        Assert.Equal(keys, await f.CountAsync("acme", "idempotency_keys"));
        Assert.Equal(ledger, await f.CountAsync("acme", "capreq_ledger"));
    }
}
