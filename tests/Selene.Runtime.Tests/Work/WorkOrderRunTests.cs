using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Outbox;
using Selene.Runtime.Work;
using Selene.Testing;

namespace Selene.Runtime.Tests.Work;

/// <summary>
/// A blueprint run as a work order (issue 10 item 2) on real PostgreSQL and a fake clock: fields asked one at a time and
/// never twice, confirmation, then each step through the outbox worker under the work order's lease, to DONE; a step
/// waits while another worker's lease is live and is taken over from the ledger once it expired; the turn gate's
/// lease inputs come from the stored lease.
/// </summary>
public sealed class WorkOrderRunTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _clock = new(T0);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private long _correlation = 7000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock));
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task BlueprintRun_AsksAMissingFieldOnce_ConfirmsThenRunsStepByStepToDone()
    {
        var started = await RunAsync(WorkModule.Start, new { work_order_id = "wo-1", blueprint_id = "CAPREQ_REQUEST", fields = new { requested_capability_id = "cap.reports" } });
        Assert.Equal("WORK_OK_CREATED", started.Reason.Name);
        var prompt = Body(started)["prompt"]!;
        Assert.Equal(("CLARIFY", "target_scope_ref"), (prompt["kind"]!.GetValue<string>(), prompt["field_id"]!.GetValue<string>()));
        var key = prompt["prompt_dedupe_key"]!.GetValue<string>();

        // Answering another field does not ask target_scope_ref again: the same prompt stands, and nothing new is asked.
        var other = await RunAsync(WorkModule.FieldSet, new { work_order_id = "wo-1", field_id = "justification", value = "monthly reporting" });
        Assert.Equal("WORK_OK_FIELD_SET", other.Reason.Name);
        Assert.Equal(key, Body(other)["prompt"]!["prompt_dedupe_key"]!.GetValue<string>());
        var answered = await RunAsync(WorkModule.FieldSet, new { work_order_id = "wo-1", field_id = "target_scope_ref", value = "finance/q3" });
        Assert.Equal("CONFIRM", Body(answered)["prompt"]!["kind"]!.GetValue<string>());
        Assert.Equal("CONFIRM", Body(answered)["work_order"]!["status"]!.GetValue<string>());
        Assert.Equal(0, await CountAsync("outbox", "true"));

        var confirmed = await RunAsync(WorkModule.Confirm, new { work_order_id = "wo-1" });
        Assert.Equal("EXECUTING", Body(confirmed)["work_order"]!["status"]!.GetValue<string>());
        Assert.Equal(1, await CountAsync("outbox", "event_type = 'WORK_STEP_DUE' AND status = 'PENDING'"));

        // Step 1 drafts the request; its commit makes step 2 due; step 2 submits it and ends the work order.
        var worker = Worker("w1");
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        var afterDraft = await OrderAsync("wo-1");
        Assert.Equal(("EXECUTING", 1), (afterDraft["status"]!.GetValue<string>(), afterDraft["next_step"]!.GetValue<int>()));
        var capreqId = afterDraft["fields"]!["capreq_id"]!.GetValue<string>();
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);

        var done = await OrderAsync("wo-1");
        Assert.Equal("DONE", done["status"]!.GetValue<string>());
        Assert.Null(done["lease"]);
        Assert.Equal(["target_scope_ref"], done["asked_fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(2, await CountAsync("outbox", "event_type = 'WORK_STEP_DUE' AND status = 'CONFIRMED'"));
        Assert.Equal("PENDING_APPROVAL", await ScalarAsync($"SELECT status FROM selene.capreq_current WHERE stream_id = '{capreqId}'"));
        // The field was asked exactly once in the whole ledger; every step started, finished and ran as alice.
        Assert.Equal(1, await CountAsync("work_order_ledger", "payload->>'asked_field' = 'target_scope_ref'"));
        Assert.Equal(
            ["WORK_ORDER_CREATED", "STATUS_CHANGED", "FIELD_SET", "FIELD_SET", "STATUS_CHANGED", "STATUS_CHANGED", "LEASE_ACQUIRED", "STEP_STARTED",
             "STEP_FINISHED", "LEASE_RENEWED", "STEP_STARTED", "STEP_FINISHED", "LEASE_RELEASED"],
            await LedgerTypesAsync("wo-1"));
        Assert.Equal(2, await CountAsync("capreq_ledger", $"stream_id = '{capreqId}' AND actor_user_id = 'alice' AND idempotency_key LIKE 'handoff:work_step:%'"));

        // A finished work order takes no more answers.
        var late = await RunAsync(WorkModule.FieldSet, new { work_order_id = "wo-1", field_id = "justification", value = "too late" });
        Assert.Equal(ReasonCodes.WorkOrderClosed, late.Reason);
    }

    [Fact]
    public async Task Step_WaitsWhileAnotherWorkersLeaseIsLive_ThenTakesTheExpiredLeaseOverAndResumesFromTheLedger()
    {
        await StartConfirmedAsync("wo-2");
        // w1 runs the first step and keeps the work order's lease (as a worker that dies right after would).
        Assert.Equal(1, (await Worker("w1").RunOnceAsync()).Confirmed);
        var w2 = Worker("w2");

        var waiting = await w2.RunOnceAsync();
        Assert.Equal(new OutboxPass(1, 0, 0, 1, 0, 0), waiting);
        Assert.Same(WorkModule.StepPolicy, WorkModule.Module.Handoffs!.Single().Policy);
        var row = await StepRowAsync(1);
        Assert.Equal((OutboxStatus.Pending, 0, "LEASE_HELD_BY_OTHER"), (row.Status, row.AttemptCount, row.LastErrorReasonCode));

        // Until w1's lease expires, w2 keeps waiting; from its expiry on, w2 takes it over and finishes from the ledger.
        _clock.Advance(Lease - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, (await w2.RunOnceAsync()).Deferred);
        _clock.Advance(TimeSpan.FromMilliseconds(1) + WorkModule.StepPolicy.Backoff);
        Assert.Equal(1, (await w2.RunOnceAsync()).Confirmed);
        var done = await OrderAsync("wo-2");
        Assert.Equal("DONE", done["status"]!.GetValue<string>());
        Assert.Equal(1, await CountAsync("work_order_ledger", "stream_id = 'wo-2' AND event_type = 'LEASE_ACQUIRED' AND payload->'lease'->>'owner_id' = 'w2'"));
        Assert.Equal(1, await CountAsync("capreq_ledger", "event_type = 'SUBMIT_FOR_APPROVAL'"));
    }

    [Fact]
    public async Task LeaseGate_ALeaseClaimThatIsNotTheStoredLease_IsRefusedByTheGate_NothingRuns()
    {
        await StartConfirmedAsync("wo-3");
        using var doc = JsonDocument.Parse("""{"requested_capability_id":"cap.x","target_scope_ref":"s","justification":"j"}""");
        var refused = await _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId("alice"), "CAPREQ_CREATE_DRAFT", "k-lease",
            doc.RootElement.Clone(), new CorrelationId(99), new TurnId(1)), lease: new LeaseClaim("wo-3", "w9", "lease_0000000000000000"));
        Assert.Equal(ExecutionOutcome.Refused, refused.Outcome);
        Assert.Equal(ReasonCodes.OsFailLeaseGate, refused.Reason);
        Assert.Contains("lease", refused.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("capreq_ledger", "true"));
    }

    private async Task StartConfirmedAsync(string id)
    {
        var started = await RunAsync(WorkModule.Start, new
        {
            work_order_id = id, blueprint_id = "CAPREQ_REQUEST",
            fields = new { requested_capability_id = "cap." + id, target_scope_ref = "scope/" + id, justification = "run " + id },
        });
        Assert.Equal("CONFIRM", Body(started)["work_order"]!["status"]!.GetValue<string>());
        Assert.True((await RunAsync(WorkModule.Confirm, new { work_order_id = id })).Succeeded);
    }

    private OutboxWorker Worker(string owner) => new(_db, _executor, _clock, new OutboxWorkerOptions(owner, 8, Lease, TimeSpan.FromSeconds(1)));

    private Task<ExecutionResult> RunAsync(string simulation, object body)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(body));
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId("alice"), simulation, "k-" + Guid.NewGuid().ToString("N")[..12],
            doc.RootElement.Clone(), new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private static JsonNode Body(ExecutionResult result) =>
        result.Body is { } body ? JsonNode.Parse(body)! : throw new InvalidOperationException($"{result.Reason.Name}: {result.Detail}");

    private async Task<JsonNode> OrderAsync(string id) =>
        (await WorkModule.Module.Routes.Single().Query(new Platform.ReadRequest(_db, new TenantId("acme"),
            new Dictionary<string, string> { ["work_order_id"] = id }, new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default)
            is Platform.ReadResult.Ok ok ? ok.Body["work_order"]! : throw new InvalidOperationException($"no work order {id}"));

    private async Task<OutboxRow> StepRowAsync(int step)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var rows = await OutboxStore.ListAsync(tx, default);
        return rows.Single(r => r.EventType == "WORK_STEP_DUE" && JsonNode.Parse(r.Payload)!["step_index"]!.GetValue<string>() == step.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<IReadOnlyList<string>> LedgerTypesAsync(string id)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command($"SELECT event_type FROM selene.work_order_ledger WHERE stream_id = '{id}' ORDER BY event_id");
        var list = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) list.Add(r.GetString(0));
        return list;
    }

    private async Task<long> CountAsync(string table, string where) =>
        (long)(await ScalarObjectAsync($"SELECT count(*) FROM selene.{table} WHERE {where}"))!;

    private async Task<string> ScalarAsync(string sql) => (string)(await ScalarObjectAsync(sql))!;

    private async Task<object?> ScalarObjectAsync(string sql)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command(sql);
        return await cmd.ExecuteScalarAsync();
    }
}
