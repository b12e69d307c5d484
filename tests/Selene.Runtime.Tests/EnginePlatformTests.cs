using System.Text.Json;
using Npgsql;
using Selene.Postgres;
using Selene.Runtime.Platform;
using Selene.Testing;

namespace Selene.Runtime.Tests;

/// <summary>A probe engine with two aggregates: a vote (the target) and the case it moves, as ACCESS needs.</summary>
public abstract record ProbeEvent;

public sealed record ProbeCaseMoved(string CaseId, string Status) : ProbeEvent;

public sealed record ProbeVoteCast(string VoteId, string CaseId, string Value) : ProbeEvent;

public sealed record ProbeCase(string CaseId, string Status, int Moves);

public sealed record ProbeVote(string VoteId, string CaseId, string Value);

public sealed record ProbeOpenInput(string CaseId);

public sealed record ProbeVoteInput(string VoteId, string CaseId, string Value);

/// <summary>The SQL helper and the pipeline on store pairs of their own (created here as the owner would in a migration).</summary>
public sealed class EnginePlatformTests : IAsyncLifetime
{
    private SeleneDatabase _db = null!;

    private static readonly Aggregate<ProbeCase, ProbeCaseMoved, ProbeEvent> Cases = new(
        "PH1.PROBE", "probe_case", "case_id", "case", e => e.CaseId, _ => "CASE_MOVED",
        (s, e, _) => new ProbeCase(e.CaseId, e.Status, (s?.Moves ?? 0) + 1), s => s.Status,
        s => new System.Text.Json.Nodes.JsonObject { ["case_id"] = s.CaseId, ["status"] = s.Status });

    private static readonly Aggregate<ProbeVote, ProbeVoteCast, ProbeEvent> Votes = new(
        "PH1.PROBE", "probe_vote", "vote_id", "vote", e => e.VoteId, _ => "VOTE_CAST",
        (_, e, _) => new ProbeVote(e.VoteId, e.CaseId, e.Value), _ => "CAST",
        s => new System.Text.Json.Nodes.JsonObject { ["vote_id"] = s.VoteId, ["value"] = s.Value },
        e => [("case_id", e.CaseId)]);

    private static SimulationRecord Record(string id) =>
        new(id, "PH1.PROBE", SimulationType.Commit, SimulationStatus.Active, "PROBE", AccessMode.W, "tenant+simulation_id+key", []);

    private static readonly EngineSimulation<ProbeOpenInput, ProbeOpenInput, ProbeCase, ProbeEvent, bool> Open = new(
        Record("PROBE_OPEN"), Cases, i => i, _ => null, (c, _) => c.CaseId,
        (state, c, _, _) => state is null
            ? new Decision<ProbeEvent>.Accepted(new ProbeCaseMoved(c.CaseId, "OPEN"), ReasonCodes.QueryOk)
            : new Decision<ProbeEvent>.Rejected(ReasonCodes.InputFieldInvalid, "exists"));

    // A vote appends to its own stream and moves the case: two aggregates, one decision.
    private static readonly EngineSimulation<ProbeVoteInput, ProbeVoteInput, ProbeVote, ProbeEvent, ProbeCase?> Vote = new(
        Record("PROBE_VOTE"), Votes, i => i, i => i.Value is "YES" or "NO" ? null : new JsonInputError(ReasonCodes.InputFieldInvalid, "value"),
        (c, _) => c.VoteId,
        (vote, c, @case, _) => vote is not null || @case is null
            ? new Decision<ProbeEvent>.Rejected(ReasonCodes.InputFieldInvalid, "vote exists or case missing")
            : new Decision<ProbeEvent>.Accepted([new ProbeVoteCast(c.VoteId, c.CaseId, c.Value), new ProbeCaseMoved(c.CaseId, c.Value == "YES" ? "APPROVED" : "REJECTED")],
                ReasonCodes.QueryOk, []),
        readFacts: (tx, c, _, _, ct) => Cases.LockAndLoadAsync(tx, c.CaseId, ct),
        others: [Cases]);

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(_db, "acme", "u1");
        await TestCluster.SeedUserAsync(_db, "globex", "u1");
        await using var cmd = _db.Owner.CreateCommand("SELECT selene.create_engine_store('probe_case'); SELECT selene.create_engine_store('probe_vote');");
        await cmd.ExecuteNonQueryAsync();
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private static ExecutionContext Context(string key, long now) =>
        new(new TenantId("acme"), new UserId("u1"), new CorrelationId(7), new TurnId(1), new IdempotencyKey(key), new UnixNanos(now));

    private async Task<HandlerOutcome> RunAsync(ISimulationHandler handler, string body, string key, long now)
    {
        using var doc = JsonDocument.Parse(body);
        Assert.True(handler.TryPrepare(doc.RootElement, out var input, out var error), error?.Detail);
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var outcome = await handler.ExecuteAsync(tx, input!, Context(key, now), default);
        if (outcome is HandlerOutcome.Accepted) await tx.CommitAsync();
        return outcome;
    }

    [Fact]
    public async Task OneDecision_AppendsToTwoAggregates_JournalsEachTransition_AndRebuildsIdentically()
    {
        Assert.IsType<HandlerOutcome.Accepted>(await RunAsync(Open, """{"case_id":"c1"}""", "k1", 10));
        var accepted = Assert.IsType<HandlerOutcome.Accepted>(await RunAsync(Vote, """{"vote_id":"v1","case_id":"c1","value":"YES"}""", "k2", 20));

        Assert.Equal(2, accepted.Journal.Count);
        Assert.Equal(("NONE", "CAST", "c1"), (accepted.Journal[0].Payload.Entries["state_from"], accepted.Journal[0].Payload.Entries["state_to"],
            accepted.Journal[0].Payload.Entries["case_id"]));
        Assert.Equal(("OPEN", "APPROVED", "c1"), (accepted.Journal[1].Payload.Entries["state_from"], accepted.Journal[1].Payload.Entries["state_to"],
            accepted.Journal[1].Payload.Entries["case_id"]));
        Assert.All(accepted.Journal, j => Assert.Equal(("PH1.PROBE", "STATE_TRANSITION"), (j.Engine, j.EventType)));
        Assert.Equal("YES", accepted.Result["vote"]!["value"]!.GetValue<string>());

        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var @case = (await Cases.GetAsync(tx, "c1", default))!;
        Assert.Equal(("APPROVED", 2), (@case.Status, @case.Moves));
        Assert.Equal("YES", (await Votes.GetAsync(tx, "v1", default))!.Value);
        foreach (IAggregate aggregate in new IAggregate[] { Cases, Votes })
            Assert.Empty(Maintenance.Differences(aggregate.Fold(await aggregate.Store.LedgerAsync(tx, default)), await aggregate.Store.AllCurrentAsync(tx, default)));
    }

    [Fact]
    public async Task Refusal_WritesNothing_AndDescribesTheTargetState()
    {
        var refused = Assert.IsType<HandlerOutcome.Rejected>(await RunAsync(Vote, """{"vote_id":"v9","case_id":"missing","value":"NO"}""", "k3", 30));
        Assert.Equal(("SIMULATION_REFUSED", "v9", "NONE"), (refused.Journal.EventType, refused.Journal.Payload.Entries["vote_id"], refused.Journal.Payload.Entries["state"]));
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        Assert.Empty(await Votes.Store.LedgerAsync(tx, default));
    }

    [Fact]
    public void Prepare_RejectsWhatValidateRejects_BeforeAnyStorage()
    {
        using var doc = JsonDocument.Parse("""{"vote_id":"v1","case_id":"c1","value":"MAYBE"}""");
        Assert.False(Vote.TryPrepare(doc.RootElement, out _, out var error));
        Assert.Equal(ReasonCodes.InputFieldInvalid, error!.Reason);
    }

    [Fact]
    public async Task CreatedPair_IsTenantIsolatedAppendOnlyAndBackstopped()
    {
        await using (var check = _db.Owner.CreateCommand("""
            SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class
            WHERE oid IN ('selene.probe_case_ledger'::regclass, 'selene.probe_case_current'::regclass)
            """))
            Assert.True((bool)(await check.ExecuteScalarAsync())!);

        var store = Cases.Store;
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "globex");
        await store.AppendAsync(tx, new Selene.Postgres.Stores.NewLedgerEvent("c2", "CASE_MOVED", "u1", "QUERY_OK", "{}", "7", "k", 1), default);
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() =>
            store.AppendAsync(tx, new Selene.Postgres.Stores.NewLedgerEvent("c2", "CASE_MOVED", "u1", "QUERY_OK", "{}", "7", "k", 2), default));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
        await tx.DisposeAsync();

        await using var tx2 = await TenantTransaction.BeginAsync(_db.App, "globex");
        await using var update = tx2.Command("UPDATE selene.probe_case_ledger SET event_type = 'X'");
        Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync())).SqlState);

        await using var bad = _db.Owner.CreateCommand("SELECT selene.create_engine_store('Bad-Name')");
        Assert.Contains("lower_snake", (await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteNonQueryAsync())).MessageText, StringComparison.Ordinal);
    }
}

/// <summary>An aggregate whose events are several records: each stored as its own record, read back by its event type.</summary>
public sealed class AggregateEventRecordsTests
{
    private static readonly Aggregate<ProbeCase, ProbeEvent, ProbeEvent> Mixed = new(
        "PH1.PROBE", "probe_mixed", "case_id", "case",
        e => e switch { ProbeCaseMoved m => m.CaseId, ProbeVoteCast v => v.CaseId, _ => throw new InvalidOperationException() },
        e => e is ProbeCaseMoved ? "CASE_MOVED" : "VOTE_CAST",
        (s, e, _) => e switch
        {
            ProbeCaseMoved m => new ProbeCase(m.CaseId, m.Status, (s?.Moves ?? 0) + 1),
            ProbeVoteCast v => s! with { Status = "VOTED_" + v.Value },
            _ => throw new InvalidOperationException(),
        },
        s => s.Status, s => new System.Text.Json.Nodes.JsonObject { ["case_id"] = s.CaseId },
        eventRecords: new Dictionary<string, Type> { ["CASE_MOVED"] = typeof(ProbeCaseMoved), ["VOTE_CAST"] = typeof(ProbeVoteCast) });

    [Fact]
    public void Fold_ReadsEachEventAsTheRecordItsTypeNames_WrittenWithEveryMemberOfTheSubtype()
    {
        ProbeEvent[] events = [new ProbeCaseMoved("c1", "OPEN"), new ProbeVoteCast("v1", "c1", "YES")];
        var payloads = events.Select(Mixed.WriteEvent).ToArray();
        Assert.Equal("""{"vote_id":"v1","case_id":"c1","value":"YES"}""", payloads[1]);

        var row = Assert.Single(Mixed.Fold(events.Select((e, i) => new Selene.Postgres.Stores.LedgerEvent(i + 1, "c1", Mixed.EventTypeOf(e), "u", "R", payloads[i], 10 + i))));
        Assert.Equal(("c1", "VOTED_YES", 2L, 11L), (row.StreamId, row.Status, row.SourceEventId, row.UpdatedAt));

        var unknown = new Selene.Postgres.Stores.LedgerEvent(3, "c1", "CASE_CLOSED", "u", "R", payloads[0], 12);
        Assert.Throws<InvalidOperationException>(() => Mixed.Fold([unknown]));
    }

    [Fact]
    public void EventRecords_NamingARecordThatIsNotTheAggregatesEvent_AreRefused() =>
        Assert.Throws<ArgumentException>(() => new Aggregate<ProbeCase, ProbeCaseMoved, ProbeEvent>(
            "PH1.PROBE", "probe_wrong", "case_id", "case", e => e.CaseId, _ => "CASE_MOVED", (_, e, _) => new ProbeCase(e.CaseId, e.Status, 1),
            s => s.Status, s => [], eventRecords: new Dictionary<string, Type> { ["CASE_MOVED"] = typeof(ProbeVoteCast) }));
}
