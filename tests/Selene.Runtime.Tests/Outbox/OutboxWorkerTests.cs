using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Outbox;
using Selene.Testing;

namespace Selene.Runtime.Tests.Outbox;

/// <summary>
/// The outbox worker (issue 10 item 1) on real PostgreSQL and a fake clock, with TEST.RELAY as producer and consumer:
/// retries at exactly the backoff times, DEAD_LETTER with its reason, re-drive, handoff identity, claim expiry and two
/// workers on one database. Each test has a database of its own.
/// </summary>
public sealed class OutboxWorkerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Backoff = RelayModule.Policy.Backoff;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _clock = new(T0);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private long _correlation = 5000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        await using (var cmd = _db.Owner.CreateCommand(RelayModule.CreateStoresSql)) await cmd.ExecuteNonQueryAsync();
        var registry = new SimulationRegistry(SimulationRegistry.Default.Handlers.Concat(RelayModule.Module.Simulations));
        _executor = new SimulationExecutor(new TurnExecutor(_db, registry, SeleneCatalog.Build(registry), _clock));
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Handoff_FailsTwiceRetryable_SucceedsOnTheThirdAttemptExactlyAtTheBackoffTimes_EffectOnce()
    {
        var row = await SubmitAsync("alice", "i1");
        Assert.Equal(("alice", 1L), (row.ActorUserId, row.OriginTurnId));
        var worker = Worker("w1");

        Assert.Equal(new OutboxPass(1, 0, 1, 0, 0, 0), await worker.RunOnceAsync());
        row = await RowAsync(row.OutboxId);
        Assert.Equal((OutboxStatus.Failed, 1, At(Backoff), "RELAY_NOT_YET"), (row.Status, row.AttemptCount, row.NextAttemptAt, row.LastErrorReasonCode));
        Assert.Null(row.LeaseOwner);

        // One tick before the backoff nothing is due; at exactly the backoff the second attempt runs.
        _clock.Advance(Backoff - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 0, 1, 0, 0, 0), await worker.RunOnceAsync());
        row = await RowAsync(row.OutboxId);
        Assert.Equal((OutboxStatus.Failed, 2, At(2 * Backoff)), (row.Status, row.AttemptCount, row.NextAttemptAt));

        // The state that said "not yet" changes before the third attempt.
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        _clock.Advance(Backoff - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        row = await RowAsync(row.OutboxId);
        Assert.Equal((OutboxStatus.Confirmed, 3, At(2 * Backoff)), (row.Status, row.AttemptCount, row.CompletedAt));
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);

        // The effect exists once, written as alice under the key derived from the row.
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'i1' AND event_type = 'CONSUMED'"));
        Assert.Equal(1, await CountAsync("relay_item_ledger",
            "stream_id = 'i1' AND event_type = 'CONSUMED' AND actor_user_id = 'alice' AND idempotency_key = 'handoff:relay:i1'"));

        // Every step is in the journal under the row's correlation, as turn 2 (the turn after the one that enqueued it).
        var steps = (await JournalAsync(row)).Where(j => j.Engine == ReasonCodes.EngineWork).ToArray();
        Assert.Equal(["OUTBOX_ATTEMPT_FAILURE", "OUTBOX_RETRY_SCHEDULED", "OUTBOX_ATTEMPT_FAILURE", "OUTBOX_RETRY_SCHEDULED", "OUTBOX_CONFIRMED"],
            steps.Select(j => j.EventType));
        Assert.Equal(["RELAY_NOT_YET", "SCHED_RETRY_SCHEDULED", "RELAY_NOT_YET", "SCHED_RETRY_SCHEDULED", "OUTBOX_HANDOFF_CONFIRMED"],
            steps.Select(j => j.ReasonCode));
        Assert.Equal([new UnixNanos(At(Backoff)).ToString(), new UnixNanos(At(2 * Backoff)).ToString()],
            steps.Where(j => j.EventType == "OUTBOX_RETRY_SCHEDULED").Select(j => Field(j, "next_attempt_at")));
        Assert.All(steps, j => Assert.Equal((2L, "alice", "handoff:relay:i1"), (j.TurnId, j.ActorUserId, j.IdempotencyKey)));
        // The refusals of the attempts went through the turn gate like any turn: each is a decided turn with the engine's refusal.
        Assert.Equal(2, (await JournalAsync(row)).Count(j => j.EventType == "SIMULATION_REFUSED" && j.ReasonCode == "RELAY_NOT_YET"));
    }

    [Fact]
    public async Task Handoff_WithANotBeforeTime_IsNotClaimedBeforeIt_AndRunsOnceAtExactlyThatTime()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        var result = await RunAsync("alice", "RELAY_SUBMIT_COMMIT", """{"item_id":"later","delay_ms":90000}""");
        Assert.True(result.Succeeded, $"{result.Reason.Name} {result.Detail}");
        var row = Assert.Single(await RowsAsync(), r => r.IdempotencyKey == "relay:later");
        Assert.Equal((OutboxStatus.Pending, At(TimeSpan.FromSeconds(90)), At(TimeSpan.Zero)), (row.Status, row.NextAttemptAt, row.CreatedAt));

        var worker = Worker("w1");
        _clock.Advance(TimeSpan.FromSeconds(90) - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        Assert.Equal((OutboxStatus.Confirmed, At(TimeSpan.FromSeconds(90))), ((await RowAsync(row.OutboxId)).Status, (await RowAsync(row.OutboxId)).CompletedAt));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'later' AND event_type = 'CONSUMED'"));
    }

    [Fact]
    public async Task HandoffOnlySimulation_AskedForByACaller_IsRefusedAndChangesNothing_TheWorkerRunsIt()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        var row = await SubmitAsync("alice", "h1");
        var direct = await RunAsync("alice", "RELAY_CONSUME_COMMIT", """{"item_id":"h1"}""");
        Assert.Equal((ExecutionOutcome.Invalid, "SIMULATION_HANDOFF_ONLY"), (direct.Outcome, direct.Reason.Name));
        Assert.Equal(0, await CountAsync("relay_item_ledger", "stream_id = 'h1' AND event_type = 'CONSUMED'"));
        Assert.Equal(OutboxStatus.Pending, (await RowAsync(row.OutboxId)).Status);

        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker("w1").RunOnceAsync());
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'h1' AND event_type = 'CONSUMED'"));
    }

    [Fact]
    public async Task Handoff_ExhaustingItsAttempts_LandsInDeadLetterWithItsReason_AndARedriveRunsItOnce()
    {
        var row = await SubmitAsync("alice", "i2");
        var worker = Worker("w1");
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.Equal(1, (await worker.RunOnceAsync()).Claimed);
            _clock.Advance(Backoff);
        }
        row = await RowAsync(row.OutboxId);
        Assert.Equal((OutboxStatus.DeadLetter, 3, "RELAY_NOT_YET"), (row.Status, row.AttemptCount, row.LastErrorReasonCode));
        var dead = Assert.Single(await JournalAsync(row), j => j.EventType == "OUTBOX_DEAD_LETTERED");
        Assert.Equal(("SCHED_MAX_RETRIES_REACHED", "RELAY_NOT_YET"), (dead.ReasonCode, Field(dead, "last_error_reason_code")));
        // Failure vs policy (issue 15 item 2): each failed attempt is the engine's "not yet" (a state machine said no),
        // and giving up is PH1.SCHED's policy; neither is a failure of Selene, and no entry names both.
        Assert.Equal(("SCHED_MAX_RETRIES_REACHED", null), (OptionalField(dead, "policy_reason_code"), OptionalField(dead, "failure_reason_code")));
        var failures = (await JournalAsync(row)).Where(j => j.EventType == "OUTBOX_ATTEMPT_FAILURE").ToArray();
        Assert.Equal(3, failures.Length);
        Assert.All(failures, j => Assert.Equal(("RELAY_NOT_YET", null), (OptionalField(j, "policy_reason_code"), OptionalField(j, "failure_reason_code"))));
        Assert.All(await JournalAsync(row), AssertOneSideIffRefusal);
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);

        // Bad operator input changes nothing: an unknown id, and a row that is not DEAD_LETTER.
        var operations = new OutboxOperations(_db, _clock);
        Assert.Equal(ReasonCodes.OutboxRowNotFound, (await operations.RedriveAsync(new TenantId("acme"), row.OutboxId + 1000)).Reason);
        Assert.Equal(ReasonCodes.OutboxRowNotFound, (await operations.RedriveAsync(new TenantId("globex"), row.OutboxId)).Reason);

        var redriven = await operations.RedriveAsync(new TenantId("acme"), row.OutboxId);
        Assert.Equal(ReasonCodes.OutboxRedriven, redriven.Reason);
        Assert.Equal((OutboxStatus.Pending, 3, UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value), (redriven.Row!.Status, redriven.Row.AttemptCount, redriven.Row.NextAttemptAt));
        Assert.Equal(ReasonCodes.OutboxRedriveStateInvalid, (await operations.RedriveAsync(new TenantId("acme"), row.OutboxId)).Reason);
        Assert.Single(await JournalAsync(row), j => j.EventType == "OUTBOX_REDRIVEN" && j.ReasonCode == "OUTBOX_REDRIVEN");

        // Once: still "not yet", the one extra attempt fails and the row is DEAD_LETTER again.
        Assert.Equal(new OutboxPass(1, 0, 0, 0, 1, 0), await worker.RunOnceAsync());
        Assert.Equal((OutboxStatus.DeadLetter, 4), ((await RowAsync(row.OutboxId)).Status, (await RowAsync(row.OutboxId)).AttemptCount));

        // Re-driven after the cause is fixed, it runs and confirms; the effect exists once.
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        Assert.True((await operations.RedriveAsync(new TenantId("acme"), row.OutboxId)).Succeeded);
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        Assert.Equal(OutboxStatus.Confirmed, (await RowAsync(row.OutboxId)).Status);
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'i2' AND event_type = 'CONSUMED'"));
    }

    [Fact]
    public async Task Handoff_WhoseActorLacksTheAccess_DeadLettersWithTheAccessReason_AndHasNoEffect()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        Assert.True((await RunAsync("alice", Access.GovernanceHandlers.InstanceUpsert, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["target_user_id"] = "erin", ["role_template_id"] = "clerk", ["access_mode"] = "W", ["allow"] = new[] { "RELAY_SUBMIT" }, ["lifecycle_state"] = "ACTIVE",
        }))).Succeeded);
        // erin may submit, so her turn enqueued the handoff; she may not consume, so neither may the handoff she caused.
        var row = await SubmitAsync("erin", "i3");
        Assert.Equal("erin", row.ActorUserId);

        Assert.Equal(new OutboxPass(1, 0, 0, 0, 1, 0), await Worker("w1").RunOnceAsync());
        row = await RowAsync(row.OutboxId);
        Assert.Equal((OutboxStatus.DeadLetter, 1, "ACCESS_SCOPE_VIOLATION"), (row.Status, row.AttemptCount, row.LastErrorReasonCode));
        Assert.Equal("SCHED_NOT_RETRYABLE", Assert.Single(await JournalAsync(row), j => j.EventType == "OUTBOX_DEAD_LETTERED").ReasonCode);
        // The handoff's turn (turn 2) asked the access gate for erin, and the gate refused.
        Assert.Single(await JournalAsync(row), j => j.EventType == "ACCESS_DECISION" && j.TurnId == 2 && j.ActorUserId == "erin" && j.ReasonCode == "ACCESS_SCOPE_VIOLATION");
        Assert.Equal(0, await CountAsync("relay_item_ledger", "stream_id = 'i3' AND event_type = 'CONSUMED'"));
    }

    [Fact]
    public async Task Handoff_WithoutAnActor_WrittenBeforeMigration0017_DeadLettersAndRunsAsNobody()
    {
        Assert.True((await RunAsync("alice", "RELAY_SUBMIT_COMMIT", """{"item_id":"i5"}""")).Succeeded);
        await using (var tx = await TenantTransaction.BeginAsync(_db.App, "acme"))
        {
            // The shape of a row enqueued before 0017: no origin.
            await OutboxStore.EnqueueAsync(tx, new CorrelationId(77), [new OutboxMessage("SIMULATION_COMMIT", "old:i5", RelayModule.HandoffEvent,
                new Dictionary<string, string> { ["item_id"] = "i5" })], Now(), default);
            await tx.CommitAsync();
        }
        var old = Assert.Single(await RowsAsync(), r => r.IdempotencyKey == "old:i5");
        Assert.Null(old.ActorUserId);
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);

        var pass = await Worker("w1").RunOnceAsync();
        Assert.Equal((2, 1, 1), (pass.Claimed, pass.Confirmed, pass.DeadLettered));
        old = await RowAsync(old.OutboxId);
        Assert.Equal((OutboxStatus.DeadLetter, "OUTBOX_HANDOFF_ACTOR_MISSING"), (old.Status, old.LastErrorReasonCode));
        // The item was consumed once, by the handoff that had an actor.
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'i5' AND event_type = 'CONSUMED' AND idempotency_key = 'handoff:relay:i5'"));
    }

    [Fact]
    public async Task ClaimedRow_WhoseLeaseExpired_IsClaimedAgainByAnotherWorker()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        var row = await SubmitAsync("alice", "i4");
        // A worker claims the row and dies before running it.
        var claimed = await OutboxStore.ClaimAsync(_db.App, [RelayModule.HandoffEvent], "dead-worker", Guid.NewGuid(), Now(), Now() + Lease.Ticks * 100, 10, default);
        Assert.Equal([("acme", row.OutboxId)], claimed);
        Assert.Equal((OutboxStatus.Sent, "dead-worker"), ((await RowAsync(row.OutboxId)).Status, (await RowAsync(row.OutboxId)).LeaseOwner));

        var worker = Worker("w2");
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(Lease - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        row = await RowAsync(row.OutboxId);
        Assert.Equal((OutboxStatus.Confirmed, 1, null), (row.Status, row.AttemptCount, row.LeaseOwner));
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'i4' AND event_type = 'CONSUMED'"));
    }

    [Fact]
    public async Task AttemptUnderALostLease_CannotCommitItsEffect()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        var row = await SubmitAsync("alice", "f1");
        // Worker A claims and stalls past its lease; worker B claims the row after A's lease expired.
        var a = Guid.NewGuid();
        Assert.Single(await OutboxStore.ClaimAsync(_db.App, [RelayModule.HandoffEvent], "A", a, Now(), Now() + Lease.Ticks * 100, 10, default));
        _clock.Advance(Lease);
        Assert.Single(await OutboxStore.ClaimAsync(_db.App, [RelayModule.HandoffEvent], "B", Guid.NewGuid(), Now(), Now() + Lease.Ticks * 100, 10, default));

        // A wakes up and runs the handoff as the worker does: its settle, fenced on its own token, fails the effect's transaction.
        using var inputs = JsonDocument.Parse("""{"item_id":"f1"}""");
        var late = _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId("alice"), "RELAY_CONSUME_COMMIT", OutboxWorker.HandoffKey("acme", row.IdempotencyKey),
            inputs.RootElement, OutboxWorker.HandoffCorrelation(row), OutboxWorker.HandoffTurn(row)), default, (tx, context, _, _) =>
            {
                OutboxStore.DeferSettle(tx, row.OutboxId, a, new OutboxSettlement(OutboxStatus.Confirmed, 1, row.NextAttemptAt, null, context.Now.Value));
                return Task.FromResult<IReadOnlyList<JournalDraft>>([]);
            }, handoff: true);
        Assert.Contains("lease was lost", (await Assert.ThrowsAsync<InvalidOperationException>(() => late)).Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("relay_item_ledger", "stream_id = 'f1' AND event_type = 'CONSUMED'"));
        Assert.Equal(0, await CountAsync("idempotency_keys", "idem_key = 'handoff:relay:f1'"));
        Assert.Equal((OutboxStatus.Sent, "B"), ((await RowAsync(row.OutboxId)).Status, (await RowAsync(row.OutboxId)).LeaseOwner));

        // B died too; once its lease expired a worker runs the handoff, and the effect exists once.
        _clock.Advance(Lease);
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker("C").RunOnceAsync());
        Assert.Equal(1, await CountAsync("relay_item_ledger", "stream_id = 'f1' AND event_type = 'CONSUMED'"));
    }

    [Fact]
    public async Task TwoWorkersAtOnce_OnOneDatabase_NeverRunOneRowTwice()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        const int Items = 12;
        for (var i = 0; i < Items; i++) await SubmitAsync("alice", "c" + i);
        var (a, b) = (Worker("wa", batch: 4), Worker("wb", batch: 4));

        var passes = new List<OutboxPass>();
        for (var round = 0; round < 10; round++)
        {
            var both = await Task.WhenAll(a.RunOnceAsync(), b.RunOnceAsync());
            passes.AddRange(both);
            if (both.All(p => p.Claimed == 0)) break;
        }

        Assert.Equal(Items, passes.Sum(p => p.Claimed));
        Assert.Equal(Items, passes.Sum(p => p.Confirmed));
        Assert.Equal(0, passes.Sum(p => p.Lost + p.RetryScheduled + p.DeadLettered));
        Assert.All(await RowsAsync(), r => Assert.Equal((OutboxStatus.Confirmed, 1), (r.Status, r.AttemptCount)));
        Assert.Equal(Items, await CountAsync("relay_item_ledger", "event_type = 'CONSUMED'"));
        Assert.Equal(Items, await CountAsync("journal", "event_type = 'OUTBOX_CONFIRMED'"));
    }

    [Fact]
    public async Task Handoff_RefusedBecauseTheGateIsSwitchedOff_IsDeferredWithoutBurningAnAttempt()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        var row = await SubmitAsync("alice", "d1");
        var registry = new SimulationRegistry(SimulationRegistry.Default.Handlers.Concat(RelayModule.Module.Simulations));
        var switchedOff = new SimulationExecutor(new TurnExecutor(_db, registry, SeleneCatalog.Build(registry), _clock,
            Selene.Kernel.Os.OsConfig.Mvp with { OsEnabled = false }));
        var off = new OutboxWorker(_db, switchedOff, _clock, new OutboxWorkerOptions("off", 8, Lease), RelayModule.Module.Handoffs);

        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal(new OutboxPass(1, 0, 0, 1, 0, 0), await off.RunOnceAsync());
            var deferred = await RowAsync(row.OutboxId);
            Assert.Equal((OutboxStatus.Pending, 0, At(i * Backoff), "PH1_OS_NOT_INVOKED_DISABLED"),
                (deferred.Status, deferred.AttemptCount, deferred.NextAttemptAt, deferred.LastErrorReasonCode));
            _clock.Advance(Backoff);
        }
        var deferrals = (await JournalAsync(row)).Where(j => j.EventType == "OUTBOX_ATTEMPT_DEFERRED" && j.ReasonCode == "OUTBOX_ATTEMPT_DEFERRED").ToArray();
        Assert.Equal(4, deferrals.Length);
        // The deferral's own code is a success; what refused the attempt — the gate not invoked, Selene unable to serve
        // (an UNAVAILABLE code) — is recorded as the failure it is, never as a policy decision.
        Assert.All(deferrals, j => Assert.Equal(("PH1_OS_NOT_INVOKED_DISABLED", null), (OptionalField(j, "failure_reason_code"), OptionalField(j, "policy_reason_code"))));

        // Switched on again, the handoff runs as its first attempt.
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker("on").RunOnceAsync());
        Assert.Equal((OutboxStatus.Confirmed, 1), ((await RowAsync(row.OutboxId)).Status, (await RowAsync(row.OutboxId)).AttemptCount));
    }

    [Fact]
    public async Task Loop_RunsAPassThenWaitsItsPollIntervalOnTheInjectedClock()
    {
        Assert.True((await RunAsync("alice", "RELAY_GATE_SET_COMMIT", """{"open":true}""")).Succeeded);
        var passes = System.Threading.Channels.Channel.CreateUnbounded<OutboxPass>();
        using var stop = new CancellationTokenSource();
        var loop = Worker("loop").RunAsync(stop.Token, onPass: p => passes.Writer.TryWrite(p));
        Task<OutboxPass> Next() => passes.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, (await Next()).Claimed);
        var row = await SubmitAsync("alice", "l1");
        // The loop sleeps on the fake clock: only the full poll interval (1 s) wakes it.
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Next());
        Assert.Equal((OutboxStatus.Confirmed, At(TimeSpan.FromSeconds(1))), ((await RowAsync(row.OutboxId)).Status, (await RowAsync(row.OutboxId)).CompletedAt));

        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private OutboxWorker Worker(string owner, int batch = 8) =>
        new(_db, _executor, _clock, new OutboxWorkerOptions(owner, batch, Lease, TimeSpan.FromSeconds(1)), RelayModule.Module.Handoffs);

    private long Now() => UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value;

    private static long At(TimeSpan after) => UnixNanos.FromDateTimeOffset(T0 + after).Value;

    private Task<ExecutionResult> RunAsync(string actor, string simulation, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId(actor), simulation, "k-" + Guid.NewGuid().ToString("N")[..12],
            doc.RootElement.Clone(), new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private async Task<OutboxRow> SubmitAsync(string actor, string item)
    {
        var result = await RunAsync(actor, "RELAY_SUBMIT_COMMIT", $$"""{"item_id":"{{item}}"}""");
        Assert.True(result.Succeeded, $"{result.Reason.Name} {result.Detail}");
        return Assert.Single(await RowsAsync(), r => r.IdempotencyKey == "relay:" + item);
    }

    private async Task<IReadOnlyList<OutboxRow>> RowsAsync()
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await OutboxStore.ListAsync(tx, default);
    }

    private async Task<OutboxRow> RowAsync(long id)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await OutboxStore.GetAsync(tx, id, default) ?? throw new InvalidOperationException($"no outbox row {id}");
    }

    private async Task<IReadOnlyList<JournalRecord>> JournalAsync(OutboxRow row)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await JournalStore.ByCorrelationAsync(tx, CorrelationId.TryParse(row.CorrelationId, out var c) ? c : default, 1000, default);
    }

    private async Task<long> CountAsync(string table, string where)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command($"SELECT count(*) FROM selene.{table} WHERE {where}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static readonly ReasonCodeRegistry Registry = Platform.EngineModules.Reasons.Extend(RelayModule.Module.ReasonCodes);

    private static string? OptionalField(JournalRecord record, string name)
    {
        using var doc = JsonDocument.Parse(record.PayloadJson);
        return doc.RootElement.TryGetProperty(name, out var value) ? value.GetString() : null;
    }

    /// <summary>An entry whose reason is not a success names it in exactly one of the two fields; a success in neither.</summary>
    private static void AssertOneSideIffRefusal(JournalRecord j)
    {
        var (failure, policy) = (OptionalField(j, "failure_reason_code"), OptionalField(j, "policy_reason_code"));
        Assert.True(Registry.TryGet(j.ReasonCode, out var code), j.ReasonCode);
        switch (RefusalClassification.Of(code))
        {
            case RefusalClass.Failure: Assert.Equal((j.ReasonCode, null), (failure, policy)); break;
            case RefusalClass.Policy: Assert.Equal((null, j.ReasonCode), (failure, policy)); break;
            default: Assert.Equal((null, null), (failure, policy)); break;
        }
    }

    private static string Field(JournalRecord record, string name)
    {
        using var doc = JsonDocument.Parse(record.PayloadJson);
        return doc.RootElement.GetProperty(name).GetString()!;
    }
}
