using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Rem;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Outbox;
using Selene.Runtime.Rem;
using Selene.Testing;

namespace Selene.Runtime.Tests.Rem;

/// <summary>
/// PH1.REM on real PostgreSQL with a fake clock (issue 12 item 3): the due worker is the outbox worker claiming timed
/// rows, so a reminder fires at exactly its due time, once, and survives a restart; a superseded firing does nothing;
/// the firings are handoff-only; BCAST's reminder request becomes a follow-up that fires back to BCAST; the reads; and
/// <c>selene rebuild</c> reproduces the projection. Each test has a database of its own.
/// </summary>
public sealed class RemDueWorkerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _clock = new(T0);
    private SeleneDatabase _db = null!;
    private long _correlation = 9000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task DueWorker_FiresAtExactlyTheDueTime_Once_AndAFreshWorkerAfterARestartFiresWhatWasDue()
    {
        var reminder = await ScheduleAsync("in 10 m");
        var occurrence = reminder["occurrences"]![0]!["occurrence_id"]!.GetValue<string>();
        var row = Assert.Single(await RowsAsync(RemDecider.DueEvent));
        Assert.Equal((OutboxStatus.Pending, At(TimeSpan.FromMinutes(10))), (row.Status, row.NextAttemptAt));

        var worker = Worker("w1");
        _clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        Assert.Empty((await ReminderAsync(Id(reminder)))["occurrences"]![0]!["attempts"]!.AsArray());
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());

        var fired = await ReminderAsync(Id(reminder));
        var attempt = Assert.Single(fired["occurrences"]![0]!["attempts"]!.AsArray())!;
        Assert.Equal(("DUE", "DELIVERED", "REMINDER_DELIVERED_DUE", new UnixNanos(At(TimeSpan.FromMinutes(10))).ToString()),
            (S(attempt, "kind"), S(attempt, "delivery_status"), S(attempt, "reason_code"), S(attempt, "created_at")));
        Assert.Equal(OutboxStatus.Confirmed, (await RowAsync(row.OutboxId)).Status);

        // A second pass, and any later one, fires nothing.
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        Assert.Equal(1, await CountAsync("reminder_ledger", $"stream_id = '{Id(reminder)}' AND event_type = 'ATTEMPT_RECORDED'"));

        // "Restart": a second reminder is due while no worker runs; a worker built afresh on the same database fires it, once.
        var second = await ScheduleAsync("in 5 m");
        _clock.Advance(TimeSpan.FromMinutes(20));
        var fresh = new OutboxWorker(_db, new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock)), _clock,
            new OutboxWorkerOptions("w2", 8, Lease, TimeSpan.FromSeconds(1)));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await fresh.RunOnceAsync());
        Assert.Equal(0, (await fresh.RunOnceAsync()).Claimed);
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        Assert.Single((await ReminderAsync(Id(second)))["occurrences"]![0]!["attempts"]!.AsArray());
        Assert.Equal(occurrence, S((await ReminderAsync(Id(reminder)))["occurrences"]![0]!, "occurrence_id"));

        // A worker that claimed a due firing and died before running it: once its lease expires a fresh worker fires it, once.
        var third = await ScheduleAsync("in 1 m");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var now = UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value;
        Assert.Single(await OutboxStore.ClaimAsync(_db.App, [RemDecider.DueEvent], "dead-worker", Guid.NewGuid(), now, now + (long)Lease.TotalMilliseconds * 1_000_000, 8, default));
        Assert.Equal(0, (await fresh.RunOnceAsync()).Claimed);
        Assert.Empty((await ReminderAsync(Id(third)))["occurrences"]![0]!["attempts"]!.AsArray());
        _clock.Advance(Lease);
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await fresh.RunOnceAsync());
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        Assert.Single((await ReminderAsync(Id(third)))["occurrences"]![0]!["attempts"]!.AsArray());
    }

    [Fact]
    public async Task Snooze_FiresAgainAtTheSnoozeEnd_AndAnUpdatedTimeLeavesTheEarlierFiringANoOp()
    {
        var reminder = await ScheduleAsync("in 10 m");
        var id = Id(reminder);
        var occurrence = S(reminder["occurrences"]![0]!, "occurrence_id");
        // Moved to one hour before its first due time: the row for T0+10m still comes due, and does nothing.
        var moved = await RunAsync(RemSimulations.Update, new { reminder_id = id, desired_time = "in 60 m" });
        Assert.Equal("REMINDER_UPDATED", moved.Reason.Name);
        var worker = Worker("w1");
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        Assert.Empty((await ReminderAsync(id))["occurrences"]![0]!["attempts"]!.AsArray());
        // The superseded row is settled (CONFIRMED), not retried: a no-op is the firing's answer.
        Assert.Equal(OutboxStatus.Confirmed, Assert.Single(await RowsAsync(RemDecider.DueEvent), r => r.IdempotencyKey == $"rem_due:{occurrence}:1").Status);

        _clock.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        var snoozed = await RunAsync(RemSimulations.Snooze, new { reminder_id = id, occurrence_id = occurrence, snooze_duration_ms = 300_000 });
        Assert.Equal("REMINDER_SNOOZED", snoozed.Reason.Name);
        Assert.Equal("SNOOZED", S((await ReminderAsync(id))["occurrences"]![0]!, "state"));
        _clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await worker.RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await worker.RunOnceAsync());
        var attempts = (await ReminderAsync(id))["occurrences"]![0]!["attempts"]!.AsArray();
        Assert.Equal([new UnixNanos(At(TimeSpan.FromMinutes(60))).ToString(), new UnixNanos(At(TimeSpan.FromMinutes(65))).ToString()],
            attempts.Select(a => S(a!, "created_at")));
    }

    [Fact]
    public async Task Firings_AreHandoffOnly_ACallerCannotFireAReminder()
    {
        var reminder = await ScheduleAsync("in 10 m");
        var occurrence = S(reminder["occurrences"]![0]!, "occurrence_id");
        _clock.Advance(TimeSpan.FromMinutes(10));
        foreach (var simulation in new[] { RemSimulations.DeliverDue, RemSimulations.DeliverPre })
        {
            var direct = await RunAsync(simulation, new { reminder_id = Id(reminder), occurrence_id = occurrence, fire_version = 1 });
            Assert.Equal((ExecutionOutcome.Invalid, "SIMULATION_HANDOFF_ONLY"), (direct.Outcome, direct.Reason.Name));
        }
        Assert.Empty((await ReminderAsync(Id(reminder)))["occurrences"]![0]!["attempts"]!.AsArray());
    }

    [Fact]
    public async Task BcastReminderRequest_BecomesTheRecipientsFollowup_DueExactlyAtDueAt_AndFiresBackToBcast()
    {
        var broadcast = await ReminderSetAsync("rita");
        var request = Assert.Single(await RowsAsync("BCAST_REMINDER_SCHEDULE_REQUESTED"));
        var dueAt = long.Parse(Field(request, "due_at"), System.Globalization.CultureInfo.InvariantCulture);
        var worker = Worker("w1", RemAndBcast);
        await DrainAsync(worker);
        Assert.Equal(OutboxStatus.Confirmed, Assert.Single(await RowsAsync("BCAST_REMINDER_SCHEDULE_REQUESTED")).Status);

        var reminder = Assert.Single(await ListAsync());
        Assert.Equal(("BCAST_MHP_FOLLOWUP", "rita", "alice", "NORMAL", broadcast, "PHONE_APP", Field(request, "prompt_dedupe_key")),
            (S(reminder, "reminder_type"), S(reminder, "user_id"), S(reminder, "created_by"), S(reminder, "priority_level"), S(reminder, "broadcast_id"),
                reminder["channel_preferences"]![0]!.GetValue<string>(), S(reminder, "prompt_dedupe_key")));
        Assert.Equal(new UnixNanos(dueAt).ToString(), S(reminder["occurrences"]![0]!, "due_at"));
        Assert.Equal(dueAt, Assert.Single(await RowsAsync(RemDecider.DueEvent)).NextAttemptAt);

        // One tick before the due time nothing fires; at the tick REM fires and hands the follow-up back to BCAST.
        _clock.Advance(TimeSpan.FromTicks(dueAt / 100 - UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value / 100 - 1));
        await DrainAsync(worker);
        Assert.Equal("SCHEDULED", S(await ReminderAsync(S(reminder, "reminder_id")), "state"));
        Assert.Empty(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
        _clock.Advance(TimeSpan.FromTicks(1));
        await DrainAsync(worker);

        var fired = await ReminderAsync(S(reminder, "reminder_id"));
        Assert.Equal(("COMPLETED", "REMINDER_BCAST_FOLLOWUP_FIRED", new UnixNanos(dueAt).ToString()),
            (S(fired, "state"), S(fired["occurrences"]![0]!["attempts"]![0]!, "reason_code"), S(fired["occurrences"]![0]!["attempts"]![0]!, "created_at")));
        var handback = Assert.Single(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
        var reminderRef = $"{S(reminder, "reminder_id")}:{S(reminder["occurrences"]![0]!, "occurrence_id")}";
        Assert.Equal(("acme", broadcast, "rita", reminderRef, OutboxStatus.Confirmed),
            (Field(handback, "tenant_id"), Field(handback, "broadcast_id"), Field(handback, "recipient_id"), Field(handback, "reminder_ref"), handback.Status));
        // BCAST recorded the firing (REMINDER_FIRED with REM's reference) and took the follow-up on from there.
        await using (var tx = await TenantTransaction.BeginAsync(_db.App, "acme"))
            Assert.Equal(reminderRef, (await Selene.Runtime.Bcast.BcastModule.Recipients.GetAsync(tx, Selene.Runtime.Bcast.BcastModule.RecipientStream(broadcast, "rita"), default))!.ReminderRef);
        Assert.All(await RowsAsync(null), r => Assert.NotEqual(OutboxStatus.DeadLetter, r.Status));

        // Nothing fires twice, however long the worker runs.
        _clock.Advance(TimeSpan.FromDays(2));
        await DrainAsync(worker);
        Assert.Single(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
        Assert.Single((await ReminderAsync(S(reminder, "reminder_id")))["occurrences"]![0]!["attempts"]!.AsArray());
    }

    [Fact]
    public async Task BcastFollowup_ForARecipientWhoConcluded_FailsClosed_AndHandsNothingToBcast()
    {
        await ReminderSetAsync("rita");
        var worker = Worker("w1", RemAndBcast);
        await DrainAsync(worker);
        var reminder = Assert.Single(await ListAsync());
        // rita acknowledges before the follow-up is due: CONCLUDED.
        var broadcast = S(reminder, "broadcast_id");
        Assert.True((await RunAsync(Engines.Bcast.BcastSimulations.AckCommit, new { broadcast_id = broadcast, recipient_id = "rita", ack_type = "READ" }, "rita")).Succeeded);

        _clock.Advance(TimeSpan.FromMinutes(10));
        await DrainAsync(worker);
        var failed = await ReminderAsync(S(reminder, "reminder_id"));
        var attempt = failed["occurrences"]![0]!["attempts"]![0]!;
        Assert.Equal(("FAILED", "FAILED", "REM_FAIL_BCAST_RECIPIENT_CLOSED"), (S(failed, "state"), S(attempt, "delivery_status"), S(attempt, "reason_code")));
        Assert.Contains("CONCLUDED", S(failed["occurrences"]![0]!, "failure_reason"), StringComparison.Ordinal);
        Assert.Empty(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
        Assert.Equal(OutboxStatus.Confirmed, Assert.Single(await RowsAsync(RemDecider.DueEvent)).Status);
    }

    [Fact]
    public async Task BcastReminderRequest_ForARecipientBcastDoesNotKnow_FailsClosedAtTheFiring()
    {
        var dueAt = At(TimeSpan.FromMinutes(30));
        await EnqueueAsync(new OutboxMessage("SIMULATION_COMMIT", "bcast-rem:bcast_00000000000000aa:ann", "BCAST_REMINDER_SCHEDULE_REQUESTED",
            new Dictionary<string, string>
            {
                ["tenant_id"] = "acme", ["broadcast_id"] = "bcast_00000000000000aa", ["recipient_id"] = "ann", ["reminder_type"] = "BCAST_MHP_FOLLOWUP",
                ["priority"] = "EMERGENCY", ["due_at"] = dueAt.ToString(System.Globalization.CultureInfo.InvariantCulture), ["prompt_dedupe_key"] = "pdk-ann-1",
            }));
        var worker = Worker("w1");
        await DrainAsync(worker);
        var reminder = Assert.Single(await ListAsync());
        Assert.Equal(("ann", "CRITICAL"), (S(reminder, "user_id"), S(reminder, "priority_level")));
        _clock.Advance(TimeSpan.FromMinutes(30));
        await DrainAsync(worker);
        Assert.Equal("FAILED", S(await ReminderAsync(S(reminder, "reminder_id")), "state"));
        Assert.Empty(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
    }

    [Fact]
    public async Task Reads_RefuseBadInput_AndRebuildReproducesTheProjection()
    {
        var a = await ScheduleAsync("in 10 m", rule: "FREQ=DAILY;COUNT=3", quietStart: "22:00", quietEnd: "23:00");
        var b = await ScheduleAsync("in 20 m");
        Assert.Equal("REMINDER_CANCELED", (await RunAsync(RemSimulations.Cancel, new { reminder_id = Id(b), cancel_reason = "not needed" })).Reason.Name);
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, (await Worker("w1").RunOnceAsync()).Confirmed);
        Assert.Equal(2, (await ReminderAsync(Id(a)))["occurrences"]!.AsArray().Count);

        Assert.Equal(["CANCELED"], (await ListAsync("CANCELED")).Select(r => S(r, "state")));
        var bad = await ReadAsync(RemModule.Module.Routes[0], new Dictionary<string, string> { ["reminder_id"] = "nope" });
        Assert.Equal("QUERY_PARAMETER_INVALID", Assert.IsType<Platform.ReadResult.Refused>(bad).Reason.Name);
        var missing = await ReadAsync(RemModule.Module.Routes[0], new Dictionary<string, string> { ["reminder_id"] = "rem_0000000000000000" });
        Assert.Equal("REM_FAIL_NOT_FOUND", Assert.IsType<Platform.ReadResult.Refused>(missing).Reason.Name);
        var badStatus = await ReadAsync(RemModule.Module.Routes[1], [], new Dictionary<string, string> { ["status"] = "DONE" });
        Assert.Equal("QUERY_PARAMETER_INVALID", Assert.IsType<Platform.ReadResult.Refused>(badStatus).Reason.Name);

        var maintenance = new Maintenance(_db, _clock);
        var reports = await maintenance.RebuildAsync("rem", "acme", apply: false);
        var report = Assert.Single(reports);
        Assert.True(report.Identical, string.Join(",", report.Differences));
        Assert.Equal(("reminder", 2), (report.Store, report.Rows));
        // Two schedules, one cancel, one firing (its attempt and the next occurrence).
        Assert.Equal(5, report.LedgerEvents);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private OutboxWorker Worker(string owner, IReadOnlyList<Platform.HandoffRoute>? routes = null) =>
        new(_db, new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock)), _clock,
            new OutboxWorkerOptions(owner, 8, Lease, TimeSpan.FromSeconds(1)), routes);

    /// <summary>
    /// REM's and BCAST's routes only: BCAST's delivery rows stay PENDING, so no provider attempt (and no fallback walk it
    /// would start) moves the recipient while the follow-up is set; DELIVERY's part is tested with BCAST's.
    /// </summary>
    private static IReadOnlyList<Platform.HandoffRoute> RemAndBcast => [.. RemModule.Module.Handoffs!, .. Selene.Runtime.Bcast.BcastModule.Module.Handoffs!];

    private static long At(TimeSpan after) => UnixNanos.FromDateTimeOffset(T0 + after).Value;

    private static string S(JsonNode node, string name) => node[name]!.GetValue<string>();

    private static string Id(JsonNode reminder) => S(reminder, "reminder_id");

    private async Task<JsonNode> ScheduleAsync(string desired, string? rule = null, string? quietStart = null, string? quietEnd = null)
    {
        var result = await RunAsync(RemSimulations.Schedule, new
        {
            reminder_request_text = "stand up", desired_time = desired, user_timezone = "Europe/Berlin", reminder_type = "TASK",
            recurrence_rule = rule, quiet_hours_start = quietStart, quiet_hours_end = quietEnd,
        });
        Assert.True(result.Succeeded, $"{result.Reason.Name} {result.Detail}");
        return JsonNode.Parse(result.Body!)!["reminder"]!;
    }

    /// <summary>alice broadcasts to <paramref name="recipient"/>, who does not answer: after the window it is escalated and deferred with a reminder.</summary>
    private async Task<string> ReminderSetAsync(string recipient)
    {
        Assert.True((await RunAsync("ACCESS_INSTANCE_UPSERT_COMMIT", new
        {
            target_user_id = recipient, role_template_id = "staff", access_mode = "W", allow = new[] { "BCAST_ACK_RECORD_COMMIT" },
        })).Succeeded);
        var draft = await RunAsync(Engines.Bcast.BcastSimulations.CreateDraft, new
        {
            classification = "SIMPLE", audience_spec = "staff", content_payload_ref = "payload:" + Guid.NewGuid().ToString("N"), content_text = "Rota changed.",
        });
        var broadcast = JsonNode.Parse(draft.Body!)!["broadcast"]!["broadcast_id"]!.GetValue<string>();
        Assert.True((await RunAsync(Engines.Bcast.BcastSimulations.DeliverCommit, new
        {
            broadcast_id = broadcast, recipient_id = recipient, delivery_method = "SELENE_APP", recipient_region = "GLOBAL", app_unavailable = false,
            delivery_plan_ref = "plan-1", simulation_context = "test",
        })).Succeeded);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True((await RunAsync(Engines.Bcast.BcastSimulations.EscalateCommit, new { broadcast_id = broadcast, recipient_id = recipient, escalation_reason = "NO_ANSWER" })).Succeeded);
        var deferred = await RunAsync(Engines.Bcast.BcastSimulations.DeferCommit,
            new { broadcast_id = broadcast, recipient_id = recipient, handoff_to_reminder = true, defer_duration_ms = 600_000 });
        Assert.True(deferred.Succeeded, $"{deferred.Reason.Name} {deferred.Detail}");
        return broadcast;
    }

    /// <summary>Worker passes until one claims nothing (bounded): a handoff's own handoffs run too.</summary>
    private static async Task DrainAsync(OutboxWorker worker) => Assert.True(await worker.DrainAsync(10), "the outbox did not drain in 10 passes");

    private static string Field(OutboxRow row, string name)
    {
        using var doc = JsonDocument.Parse(row.Payload);
        return doc.RootElement.GetProperty(name).GetString()!;
    }

    private Task<ExecutionResult> RunAsync(string simulation, object body, string actor = "alice")
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(body, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
        var executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock));
        return executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId(actor), simulation, "k-" + Guid.NewGuid().ToString("N")[..12],
            doc.RootElement.Clone(), new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private async Task EnqueueAsync(OutboxMessage message)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        await OutboxStore.EnqueueAsync(tx, new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), [message],
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value, default, new OutboxOrigin("alice", new TurnId(1)));
        await tx.CommitAsync(default);
    }

    private Task<Platform.ReadResult> ReadAsync(Platform.ReadRoute route, Dictionary<string, string> values, Dictionary<string, string>? query = null) =>
        route.Query(new Platform.ReadRequest(_db, new TenantId("acme"), values, query ?? [], UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);

    private async Task<JsonNode> ReminderAsync(string id) =>
        await ReadAsync(RemModule.Module.Routes[0], new Dictionary<string, string> { ["reminder_id"] = id }) is Platform.ReadResult.Ok ok
            ? ok.Body["reminder"]!
            : throw new InvalidOperationException($"no reminder {id}");

    private async Task<IReadOnlyList<JsonNode>> ListAsync(string? status = null) =>
        await ReadAsync(RemModule.Module.Routes[1], [], status is null ? [] : new Dictionary<string, string> { ["status"] = status }) is Platform.ReadResult.Ok ok
            ? ok.Body["reminders"]!.AsArray().Select(n => n!).ToArray()
            : throw new InvalidOperationException("the list was refused");

    private async Task<IReadOnlyList<OutboxRow>> RowsAsync(string? eventType)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return (await OutboxStore.ListAsync(tx, default)).Where(r => eventType is null || r.EventType == eventType).ToArray();
    }

    private async Task<OutboxRow> RowAsync(long id)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await OutboxStore.GetAsync(tx, id, default) ?? throw new InvalidOperationException($"no outbox row {id}");
    }

    private async Task<long> CountAsync(string table, string where)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command($"SELECT count(*) FROM selene.{table} WHERE {where}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
