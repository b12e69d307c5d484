using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Bcast;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Bcast;
using Selene.Runtime.Outbox;
using Selene.Testing;

namespace Selene.Runtime.Tests.Bcast;

/// <summary>
/// PH1.BCAST on the platform, on real PostgreSQL and a fake clock: its simulations through the executor, its handoffs
/// through the outbox worker (DELIVERY's and REM's ends are stood in for by the rows they write), and its rebuild.
/// Each test has a database of its own.
/// </summary>
public sealed class BcastModuleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 3, 4, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(T0);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private long _correlation = 7000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock));
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
        foreach (var user in new[] { "rita", "ben" })
        {
            await OkAsync("alice", "ACCESS_INSTANCE_UPSERT_COMMIT",
                $$"""{"target_user_id":"{{user}}","role_template_id":"staff","access_mode":"W","allow":["BCAST_ACK_RECORD_COMMIT"]}""");
        }
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task FailedDeliveries_WalkTheFallback_AppThenSmsThenWhatsapp_AndASentProofIsRecorded()
    {
        var id = await DraftAsync("Night shift now starts at 22:00.");
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "ben", "SELENE_APP", appUnavailable: false));
        var send = Assert.Single(await RowsAsync(BcastHandoffs.DeliverySendRequested));
        Assert.Equal(("SELENE_APP", "Night shift now starts at 22:00."), (Field(send, "delivery_method"), Field(send, "content_text")));

        // DELIVERY reports the app attempt failed: BCAST moves ben to SMS (step 1) in the same decision.
        await SettleAsync(send, "FAILED");
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var ben = await RecipientAsync(id, "ben");
        Assert.Equal((BcastRecipientStatus.Waiting, BcastDeliveryMethod.Sms, 1, 1, (BcastDeliveryOutcome?)BcastDeliveryOutcome.Failed),
            (ben.Status, ben.LastDeliveryMethod, ben.FallbackStep, ben.FailedAttemptCount, ben.LastDeliveryOutcome));
        var sms = Assert.Single(await RowsAsync(BcastHandoffs.DeliverySendRequested), r => Field(r, "delivery_method") == "SMS");

        await SettleAsync(sms, "FAILED");
        await Worker().RunOnceAsync();
        var whatsapp = Assert.Single(await RowsAsync(BcastHandoffs.DeliverySendRequested), r => Field(r, "delivery_method") == "WHATSAPP");

        await SettleAsync(whatsapp, "SENT", "proof:wa-1");
        await Worker().RunOnceAsync();
        ben = await RecipientAsync(id, "ben");
        Assert.Equal((BcastDeliveryMethod.Whatsapp, 2, 2, (BcastDeliveryOutcome?)BcastDeliveryOutcome.Sent, "proof:wa-1"),
            (ben.LastDeliveryMethod, ben.FallbackStep, ben.FailedAttemptCount, ben.LastDeliveryOutcome, ben.LastDeliveryProofRef));
        Assert.Equal(3, (await RowsAsync(BcastHandoffs.DeliverySendRequested)).Count);
        Assert.All(await RowsAsync(BcastHandoffs.DeliveryAttemptSettled), r => Assert.Equal(OutboxStatus.Confirmed, r.Status));
        await AssertRebuildIdenticalAsync();
    }

    [Fact]
    public async Task DeliveryProof_AskedForByACaller_IsRefused_AndChangesNothing()
    {
        var id = await DraftAsync("x");
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "ben", "SELENE_APP", appUnavailable: false));
        var forged = await RunAsync("alice", BcastSimulations.DeliveryProofCommit, $$"""
            {"broadcast_id":"{{id}}","recipient_id":"ben","delivery_request_ref":"delivery_1","delivery_attempt_id":"a1","channel":"APP_PUSH",
             "delivery_status":"SENT","delivery_proof_ref":"proof:forged","reason_code":"DELIVERY_OK_SEND"}
            """);
        Assert.Equal("SIMULATION_HANDOFF_ONLY", forged.Reason.Name);
        Assert.Null((await RecipientAsync(id, "ben")).LastDeliveryProofRef);
    }

    [Fact]
    public async Task Ack_IsTheRecipientsOwn_AndConcludes()
    {
        var id = await DraftAsync("Please confirm the new rota.");
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "rita", "SELENE_APP", appUnavailable: false));

        var forAnother = await RunAsync("alice", BcastSimulations.AckCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"rita","ack_type":"READ"}""");
        Assert.Equal("BCAST_FAIL_ACK_NOT_RECIPIENT", forAnother.Reason.Name);
        Assert.Equal(BcastRecipientStatus.Waiting, (await RecipientAsync(id, "rita")).Status);

        await OkAsync("rita", BcastSimulations.AckCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"rita","ack_type":"READ"}""");
        Assert.Equal(BcastRecipientStatus.Concluded, (await RecipientAsync(id, "rita")).Status);
    }

    [Fact]
    public async Task ReminderFired_ByREM_RecordsTheFiring_AndTheFollowUpIsDelivered_DeviceFirst()
    {
        var id = await DraftAsync("Reminder: safety briefing.");
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "rita", "SELENE_APP", appUnavailable: false));
        var early = await RunAsync("alice", BcastSimulations.EscalateCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"rita","escalation_reason":"NO_ANSWER"}""");
        Assert.Equal("BCAST_FAIL_WAITING_WINDOW_NOT_ELAPSED", early.Reason.Name);
        _clock.Advance(TimeSpan.FromMinutes(5));
        await OkAsync("alice", BcastSimulations.EscalateCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"rita","escalation_reason":"NO_ANSWER"}""");
        await OkAsync("alice", BcastSimulations.DeferCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"rita","handoff_to_reminder":true,"defer_duration_ms":600000}""");
        var schedule = Assert.Single(await RowsAsync(BcastHandoffs.ReminderScheduleRequested));
        Assert.Equal((UnixNanos.FromDateTimeOffset(T0 + TimeSpan.FromMinutes(15)).Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "BCAST_MHP_FOLLOWUP"),
            (Field(schedule, "due_at"), Field(schedule, "reminder_type")));

        // REM's firing (its row stands in for REM here) comes back as BCAST_REMINDER_FIRED_COMMIT; the follow-up goes out app first.
        await EnqueueAsync(BcastHandoffs.FollowupReminderFired, "rem-fired-1", new() { ["broadcast_id"] = id, ["recipient_id"] = "rita", ["reminder_ref"] = "rem_1:occ_1" });
        await Worker().RunOnceAsync();
        Assert.Equal(BcastRecipientStatus.ReminderFired, (await RecipientAsync(id, "rita")).Status);
        await Worker().RunOnceAsync();
        var rita = await RecipientAsync(id, "rita");
        Assert.Equal((BcastRecipientStatus.Waiting, BcastDeliveryMethod.SeleneApp, 2), (rita.Status, rita.LastDeliveryMethod, rita.AttemptCount));
        Assert.Equal(2, (await RowsAsync(BcastHandoffs.DeliverySendRequested)).Count);
        Assert.All(await RowsAsync(null), r => Assert.NotEqual(OutboxStatus.DeadLetter, r.Status));
        await AssertRebuildIdenticalAsync();
    }

    [Fact]
    public async Task Cancel_EndsEveryOpenRecipient_OfThisBroadcastOnly_AndKeepsAnAcknowledgement()
    {
        var id = await DraftAsync("one");
        var other = await DraftAsync("two");
        foreach (var r in new[] { "ann", "ben", "rita" }) await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, r, "SELENE_APP", appUnavailable: false));
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(other, "ann", "SELENE_APP", appUnavailable: false));
        await OkAsync("rita", BcastSimulations.AckCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"rita","ack_type":"READ"}""");

        await OkAsync("alice", BcastSimulations.CancelCommit, $$"""{"broadcast_id":"{{id}}","cancel_reason":"SENT_IN_ERROR"}""");

        Assert.Equal([BcastRecipientStatus.Canceled, BcastRecipientStatus.Canceled, BcastRecipientStatus.Concluded],
            [(await RecipientAsync(id, "ann")).Status, (await RecipientAsync(id, "ben")).Status, (await RecipientAsync(id, "rita")).Status]);
        Assert.Equal(BcastRecipientStatus.Waiting, (await RecipientAsync(other, "ann")).Status);
        var refused = await RunAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "ann", "SELENE_APP", appUnavailable: false));
        Assert.Equal("BCAST_FAIL_STATE_TRANSITION_INVALID", refused.Reason.Name);
        await AssertRebuildIdenticalAsync();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private OutboxWorker Worker() => new(_db, _executor, _clock, new OutboxWorkerOptions("w1", 16, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1)),
        BcastModule.Module.Handoffs);

    private static string Deliver(string id, string recipient, string method, bool appUnavailable) => $$"""
        {"broadcast_id":"{{id}}","recipient_id":"{{recipient}}","delivery_method":"{{method}}","recipient_region":"GLOBAL",
         "app_unavailable":{{(appUnavailable ? "true" : "false")}},"delivery_plan_ref":"plan-1","simulation_context":"test"}
        """;

    private async Task<string> DraftAsync(string text)
    {
        var result = await OkAsync("alice", BcastSimulations.CreateDraft,
            $$"""{"classification":"SIMPLE","audience_spec":"staff","content_payload_ref":"payload:{{Guid.NewGuid():N}}","content_text":"{{text}}"}""");
        using var doc = JsonDocument.Parse(result.Body!);
        return doc.RootElement.GetProperty("broadcast").GetProperty("broadcast_id").GetString()!;
    }

    private Task<ExecutionResult> RunAsync(string actor, string simulation, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId(actor), simulation, "k-" + Guid.NewGuid().ToString("N")[..12],
            doc.RootElement.Clone(), new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private async Task<ExecutionResult> OkAsync(string actor, string simulation, string json)
    {
        var result = await RunAsync(actor, simulation, json);
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return result;
    }

    /// <summary>DELIVERY's settlement of the delivery a send request asked for, as DELIVERY writes it.</summary>
    private Task SettleAsync(OutboxRow send, string status, string proof = "") => EnqueueAsync(BcastHandoffs.DeliveryAttemptSettled, "settled:" + Field(send, "delivery_request_ref"),
        new()
        {
            ["broadcast_id"] = Field(send, "broadcast_id"),
            ["recipient_id"] = Field(send, "recipient_id"),
            ["delivery_request_ref"] = Field(send, "delivery_request_ref"),
            ["delivery_attempt_id"] = "attempt-" + Field(send, "delivery_request_ref"),
            ["channel"] = Field(send, "delivery_method"),
            ["delivery_status"] = status,
            ["delivery_proof_ref"] = proof,
            ["provider_message_ref"] = "",
            ["reason_code"] = status == "SENT" ? "DELIVERY_OK_SEND" : "DELIVERY_PROVIDER_SEND_FAILED",
            ["retryable"] = "false",
        });

    private async Task EnqueueAsync(string eventType, string key, Dictionary<string, string> payload)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var now = UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value;
        await OutboxStore.EnqueueAsync(tx, new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)),
            [new OutboxMessage("SIMULATION_COMMIT", key, eventType, payload)], now, default, new OutboxOrigin("alice", new TurnId(1)));
        await tx.CommitAsync();
    }

    private async Task<IReadOnlyList<OutboxRow>> RowsAsync(string? eventType)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return (await OutboxStore.ListAsync(tx, default)).Where(r => eventType is null || r.EventType == eventType).ToArray();
    }

    private async Task<BcastRecipient> RecipientAsync(string broadcastId, string recipientId)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await BcastModule.Recipients.GetAsync(tx, BcastModule.RecipientStream(broadcastId, recipientId), default)
            ?? throw new InvalidOperationException($"no recipient {recipientId} on {broadcastId}");
    }

    private async Task AssertRebuildIdenticalAsync()
    {
        var reports = await new Maintenance(_db, _clock).RebuildAsync("bcast", "acme", apply: false);
        Assert.Equal(["bcast_envelope", "bcast_recipient"], reports.Select(r => r.Store).Order(StringComparer.Ordinal));
        Assert.All(reports, r => Assert.True(r.Identical, $"{r.Store}: {string.Join(", ", r.Differences)}"));
    }

    private static string Field(OutboxRow row, string name)
    {
        using var doc = JsonDocument.Parse(row.Payload);
        return doc.RootElement.GetProperty(name).GetString()!;
    }
}
