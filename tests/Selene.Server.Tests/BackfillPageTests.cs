using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Selene.Postgres;
using Selene.Runtime;
using Selene.Runtime.Link;
using Selene.Testing;
using static Microsoft.Playwright.Assertions;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Issue 13 item 2 end to end: a real server on 127.0.0.1 (its own database, a fake clock) serving the administrator's
/// API and the holders' page, one outbox worker with every engine's routes, and the file sink as the holders' app. A
/// CURRENT_AND_NEW activation over two current holders starts a campaign; ann answers on her page (HTTP form posts) after
/// the first reminder, which stops her reminders; bo is reminded until exhausted and FAILED; the campaign ends COMPLETED
/// 1/2. Bad input on the page (a wrong or used link, a forged form, a bad answer, a replayed request id) gets its
/// reason-coded 4xx and changes nothing. A holder also answers in headless Chromium (<see cref="BrowserFixture"/>).
/// </summary>
public sealed partial class BackfillPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly string _device = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private WorkforceServer _server = null!;
    private HttpClient _browser = null!;

    [GeneratedRegex(@"/invite/backfill/[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPattern();

    [GeneratedRegex("name=\"(form_token|request_id)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenField();

    public async Task InitializeAsync()
    {
        _server = await WorkforceServer.StartAsync(new DateTimeOffset(2030, 10, 7, 8, 0, 0, TimeSpan.Zero));
        _browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _server.Address };
    }

    public async Task DisposeAsync()
    {
        _browser?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact]
    public async Task OneAnswersOnThePage_OneIsRemindedUntilExhausted_TheCampaignCompletesOneOfTwo_AndBadPageInputChangesNothing()
    {
        await SetUpAsync();
        await _server.DrainAsync();
        var campaign = Assert.Single((await _server.ReadAsync("/v1/backfill-campaigns"))["campaigns"]!.AsArray())!;
        var id = campaign["campaign_id"]!.GetValue<string>();
        Assert.Equal(("RUNNING", 2), (campaign["state"]!.GetValue<string>(), campaign["total_target_count"]!.GetValue<int>()));

        // The request, then (after BCAST's window) the REM-scheduled follow-up and ONB's notify; a day later the first reminder.
        await _server.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.All(await TargetsAsync(id), t => Assert.Equal("REQUESTED", t["status"]!.GetValue<string>()));
        await _server.AdvanceAsync(TimeSpan.FromDays(1));
        await _server.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.All(await TargetsAsync(id), t => Assert.Equal(("REMINDED", 1, 1), (t["status"]!.GetValue<string>(), t["notified_count"]!.GetValue<int>(),
            t["reminded_count"]!.GetValue<int>())));
        var annMessages = _server.Messages("ann");
        Assert.Equal(2, annMessages.Count);
        var link = LinkPattern().Match(annMessages[0]).Value;
        Assert.Equal(link, LinkPattern().Match(annMessages[1]).Value); // the reminder carries the same personal link
        Assert.NotEqual(link, LinkPattern().Match(_server.Messages("bo")[0]).Value);
        var secret = link[PersonalLinks.BackfillPathPrefix.Length..];
        Assert.DoesNotContain((await DatabaseText.ReadAsync(_server.Db, "acme")).Rows, r => r.Contains(secret, StringComparison.Ordinal)); // stored nowhere

        // A wrong link is 404; a first visit without the page's device cookie gets the page that makes one.
        await ExpectPageAsync(await GetAsync(PersonalLinks.BackfillPathPrefix + new string('A', LinkKey.SecretLength)), HttpStatusCode.NotFound, "LINK_REFUSE_NOT_FOUND");
        using (var bare = await _browser.GetAsync(link)) await ExpectPageAsync(bare, HttpStatusCode.OK, "INVITE_PAGE_DEVICE_PENDING");
        var page = await GetAsync(link);
        var html = await ExpectPageAsync(page, HttpStatusCode.OK, "ONB_OK_REQUIREMENT_BACKFILL_NOTIFY_COMMIT");
        Assert.Contains("Licence number?", html, StringComparison.Ordinal);
        Assert.Contains("Question 1 of 2", html, StringComparison.Ordinal);
        var token = Hidden(html, "form_token");

        // Refused posts, none of which changes anything: a forged form, the field not asked now, a second field with a used request id.
        await ExpectPageAsync(await PostAsync(link, "forged", "f1", "licence_number", "L-1"), HttpStatusCode.Forbidden, "INVITE_PAGE_FORM_REFUSED");
        await ExpectPageAsync(await PostAsync(link, token, "f2", "years_experience", "4"), HttpStatusCode.Conflict, "ONB_REFUSE_STATE_INVALID");
        Assert.Empty((await TargetAsync(id, "ann"))["answered_fields"]!.AsArray());
        Assert.Equal(HttpStatusCode.SeeOther, (await PostAsync(link, token, "r1", "licence_number", "L-1")).StatusCode);
        Assert.Equal(HttpStatusCode.SeeOther, (await PostAsync(link, token, "r1", "licence_number", "L-1")).StatusCode); // a double submit: one execution
        await ExpectPageAsync(await PostAsync(link, token, "r1", "years_experience", "4"), HttpStatusCode.Conflict, "IDEMPOTENCY_KEY_REUSED");
        var refused = await ExpectPageAsync(await PostAsync(link, token, "r2", "years_experience", "many"), HttpStatusCode.BadRequest, "ONB_ANSWER_INVALID");
        Assert.Contains("value=\"many\"", refused, StringComparison.Ordinal); // the typed value is put back next to its error
        var ann = await TargetAsync(id, "ann");
        Assert.Equal(("licence_number", "REMINDED"), (string.Join(",", ann["answered_fields"]!.AsArray().Select(f => f!.GetValue<string>())), ann["status"]!.GetValue<string>()));
        Assert.Contains("Question 2 of 2", await ExpectPageAsync(await GetAsync(link), HttpStatusCode.OK, "ONB_OK_REQUIREMENT_BACKFILL_ANSWER_COMMIT"), StringComparison.Ordinal);

        // The last answer completes her target; from then on the link is used up.
        await ExpectPageAsync(await PostAsync(link, token, "r3", "years_experience", "4"), HttpStatusCode.OK, "ONB_OK_REQUIREMENT_BACKFILL_ANSWER_COMMIT");
        Assert.Equal("COMPLETED", (await TargetAsync(id, "ann"))["status"]!.GetValue<string>());
        await ExpectPageAsync(await GetAsync(link), HttpStatusCode.Conflict, "ONB_BACKFILL_LINK_USED");
        await ExpectPageAsync(await PostAsync(link, token, "r4", "years_experience", "5"), HttpStatusCode.Conflict, "ONB_BACKFILL_LINK_USED");

        // The clock runs on: bo gets his second reminder and, a day later, fails; ann gets nothing more; the campaign completes once.
        await _server.RunToQuietAsync();
        Assert.Equal(2, _server.Messages("ann").Count);
        Assert.Equal(1 + Runtime.Onb.OnbBackfillLoop.MaxReminders, _server.Messages("bo").Count);
        var bo = await TargetAsync(id, "bo");
        Assert.Equal(("FAILED", "ONB_BACKFILL_REMINDERS_EXHAUSTED"), (bo["status"]!.GetValue<string>(), bo["last_reason_code"]!.GetValue<string>()));
        var done = (await _server.ReadAsync($"/v1/backfill-campaigns/{id}"))["campaign"]!;
        Assert.Equal(("COMPLETED", 1, 2), (done["state"]!.GetValue<string>(), done["completed_target_count"]!.GetValue<int>(), done["total_target_count"]!.GetValue<int>()));
        Assert.Single((await _server.ReadAsync("/v1/backfill-campaigns?status=COMPLETED"))["campaigns"]!.AsArray());
        _server.Clock.Advance(TimeSpan.FromDays(1));
        await _server.DrainAsync();
        Assert.Equal((2, 3), (_server.Messages("ann").Count, _server.Messages("bo").Count));
        AssertProblem(await _server.Api.GetAsync(_server.AdminKey, "/v1/backfill-campaigns/bfc_0000000000000000"), HttpStatusCode.NotFound, "ONB_REFUSE_NOT_FOUND");
        Assert.All(await new Maintenance(_server.Db, _server.Clock).RebuildAsync("onb", "acme", apply: false), r => Assert.True(r.Identical, r.Store));

        // What the campaign ran, it ran as its launcher: every such simulation is one the start checks the launcher may run.
        await using var tx = await TenantTransaction.BeginAsync(_server.Db.App, "acme");
        await using var cmd = tx.Command("""
            select distinct simulation_id from os_turn_decisions
            where decision_id > (select max(decision_id) from os_turn_decisions where simulation_id = 'POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT')
              and simulation_id is not null and simulation_id <> 'ONB_REQUIREMENT_BACKFILL_START_DRAFT'
            """);
        var ran = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync()) while (await reader.ReadAsync()) ran.Add(reader.GetString(0));
        Assert.Contains("DELIVERY_SEND_COMMIT", ran);
        Assert.Empty(ran.Except(Runtime.Onb.OnbBackfillLoop.LauncherSimulations));
    }

    [Fact]
    public async Task AHolder_AnswersInABrowser_OneFieldAtATime_AndTheLinkIsUsedUpAfterwards()
    {
        await SetUpAsync();
        await _server.DrainAsync();
        var id = Assert.Single((await _server.ReadAsync("/v1/backfill-campaigns"))["campaigns"]!.AsArray())!["campaign_id"]!.GetValue<string>();
        var link = LinkPattern().Match(Assert.Single(_server.Messages("bo"))).Value;

        // A fresh browser context is a fresh phone: the page makes its device id, then asks the first missing field.
        await using var phone = await browser.NewDeviceAsync(_server.Address);
        var page = await phone.NewPageAsync();
        await page.GotoAsync(link);
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "BACKFILL");
        await Expect(page.Locator("#prompt")).ToHaveTextAsync("Licence number?");
        await Expect(page.Locator("#question-progress")).ToHaveTextAsync("Question 1 of 2");
        await page.FillAsync("#answer", "L-77");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#prompt")).ToHaveTextAsync("Years?");
        await page.FillAsync("#answer", "3");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "BACKFILL_COMPLETE");
        await page.ReloadAsync();
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "USED");
        await Expect(page.Locator("#reason-code")).ToHaveTextAsync("ONB_BACKFILL_LINK_USED");

        var bo = await TargetAsync(id, "bo");
        Assert.Equal(("COMPLETED", 2), (bo["status"]!.GetValue<string>(), bo["answered_fields"]!.AsArray().Count));
        Assert.Equal("RUNNING", (await _server.ReadAsync($"/v1/backfill-campaigns/{id}"))["campaign"]!["state"]!.GetValue<string>()); // ann is still open
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private const string Specs = """
        [{"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
          "evidence_mode":"USER_ANSWER","prompt_short":"Licence number?","prompt_long":"The number on your forklift licence?"},
         {"field_key":"years_experience","field_type":"INTEGER","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
          "evidence_mode":"USER_ANSWER","prompt_short":"Years?","prompt_long":"How many years have you driven forklifts?"}]
        """;

    /// <summary>Through the API: a company, an ACTIVE position, ann and bo its holders with the app as their channel, schema v1 for current staff too.</summary>
    private async Task SetUpAsync()
    {
        await _server.RunAsync("TENANT_COMPANY_UPSERT_COMMIT", """{"company_id":"co","legal_name":"Co GmbH","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""");
        var position = (await _server.RunAsync("POSITION_SIM_001_CREATE_DRAFT", """
            {"company_id":"co","position_title":"Driver","department":"Logistics","jurisdiction":"DE","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """))["position"]!["position_id"]!.GetValue<string>();
        await _server.RunAsync("POSITION_SIM_004_ACTIVATE_COMMIT", $$"""{"position_id":"{{position}}"}""");
        foreach (var user in new[] { "ann", "bo" })
        {
            await _server.RunAsync("POSITION_HOLDER_ASSIGN_COMMIT", $$"""{"position_id":"{{position}}","user_id":"{{user}}"}""");
            await _server.RunAsync("DELIVERY_CHANNEL_SETUP_COMMIT", $$$"""{"user_id":"{{{user}}}","setup_source":"SETTINGS","bindings":{"APP_PUSH":"{{{user}}}-phone"}}""");
        }
        await _server.RunAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT", $$"""{"company_id":"co","position_id":"{{position}}","schema_version_id":"v1","field_specs":{{Specs}}}""");
        await _server.RunAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT",
            $$"""{"company_id":"co","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"CURRENT_AND_NEW"}""");
    }

    private async Task<JsonNode[]> TargetsAsync(string campaign) => (await _server.ReadAsync($"/v1/backfill-campaigns/{campaign}"))["targets"]!.AsArray().Select(t => t!).ToArray();

    private async Task<JsonNode> TargetAsync(string campaign, string user) => (await TargetsAsync(campaign)).Single(t => t["user_id"]!.GetValue<string>() == user);

    private Task<HttpResponseMessage> GetAsync(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", "selene_device=" + _device);
        return _browser.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostAsync(string path, string formToken, string requestId, string field, string value)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["step"] = "answer", ["form_token"] = formToken, ["request_id"] = requestId, ["field_key"] = field, ["value"] = value,
            }),
        };
        request.Headers.Add("Cookie", "selene_device=" + _device);
        return _browser.SendAsync(request);
    }

    /// <summary>Asserts a page's status and reason code (header and page foot) and its CSP; returns its HTML.</summary>
    private static async Task<string> ExpectPageAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode} {html}");
        Assert.Equal(reason, response.Headers.GetValues("X-Reason-Code").Single());
        Assert.Contains($"<span id=\"reason-code\">{reason}</span>", html, StringComparison.Ordinal);
        Assert.StartsWith("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        return html;
    }

    private static string Hidden(string html, string name) =>
        HiddenField().Matches(html).Single(m => m.Groups[1].Value == name).Groups[2].Value;
}
