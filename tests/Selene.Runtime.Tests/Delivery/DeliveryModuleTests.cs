using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Delivery;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Delivery;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Testing;
using StandardWebhooks;

namespace Selene.Runtime.Tests.Delivery;

/// <summary>
/// PH1.DELIVERY on real PostgreSQL and a fake clock, driven the way BCAST will drive it: a
/// <c>BCAST_DELIVERY_SEND_REQUESTED</c> row is enqueued (as BCAST's accepted decision would), the outbox worker runs
/// DELIVERY_SEND_COMMIT, then the attempt's own send through real providers — a webhook receiver on 127.0.0.1 and the
/// file sink — and the proof; the test asserts the <c>DELIVERY_ATTEMPT_SETTLED_BCAST</c> row handed back.
/// </summary>
public sealed class DeliveryModuleTests : IAsyncLifetime
{
    private const string B1 = "bcast_00000000000000b1";
    private const string B2 = "bcast_00000000000000b2";
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static readonly DateTimeOffset T0 = new(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(T0);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "selene-delivery-" + Guid.NewGuid().ToString("N")[..8]);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private WebhookReceiver _receiver = null!;
    private DeliveryProviders _providers = null!;
    private long _correlation = 9000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock));
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
        _receiver = WebhookReceiver.Start();
        Directory.CreateDirectory(_dir);
        var secretFile = Path.Combine(_dir, "hook-secret");
        await File.WriteAllTextAsync(secretFile, Secret + "\n");
        var webhook = new WebhookProvider("hooks", _receiver.Url, new SecretHandle("file:" + secretFile), new HttpClient());
        _providers = new DeliveryProviders(new FileSinkProvider(Path.Combine(_dir, "deliveries")), new Dictionary<DeliveryChannel, IDeliveryProvider>
        {
            [DeliveryChannel.Email] = webhook,
            [DeliveryChannel.Sms] = webhook,
        });
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Send_Stage_Proof_SignedWebhookOnce_SettledSentAndHandedBackToBcast()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1");

        // The send handoff records the attempt PENDING and makes its own send due; no provider was called yet.
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        Assert.Equal(DeliveryStatus.Pending, (await AttemptAsync(id)).Status);
        Assert.Empty(_receiver.Received);

        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var request = Assert.Single(_receiver.Received);
        Assert.Equal(id, request.Id);
        var seconds = _clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), request.Timestamp);
        // The signature is what the Standard Webhooks library computes for this id, time and body under the secret.
        Assert.Equal(new StandardWebhook(Secret).Sign(request.Id, DateTimeOffset.FromUnixTimeSeconds(seconds), request.Body), request.Signature);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal(("bob@example.com", "EMAIL", "hello bob", id), (Str(body, "address"), Str(body, "channel"), Str(body, "content_text"), Str(body, "delivery_attempt_id")));

        var attempt = await AttemptAsync(id);
        Assert.Equal((DeliveryStatus.Sent, "DELIVERY_OK_PROOF", "webhook:hooks"), (attempt.Status, attempt.ReasonCode, attempt.ProviderRef));
        Assert.StartsWith("http:200#sha256:", attempt.DeliveryProofRef, StringComparison.Ordinal);
        var settled = Payload(Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptSettledBcast)));
        Assert.Equal(new Dictionary<string, string>
        {
            ["tenant_id"] = "acme", ["broadcast_id"] = B1, ["recipient_id"] = "bob", ["delivery_request_ref"] = "req-1", ["delivery_attempt_id"] = id,
            ["channel"] = "EMAIL", ["delivery_status"] = "SENT", ["delivery_proof_ref"] = attempt.DeliveryProofRef!, ["provider_message_ref"] = "",
            ["reason_code"] = "DELIVERY_OK_PROOF", ["retryable"] = "false",
        }, settled);
        // The settlement is BCAST's to consume (BCAST_DELIVERY_PROOF_COMMIT); DELIVERY's own routes have nothing left.
        Assert.Equal(0, (await Worker().RunOnceAsync()).Claimed);
        Assert.Equal(["SEND", "PROOF"], await LedgerTypesAsync(id));
        Assert.Equal([id], _receiver.Delivered);

        // The reads: one attempt with its history and provider tries, and the listing filtered by broadcast.
        var detail = await ReadAsync("GetDelivery", new() { ["delivery_attempt_id"] = id }, []);
        Assert.Equal(["SEND", "PROOF"], detail["history"]!.AsArray().Select(h => Str(h!, "event_type")));
        Assert.Equal(("CONFIRMED", 1), (Str(detail["provider_tries"]!, "status"), detail["provider_tries"]!["tries"]!.GetValue<int>()));
        var list = await ReadAsync("ListDeliveries", [], new() { ["broadcast_id"] = B1 });
        Assert.Equal([id], list["deliveries"]!.AsArray().Select(d => Str(d!, "delivery_attempt_id")));
        Assert.Empty((await ReadAsync("ListDeliveries", [], new() { ["broadcast_id"] = B2 }))["deliveries"]!.AsArray());
    }

    [Fact]
    public async Task RetryableProviderFailure_IsRetriedWithTheSameAttemptId_AfterTheBackoff_ThenSent()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1");
        var answers = new Queue<int>([503, 429]);
        _receiver.Answer = _ => Task.FromResult(answers.TryDequeue(out var s) ? s : 200);
        await Worker().RunOnceAsync();

        Assert.Equal(new OutboxPass(1, 0, 1, 0, 0, 0), await Worker().RunOnceAsync());
        var due = Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptDue));
        Assert.Equal((OutboxStatus.Failed, 1, "DELIVERY_PROVIDER_SEND_FAILED"), (due.Status, due.AttemptCount, due.LastErrorReasonCode));
        Assert.Equal(DeliveryStatus.Pending, (await AttemptAsync(id)).Status);
        _clock.Advance(DeliveryModule.AttemptPolicy.Backoff - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await Worker().RunOnceAsync()).Claimed);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new OutboxPass(1, 0, 1, 0, 0, 0), await Worker().RunOnceAsync());
        _clock.Advance(DeliveryModule.AttemptPolicy.Backoff);
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());

        Assert.Equal([503, 429, 200], _receiver.Received.Select(r => r.Status));
        Assert.All(_receiver.Received, r => Assert.Equal(id, r.Id));
        Assert.Equal(DeliveryStatus.Sent, (await AttemptAsync(id)).Status);
        Assert.Equal(["SEND", "PROOF"], await LedgerTypesAsync(id));
        Assert.Equal("SENT", Payload(Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptSettledBcast)))["delivery_status"]);
    }

    [Fact]
    public async Task RetryableFailure_AtTheLastAttempt_SettlesFailed_WithTheProviderCode()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1");
        _receiver.Answer = _ => Task.FromResult(503);
        await Worker().RunOnceAsync();
        for (var i = 1; i < DeliveryModule.AttemptPolicy.MaxAttempts; i++)
        {
            Assert.Equal(new OutboxPass(1, 0, 1, 0, 0, 0), await Worker().RunOnceAsync());
            _clock.Advance(DeliveryModule.AttemptPolicy.Backoff);
        }
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        Assert.Equal(DeliveryModule.AttemptPolicy.MaxAttempts, _receiver.Received.Count);
        var attempt = await AttemptAsync(id);
        Assert.Equal((DeliveryStatus.Failed, "DELIVERY_PROVIDER_SEND_FAILED", (string?)null), (attempt.Status, attempt.ReasonCode, attempt.DeliveryProofRef));
        var settled = Payload(Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptSettledBcast)));
        Assert.Equal(("FAILED", "DELIVERY_PROVIDER_SEND_FAILED", ""), (settled["delivery_status"], settled["reason_code"], settled["delivery_proof_ref"]));
    }

    [Fact]
    public async Task TerminalProviderFailure_SettlesFailedAtOnce_NoRetry()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        _receiver.Answer = _ => Task.FromResult(410);
        await Worker().RunOnceAsync();
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var attempt = await AttemptAsync(DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1"));
        Assert.Equal((DeliveryStatus.Failed, "DELIVERY_PROVIDER_REJECTED"), (attempt.Status, attempt.ReasonCode));
        Assert.Single(_receiver.Received);
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, (await Worker().RunOnceAsync()).Claimed);
        Assert.Equal("DELIVERY_PROVIDER_REJECTED", Payload(Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptSettledBcast)))["reason_code"]);
    }

    [Fact]
    public async Task Sms_WithoutTheUsersSmsSetup_IsRefused_NothingRecordedNothingSent_AndWithItIsSent()
    {
        await SetupAsync("bob", """{"SMS":"+15550001"}""");
        await RequestAsync(B1, "bob", "SMS", "req-1");
        Assert.Equal(new OutboxPass(1, 0, 0, 0, 1, 0), await Worker().RunOnceAsync());
        var send = Assert.Single(await RowsAsync(DeliveryHandoffs.BcastDeliverySendRequested));
        Assert.Equal((OutboxStatus.DeadLetter, "DELIVERY_SMS_SETUP_REQUIRED"), (send.Status, send.LastErrorReasonCode));
        Assert.Equal(0, await CountAsync("delivery_attempt_ledger", "true"));
        Assert.Empty(await RowsAsync(DeliveryHandoffs.AttemptDue));

        // The user completes the SMS setup; a re-driven request is sent.
        await SetupAsync("bob", "{}", smsComplete: true);
        var setup = (await ReadAsync("GetChannelSetup", new() { ["user_id"] = "bob" }, []))["channel_setup"]!;
        Assert.Equal(("+15550001", true, "COMPLETE"), (Str(setup["bindings"]!, "SMS"), setup["sms_app_setup_complete"]!.GetValue<bool>(), Str(setup, "setup_state")));
        var unknown = await DeliveryModule.Module.Routes.Single(r => r.Name == "GetChannelSetup").Query(new ReadRequest(_db, new TenantId("acme"),
            new Dictionary<string, string> { ["user_id"] = "nobody" }, new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);
        Assert.Equal("DELIVERY_CHANNEL_SETUP_NOT_FOUND", Assert.IsType<ReadResult.Refused>(unknown).Reason.Name);
        Assert.True((await new OutboxOperations(_db, _clock).RedriveAsync(new TenantId("acme"), send.OutboxId)).Succeeded);
        Assert.Equal(1, (await Worker().RunOnceAsync()).Confirmed);
        Assert.Equal(1, (await Worker().RunOnceAsync()).Confirmed);
        Assert.Equal("+15550001", JsonNode.Parse(Assert.Single(_receiver.Received).Body)!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task ChannelWithoutBinding_SettlesFailedUnavailable_AtOnce_WithoutAnySend()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await RequestAsync(B1, "bob", "SELENE_APP", "req-app");
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.AppPush, "req-app");
        var attempt = await AttemptAsync(id);
        Assert.Equal((DeliveryStatus.Failed, "DELIVERY_CHANNEL_UNAVAILABLE", DeliveryChannel.AppPush), (attempt.Status, attempt.ReasonCode, attempt.Send.Channel));
        Assert.Empty(await RowsAsync(DeliveryHandoffs.AttemptDue));
        var settled = Payload(Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptSettledBcast)));
        Assert.Equal(("FAILED", "DELIVERY_CHANNEL_UNAVAILABLE", "APP_PUSH"), (settled["delivery_status"], settled["reason_code"], settled["channel"]));
        Assert.Equal(0, (await Worker().RunOnceAsync()).Claimed);
        Assert.Empty(_receiver.Received);
    }

    [Fact]
    public async Task FileSink_WritesOneFilePerAttempt_NamedByTheAttempt_AndAResendOverwritesIt()
    {
        await SetupAsync("bob", """{"APP_PUSH":"device-7"}""");
        await RequestAsync(B1, "bob", "SELENE_APP", "req-app");
        await Worker().RunOnceAsync();
        await Worker().RunOnceAsync();
        var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.AppPush, "req-app");
        var file = Path.Combine(_dir, "deliveries", id + ".json");
        var written = await File.ReadAllBytesAsync(file);
        var attempt = await AttemptAsync(id);
        Assert.Equal((DeliveryStatus.Sent, "file", $"file:{id}.json#sha256:{Hashing.Sha256Hex(written)}"), (attempt.Status, attempt.ProviderRef, attempt.DeliveryProofRef));
        Assert.Equal(("device-7", "hello bob"), (Str(JsonNode.Parse(written)!, "address"), Str(JsonNode.Parse(written)!, "content_text")));
        Assert.Equal([id + ".json"], Directory.GetFiles(Path.Combine(_dir, "deliveries")).Select(Path.GetFileName));

        // The same attempt sent again (a worker that died before its proof) lands in the same file, nothing beside it.
        var sink = (FileSinkProvider)_providers.For(DeliveryChannel.AppPush);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var again = await sink.SendAsync(new DeliveryEnvelope("acme", id, DeliveryChannel.AppPush, "device-7", B1, "bob", "payload:b1", "hello bob", "SIMPLE",
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value), default);
        Assert.IsType<ProviderAnswer.Sent>(again);
        Assert.Equal([id + ".json"], Directory.GetFiles(Path.Combine(_dir, "deliveries")).Select(Path.GetFileName));
        Assert.NotEqual(written, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task Cancel_OfAPendingAttempt_MeansItIsNeverSent_AndTheProofSimulationIsHandoffOnly()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        await Worker().RunOnceAsync();
        var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1");

        var forged = await RunAsync(DeliveryModule.Proof, $$"""{"delivery_attempt_id":"{{id}}","outcome":"SENT","provider_ref":"x","delivery_proof_ref":"forged"}""");
        Assert.Equal("SIMULATION_HANDOFF_ONLY", forged.Reason.Name);
        var send = await RunAsync(DeliveryModule.Send, """{"message_id":"m","recipient_id":"bob","channel":"EMAIL","payload_ref":"p","classification":"SIMPLE","idempotency_key":"k","source":"BCAST","delivery_request_ref":"r","simulation_context":"s"}""");
        Assert.Equal("SIMULATION_HANDOFF_ONLY", send.Reason.Name);

        var canceled = await RunAsync(DeliveryModule.Cancel, $$"""{"delivery_attempt_id":"{{id}}"}""");
        Assert.Equal("DELIVERY_OK_CANCEL", canceled.Reason.Name);
        Assert.Equal("DELIVERY_ATTEMPT_STATE_INVALID", (await RunAsync(DeliveryModule.Cancel, $$"""{"delivery_attempt_id":"{{id}}"}""")).Reason.Name);
        Assert.Equal(new OutboxPass(1, 0, 0, 0, 1, 0), await Worker().RunOnceAsync());
        Assert.Equal("DELIVERY_ATTEMPT_STATE_INVALID", Assert.Single(await RowsAsync(DeliveryHandoffs.AttemptDue)).LastErrorReasonCode);
        Assert.Empty(_receiver.Received);
        Assert.Equal(DeliveryStatus.Canceled, (await AttemptAsync(id)).Status);

        var status = await RunAsync(DeliveryModule.Status, $$"""{"delivery_attempt_id":"{{id}}"}""");
        Assert.Equal(("DELIVERY_OK_STATUS", "FAILED", "CANCELED"), (status.Reason.Name, Str(Json(status), "normalized_status"), Str(Json(status), "delivery_status")));
        Assert.Equal("DELIVERY_ATTEMPT_NOT_FOUND", (await RunAsync(DeliveryModule.Status, """{"delivery_attempt_id":"delivery_0000000000000000"}""")).Reason.Name);
    }

    [Fact]
    public async Task ProviderHealth_IsReadFromWhatTheProviderDid()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        Assert.Equal("DELIVERY_PROVIDER_HEALTH_UNAVAILABLE", (await RunAsync(DeliveryModule.HealthCheck, """{"provider_ref":"webhook:hooks"}""")).Reason.Name);
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        await Worker().RunOnceAsync();
        await Worker().RunOnceAsync();
        var healthy = await RunAsync(DeliveryModule.HealthCheck, """{"provider_ref":"webhook:hooks"}""");
        Assert.Equal(("DELIVERY_OK_HEALTH", "HEALTHY", "LOW"), (healthy.Reason.Name, Str(Json(healthy), "health_state"), Str(Json(healthy), "latency_bucket")));
        _receiver.Answer = _ => Task.FromResult(400);
        await RequestAsync(B2, "bob", "EMAIL", "req-2");
        await Worker().RunOnceAsync();
        await Worker().RunOnceAsync();
        Assert.Equal("DEGRADED", Str(Json(await RunAsync(DeliveryModule.HealthCheck, """{"provider_ref":"webhook:hooks"}""")), "health_state"));
    }

    [Fact]
    public async Task NoConfiguredSecret_AppearsInAnyTableOrTheJournal()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com","SMS":"+15550001"}""", smsComplete: true);
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        await RequestAsync(B1, "bob", "SMS", "req-2");
        _receiver.Answer = r => Task.FromResult(r.Body.Contains("SMS", StringComparison.Ordinal) ? 503 : 200);
        for (var i = 0; i < 4; i++)
        {
            await Worker().RunOnceAsync();
            _clock.Advance(DeliveryModule.AttemptPolicy.Backoff);
        }
        Assert.True(_receiver.Received.Count >= 3);
        var key = Secret["whsec_".Length..];
        // Every table of the schema, every row, as text.
        var (tables, rows) = await DatabaseText.ReadAsync(_db, "acme");
        Assert.Contains("journal", tables);
        Assert.Contains("delivery_attempt_ledger", tables);
        Assert.All(rows, text =>
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexStringLower(Convert.FromBase64String(key)), text, StringComparison.Ordinal);
        });
        Assert.True(rows.Count > 20, $"only {rows.Count} rows were looked at");
        // The handle is what a reader sees of the provider: its name, never the secret's value.
        Assert.Equal("webhook:hooks", (await AttemptAsync(DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1"))).ProviderRef);
    }

    [Fact]
    public async Task Rebuild_OfBothDeliveryStores_IsIdentical()
    {
        await SetupAsync("bob", """{"EMAIL":"bob@example.com"}""");
        await SetupAsync("bob", """{"APP_PUSH":"device-7"}""");
        await RequestAsync(B1, "bob", "EMAIL", "req-1");
        await RequestAsync(B1, "bob", "WHATSAPP", "req-2");
        for (var i = 0; i < 3; i++) await Worker().RunOnceAsync();
        var reports = await new Maintenance(_db, _clock).RebuildAsync("delivery", "acme", apply: false);
        Assert.Equal(["delivery_attempt", "delivery_channel_setup"], reports.Select(r => r.Store).Order(StringComparer.Ordinal));
        Assert.All(reports, r => Assert.True(r.Identical, string.Join("; ", r.Differences)));
        Assert.Equal((3, 2), (reports.Single(r => r.Store == "delivery_attempt").LedgerEvents, reports.Single(r => r.Store == "delivery_attempt").Rows));
    }

    [Fact]
    public async Task WithBcast_AnUnreachableApp_WalksSmsThenWhatsapp_EachAttemptSettledBackToTheRecipient()
    {
        // carol has no app and no SMS number (her SMS setup is complete), but WhatsApp.
        await SetupAsync("carol", """{"WHATSAPP":"+15550002"}""", smsComplete: true);
        _providers = new DeliveryProviders(_providers.Fallback, new Dictionary<DeliveryChannel, IDeliveryProvider>
        {
            [DeliveryChannel.Whatsapp] = _providers.For(DeliveryChannel.Email),
        });
        var draft = await RunAsync("BCAST_CREATE_DRAFT", """{"classification":"SIMPLE","audience_spec":"carol","content_payload_ref":"payload:policy-7","content_text":"Policy 7 changed"}""");
        Assert.True(draft.Succeeded, $"{draft.Reason.Name} {draft.Detail}");
        var broadcast = Str(Json(draft)["broadcast"]!, "broadcast_id");
        var deliver = await RunAsync("BCAST_DELIVER_COMMIT",
            $$"""{"broadcast_id":"{{broadcast}}","recipient_id":"carol","delivery_method":"SELENE_APP","recipient_region":"GLOBAL","app_unavailable":false,"delivery_plan_ref":"plan-1","simulation_context":"ctx-1"}""");
        Assert.True(deliver.Succeeded, $"{deliver.Reason.Name} {deliver.Detail}");

        // Every route of the process (BCAST's and DELIVERY's) until nothing is left to run.
        var all = new OutboxWorker(_db, _executor, _clock, new OutboxWorkerOptions("all", 8, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1),
            HandoffServices.None.With(_providers)));
        for (var i = 0; i < 12 && (await all.RunOnceAsync()).Claimed > 0; i++) { }

        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        // In ledger order: the app, then one step on to SMS, then one more to WhatsApp (never skipping).
        var order = (await DeliveryModule.Attempts.Store.LedgerAsync(tx, default)).Select(e => e.StreamId).Distinct().ToList();
        var attempts = (await DeliveryModule.ListAttemptsAsync(tx, broadcast, null, null, null, 100, default)).OrderBy(a => order.IndexOf(a.DeliveryAttemptId)).ToArray();
        Assert.Equal([(DeliveryChannel.AppPush, DeliveryStatus.Failed), (DeliveryChannel.Sms, DeliveryStatus.Failed), (DeliveryChannel.Whatsapp, DeliveryStatus.Sent)],
            attempts.Select(a => (a.Send.Channel, a.Status)));
        Assert.All(attempts[..2], a => Assert.Equal("DELIVERY_CHANNEL_UNAVAILABLE", a.ReasonCode));
        Assert.Equal("Policy 7 changed", JsonNode.Parse(Assert.Single(_receiver.Received).Body)!["content_text"]!.GetValue<string>());
        var recipient = Assert.Single((await ReadBcastAsync(broadcast))["recipients"]!.AsArray())!;
        Assert.Equal(("WHATSAPP", "SENT", attempts[2].DeliveryAttemptId, attempts[2].DeliveryProofRef, 2),
            (Str(recipient, "last_delivery_method"), Str(recipient, "last_delivery_outcome"), Str(recipient, "last_delivery_attempt_id"), Str(recipient, "last_delivery_proof_ref"),
                recipient["fallback_step"]!.GetValue<int>()));
        var rows = await RowsAsync(DeliveryHandoffs.AttemptSettledBcast);
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(OutboxStatus.Confirmed, r.Status));
    }

    private async Task<JsonObject> ReadBcastAsync(string broadcast)
    {
        var read = Selene.Runtime.Bcast.BcastModule.Module.Routes.Single(r => r.Name == "GetBroadcast");
        var result = await read.Query(new ReadRequest(_db, new TenantId("acme"), new Dictionary<string, string> { ["broadcast_id"] = broadcast },
            new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);
        return Assert.IsType<ReadResult.Ok>(result).Body;
    }

    /// <summary>A worker of DELIVERY's routes only: the settlement it hands back is asserted as a row, not run through BCAST.</summary>
    private OutboxWorker Worker(DeliveryProviders? providers = null) => new(_db, _executor, _clock,
        new OutboxWorkerOptions("w1", 8, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1), HandoffServices.None.With(providers ?? _providers)),
        DeliveryModule.Module.Handoffs);

    [Fact]
    public async Task Email_ThroughARealSmtpServerOn127001_IsSentOnce_WithTheAttemptAsMessageId_AndRepliesAreClassified()
    {
        var replies = new Queue<SmtpServer.Protocol.SmtpResponse>([new SmtpServer.Protocol.SmtpResponse((SmtpServer.Protocol.SmtpReplyCode)451, "try later")]);
        var store = new CapturingStore(() => replies.TryDequeue(out var r) ? r : SmtpServer.Protocol.SmtpResponse.Ok);
        var port = FreePort();
        var server = new SmtpServer.SmtpServer(new SmtpServer.SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(b => b.Endpoint(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port))).Build(), Services(store));
        using var stop = new CancellationTokenSource();
        var running = server.StartAsync(stop.Token);
        try
        {
            var smtp = new DeliveryProviders(new FileSinkProvider(Path.Combine(_dir, "deliveries")), new Dictionary<DeliveryChannel, IDeliveryProvider>
            {
                [DeliveryChannel.Email] = new SmtpProvider("mail", "127.0.0.1", port, SmtpSecurity.None, "selene@example.com", null, null),
            });
            await SetupAsync("bob", """{"EMAIL":"bob@example.com","APP_PUSH":"device-7"}""");
            await RequestAsync(B1, "bob", "EMAIL", "req-1");
            var id = DeliveryDecider.AttemptId("acme", B1, "bob", DeliveryChannel.Email, "req-1");
            await Worker(smtp).RunOnceAsync();
            // 451: transient, retried with the same attempt; then 250.
            Assert.Equal(new OutboxPass(1, 0, 1, 0, 0, 0), await Worker(smtp).RunOnceAsync());
            _clock.Advance(DeliveryModule.AttemptPolicy.Backoff);
            Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker(smtp).RunOnceAsync());

            var messages = store.Messages;
            Assert.Equal(2, messages.Count);
            Assert.All(messages, m => Assert.Equal(id + "@selene", m.MessageId));
            var mail = messages[^1];
            Assert.Equal(("bob@example.com", "selene@example.com", "hello bob"),
                (mail.To.Mailboxes.Single().Address, mail.From.Mailboxes.Single().Address, mail.TextBody!.Trim()));
            var attempt = await AttemptAsync(id);
            Assert.Equal((DeliveryStatus.Sent, "smtp:mail", $"<{id}@selene>"), (attempt.Status, attempt.ProviderRef, attempt.ProviderMessageRef));
            Assert.StartsWith("smtp:", attempt.DeliveryProofRef, StringComparison.Ordinal);

            // A permanent refusal (550) settles the next attempt FAILED at once.
            replies.Enqueue(SmtpServer.Protocol.SmtpResponse.MailboxUnavailable);
            await RequestAsync(B2, "bob", "EMAIL", "req-2");
            await Worker(smtp).RunOnceAsync();
            Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker(smtp).RunOnceAsync());
            var rejected = await AttemptAsync(DeliveryDecider.AttemptId("acme", B2, "bob", DeliveryChannel.Email, "req-2"));
            Assert.Equal((DeliveryStatus.Failed, "DELIVERY_PROVIDER_REJECTED"), (rejected.Status, rejected.ReasonCode));
        }
        finally
        {
            server.Shutdown();
            await stop.CancelAsync();
            await server.ShutdownTask;
        }
    }

    private static int FreePort()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static SmtpServer.ComponentModel.ServiceProvider Services(CapturingStore store)
    {
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(store);
        return services;
    }

    /// <summary>The SMTP server's message store: keeps each message it was given and answers what the test says.</summary>
    private sealed class CapturingStore(Func<SmtpServer.Protocol.SmtpResponse> reply) : SmtpServer.Storage.MessageStore
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<MimeKit.MimeMessage> _messages = new();

        public IReadOnlyList<MimeKit.MimeMessage> Messages => _messages.ToArray();

        public override Task<SmtpServer.Protocol.SmtpResponse> SaveAsync(SmtpServer.ISessionContext context, SmtpServer.IMessageTransaction transaction,
            System.Buffers.ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(System.Buffers.BuffersExtensions.ToArray(buffer));
            _messages.Enqueue(MimeKit.MimeMessage.Load(stream));
            return Task.FromResult(reply());
        }
    }

    private async Task SetupAsync(string user, string bindings, bool? smsComplete = null)
    {
        var json = $$"""{"user_id":"{{user}}","setup_source":"SETTINGS","bindings":{{bindings}}{{(smsComplete is { } c ? $",\"sms_app_setup_complete\":{(c ? "true" : "false")}" : "")}}}""";
        var result = await RunAsync(DeliveryModule.ChannelSetupCommit, json);
        Assert.True(result.Succeeded, $"{result.Reason.Name} {result.Detail}");
    }

    /// <summary>Enqueues BCAST's send request exactly as BCAST_DELIVER_COMMIT's decision does (flow contract), as alice's turn 1.</summary>
    private async Task RequestAsync(string broadcast, string recipient, string method, string requestRef)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        await OutboxStore.EnqueueAsync(tx, new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), [new OutboxMessage("SIMULATION_COMMIT", requestRef,
            DeliveryHandoffs.BcastDeliverySendRequested, new Dictionary<string, string>
            {
                ["tenant_id"] = "acme", ["broadcast_id"] = broadcast, ["recipient_id"] = recipient, ["delivery_request_ref"] = requestRef,
                ["delivery_method"] = method, ["recipient_region"] = "GLOBAL", ["delivery_plan_ref"] = "plan-1", ["content_payload_ref"] = "payload:" + broadcast,
                ["content_text"] = "hello " + recipient, ["classification"] = "SIMPLE", ["simulation_context"] = "bcast:" + broadcast,
            })], UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value, default, new OutboxOrigin("alice", new TurnId(1)));
        await tx.CommitAsync();
    }

    private Task<ExecutionResult> RunAsync(string simulation, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId("alice"), simulation, "k-" + Guid.NewGuid().ToString("N")[..12],
            doc.RootElement.Clone(), new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private async Task<DeliveryAttempt> AttemptAsync(string id)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await DeliveryModule.Attempts.GetAsync(tx, id, default) ?? throw new InvalidOperationException($"no attempt {id}");
    }

    private async Task<IReadOnlyList<string>> LedgerTypesAsync(string id)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return (await DeliveryModule.Attempts.Store.LedgerAsync(tx, default, id)).Select(e => e.EventType).ToArray();
    }

    private async Task<IReadOnlyList<OutboxRow>> RowsAsync(string eventType)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return (await OutboxStore.ListAsync(tx, default)).Where(r => r.EventType == eventType).ToArray();
    }

    private async Task<JsonObject> ReadAsync(string route, Dictionary<string, string> values, Dictionary<string, string> query)
    {
        var read = DeliveryModule.Module.Routes.Single(r => r.Name == route);
        var result = await read.Query(new ReadRequest(_db, new TenantId("acme"), values, query, UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);
        return Assert.IsType<ReadResult.Ok>(result).Body;
    }

    private async Task<long> CountAsync(string table, string where)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command($"SELECT count(*) FROM selene.{table} WHERE {where}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static Dictionary<string, string> Payload(OutboxRow row) => JsonSerializer.Deserialize<Dictionary<string, string>>(row.Payload)!;

    private static JsonNode Json(ExecutionResult result) => JsonNode.Parse(result.Body!)!;

    private static string Str(JsonNode node, string field) => node[field]!.GetValue<string>();
}
