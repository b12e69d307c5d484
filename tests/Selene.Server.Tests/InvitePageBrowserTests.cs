using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Selene.Postgres;
using static Microsoft.Playwright.Assertions;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The invitee's page end to end (issue 11, item 5): a real server on 127.0.0.1 (in this process, on the shared fixture's
/// cluster and a fake clock so a link can expire), a real tenant, company, position with an ACTIVE requirement schema
/// and EMPLOYEE invite made through the API, the link read from GET /v1/invites/{token}/link, and headless Chromium
/// opening it: a fresh browser context is a fresh device. Also the page's HTTP contract (security headers, refused
/// POSTs change nothing) and that no log line the server writes carries a secret.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public sealed partial class InvitePageBrowserTests(SeleneServerFixture f, BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private PageServer _server = null!;
    private FakeTimeProvider _clock = null!;
    private SeleneDatabase _db = null!;
    private SeleneApi _api = null!;
    private Uri _address = null!;
    private string _tenant = "";
    private string _key = "";
    private string _position = "";

    public async Task InitializeAsync()
    {
        _server = await PageServer.StartAsync(f, "page");
        (_clock, _db, _api, _address, _tenant, _key) = (_server.Clock, _server.Db, _server.Api, _server.Address, _server.Tenant, _server.AdminKey);
        _position = await PositionAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is null) return;
        await _server.DisposeAsync();
        _server.AssertLogsClean();
    }

    private async Task<Reply> RunAsync(string simulation, string body, string reason)
    {
        var reply = await _api.SimulateAsync(_key, simulation, JsonNode.Parse(body)!.AsObject());
        AssertSuccess(reply, reason);
        return reply;
    }

    /// <summary>A company, an ACTIVE position and its ACTIVE requirement schema (two required fields), through the API.</summary>
    private async Task<string> PositionAsync()
    {
        await RunAsync("TENANT_COMPANY_UPSERT_COMMIT", """{"company_id":"page-co","legal_name":"Page Co","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""",
            "TENANT_COMPANY_OK_UPSERT");
        var created = await RunAsync("POSITION_SIM_001_CREATE_DRAFT", """
            {"company_id":"page-co","position_title":"Courier","department":"Delivery","jurisdiction":"DE","schedule_type":"PART_TIME",
             "permission_profile_ref":"ap.courier","compensation_band_ref":"band.c1"}
            """, "POSITION_OK_CREATE_DRAFT");
        var id = created.Json["position"]!["position_id"]!.GetValue<string>();
        await RunAsync("POSITION_SIM_004_ACTIVATE_COMMIT", $$"""{"position_id":"{{id}}"}""", "POSITION_OK_ACTIVATE_COMMIT");
        const string bike = """{"field_key":"bike","field_type":"ENUM","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"Bike?","prompt_long":"Do you bring your own bike?"}""";
        const string start = """{"field_key":"start_date","field_type":"DATE","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"Start?","prompt_long":"When do you start?"}""";
        await RunAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT",
            $$"""{"company_id":"page-co","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{bike}},{{start}}]}""", "POSITION_OK_REQUIREMENTS_SCHEMA_CREATE_DRAFT");
        await RunAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT",
            $$"""{"company_id":"page-co","position_id":"{{id}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""", "POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT");
        return id;
    }

    /// <summary>An EMPLOYEE invite for the position with a prefilled start date; its token id and the link's path.</summary>
    private async Task<(string TokenId, string Path)> InviteAsync()
    {
        var generated = await RunAsync("LINK_INVITE_GENERATE_DRAFT",
            $$"""{"invitee_type":"EMPLOYEE","schema_version_id":"v1","prefilled_fields":{"position_id":"{{_position}}","start_date":"2030-06-01"} }""",
            "LINK_OK_GENERATE_DRAFT");
        var tokenId = generated.Json["token"]!["token_id"]!.GetValue<string>();
        return (tokenId, await LinkPathAsync(tokenId));
    }

    private async Task<string> LinkPathAsync(string tokenId)
    {
        var link = await _api.GetAsync(_key, $"/v1/invites/{tokenId}/link");
        AssertSuccess(link, "QUERY_OK");
        var path = link.Json["link_path"]!.GetValue<string>();
        _server.Secrets.Add(path["/invite/".Length..]);
        return path;
    }

    private async Task<JsonNode> InviteReadAsync(string tokenId)
    {
        var read = await _api.GetAsync(_key, $"/v1/invites/{tokenId}");
        AssertSuccess(read, "QUERY_OK");
        return read.Json["invite"]!;
    }

    private async Task<string> SessionIdAsync(string tokenId)
    {
        var read = await _api.GetAsync(_key, $"/v1/invites/{tokenId}");
        AssertSuccess(read, "QUERY_OK");
        return read.Json["onboarding_session_id"]!.GetValue<string>();
    }

    /// <summary>Waits (auto-waiting, no sleep) until <paramref name="page"/> shows <paramref name="state"/>.</summary>
    private static async Task ExpectStateAsync(IPage page, string state) =>
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", state);

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex DeviceId();

    [Fact]
    public async Task FirstBrowser_ActivatesTheLink_KeepsItsDevice_AndResumesOnRefreshAndAfterAForm()
    {
        var (tokenId, path) = await InviteAsync();
        await using var device = await browser.NewDeviceAsync(_address);
        var page = await device.NewPageAsync();
        var violations = new List<string>();
        // A CSP violation is reported on the console ("Refused to … because it violates … Content Security Policy").
        page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal)) violations.Add(m.Text); };

        await page.GotoAsync(path);
        await ExpectStateAsync(page, "ONBOARDING");
        await Expect(page.Locator("#reason-code")).ToHaveTextAsync("ONB_OK_SESSION_START_DRAFT");
        await Expect(page.Locator("#prompt")).ToHaveTextAsync("Bike?");
        var id = await page.EvaluateAsync<string>("() => localStorage.getItem('selene.device')");
        Assert.Matches(DeviceId(), id);
        Assert.Contains(await device.CookiesAsync(), c => c.Name == "selene_device" && c.Value == id && c.SameSite == SameSiteAttribute.Strict);

        var invite = await InviteReadAsync(tokenId);
        Assert.Equal(("ACTIVATED", "WEB"), (invite["status"]!.GetValue<string>(), invite["app_platform"]!.GetValue<string>()));
        var bound = invite["bound_device_fingerprint_hash"]!.GetValue<string>();
        // The device id itself is stored nowhere: only hashes of it reach LINK.
        Assert.DoesNotContain(id, await DatabaseTextAsync(), StringComparison.Ordinal);

        // A refresh resumes at the same question on the same device; so does the page's own form (POST, then 303 back to
        // the page, which goes on at the next step: the start date was prefilled, so the terms).
        await page.ReloadAsync();
        await ExpectStateAsync(page, "ONBOARDING");
        await Expect(page.Locator("#prompt")).ToHaveTextAsync("Bike?");
        await page.Locator("#answer").FillAsync("yes");
        await page.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-step", "Terms");
        Assert.Equal(path, new Uri(page.Url).AbsolutePath);
        Assert.Equal(id, await page.EvaluateAsync<string>("() => localStorage.getItem('selene.device')"));
        invite = await InviteReadAsync(tokenId);
        Assert.Equal((bound, 0), (invite["bound_device_fingerprint_hash"]!.GetValue<string>(), invite["forward_block_count"]!.GetValue<int>()));
        // The CSP let the page's own script and style run and blocked nothing of it.
        Assert.Empty(violations);
    }

    [Fact]
    public async Task LostCookie_IsRestoredFromLocalStorage_SoTheSameBrowserStaysTheDevice()
    {
        var (tokenId, path) = await InviteAsync();
        await using var device = await browser.NewDeviceAsync(_address);
        var page = await device.NewPageAsync();
        await page.GotoAsync(path);
        await ExpectStateAsync(page, "ONBOARDING");
        var id = await page.EvaluateAsync<string>("() => localStorage.getItem('selene.device')");

        await device.ClearCookiesAsync();
        await page.ReloadAsync();
        await ExpectStateAsync(page, "ONBOARDING");
        Assert.Contains(await device.CookiesAsync(), c => c.Name == "selene_device" && c.Value == id);
        Assert.Equal(0, (await InviteReadAsync(tokenId))["forward_block_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task WithoutJavaScript_ThePageSaysWhatItNeeds_AndOpensNothing()
    {
        var (tokenId, path) = await InviteAsync();
        await using var device = await browser.NewDeviceAsync(_address, javaScript: false);
        var page = await device.NewPageAsync();
        await page.GotoAsync(path);
        await Expect(page.Locator("noscript p, p.error").First).ToContainTextAsync("needs JavaScript and cookies");
        await Expect(page.Locator("#reason-code")).ToHaveTextAsync("INVITE_PAGE_DEVICE_PENDING");
        Assert.Equal("DRAFT_CREATED", (await InviteReadAsync(tokenId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ForwardedLink_OnASecondBrowser_IsBlocked_TellsNothingOfTheFirst_AndTheFirstGoesOn()
    {
        var (tokenId, path) = await InviteAsync();
        await using var first = await browser.NewDeviceAsync(_address);
        var mine = await first.NewPageAsync();
        await mine.GotoAsync(path);
        await ExpectStateAsync(mine, "ONBOARDING");
        var bound = (await InviteReadAsync(tokenId))["bound_device_fingerprint_hash"]!.GetValue<string>();

        await using var second = await browser.NewDeviceAsync(_address);
        var theirs = await second.NewPageAsync();
        await theirs.GotoAsync(path);
        await ExpectStateAsync(theirs, "BLOCKED");
        await Expect(theirs.Locator("h1")).ToHaveTextAsync("This invitation is already in use on another device");
        var html = await theirs.ContentAsync();
        foreach (var secretOfTheFirst in new[] { tokenId, bound, _tenant, await mine.EvaluateAsync<string>("() => localStorage.getItem('selene.device')") })
            Assert.DoesNotContain(secretOfTheFirst, html, StringComparison.Ordinal);
        Assert.Equal(0, await theirs.Locator("form").CountAsync());

        await mine.ReloadAsync();
        await ExpectStateAsync(mine, "ONBOARDING");
        var invite = await InviteReadAsync(tokenId);
        Assert.Equal(("ACTIVATED", bound, 1), (invite["status"]!.GetValue<string>(), invite["bound_device_fingerprint_hash"]!.GetValue<string>(),
            invite["forward_block_count"]!.GetValue<int>()));
    }

    [Fact]
    public async Task ExpiredLink_ShowsExpired_AndTheRecoveredLinkOpens()
    {
        var (tokenId, path) = await InviteAsync();
        _clock.Advance(TimeSpan.FromDays(8));
        await using var device = await browser.NewDeviceAsync(_address);
        var page = await device.NewPageAsync();
        await page.GotoAsync(path);
        await ExpectStateAsync(page, "EXPIRED");
        await Expect(page.Locator("#reason-code")).ToHaveTextAsync("LINK_TOKEN_EXPIRED");

        var recovered = await RunAsync("LINK_INVITE_EXPIRED_RECOVERY_COMMIT", $$"""{"expired_token_id":"{{tokenId}}"}""", "LINK_OK_EXPIRED_RECOVERY_COMMIT");
        var newPath = await LinkPathAsync(recovered.Json["new_token_id"]!.GetValue<string>());
        Assert.NotEqual(path, newPath);
        await page.ReloadAsync();
        await ExpectStateAsync(page, "EXPIRED");
        await page.GotoAsync(newPath);
        await ExpectStateAsync(page, "ONBOARDING");
    }

    [Fact]
    public async Task RevokedAndUnknownLinks_ShowTheirPages_InTheSameFrame()
    {
        var (tokenId, path) = await InviteAsync();
        await RunAsync("LINK_INVITE_REVOKE_REVOKE", $$"""{"token_id":"{{tokenId}}","reason":"withdrawn"}""", "LINK_OK_REVOKE");
        await using var device = await browser.NewDeviceAsync(_address);
        var page = await device.NewPageAsync();
        await page.GotoAsync(path);
        await ExpectStateAsync(page, "REVOKED");
        await Expect(page.Locator("#reason-code")).ToHaveTextAsync("LINK_TOKEN_REVOKED");

        // An unknown secret and a malformed one answer alike: 404, the same look, nothing about why.
        var unknown = "/invite/" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        foreach (var wrong in new[] { unknown, "/invite/not-a-secret" })
        {
            var response = await page.GotoAsync(wrong);
            await ExpectStateAsync(page, "NOT_FOUND");
            Assert.Equal(404, response!.Status);
            await Expect(page.Locator("#reason-code")).ToHaveTextAsync("LINK_REFUSE_NOT_FOUND");
        }
    }

    private async Task<string> DatabaseTextAsync()
    {
        var (_, rows) = await Testing.DatabaseText.ReadAsync(_db, _tenant);
        return string.Join("\n", rows);
    }

    /// <summary>A plain HTTP client that does not follow redirects, for the page's HTTP contract.</summary>
    private HttpClient Http() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _address };

    private static void AssertPageHeaders(HttpResponseMessage response)
    {
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.True(response.Headers.CacheControl!.NoStore, response.ToString());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Matches("^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]{24}'; style-src 'nonce-[A-Za-z0-9+/=]{24}'; ", csp);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("form-action 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryPage_CarriesTheSecurityHeaders_AndAFreshNonce()
    {
        var (_, path) = await InviteAsync();
        using var http = Http();
        var device = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var responses = new List<HttpResponseMessage>
        {
            await http.GetAsync(path),                              // no device yet: the page that makes one
            await http.GetAsync("/invite/not-a-secret"),            // not found
        };
        var withDevice = new HttpRequestMessage(HttpMethod.Get, path);
        withDevice.Headers.Add("Cookie", $"selene_device={device}");
        responses.Add(await http.SendAsync(withDevice));           // activated: the session's first step
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.OK], responses.Select(r => r.StatusCode));
        Assert.Equal(["INVITE_PAGE_DEVICE_PENDING", "LINK_REFUSE_NOT_FOUND", "ONB_OK_SESSION_START_DRAFT"],
            responses.Select(r => r.Headers.GetValues("X-Reason-Code").Single()));
        foreach (var response in responses) AssertPageHeaders(response);
        var nonces = responses.Select(r => Regex.Match(r.Headers.GetValues("Content-Security-Policy").Single(), "nonce-([^']+)").Groups[1].Value).ToHashSet();
        Assert.Equal(3, nonces.Count);
        foreach (var response in responses) response.Dispose();
    }

    /// <summary>
    /// A digest of the tenant's engine state: every table but the records a decision leaves (journal, decided turns) and
    /// the executor's bookkeeping (idempotency records, quota usage, the outbox). Those are left out because the shared
    /// server's worker hands each activation to ONB at a moment of its own: the session exists already, so that handoff
    /// is a resume that changes no state but leaves its records.
    /// </summary>
    private async Task<Dictionary<string, string>> StateDigestsAsync() =>
        (await f.TenantDigestsAsync(_tenant)).Where(d => !SimulationFuzzTests.RecordTables.Contains(d.Key) && d.Key is not ("idempotency_keys" or "gov_quota_usage" or "outbox"))
            .ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);

    /// <summary>GETs the page as <paramref name="device"/> (its cookie, no redirects followed): the status, the reason code and the HTML.</summary>
    private static async Task<(HttpStatusCode Status, string Reason, string Html)> GetPageAsync(HttpClient http, string path, string device)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", $"selene_device={device}");
        using var response = await http.SendAsync(request);
        return (response.StatusCode, response.Headers.GetValues("X-Reason-Code").Single(), await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of a hidden form field of a rendered page.</summary>
    private static string Hidden(string html, string name) => Regex.Match(html, $"name=\"{name}\" value=\"([^\"]+)\"").Groups[1].Value;

    /// <summary>POSTs a form as <paramref name="cookieDevice"/> (none: no cookie, as a cross-site form sends).</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient http, string path, string? cookieDevice, Dictionary<string, string> fields, string? mediaType = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        if (mediaType is not null) request.Content = new StringContent(string.Join("&", fields.Select(p => p.Key + "=" + p.Value)), System.Text.Encoding.UTF8, mediaType);
        if (cookieDevice is not null) request.Headers.Add("Cookie", $"selene_device={cookieDevice}");
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task Post_WithoutThisBrowsersDeviceOrFormToken_OrMalformed_IsRefused_AndChangesNothing()
    {
        var (tokenId, path) = await InviteAsync();
        using var http = Http();
        var device = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var (_, _, html) = await GetPageAsync(http, path, device);
        var token = Hidden(html, "form_token");
        Assert.NotEmpty(token);
        var before = await StateDigestsAsync();
        Task<HttpResponseMessage> PostAsync(string? cookieDevice, Dictionary<string, string> fields, string? mediaType = null) =>
            PostFormAsync(http, path, cookieDevice, fields, mediaType);
        Dictionary<string, string> Answer(string? formToken) => formToken is null
            ? new() { ["step"] = "answer", ["request_id"] = "r-1", ["field_key"] = "bike", ["value"] = "yes" }
            : new() { ["step"] = "answer", ["request_id"] = "r-1", ["field_key"] = "bike", ["value"] = "yes", ["form_token"] = formToken };

        var other = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var refused = new[]
        {
            await PostAsync(null, Answer(token)),           // a cross-site form: no SameSite=Strict cookie
            await PostAsync(device, Answer(null)),          // no form token
            await PostAsync(device, Answer(token + "x")),   // a forged one
            await PostAsync(other, Answer(token)),          // another device's
        };
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("INVITE_PAGE_FORM_REFUSED", response.Headers.GetValues("X-Reason-Code").Single());
            AssertPageHeaders(response);
        }
        using var json = await PostAsync(device, new() { ["step"] = "refresh", ["form_token"] = token }, "application/json");
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "INPUT_MEDIA_TYPE_UNSUPPORTED"), (json.StatusCode, json.Headers.GetValues("X-Reason-Code").Single()));
        // A form past the reader's limits and a body over the server's cap: input, answered 4xx.
        using var many = await PostAsync(device, Enumerable.Range(0, 2000).ToDictionary(i => "f" + i, _ => "x"));
        Assert.Equal((HttpStatusCode.BadRequest, "INPUT_SCHEMA_INVALID"), (many.StatusCode, many.Headers.GetValues("X-Reason-Code").Single()));
        using var large = await PostAsync(device, new() { ["step"] = "refresh", ["form_token"] = token, ["pad"] = new string('x', 70 * 1024) });
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "INPUT_PAYLOAD_TOO_LARGE"), (large.StatusCode, large.Headers.GetValues("X-Reason-Code").Single()));
        // This device's own form token, but a form the page never renders: 400, nothing runs.
        var malformed = new (Dictionary<string, string> Fields, string Reason)[]
        {
            (new() { ["form_token"] = token, ["request_id"] = "r-2" }, "INPUT_SCHEMA_INVALID"),                                         // no step
            (new() { ["form_token"] = token, ["step"] = "photo", ["request_id"] = "r-2" }, "INPUT_SCHEMA_INVALID"),                     // not a step of the page
            (new() { ["form_token"] = token, ["step"] = "answer", ["field_key"] = "bike", ["value"] = "yes" }, "INPUT_FIELD_INVALID"),   // no request id
            (new() { ["form_token"] = token, ["step"] = "answer", ["request_id"] = "a b", ["field_key"] = "bike", ["value"] = "yes" }, "INPUT_FIELD_INVALID"),
            (new() { ["form_token"] = token, ["step"] = "answer", ["request_id"] = "r-2", ["field_key"] = "bike" }, "INPUT_SCHEMA_INVALID"), // no value
            (new() { ["form_token"] = token, ["step"] = "terms", ["request_id"] = "r-2", ["accepted"] = "yes", ["terms_version_id"] = "selene-terms-v1" }, "INPUT_FIELD_INVALID"),
            (new() { ["form_token"] = token, ["step"] = "terms", ["request_id"] = "r-2", ["accepted"] = "true", ["terms_version_id"] = "other-terms" }, "INPUT_FIELD_INVALID"),
        };
        foreach (var (fields, reason) in malformed)
        {
            using var response = await PostAsync(device, fields);
            Assert.Equal((HttpStatusCode.BadRequest, reason), (response.StatusCode, response.Headers.GetValues("X-Reason-Code").Single()));
            AssertPageHeaders(response);
        }
        Assert.Equal(before, await StateDigestsAsync());
        Assert.Equal(0, (await InviteReadAsync(tokenId))["forward_block_count"]!.GetValue<int>());

        // The page's own form from this device goes through: 303 back to the page (a reload never re-posts).
        using var accepted = await PostAsync(device, new() { ["step"] = "refresh", ["form_token"] = token });
        Assert.Equal(HttpStatusCode.SeeOther, accepted.StatusCode);
        Assert.Equal(path, accepted.Headers.Location!.OriginalString);
        foreach (var response in refused) response.Dispose();
    }

    [Fact]
    public async Task Answer_PostedTwiceWithOneRequestId_IsOneExecution_AndARefusedOneKeepsTheTypedValue_AndChangesNothing()
    {
        var (_, path) = await InviteAsync();
        using var http = Http();
        var device = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var (_, _, html) = await GetPageAsync(http, path, device);
        var (token, requestId) = (Hidden(html, "form_token"), Hidden(html, "request_id"));
        Assert.Equal("bike", Hidden(html, "field_key"));
        var before = await StateDigestsAsync();

        // An ENUM answer must be one token: refused with its code's status, the page again with the error beside the
        // field, the typed value kept and a new request id (so the corrected answer is a new execution); nothing changed.
        using (var bad = await PostFormAsync(http, path, device, new() { ["form_token"] = token, ["step"] = "answer", ["request_id"] = requestId,
                   ["field_key"] = "bike", ["value"] = "my own <bike>" }))
        {
            Assert.Equal((HttpStatusCode.BadRequest, "ONB_ANSWER_INVALID"), (bad.StatusCode, bad.Headers.GetValues("X-Reason-Code").Single()));
            AssertPageHeaders(bad);
            var page = await bad.Content.ReadAsStringAsync();
            Assert.Contains("id=\"answer-error\" role=\"alert\" data-reason=\"ONB_ANSWER_INVALID\"", page, StringComparison.Ordinal);
            Assert.Contains("value=\"my own &lt;bike&gt;\"", page, StringComparison.Ordinal);
            Assert.NotEqual(requestId, Hidden(page, "request_id"));
            requestId = Hidden(page, "request_id");
        }
        Assert.Equal(before, await StateDigestsAsync());

        var answer = new Dictionary<string, string> { ["form_token"] = token, ["step"] = "answer", ["request_id"] = requestId, ["field_key"] = "bike", ["value"] = "yes" };
        using (var first = await PostFormAsync(http, path, device, answer))
            Assert.Equal((HttpStatusCode.SeeOther, path, "ONB_OK_DRAFT_UPDATE_COMMIT"),
                (first.StatusCode, first.Headers.Location!.OriginalString, first.Headers.GetValues("X-Reason-Code").Single()));
        var once = await StateDigestsAsync();
        Assert.NotEqual(before, once);
        using (var again = await PostFormAsync(http, path, device, answer))
            Assert.Equal((HttpStatusCode.SeeOther, path, "ONB_OK_DRAFT_UPDATE_COMMIT"),
                (again.StatusCode, again.Headers.Location!.OriginalString, again.Headers.GetValues("X-Reason-Code").Single()));
        Assert.Equal(once, await StateDigestsAsync());
        var (status, reason, next) = await GetPageAsync(http, path, device);
        Assert.Equal((HttpStatusCode.OK, "ONB_OK_DRAFT_UPDATE_COMMIT"), (status, reason));
        Assert.Contains("data-step=\"Terms\"", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_AnswersTheKeyInThePostItself_Once_AndNeitherARepeatNorAReloadShowsIt()
    {
        var (tokenId, path) = await InviteAsync();
        using var http = Http();
        var device = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        async Task<HttpResponseMessage> StepAsync(string step, params (string Key, string Value)[] extra)
        {
            var (_, _, html) = await GetPageAsync(http, path, device);
            var fields = new Dictionary<string, string> { ["form_token"] = Hidden(html, "form_token"), ["step"] = step, ["request_id"] = Hidden(html, "request_id") };
            foreach (var (key, value) in extra) fields[key] = value;
            return await PostFormAsync(http, path, device, fields);
        }
        foreach (var step in new Func<Task<HttpResponseMessage>>[] { () => StepAsync("answer", ("field_key", "bike"), ("value", "no")),
                     () => StepAsync("terms", ("accepted", "true"), ("terms_version_id", "selene-terms-v1")), () => StepAsync("device") })
        {
            using var response = await step();
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }
        var (_, _, finish) = await GetPageAsync(http, path, device);
        var complete = new Dictionary<string, string> { ["form_token"] = Hidden(finish, "form_token"), ["step"] = "complete", ["request_id"] = Hidden(finish, "request_id") };

        using var done = await PostFormAsync(http, path, device, complete);
        Assert.Equal((HttpStatusCode.OK, "ONB_OK_COMPLETE_COMMIT"), (done.StatusCode, done.Headers.GetValues("X-Reason-Code").Single()));
        AssertPageHeaders(done);   // no-store: the key is in no cache
        var key = Regex.Match(await done.Content.ReadAsStringAsync(), "<code class=\"key\" id=\"api-key\">([^<]+)</code>").Groups[1].Value;
        Assert.NotEmpty(key);
        var user = (await _api.GetAsync(_key, $"/v1/onboarding-sessions/{await SessionIdAsync(tokenId)}")).Json["session"]!["user_id"]!.GetValue<string>();
        AssertSuccess(await _api.GetAsync(key, $"/v1/access/instances/{user}"), "QUERY_OK");

        // A second submit of the same form (one execution) and a reload: the completed page, without the key.
        using var repeated = await PostFormAsync(http, path, device, complete);
        Assert.Equal((HttpStatusCode.SeeOther, path), (repeated.StatusCode, repeated.Headers.Location!.OriginalString));
        var (status, _, reloaded) = await GetPageAsync(http, path, device);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("data-state=\"COMPLETE\"", reloaded, StringComparison.Ordinal);
        Assert.DoesNotContain(key, reloaded, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"api-key\"", reloaded, StringComparison.Ordinal);
    }
}
