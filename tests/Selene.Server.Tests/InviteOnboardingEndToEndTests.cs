using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Selene.Runtime;
using static Microsoft.Playwright.Assertions;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Issue 11's "Done when", end to end: an administrator works only through the HTTP API of a real server on 127.0.0.1
/// (company, position, ACTIVE requirement schema, EMPLOYEE invite with prefill, reads, revocation, recovery), and the
/// invitee only through the page in headless Chromium (a fresh browser context is a fresh device). The server runs on a
/// fake clock so that a link can expire.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public sealed class InviteOnboardingEndToEndTests(SeleneServerFixture f, BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private PageServer _server = null!;

    // The schema's fields in its own order; start_date is prefilled by the administrator, us_tax_id is required only in
    // the US (the position is in DE), so the page must ask exactly the other four, in this order, each once.
    private static readonly string[] SchemaOrder = ["legal_name", "start_date", "weekly_hours", "us_tax_id", "tax_class", "hourly_rate"];

    private static readonly (string Field, string Prompt, string Answer)[] Asked =
    [
        ("legal_name", "Your full legal name?", "Dana Example"),
        ("weekly_hours", "Hours per week?", "32"),
        ("tax_class", "Your tax class?", "III"),
        ("hourly_rate", "Expected hourly rate?", "17.50"),
    ];

    public async Task InitializeAsync() => _server = await PageServer.StartAsync(f, "e2e");

    public async Task DisposeAsync()
    {
        if (_server is null) return;
        await _server.DisposeAsync();
        _server.AssertLogsClean();
    }

    private async Task<Reply> AdminAsync(string simulation, string body, string reason)
    {
        var reply = await _server.Api.SimulateAsync(_server.AdminKey, simulation, JsonNode.Parse(body)!.AsObject());
        AssertSuccess(reply, reason);
        return reply;
    }

    private async Task<JsonNode> ReadAsync(string path, string? key = null)
    {
        var reply = await _server.Api.GetAsync(key ?? _server.AdminKey, path);
        AssertSuccess(reply, "QUERY_OK");
        return reply.Json;
    }

    private static string Spec(string key, string type, string prompt, string? onlyWhen = null) => $$"""
        {"field_key":"{{key}}","field_type":"{{type}}","required_rule":"{{(onlyWhen is null ? "ALWAYS" : "CONDITIONAL")}}",{{(onlyWhen is null ? "" : $"\"required_predicate_ref\":\"{onlyWhen}\",")}}
         "sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"{{prompt}}","prompt_long":"{{prompt}}"}
        """;

    /// <summary>A company, an ACTIVE position in it and the position's ACTIVE requirement schema v1, all through the API.</summary>
    private async Task<string> PositionAsync()
    {
        await AdminAsync("TENANT_COMPANY_UPSERT_COMMIT", """{"company_id":"e2e-co","legal_name":"E2E GmbH","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""",
            "TENANT_COMPANY_OK_UPSERT");
        var created = await AdminAsync("POSITION_SIM_001_CREATE_DRAFT", """
            {"company_id":"e2e-co","position_title":"Barista","department":"Cafe","jurisdiction":"DE","schedule_type":"PART_TIME",
             "permission_profile_ref":"ap.barista","compensation_band_ref":"band.b1"}
            """, "POSITION_OK_CREATE_DRAFT");
        var position = created.Json["position"]!["position_id"]!.GetValue<string>();
        await AdminAsync("POSITION_SIM_004_ACTIVATE_COMMIT", $$"""{"position_id":"{{position}}"}""", "POSITION_OK_ACTIVATE_COMMIT");
        string[] specs =
        [
            Spec("legal_name", "STRING", "Your full legal name?"), Spec("start_date", "DATE", "When do you start?"),
            Spec("weekly_hours", "INTEGER", "Hours per week?"), Spec("us_tax_id", "STRING", "Your US tax id?", "jurisdiction=US"),
            Spec("tax_class", "ENUM", "Your tax class?", "jurisdiction=DE"), Spec("hourly_rate", "DECIMAL", "Expected hourly rate?"),
        ];
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT", $$"""
            {"company_id":"e2e-co","position_id":"{{position}}","schema_version_id":"v1","selectors":{"jurisdiction":"DE"},"field_specs":[{{string.Join(",", specs)}}]}
            """, "POSITION_OK_REQUIREMENTS_SCHEMA_CREATE_DRAFT");
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT",
            $$"""{"company_id":"e2e-co","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""", "POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT");
        return position;
    }

    /// <summary>An EMPLOYEE invite for the position, prefilled with the start date and the new user's id: its token id.</summary>
    private async Task<string> InviteAsync(string position, string user) =>
        (await AdminAsync("LINK_INVITE_GENERATE_DRAFT", $$"""
            {"invitee_type":"EMPLOYEE","schema_version_id":"v1",
             "prefilled_fields":{"company_id":"e2e-co","position_id":"{{position}}","start_date":"2030-06-01","user_id":"{{user}}"} }
            """, "LINK_OK_GENERATE_DRAFT")).Json["token"]!["token_id"]!.GetValue<string>();

    /// <summary>The link's path as the administrator reads it (GET /v1/invites/{token}/link); its secret is never to be logged or stored.</summary>
    private async Task<string> LinkAsync(string tokenId)
    {
        var path = (await ReadAsync($"/v1/invites/{tokenId}/link"))["link_path"]!.GetValue<string>();
        _server.Secrets.Add(path["/invite/".Length..]);
        return path;
    }

    private async Task<JsonNode> InviteReadAsync(string tokenId) => (await ReadAsync($"/v1/invites/{tokenId}"))["invite"]!;

    private async Task<JsonNode> SessionAsync(string sessionId) => (await ReadAsync($"/v1/onboarding-sessions/{sessionId}"))["session"]!;

    private static Task ExpectStateAsync(IPage page, string state) => Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", state);

    /// <summary>
    /// The status of the last document <paramref name="page"/> loaded (a first visit loads two: the page that makes the
    /// device id, then the reload with it). Playwright reports a response before the document it carries can be queried.
    /// </summary>
    private static Func<int> DocumentStatus(IPage page)
    {
        var status = 0;
        page.Response += (_, r) => { if (r.Request.ResourceType == "document") status = r.Status; };
        return () => status;
    }

    private static Task ExpectStepAsync(IPage page, string step) => Expect(page.Locator("#state")).ToHaveAttributeAsync("data-step", step);

    [Fact]
    public async Task Invitee_OnboardsThroughThePage_FromTheAdministratorsInviteToAnActiveAccessAndAKeyOfTheirOwn()
    {
        var position = await PositionAsync();
        var tokenId = await InviteAsync(position, "dana");
        var path = await LinkAsync(tokenId);
        Assert.Equal("DRAFT_CREATED", (await InviteReadAsync(tokenId))["status"]!.GetValue<string>());

        // The invitee opens the link: it activates on this browser and the session pins the position's schema v1.
        await using var phone = await browser.NewDeviceAsync(_server.Address);
        var page = await phone.NewPageAsync();
        await page.GotoAsync(path);
        await ExpectStateAsync(page, "ONBOARDING");
        var invite = await InviteReadAsync(tokenId);
        Assert.Equal(("ACTIVATED", "WEB"), (invite["status"]!.GetValue<string>(), invite["app_platform"]!.GetValue<string>()));
        var sessionId = (await ReadAsync($"/v1/invites/{tokenId}"))["onboarding_session_id"]!.GetValue<string>();
        var session = await SessionAsync(sessionId);
        Assert.Equal(($"position:{position}", "v1", "position_requirements_active"), (session["pinned_schema_id"]!.GetValue<string>(),
            session["pinned_schema_version"]!.GetValue<string>(), session["pinned_overlay_set_id"]!.GetValue<string>()));
        Assert.Equal(SchemaOrder.Where(k => k != "us_tax_id"), session["questions"]!.AsArray().Select(q => q!["field_key"]!.GetValue<string>()));
        Assert.Equal("2030-06-01", session["known_fields"]!["start_date"]!.GetValue<string>());

        // A second browser opening the same link is blocked, and the first goes on.
        await using (var other = await browser.NewDeviceAsync(_server.Address))
        {
            var forwarded = await other.NewPageAsync();
            var status = DocumentStatus(forwarded);
            await forwarded.GotoAsync(path);
            await ExpectStateAsync(forwarded, "BLOCKED");
            Assert.Equal(403, status());
            Assert.Equal(0, await forwarded.Locator("form").CountAsync());
        }
        Assert.Equal(("ACTIVATED", 1), ((await InviteReadAsync(tokenId))["status"]!.GetValue<string>(), (await InviteReadAsync(tokenId))["forward_block_count"]!.GetValue<int>()));

        // One question at a time, in the schema's order, each missing field once: never the prefilled start date, never
        // the field whose condition does not hold. A refresh resumes at the same question; a bad answer is shown beside
        // its field with the typed value and changes nothing.
        var shown = new List<string>();
        for (var i = 0; i < Asked.Length; i++)
        {
            var (field, prompt, answer) = Asked[i];
            await Expect(page.Locator("#prompt")).ToHaveTextAsync(prompt);
            await Expect(page.Locator("#question-progress")).ToHaveTextAsync($"Question {i + 2} of 5");
            Assert.Equal(field, await page.Locator("input[name=field_key]").InputValueAsync());
            shown.Add(await page.Locator("#prompt").InnerTextAsync());
            if (field == "weekly_hours")
            {
                var before = (await SessionAsync(sessionId)).ToJsonString();
                await page.ReloadAsync();
                await Expect(page.Locator("#prompt")).ToHaveTextAsync(prompt);
                Assert.Equal(before, (await SessionAsync(sessionId)).ToJsonString());
            }
            if (field == "tax_class")
            {
                var before = (await SessionAsync(sessionId)).ToJsonString();
                await page.Locator("#answer").FillAsync("class three");
                var refused = await page.RunAndWaitForResponseAsync(() => page.Locator("button[type=submit]").ClickAsync(), r => r.Request.Method == "POST");
                Assert.Equal(400, refused.Status);
                await Expect(page.Locator("#answer-error")).ToHaveAttributeAsync("data-reason", "ONB_ANSWER_INVALID");
                await Expect(page.Locator("#answer")).ToHaveValueAsync("class three");
                await Expect(page.Locator("#prompt")).ToHaveTextAsync(prompt);
                Assert.Equal(before, (await SessionAsync(sessionId)).ToJsonString());
            }
            await page.Locator("#answer").FillAsync(answer);
            await page.Locator("button[type=submit]").ClickAsync();
        }
        Assert.Equal(Asked.Select(a => a.Prompt), shown);

        // Terms, then this browser as the primary device, then finishing: the key is shown once, in that answer only.
        await ExpectStepAsync(page, "Terms");
        await Expect(page.Locator("#terms-version")).ToHaveTextAsync("selene-terms-v1");
        await page.Locator("#accept").ClickAsync();
        await ExpectStepAsync(page, "PrimaryDevice");
        await page.Locator("#confirm-device").ClickAsync();
        await ExpectStepAsync(page, "AccessInstance");
        await page.Locator("#finish").ClickAsync();
        await ExpectStateAsync(page, "COMPLETE");
        await Expect(page.Locator("#reason-code")).ToHaveTextAsync("ONB_OK_COMPLETE_COMMIT");
        var key = await page.Locator("#api-key").InnerTextAsync();
        _server.Secrets.Add(key);
        Assert.NotEmpty(key);
        var device = await page.EvaluateAsync<string>("() => localStorage.getItem('selene.device')");
        await page.ReloadAsync();
        await ExpectStateAsync(page, "COMPLETE");
        Assert.Equal(0, await page.Locator("#api-key").CountAsync());
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);

        // What the administrator reads: the session COMPLETE with every answer, the invitee's ACTIVE access instance, the
        // link CONSUMED (and its draft COMMITTED).
        session = await SessionAsync(sessionId);
        Assert.Equal(("COMPLETE", "DONE", "dana", true), (session["status"]!.GetValue<string>(), session["next_step"]!.GetValue<string>(),
            session["user_id"]!.GetValue<string>(), session["primary_device_confirmed"]!.GetValue<bool>()));
        Assert.Equal(Asked.Select(a => a.Answer).Append("2030-06-01").Order(StringComparer.Ordinal),
            Asked.Select(a => a.Field).Append("start_date").Select(k => session["known_fields"]![k]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var instance = (await ReadAsync("/v1/access/instances/dana"))["access_instance"]!;
        Assert.Equal(("ACTIVE", "ap.barista"), (instance["lifecycle_state"]!.GetValue<string>(), instance["role_template_id"]!.GetValue<string>()));
        var consumed = await ReadAsync($"/v1/invites/{tokenId}");
        Assert.Equal(("CONSUMED", "COMMITTED"), (consumed["invite"]!["status"]!.GetValue<string>(), consumed["draft"]!["status"]!.GetValue<string>()));

        // The key works as the new user: the API accepts it, and what it asks is decided and journaled for dana.
        Assert.Equal("ACTIVE", (await ReadAsync("/v1/access/instances/dana", key))["access_instance"]!["lifecycle_state"]!.GetValue<string>());
        var asDana = await _server.Api.SimulateAsync(key, "CAPREQ_CREATE_DRAFT",
            JsonNode.Parse("""{"requested_capability_id":"payroll.read","target_scope_ref":"team:cafe","justification":"first day"}""")!.AsObject());
        Assert.NotEqual(HttpStatusCode.Unauthorized, asDana.Status);
        var journal = (await ReadAsync($"/v1/journal?correlation_id={asDana.Json["correlation_id"]!.GetValue<string>()}"))["entries"]!.AsArray();
        Assert.NotEmpty(journal);
        Assert.All(journal, e => Assert.Equal("dana", e!["actor_user_id"]!.GetValue<string>()));

        // The used link, opened on another browser: it was used.
        await using (var late = await browser.NewDeviceAsync(_server.Address))
        {
            var used = await late.NewPageAsync();
            var status = DocumentStatus(used);
            await used.GotoAsync(path);
            await ExpectStateAsync(used, "CONSUMED");
            Assert.Equal(409, status());
        }

        // An expired link (the fake clock passes its expiry): the page says so, the administrator recovers it into a new
        // link for the same draft, and the new link opens at the first question.
        var expiring = await InviteAsync(position, "erik");
        var expiredPath = await LinkAsync(expiring);
        _server.Clock.Advance(TimeSpan.FromDays(8));
        await using (var laptop = await browser.NewDeviceAsync(_server.Address))
        {
            var expired = await laptop.NewPageAsync();
            var status = DocumentStatus(expired);
            await expired.GotoAsync(expiredPath);
            await ExpectStateAsync(expired, "EXPIRED");
            Assert.Equal(409, status());
            var recovered = await AdminAsync("LINK_INVITE_EXPIRED_RECOVERY_COMMIT", $$"""{"expired_token_id":"{{expiring}}"}""", "LINK_OK_EXPIRED_RECOVERY_COMMIT");
            var newPath = await LinkAsync(recovered.Json["new_token_id"]!.GetValue<string>());
            Assert.NotEqual(expiredPath, newPath);
            await expired.GotoAsync(newPath);
            await ExpectStateAsync(expired, "ONBOARDING");
            await Expect(expired.Locator("#prompt")).ToHaveTextAsync(Asked[0].Prompt);
            Assert.Equal("EXPIRED", (await InviteReadAsync(expiring))["status"]!.GetValue<string>());
        }

        // A revoked link refuses.
        var revoked = await InviteAsync(position, "finn");
        var revokedPath = await LinkAsync(revoked);
        await AdminAsync("LINK_INVITE_REVOKE_REVOKE", $$"""{"token_id":"{{revoked}}","reason":"position filled"}""", "LINK_OK_REVOKE");
        await using (var tablet = await browser.NewDeviceAsync(_server.Address))
        {
            var withdrawn = await tablet.NewPageAsync();
            var status = DocumentStatus(withdrawn);
            await withdrawn.GotoAsync(revokedPath);
            await ExpectStateAsync(withdrawn, "REVOKED");
            Assert.Equal((409, "LINK_TOKEN_REVOKED"), (status(), await withdrawn.Locator("#reason-code").InnerTextAsync()));
            Assert.Equal(0, await withdrawn.Locator("form").CountAsync());
        }

        // Afterwards: LINK's and ONB's projections fold back from their ledgers identically, and neither a link's secret,
        // nor the invitee's key, nor the browser's device id is stored anywhere in the database (journal included).
        foreach (var engine in new[] { "link", "onb" })
        {
            var reports = await new Maintenance(_server.Db, _server.Clock).RebuildAsync(engine, _server.Tenant, apply: false);
            Assert.NotEmpty(reports);
            Assert.All(reports, r => Assert.True(r.Identical, $"{r.Store}: {string.Join("; ", r.Differences)}"));
        }
        var (_, rows) = await Testing.DatabaseText.ReadAsync(_server.Db, _server.Tenant);
        var stored = string.Join("\n", rows);
        Assert.Contains(tokenId, stored, StringComparison.Ordinal);   // the reader does see this tenant's rows
        foreach (var secret in _server.Secrets.Append(device)) Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
    }
}
