using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Bcast;
using Selene.Engines.Delivery;
using Selene.Engines.Rem;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Bcast;
using Selene.Runtime.Delivery;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Testing;

namespace Selene.Runtime.Tests.Bcast;

/// <summary>
/// Issue 12's broadcast, whole, on real PostgreSQL and a fake clock, with every engine's routes in one outbox worker
/// and real providers (an SMS/WhatsApp gateway: a webhook receiver on 127.0.0.1; the app and e-mail: the file sink).
/// Three recipients: ann acknowledges in the app; ben's app is unavailable and his deliveries walk SMS → WhatsApp →
/// Email as the gateway refuses them; cid never answers, so after the WAITING window he is escalated, deferred with a
/// reminder, REM's due worker fires it at exactly the due time and the follow-up is delivered.
/// </summary>
public sealed class BroadcastScenarioTests : IAsyncLifetime
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static readonly DateTimeOffset T0 = new(2030, 6, 3, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(T0);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "selene-bcast-" + Guid.NewGuid().ToString("N")[..8]);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private WebhookReceiver _gateway = null!;
    private OutboxWorker _worker = null!;
    private long _correlation = 12_000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock));
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
        _gateway = WebhookReceiver.Start();
        Directory.CreateDirectory(_dir);
        var secretFile = Path.Combine(_dir, "gateway-secret");
        await File.WriteAllTextAsync(secretFile, Secret);
        var gateway = new WebhookProvider("gateway", _gateway.Url, new SecretHandle("file:" + secretFile), new HttpClient());
        var providers = new DeliveryProviders(new FileSinkProvider(Path.Combine(_dir, "deliveries")), new Dictionary<DeliveryChannel, IDeliveryProvider>
        {
            [DeliveryChannel.Sms] = gateway,
            [DeliveryChannel.Whatsapp] = gateway,
        });
        // One worker with every route of the process: BCAST's, DELIVERY's and REM's.
        _worker = new OutboxWorker(_db, _executor, _clock, new OutboxWorkerOptions("w1", 16, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1),
            HandoffServices.None.With(providers)));
        foreach (var user in new[] { "ann", "ben", "cid" })
        {
            await OkAsync("alice", "ACCESS_INSTANCE_UPSERT_COMMIT",
                $$"""{"target_user_id":"{{user}}","role_template_id":"staff","access_mode":"W","allow":["BCAST_ACK_RECORD_COMMIT"]}""");
        }
        await OkAsync("alice", DeliveryModule.ChannelSetupCommit, """{"user_id":"ann","setup_source":"SETTINGS","bindings":{"APP_PUSH":"ann-phone"}}""");
        await OkAsync("alice", DeliveryModule.ChannelSetupCommit,
            """{"user_id":"ben","setup_source":"SETTINGS","sms_app_setup_complete":true,"bindings":{"SMS":"+15550101","WHATSAPP":"+15550101","EMAIL":"ben@example.com"}}""");
        await OkAsync("alice", DeliveryModule.ChannelSetupCommit, """{"user_id":"cid","setup_source":"SETTINGS","bindings":{"APP_PUSH":"cid-phone"}}""");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ThreeRecipients_AckInTheApp_FallbackWalk_AndAReminderFiredAtExactlyItsDueTime()
    {
        // The gateway refuses every SMS and WhatsApp message for good (400): each attempt fails terminally.
        _gateway.Answer = _ => Task.FromResult(400);
        var draft = await OkAsync("alice", BcastSimulations.CreateDraft,
            """{"classification":"SIMPLE","audience_spec":"position:picker","content_payload_ref":"payload:rota-7","content_text":"The night shift now starts at 22:00."}""");
        var id = Json(draft)["broadcast"]!["broadcast_id"]!.GetValue<string>();
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "ann", "SELENE_APP", appUnavailable: false));
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "ben", "SMS", appUnavailable: true));
        await OkAsync("alice", BcastSimulations.DeliverCommit, Deliver(id, "cid", "SELENE_APP", appUnavailable: false));
        await DrainAsync();

        // ann: delivered to the app (file sink), acknowledges there, CONCLUDED.
        Assert.Equal(("SENT", "WAITING"), (Outcome(await RecipientAsync(id, "ann")), Status(await RecipientAsync(id, "ann"))));
        await OkAsync("ann", BcastSimulations.AckCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"ann","ack_type":"READ"}""");
        Assert.Equal("CONCLUDED", Status(await RecipientAsync(id, "ann")));

        // ben: SMS (refused) → WhatsApp (refused) → Email (sent), one step at a time, the gateway seeing each attempt once.
        var ben = await AttemptsAsync(id, "ben");
        Assert.Equal([("SMS", "FAILED"), ("WHATSAPP", "FAILED"), ("EMAIL", "SENT")], ben.Select(a => (a.Send.Channel is var c ? WireNames.Of(c) : "", WireNames.Of(a.Status))));
        Assert.Equal(2, _gateway.Received.Count);
        Assert.Equal(ben.Take(2).Select(a => a.DeliveryAttemptId), _gateway.Received.Select(r => r.Id));
        var benRow = await RecipientAsync(id, "ben");
        Assert.Equal(("EMAIL", 3, 2, "SENT"), (benRow["last_delivery_method"]!.GetValue<string>(), benRow["fallback_step"]!.GetValue<int>(),
            benRow["failed_attempt_count"]!.GetValue<int>(), Outcome(benRow)));
        Assert.True(File.Exists(Path.Combine(_dir, "deliveries", ben[2].DeliveryAttemptId + ".json")));

        // cid: the WAITING window is 5 minutes; escalation is refused before it ends and accepted when it has.
        Assert.Equal("WAITING", Status(await RecipientAsync(id, "cid")));
        var early = await RunAsync("alice", BcastSimulations.EscalateCommit, Escalate(id, "cid"));
        Assert.Equal("BCAST_FAIL_WAITING_WINDOW_NOT_ELAPSED", early.Reason.Name);
        _clock.Advance(TimeSpan.FromMinutes(5));
        await OkAsync("alice", BcastSimulations.EscalateCommit, Escalate(id, "cid"));
        Assert.Equal("FOLLOWUP", Status(await RecipientAsync(id, "cid")));
        await OkAsync("alice", BcastSimulations.DeferCommit, $$"""{"broadcast_id":"{{id}}","recipient_id":"cid","handoff_to_reminder":true,"defer_duration_ms":900000}""");
        Assert.Equal("REMINDER_SET", Status(await RecipientAsync(id, "cid")));
        var due = T0 + TimeSpan.FromMinutes(20);

        // REM schedules it (the handoff runs at once); nothing fires a tick before the due time.
        await DrainAsync();
        var dueRow = Assert.Single(await RowsAsync(RemDecider.DueEvent));
        Assert.Equal(UnixNanos.FromDateTimeOffset(due).Value, dueRow.NextAttemptAt);
        _clock.Advance(due - _clock.GetUtcNow() - TimeSpan.FromTicks(1));
        await DrainAsync();
        Assert.Equal("REMINDER_SET", Status(await RecipientAsync(id, "cid")));
        Assert.Single(await AttemptsAsync(id, "cid"));

        // At exactly the due time: REM fires, BCAST records REMINDER_FIRED, and the follow-up goes to cid's app.
        _clock.Advance(TimeSpan.FromTicks(1));
        await DrainAsync();
        var fired = Assert.Single(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
        Assert.Equal(UnixNanos.FromDateTimeOffset(due).Value, fired.CreatedAt);
        var cid = await RecipientAsync(id, "cid");
        Assert.Equal(("WAITING", "SENT", 2), (Status(cid), Outcome(cid), cid["delivery_count"]!.GetValue<int>()));
        var cidAttempts = await AttemptsAsync(id, "cid");
        Assert.Equal([("APP_PUSH", "SENT"), ("APP_PUSH", "SENT")], cidAttempts.Select(a => (WireNames.Of(a.Send.Channel), WireNames.Of(a.Status))));
        Assert.Equal(cidAttempts[1].DeliveryAttemptId, cid["last_delivery_attempt_id"]!.GetValue<string>());

        // `selene deliveries` for the broadcast: the six provider attempts and REM's firing, in time order.
        var listing = await DeliveryListing.ListAsync(_db, new TenantId("acme"), id);
        Assert.Equal(6, listing.Count(i => i["source_engine"]!.GetValue<string>() == "PH1.DELIVERY"));
        var firing = Assert.Single(listing, i => i["source_engine"]!.GetValue<string>() == "PH1.REM");
        Assert.Equal(("cid", "REMINDER_BCAST_FOLLOWUP_FIRED", new UnixNanos(UnixNanos.FromDateTimeOffset(due).Value).ToString()),
            (firing["to"]!.GetValue<string>(), firing["reason_code"]!.GetValue<string>(), firing["at"]!.GetValue<string>()));

        // Nothing is left stuck, nothing fires twice, and every projection rebuilds from its ledger.
        _clock.Advance(TimeSpan.FromDays(1));
        await DrainAsync();
        Assert.Single(await RowsAsync(RemDecider.BcastFollowupFiredEvent));
        Assert.All(await RowsAsync(null), r => Assert.Equal(OutboxStatus.Confirmed, r.Status));
        foreach (var engine in new[] { "bcast", "delivery", "rem" })
            Assert.All(await new Maintenance(_db, _clock).RebuildAsync(engine, "acme", apply: false), r => Assert.True(r.Identical, $"{r.Store}: {string.Join(", ", r.Differences)}"));

        // Every correlation of the scenario (the callers' turns and every handoff the worker ran) decides again as recorded.
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, "acme", "broadcast-scenario-v1");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private async Task DrainAsync() => Assert.True(await _worker.DrainAsync(50), "the outbox did not drain in 50 passes");

    private static string Deliver(string id, string recipient, string method, bool appUnavailable) => $$"""
        {"broadcast_id":"{{id}}","recipient_id":"{{recipient}}","delivery_method":"{{method}}","recipient_region":"GLOBAL",
         "app_unavailable":{{(appUnavailable ? "true" : "false")}},"delivery_plan_ref":"rota-7","simulation_context":"scenario"}
        """;

    private static string Escalate(string id, string recipient) => $$"""{"broadcast_id":"{{id}}","recipient_id":"{{recipient}}","escalation_reason":"NO_ANSWER"}""";

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

    private static JsonNode Json(ExecutionResult r) => JsonNode.Parse(r.Body!)!;

    private static string Status(JsonNode recipient) => recipient["status"]!.GetValue<string>();

    private static string? Outcome(JsonNode recipient) => recipient["last_delivery_outcome"]?.GetValue<string>();

    /// <summary>A recipient as GET /v1/broadcasts/{id} shows it.</summary>
    private async Task<JsonNode> RecipientAsync(string broadcast, string recipient)
    {
        var read = BcastModule.Module.Routes.Single(r => r.Name == "GetBroadcast");
        var result = await read.Query(new ReadRequest(_db, new TenantId("acme"), new Dictionary<string, string> { ["broadcast_id"] = broadcast },
            new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);
        return Assert.IsType<ReadResult.Ok>(result).Body["recipients"]!.AsArray().Single(r => r!["recipient_id"]!.GetValue<string>() == recipient)!;
    }

    /// <summary>The recipient's delivery attempts in the order they were made.</summary>
    private async Task<DeliveryAttempt[]> AttemptsAsync(string broadcast, string recipient)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var order = (await DeliveryModule.Attempts.Store.LedgerAsync(tx, default)).Select(e => e.StreamId).Distinct().ToList();
        return (await DeliveryModule.ListAttemptsAsync(tx, broadcast, recipient, null, null, 100, default)).OrderBy(a => order.IndexOf(a.DeliveryAttemptId)).ToArray();
    }

    private async Task<IReadOnlyList<OutboxRow>> RowsAsync(string? eventType)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return (await OutboxStore.ListAsync(tx, default)).Where(r => eventType is null || r.EventType == eventType).ToArray();
    }
}
