using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
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
    private WorkforceServer _server = null!;

    [GeneratedRegex(@"/invite/[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPattern();

    public async Task InitializeAsync() => _server = await WorkforceServer.StartAsync(DateTimeOffset.UtcNow);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
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
        AssertSuccess(await _server.Api.SimulateAsync(_server.AdminKey, "LINK_DELIVER_INVITE_START_COMMIT", deliver, "deliver-gia"), "LINK_OK_DELIVERY_REQUEST");
        AssertSuccess(await _server.Api.SimulateAsync(_server.AdminKey, "LINK_DELIVER_INVITE_START_COMMIT", (JsonObject)deliver.DeepClone(), "deliver-gia"), "LINK_OK_DELIVERY_REQUEST");
        await _server.RunToQuietAsync();

        // Delivered once, to the confirmed destination, with the invite's link; the token is SENT and says how it went.
        var message = Assert.Single(Messages());
        Assert.Equal(("gia-phone", token, "APP_PUSH"), ((string?)message["address"], (string?)message["recipient_id"], (string?)message["channel"]));
        var path = LinkPattern().Match((string)message["content_text"]!).Value;
        Assert.NotEmpty(path);
        var read = await ReadAsync($"/v1/invites/{token}");
        Assert.Equal("SENT", read["invite"]!["status"]!.GetValue<string>());
        Assert.Equal(("SENT", "APP_PUSH"), (read["last_delivery"]!["status"]!.GetValue<string>(), read["last_delivery"]!["channel"]!.GetValue<string>()));

        // The invitee opens the delivered link and onboards: one question, the terms, this browser as the device, finish.
        await using var phone = await browser.NewDeviceAsync(_server.Address);
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
    private List<JsonNode> Messages() => _server.Deliveries();

    private async Task<Reply> AdminAsync(string simulation, string body, string reason)
    {
        var reply = await _server.Api.SimulateAsync(_server.AdminKey, simulation, JsonNode.Parse(body)!.AsObject());
        AssertSuccess(reply, reason);
        return reply;
    }

    private async Task<JsonNode> ReadAsync(string path)
    {
        var reply = await _server.Api.GetAsync(_server.AdminKey, path);
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
}
