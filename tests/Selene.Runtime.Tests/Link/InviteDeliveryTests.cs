using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Delivery;
using Selene.Engines.Link;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Runtime.Access;
using Selene.Runtime.Delivery;
using Selene.Runtime.Link;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Testing;

namespace Selene.Runtime.Tests.Link;

/// <summary>
/// Issue 13 item 4, LINK_DELIVER_INVITE on real PostgreSQL and a fake clock, with one outbox worker running every engine's
/// routes: the inviter confirms where the invite goes; the OS sets the invitee's channel up, drafts and delivers a
/// broadcast, DELIVERY sends it (to a webhook listener on 127.0.0.1 as the invitee's app), and on success projects the
/// token SENT. The delivered message carries the invite link, which the database never holds; a retry with the same key
/// sends nothing again; a failed delivery leaves the token DRAFT_CREATED with the provider's reason on the invite's read.
/// </summary>
public sealed partial class InviteDeliveryTests : IAsyncLifetime
{
    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 13)).ToArray());
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2031, 4, 7, 9, 0, 0, TimeSpan.Zero));
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "selene-invite-delivery-" + Guid.NewGuid().ToString("N")[..8]);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private OutboxWorker _worker = null!;
    private WebhookReceiver _app = null!;
    private long _correlation = 41_000;
    private int _keys;

    private const string Tenant = "acme";

    [GeneratedRegex(@"/invite/([A-Za-z0-9_-]{43})")]
    private static partial Regex LinkPattern();

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _app = WebhookReceiver.Start();
        Directory.CreateDirectory(_dir);
        var secretFile = Path.Combine(_dir, "hook-secret");
        await File.WriteAllTextAsync(secretFile, "whsec_SW52aXRlRGVsaXZlcnlUZXN0c0tleTAxMjM0NTY3ODk=\n");
        var appPush = new WebhookProvider("invitee-app", _app.Url, new SecretHandle("file:" + secretFile), new HttpClient());
        var services = HandoffServices.None.With(Key).With(new DeliveryProviders(new FileSinkProvider(Path.Combine(_dir, "sink")),
            new Dictionary<DeliveryChannel, IDeliveryProvider> { [DeliveryChannel.AppPush] = appPush }));
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock, services: services));
        _worker = new OutboxWorker(_db, _executor, _clock, new OutboxWorkerOptions("w1", 64, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), services));
        await new TenantBootstrap(_db, _clock).CreateAsync(new TenantId(Tenant), new UserId("alice"));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task InviteDelivered_ExactlyOnce_TokenSent_SameKeyRetrySendsNothing_AndTheDeliveredLinkOpensTheInvite()
    {
        var token = await InviteAsync("dana");
        var start = await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "dana-phone"), "deliver-1");
        Assert.True(start.Succeeded, $"{start.Reason.Name} {start.Detail}");
        Assert.Equal(LinkReasons.LinkOkDeliveryRequest, start.Reason);

        // The same request again (same key, same body) is the stored answer: nothing is handed off twice.
        var retry = await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "dana-phone"), "deliver-1");
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(1L, await CountAsync($"SELECT count(*) FROM selene.outbox WHERE event_type = '{LinkDecider.DeliveryStepEvent}' AND payload LIKE '%\"SETUP\"%'"));

        await RunToQuietAsync();
        await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "dana-phone"), "deliver-1");
        await RunToQuietAsync();

        // Exactly one message reached the invitee's app, at the confirmed destination, carrying the invite's own link.
        var delivered = Assert.Single(_app.Received);
        Assert.Equal(200, delivered.Status);
        var body = JsonNode.Parse(delivered.Body)!;
        Assert.Equal(("dana-phone", token, "APP_PUSH"), ((string?)body["address"], (string?)body["recipient_id"], (string?)body["channel"]));
        var secret = LinkPattern().Match((string)body["content_text"]!).Groups[1].Value;
        Assert.Equal(Key.SecretOf(Tenant, token), secret);
        Assert.Equal(LinkTokenStatus.Sent, (await TokenAsync(token)).Status);

        // The secret is stored nowhere: not in the broadcast, the delivery attempt, the outbox or anywhere else.
        var (_, rows) = await DatabaseText.ReadAsync(_db, Tenant);
        Assert.DoesNotContain(rows, r => r.Contains(secret, StringComparison.Ordinal));

        // A delivered link is not delivered again; the invitee opens it on their device.
        Assert.Equal(LinkReasons.LinkRefuseStateInvalid, (await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "dana-phone"), "deliver-2")).Reason);
        var opened = await LinkModule.OpenAsync(_executor, _db, secret, new InviteOpen("dana-device", AppPlatform.Web, "web-1", "nonce-1", 1), default);
        Assert.True(opened.Succeeded, $"{opened.Reason.Name} {opened.Detail}");
        Assert.Equal(LinkTokenStatus.Activated, (await TokenAsync(token)).Status);

        // Only the OS projects SENT: a caller asking for it is refused before anything is read.
        Assert.Equal(ReasonCodes.SimulationHandoffOnly, (await RunAsync(LinkSimulations.MarkSentCommit, $$"""{"token_id":"{{token}}"}""", "mark-1")).Reason);
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, Tenant, golden: null);
    }

    [Fact]
    public async Task TheInviteeOpensTheLinkBeforeTheLastLookAtTheDelivery_TheLookSettlesAsDone_AndTheLinkStaysOpened()
    {
        var token = await InviteAsync("dana");
        Assert.True((await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "dana-phone"), "deliver-1")).Succeeded);
        // Drain without moving the clock: the message is out, but MARK's first look came before DELIVERY settled the attempt.
        await DrainAsync();
        var delivered = Assert.Single(_app.Received);
        Assert.Equal(LinkTokenStatus.DraftCreated, (await TokenAsync(token)).Status);
        var secret = LinkPattern().Match((string)JsonNode.Parse(delivered.Body)!["content_text"]!).Groups[1].Value;
        var opened = await LinkModule.OpenAsync(_executor, _db, secret, new InviteOpen("dana-device", AppPlatform.Web, "web-1", "nonce-1", 1), default);
        Assert.True(opened.Succeeded, $"{opened.Reason.Name} {opened.Detail}");

        // MARK's next look finds the link opened: nothing left to project, the row is done, the link stays ACTIVATED.
        await RunToQuietAsync();
        Assert.Equal(LinkTokenStatus.Activated, (await TokenAsync(token)).Status);
        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM selene.outbox WHERE event_type = '{LinkDecider.DeliveryStepEvent}' AND status <> 'CONFIRMED'"));
        Assert.Single(_app.Received);
    }

    [Fact]
    public async Task FailedDelivery_LeavesTheTokenDraftCreated_WithTheFailureVisible_AndANewRequestDeliversIt()
    {
        var token = await InviteAsync("eli");
        _app.Answer = _ => Task.FromResult(400);
        Assert.True((await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "eli-phone"), "deliver-1")).Succeeded);
        await RunToQuietAsync();

        Assert.Equal(LinkTokenStatus.DraftCreated, (await TokenAsync(token)).Status);
        var failed = Assert.Single(await AttemptsAsync(token));
        Assert.Equal((DeliveryStatus.Failed, DeliveryReasons.DeliveryProviderRejected.Name), (failed.Status, failed.ReasonCode));
        Assert.Equal(1L, await CountAsync($"SELECT count(*) FROM selene.journal WHERE event_type = 'OUTBOX_CONFIRMED' AND payload LIKE '%{LinkReasons.LinkInviteDeliveryFailed.Name}%'"));

        // The inviter delivers it again (a new request): now it arrives, once, and the token is SENT.
        _app.Answer = _ => Task.FromResult(200);
        Assert.True((await RunAsync(LinkSimulations.DeliverInviteStart, Deliver(token, "eli-phone"), "deliver-2")).Succeeded);
        await RunToQuietAsync();
        Assert.Equal(LinkTokenStatus.Sent, (await TokenAsync(token)).Status);
        Assert.Single(_app.Received, r => r.Status == 200);
        Assert.Contains(await AttemptsAsync(token), a => a.Status == DeliveryStatus.Sent);
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, Tenant, golden: null);
    }

    [Fact]
    public async Task DeliverStart_BadInputOrUnknownToken_IsRefusedReasonCoded_AndHandsOffNothing()
    {
        var token = await InviteAsync("fay");
        Assert.Equal(ExecutionOutcome.Invalid, (await RunAsync(LinkSimulations.DeliverInviteStart,
            $$"""{"token_id":"{{token}}","delivery_method":"EMAIL","destination":"fay@example.com"}""", "bad-1")).Outcome);
        Assert.Equal(LinkReasons.LinkRefuseInvalid, (await RunAsync(LinkSimulations.DeliverInviteStart,
            $$"""{"token_id":"{{token}}","delivery_method":"SELENE_APP","destination":""}""", "bad-2")).Reason);
        Assert.Equal(LinkReasons.LinkRefuseNotFound, (await RunAsync(LinkSimulations.DeliverInviteStart, Deliver("link_00000000000000ff", "x"), "bad-3")).Reason);
        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM selene.outbox WHERE event_type = '{LinkDecider.DeliveryStepEvent}'"));
        // The legacy send ids stay refused.
        Assert.Equal(ReasonCodes.LegacyDoNotWire, (await RunAsync("LINK_INVITE_SEND_COMMIT", $$"""{"token_id":"{{token}}"}""", "legacy-1")).Reason);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private static string Deliver(string token, string destination) =>
        $$"""{"token_id":"{{token}}","delivery_method":"SELENE_APP","destination":"{{destination}}"}""";

    /// <summary>An EMPLOYEE invite to an ACTIVE position whose schema v1 (legal name) is active.</summary>
    private async Task<string> InviteAsync(string user)
    {
        await OkAsync(PositionSimulations.CompanyUpsert, """{"company_id":"cafe","legal_name":"Acme Cafe GmbH","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""");
        var created = await RunAsync(PositionSimulations.CreateDraft, """
            {"company_id":"cafe","position_title":"Barista","department":"Cafe","jurisdiction":"DE","schedule_type":"PART_TIME",
             "permission_profile_ref":"ap.barista","compensation_band_ref":"band.b1"}
            """, $"k-{++_keys}");
        var position = PositionDecider.PositionId(Tenant, "cafe", "Barista", "Cafe", "DE");
        if (created.Succeeded)
        {
            await OkAsync(PositionSimulations.Activate, $$"""{"position_id":"{{position}}"}""");
            await OkAsync(PositionSimulations.SchemaCreateDraft, $$$"""
                {"company_id":"cafe","position_id":"{{{position}}}","schema_version_id":"v1","field_specs":[{"field_key":"legal_name","field_type":"STRING",
                 "required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"Legal name?","prompt_long":"Your legal name?"}]}
                """);
            await OkAsync(PositionSimulations.SchemaActivate, $$"""{"company_id":"cafe","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""");
        }
        var invite = await OkAsync(LinkSimulations.GenerateDraft, $$$"""
            {"invitee_type":"EMPLOYEE","schema_version_id":"v1","prefilled_fields":{"company_id":"cafe","position_id":"{{{position}}}","start_date":"2031-05-01","user_id":"{{{user}}}"}}
            """);
        return invite["token"]!["token_id"]!.GetValue<string>();
    }

    private async Task<LinkToken> TokenAsync(string token)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, Tenant);
        return (await LinkModule.Tokens.GetAsync(tx, token, default))!;
    }

    private async Task<IReadOnlyList<DeliveryAttempt>> AttemptsAsync(string token)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, Tenant);
        return await DeliveryModule.ListAttemptsAsync(tx, null, token, null, null, 100, default);
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, Tenant);
        await using var cmd = tx.Command(sql);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task DrainAsync() => Assert.True(await _worker.DrainAsync(100), "the outbox did not drain in 100 passes");

    /// <summary>Drains, then moves the clock to the next row still waiting, until none is left (dead letters are expected here).</summary>
    private Task RunToQuietAsync() => OutboxQuiet.RunAsync(_db, Tenant, _clock, DrainAsync, maxSteps: 60, deadLettersAllowed: true);

    private Task<ExecutionResult> RunAsync(string simulation, string body, string key)
    {
        using var doc = JsonDocument.Parse(body);
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId(Tenant), new UserId("alice"), simulation, key, doc.RootElement.Clone(),
            new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private async Task<JsonNode> OkAsync(string simulation, string body)
    {
        var result = await RunAsync(simulation, body, $"k-{++_keys}");
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return JsonNode.Parse(result.Body!)!;
    }
}
