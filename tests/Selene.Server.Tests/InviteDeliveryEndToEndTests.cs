using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Selene.Contracts;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime;
using Selene.Runtime.Access;
using Selene.Runtime.Delivery;
using Selene.Runtime.Link;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Testing;
using static Microsoft.Playwright.Assertions;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Issue 13 item 4 end to end: a real server on 127.0.0.1 (its own database, a fake clock) with the file sink as the
/// invitee's app and one outbox worker with every engine's routes. The administrator works only through the HTTP API:
/// an EMPLOYEE invite, then LINK_DELIVER_INVITE to the invitee's app; the invite is delivered once, the token is SENT,
/// and the invitee opens the link from the delivered message in headless Chromium and completes onboarding: the link
/// ends CONSUMED.
/// </summary>
public sealed partial class InviteDeliveryEndToEndTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 17)).ToArray());
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly string _sink = Path.Combine(Path.GetTempPath(), "selene-invite-e2e-" + Guid.NewGuid().ToString("N")[..8]);
    private SeleneDatabase _db = null!;
    private WebApplication _app = null!;
    private Uri _address = null!;
    private SeleneApi _api = null!;
    private OutboxWorker _worker = null!;
    private string _admin = "";

    [GeneratedRegex(@"/invite/[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPattern();

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _admin = (await new TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"))).AdminKey!;
        _address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        _app = SeleneApp.Build(_db, new ServerOptions(_address.ToString().TrimEnd('/'), Workers: false, Metrics: false,
            Deliveries: new DeliveryProviders(new FileSinkProvider(_sink)), LinkKey: Key), logging: _ => { }, clock: _clock);
        await _app.StartAsync();
        _api = new SeleneApi(_address);
        _worker = new OutboxWorker(_db, _app.Services.GetRequiredService<SimulationExecutor>(), _clock,
            new OutboxWorkerOptions("w1", 64, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), _app.Services.GetRequiredService<HandoffServices>()));
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_db is not null) await _db.DisposeAsync();
        if (Directory.Exists(_sink)) Directory.Delete(_sink, recursive: true);
    }

    [Fact]
    public async Task InviteDelivered_ToTheFileSinkOnce_TokenSent_AndTheInviteeCompletesOnboardingFromTheDeliveredLink()
    {
        var position = await PositionAsync();
        var token = (await AdminAsync("LINK_INVITE_GENERATE_DRAFT", $$"""
            {"invitee_type":"EMPLOYEE","schema_version_id":"v1",
             "prefilled_fields":{"company_id":"e2e-co","position_id":"{{position}}","start_date":"2031-06-01","user_id":"gia"} }
            """, "LINK_OK_GENERATE_DRAFT")).Json["token"]!["token_id"]!.GetValue<string>();

        // The inviter confirms where it goes; a retry of the same request (same Idempotency-Key) is the same answer.
        var deliver = JsonNode.Parse($$"""{"token_id":"{{token}}","delivery_method":"SELENE_APP","destination":"gia-phone"}""")!.AsObject();
        AssertSuccess(await _api.SimulateAsync(_admin, "LINK_DELIVER_INVITE_START_COMMIT", deliver, "deliver-gia"), "LINK_OK_DELIVERY_REQUEST");
        AssertSuccess(await _api.SimulateAsync(_admin, "LINK_DELIVER_INVITE_START_COMMIT", (JsonObject)deliver.DeepClone(), "deliver-gia"), "LINK_OK_DELIVERY_REQUEST");
        await RunToQuietAsync();

        // Delivered once, to the confirmed destination, with the invite's link; the token is SENT and says how it went.
        var message = Assert.Single(Messages());
        Assert.Equal(("gia-phone", token, "APP_PUSH"), ((string?)message["address"], (string?)message["recipient_id"], (string?)message["channel"]));
        var path = LinkPattern().Match((string)message["content_text"]!).Value;
        Assert.NotEmpty(path);
        var read = await ReadAsync($"/v1/invites/{token}");
        Assert.Equal("SENT", read["invite"]!["status"]!.GetValue<string>());
        Assert.Equal(("SENT", "APP_PUSH"), (read["last_delivery"]!["status"]!.GetValue<string>(), read["last_delivery"]!["channel"]!.GetValue<string>()));

        // The invitee opens the delivered link and onboards: one question, the terms, this browser as the device, finish.
        await using var phone = await browser.NewDeviceAsync(_address);
        var page = await phone.NewPageAsync();
        await page.GotoAsync(path);
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "ONBOARDING");
        Assert.Equal("ACTIVATED", (await ReadAsync($"/v1/invites/{token}"))["invite"]!["status"]!.GetValue<string>());
        await Expect(page.Locator("#prompt")).ToHaveTextAsync("Your full legal name?");
        await page.Locator("#answer").FillAsync("Gia Example");
        await page.Locator("button[type=submit]").ClickAsync();
        await ExpectStepAsync(page, "Terms");
        await page.Locator("#accept").ClickAsync();
        await ExpectStepAsync(page, "PrimaryDevice");
        await page.Locator("#confirm-device").ClickAsync();
        await ExpectStepAsync(page, "AccessInstance");
        await page.Locator("#finish").ClickAsync();
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "COMPLETE");

        var consumed = await ReadAsync($"/v1/invites/{token}");
        Assert.Equal(("CONSUMED", "COMMITTED"), (consumed["invite"]!["status"]!.GetValue<string>(), consumed["draft"]!["status"]!.GetValue<string>()));
        Assert.Equal("ACTIVE", (await ReadAsync("/v1/access/instances/gia"))["access_instance"]!["lifecycle_state"]!.GetValue<string>());
        // Nothing more was delivered on the way.
        Assert.Single(Messages());
    }

    private static Task ExpectStepAsync(Microsoft.Playwright.IPage page, string step) => Expect(page.Locator("#state")).ToHaveAttributeAsync("data-step", step);

    /// <summary>What the file sink delivered: one file per attempt.</summary>
    private List<JsonNode> Messages() => !Directory.Exists(_sink) ? [] :
        Directory.GetFiles(_sink, "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();

    private async Task<Reply> AdminAsync(string simulation, string body, string reason)
    {
        var reply = await _api.SimulateAsync(_admin, simulation, JsonNode.Parse(body)!.AsObject());
        AssertSuccess(reply, reason);
        return reply;
    }

    private async Task<JsonNode> ReadAsync(string path)
    {
        var reply = await _api.GetAsync(_admin, path);
        AssertSuccess(reply, "QUERY_OK");
        return reply.Json;
    }

    /// <summary>A company, an ACTIVE position and its ACTIVE schema v1 (the legal name), all through the API.</summary>
    private async Task<string> PositionAsync()
    {
        await AdminAsync("TENANT_COMPANY_UPSERT_COMMIT", """{"company_id":"e2e-co","legal_name":"E2E GmbH","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""",
            "TENANT_COMPANY_OK_UPSERT");
        var position = (await AdminAsync("POSITION_SIM_001_CREATE_DRAFT", """
            {"company_id":"e2e-co","position_title":"Barista","department":"Cafe","jurisdiction":"DE","schedule_type":"PART_TIME",
             "permission_profile_ref":"ap.barista","compensation_band_ref":"band.b1"}
            """, "POSITION_OK_CREATE_DRAFT")).Json["position"]!["position_id"]!.GetValue<string>();
        await AdminAsync("POSITION_SIM_004_ACTIVATE_COMMIT", $$"""{"position_id":"{{position}}"}""", "POSITION_OK_ACTIVATE_COMMIT");
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT", $$"""
            {"company_id":"e2e-co","position_id":"{{position}}","schema_version_id":"v1","field_specs":[{"field_key":"legal_name","field_type":"STRING",
             "required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"Your full legal name?",
             "prompt_long":"Your full legal name?"}] }
            """, "POSITION_OK_REQUIREMENTS_SCHEMA_CREATE_DRAFT");
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", $$"""
            {"company_id":"e2e-co","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}
            """, "POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT");
        return position;
    }

    private async Task DrainAsync()
    {
        for (var i = 0; i < 100; i++)
        {
            if ((await _worker.RunOnceAsync()).Claimed == 0) return;
        }
        throw new InvalidOperationException("the outbox did not drain in 100 passes");
    }

    /// <summary>Drains, then moves the clock to the next row still waiting, until none is left.</summary>
    private async Task RunToQuietAsync()
    {
        for (var i = 0; i < 30; i++)
        {
            await DrainAsync();
            await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
            var open = (await OutboxStore.ListAsync(tx, default)).Where(r => r.Status is OutboxStatus.Pending or OutboxStatus.Failed or OutboxStatus.Sent).ToArray();
            if (open.Length == 0) return;
            var now = UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value;
            var next = open.Min(r => r.NextAttemptAt);
            Assert.True(next > now, "a due row was left after a drain");
            _clock.Advance(TimeSpan.FromTicks((next - now + 99) / 100));
        }
        throw new InvalidOperationException("the delivery did not come to rest in 30 steps");
    }
}
