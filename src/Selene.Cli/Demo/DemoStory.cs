using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime;
using Selene.Runtime.Access;
using Selene.Runtime.Delivery;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Server;

namespace Selene.Cli.Demo;

/// <summary>
/// The story <c>selene demo</c> tells (docs/demo.md), through Selene's real doors: a server on a free 127.0.0.1 port on the
/// embedded database, the administrator's calls over HTTP, the invitee's and the holders' pages over HTTP, the outbox
/// worker run between the steps, the file sink as everyone's app. A step that does not answer what the story expects
/// stops the demo with exit code 1, naming the step and the answer.
/// </summary>
internal sealed partial class DemoStory : IAsyncDisposable
{
    private const string Company = "harbor";
    private const string Admin = "alice";

    private readonly SeleneDatabase _db;
    private readonly string _tenant;
    private readonly StoryClock _clock;
    private readonly TextWriter _out;
    private readonly FileSinkProvider _sink;
    private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
    private readonly OutboxWorker _worker;
    private readonly HttpClient _http;
    private readonly string _device = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private readonly HashSet<long> _reportedHandoffs = [];
    private readonly HashSet<string> _reportedDeliveries = new(StringComparer.Ordinal);
    private readonly List<string> _correlations = [];
    private string _adminKey = "";
    private ReasonCode _created = ReasonCodes.TenantExists;
    private int _step;

    [GeneratedRegex(@"/invite/(backfill/)?[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPath();

    [GeneratedRegex("<input type=\"hidden\" name=\"([a-z_]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenInput();

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\">")]
    private static partial Regex FormAction();

    [GeneratedRegex("id=\"state\" data-state=\"([A-Z_]+)\"")]
    private static partial Regex PageState();

    private DemoStory(SeleneDatabase db, string dataDir, string tenant, StoryClock clock, TextWriter output)
    {
        (_db, _tenant, _clock, _out) = (db, tenant, clock, output);
        var deliveries = DeliveryProviders.FileSinkOnly(dataDir);
        _sink = (FileSinkProvider)deliveries.Fallback;
        _app = SeleneApp.Build(db, new ServerOptions("http://127.0.0.1:0", Workers: false, Metrics: false, Deliveries: deliveries,
            LinkKey: Runtime.Link.LinkKey.LoadOrCreate(dataDir)), logging: _ => { }, clock: clock);
        _worker = new OutboxWorker(db, _app.Services.GetRequiredService<SimulationExecutor>(), clock,
            new OutboxWorkerOptions("demo", 64, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), _app.Services.GetRequiredService<HandoffServices>()));
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Tells the story in a new tenant (<paramref name="tenant"/>, else the first free of demo, demo-2, …); 0 when every step answered as expected.</summary>
    public static async Task<int> RunAsync(SeleneDatabase db, string dataDir, string? tenant, TextWriter output, CancellationToken ct)
    {
        // Five days before now, at 09:00: the story needs three of them (a reminder waits a day), and ends in the past.
        var today = DateTimeOffset.UtcNow;
        var clock = new StoryClock(new DateTimeOffset(today.Year, today.Month, today.Day, 9, 0, 0, TimeSpan.Zero).AddDays(-5));
        var (name, key, created) = await CreateTenantAsync(db, clock, tenant, ct);
        if (key is null)
            return Cli.Fail(ReasonCodes.TenantExists, $"tenant {name} exists already: name another with --tenant");
        await using var story = new DemoStory(db, dataDir, name, clock, output) { _adminKey = key, _created = created };
        try
        {
            await story._app.StartAsync(ct);
            story._http.BaseAddress = new Uri(story._app.Urls.First());
            await story.TellAsync(ct);
            return 0;
        }
        catch (StoryBroke broke)
        {
            output.WriteLine();
            output.WriteLine($"demo stopped at step {story._step}: {broke.Message}");
            return 1;
        }
    }

    private static async Task<(string Name, string? Key, ReasonCode Reason)> CreateTenantAsync(SeleneDatabase db, TimeProvider clock, string? wanted, CancellationToken ct)
    {
        var bootstrap = new TenantBootstrap(db, clock);
        foreach (var name in wanted is not null ? [wanted] : Enumerable.Range(1, 99).Select(i => i == 1 ? "demo" : $"demo-{i}"))
        {
            var created = await bootstrap.CreateAsync(new TenantId(name), new UserId(Admin), ct);
            if (created.Created) return (name, created.AdminKey, created.Reason);
            if (wanted is not null) return (name, null, created.Reason);
        }
        return ("demo-99", null, ReasonCodes.TenantExists);
    }

    private sealed class StoryBroke(string message) : Exception(message);

    // ---- the story --------------------------------------------------------------------------------------------------

    private async Task TellAsync(CancellationToken ct)
    {
        _out.WriteLine($"Selene demo: tenant {_tenant}, {Cli.Describe(_db)}, server {_http.BaseAddress}");
        _out.WriteLine($"The story's clock starts {_clock.GetUtcNow():yyyy-MM-dd HH:mm} UTC and moves only when the story waits; every record is dated on it.");
        _out.WriteLine();
        Line(Admin, $"tenant {_tenant} with its first administrator {Admin} (selene tenant create)", _created.Name, null);

        Chapter("A company, a position and what it requires of new hires");
        await AdminAsync("TENANT_COMPANY_UPSERT_COMMIT", $$"""{"company_id":"{{Company}}","legal_name":"Harbor Logistics GmbH","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""", ct);
        var position = (await AdminAsync("POSITION_SIM_001_CREATE_DRAFT", $$"""
            {"company_id":"{{Company}}","position_title":"Forklift driver","department":"Warehouse","jurisdiction":"DE","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """, ct))["position"]!["position_id"]!.GetValue<string>();
        await AdminAsync("POSITION_SIM_004_ACTIVATE_COMMIT", $$"""{"position_id":"{{position}}"}""", ct);
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT", $$"""
            {"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"v1","field_specs":[{{Field("legal_name", "STRING", "Your full legal name?")}},
             {{Field("start_date", "DATE", "When do you start?")}},{{Field("weekly_hours", "INTEGER", "Hours per week?")}}]}
            """, ct);
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT",
            $$"""{"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""", ct);

        Chapter("bo has driven forklifts here for years; his phone has the app");
        await AdminAsync("POSITION_HOLDER_ASSIGN_COMMIT", $$"""{"position_id":"{{position}}","user_id":"bo"}""", ct);
        await AdminAsync("DELIVERY_CHANNEL_SETUP_COMMIT", """{"user_id":"bo","setup_source":"SETTINGS","bindings":{"APP_PUSH":"bo-phone"}}""", ct);

        Chapter("alice invites dana; Selene delivers the invite to dana's phone; dana answers what alice did not know on its page");
        var token = (await AdminAsync("LINK_INVITE_GENERATE_DRAFT", $$$"""
            {"invitee_type":"EMPLOYEE","schema_version_id":"v1",
             "prefilled_fields":{"company_id":"{{{Company}}}","position_id":"{{{position}}}","start_date":"{{{_clock.GetUtcNow().AddDays(30):yyyy-MM-dd}}}","user_id":"dana"}}
            """, ct))["token"]!["token_id"]!.GetValue<string>();
        await AdminAsync("LINK_DELIVER_INVITE_START_COMMIT", $$"""{"token_id":"{{token}}","delivery_method":"SELENE_APP","destination":"dana-phone"}""", ct);
        var invite = LinkPath().Match(Messages(token).LastOrDefault() ?? "").Value;
        if (invite.Length == 0) throw new StoryBroke("the invite did not reach dana's phone");
        await WaitAsync(TimeSpan.FromMinutes(1), ct); // LINK looks at the delivery again and projects the link SENT
        Line(Admin, $"GET /v1/invites/{token}: {(await ReadAsync($"/v1/invites/{token}", ct))["invite"]!["status"]} (delivered; its secret is stored nowhere)", "QUERY_OK", null);
        await OnboardAsync(invite, new Dictionary<string, string>(StringComparer.Ordinal) { ["legal_name"] = "Dana Example", ["weekly_hours"] = "38" }, ct);
        await AdminAsync("DELIVERY_CHANNEL_SETUP_COMMIT", """{"user_id":"dana","setup_source":"SETTINGS","bindings":{"APP_PUSH":"dana-phone"}}""", ct);
        var holders = (await ReadAsync($"/v1/positions/{position}/holders", ct))["holders"]!.AsArray().Select(h => h!["user_id"]!.GetValue<string>()).Order();
        Line(Admin, $"GET /v1/positions/{position}/holders: {string.Join(", ", holders)}", "QUERY_OK", null);

        Chapter("Changes for current staff need an approval here; kim approves capability requests (with a key of her own)");
        await AdminAsync("GOV_APPROVAL_POLICY_SET_COMMIT", """{"capability_id":"POSITION_SCHEMA_CHANGE","required":true,"note":"changes for current staff need an approval"}""", ct);
        await AdminAsync("ACCESS_INSTANCE_UPSERT_COMMIT", """{"target_user_id":"kim","role_template_id":"approver","access_mode":"A","allow":["CAPREQ_MANAGE"]}""", ct);
        var approver = await KeyStore.CreateKeyAsync(_db, new TenantId(_tenant), new UserId("kim"), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value, ct)
            ?? throw new StoryBroke("no key for the approver");

        Chapter("Drivers now need a forklift licence number, current staff too");
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT", $$"""
            {"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"v2","field_specs":[{{Field("legal_name", "STRING", "Your full legal name?")}},
             {{Field("start_date", "DATE", "When do you start?")}},{{Field("weekly_hours", "INTEGER", "Hours per week?")}},
             {{Field("licence_number", "STRING", "Your forklift licence number?")}}]}
            """, ct);
        var activation = $$"""{"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"v2","apply_scope":"CURRENT_AND_NEW","backfill_launch_confirmed":true}""";
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", activation, ct, expect: HttpStatusCode.Forbidden); // no approval yet: nothing changes
        var capreq = (await AdminAsync("CAPREQ_CREATE_DRAFT", $$"""
            {"requested_capability_id":"POSITION_SCHEMA_CHANGE","target_scope_ref":"{{position}}:v2","justification":"forklift licences for every driver"}
            """, ct))["capreq"]!["capreq_id"]!.GetValue<string>();
        await AdminAsync("CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT", $$"""{"capreq_id":"{{capreq}}"}""", ct);
        await CallAsync("kim", approver, "CAPREQ_APPROVE_COMMIT", $$"""{"capreq_id":"{{capreq}}"}""", HttpStatusCode.OK, ct);
        await AdminAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", activation, ct);
        Line(Admin, $"GET /v1/capreqs/{capreq}: {(await ReadAsync($"/v1/capreqs/{capreq}", ct))["capreq"]!["status"]} by the activation", "QUERY_OK", null);
        await WorkAsync(ct);
        var campaign = Single((await ReadAsync("/v1/backfill-campaigns", ct))["campaigns"]!.AsArray(), "one backfill campaign");
        var campaignId = campaign["campaign_id"]!.GetValue<string>();
        Line(Admin, $"GET /v1/backfill-campaigns: {campaignId} {campaign["state"]} over {campaign["total_target_count"]} holder(s)", "QUERY_OK", null);

        Chapter("Each holder is asked on their app; dana answers at once, bo does not");
        await WaitAsync(TimeSpan.FromMinutes(5), ct);
        var danaLink = LinkPath().Match(Messages("dana").LastOrDefault() ?? "").Value;
        if (danaLink.Length == 0) throw new StoryBroke("no message with a personal link reached dana's app");
        await AnswerBackfillAsync("dana", danaLink, "FL-2231-DE", ct);

        Chapter("bo is reminded until his reminders run out; the campaign then completes");
        for (var i = 0; i < 8 && await OpenHandoffsAsync(ct) is { } next; i++)
            await WaitAsync(next - _clock.GetUtcNow() + TimeSpan.FromSeconds(1), ct);
        var done = (await ReadAsync($"/v1/backfill-campaigns/{campaignId}", ct));
        foreach (var target in done["targets"]!.AsArray())
        {
            var user = target!["user_id"]!.GetValue<string>();
            Line(Admin, $"target {user}: {target["status"]}, {Messages(user).Count.ToString(CultureInfo.InvariantCulture)} message(s) on the app, " +
                $"{target["answered_fields"]!.AsArray().Count.ToString(CultureInfo.InvariantCulture)} field(s) answered", target["last_reason_code"]!.GetValue<string>(), null);
        }
        var final = done["campaign"]!;
        if (final["state"]!.GetValue<string>() != "COMPLETED") throw new StoryBroke($"the campaign ended {final["state"]}, not COMPLETED");
        Line(Admin, $"campaign {campaignId}: {final["state"]}, {final["completed_target_count"]} of {final["total_target_count"]} holders answered",
            "QUERY_OK", null);

        Chapter("Where to look");
        _out.WriteLine($"  Delivered messages: {_sink.Directory} ({_reportedDeliveries.Count} of this demo), or: selene deliveries --tenant {_tenant}");
        _out.WriteLine($"  The journal, verified and bound to every ledger row: selene audit verify; the projections rebuilt from the ledgers: selene rebuild");
        _out.WriteLine($"  Any step again, decided anew from its record: selene replay --tenant {_tenant} --correlation <corr>, e.g. {_correlations[^1]}");
        _out.WriteLine($"  The API as alice: selene keys create --tenant {_tenant} --user alice, then selene serve (docs/demo.md)");
    }

    private static string Field(string key, string type, string prompt) =>
        $$"""{"field_key":"{{key}}","field_type":"{{type}}","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"{{prompt}}","prompt_long":"{{prompt}}"}""";

    // ---- the administrator: simulations and reads over HTTP -----------------------------------------------------------

    /// <summary>POST /v1/simulations/{simulation} as alice: <see cref="CallAsync"/>.</summary>
    private Task<JsonNode> AdminAsync(string simulation, string body, CancellationToken ct, HttpStatusCode expect = HttpStatusCode.OK) =>
        CallAsync(Admin, _adminKey, simulation, body, expect, ct);

    /// <summary>
    /// POST /v1/simulations/{simulation} as <paramref name="who"/> with a fresh Idempotency-Key; a line with the status,
    /// reason code and correlation. Any other status than <paramref name="expect"/> stops the story.
    /// </summary>
    private async Task<JsonNode> CallAsync(string who, string key, string simulation, string body, HttpStatusCode expect, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/simulations/{simulation}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"demo-{_step + 1}");
        using var response = await _http.SendAsync(request, ct);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
        var reason = json["reason_code"]?.GetValue<string>() ?? "";
        var correlation = json["correlation_id"]?.GetValue<string>();
        Line(who, $"POST /v1/simulations/{simulation}", $"{(int)response.StatusCode} {reason}", correlation);
        if (response.StatusCode != expect) throw new StoryBroke($"{simulation} answered {(int)response.StatusCode} {json.ToJsonString()}");
        if (correlation is not null) _correlations.Add(correlation);
        await WorkAsync(ct);
        return json;
    }

    private async Task<JsonNode> ReadAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _adminKey);
        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK) throw new StoryBroke($"GET {path} answered {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static JsonNode Single(JsonArray items, string what) =>
        items.Count == 1 ? items[0]! : throw new StoryBroke($"expected {what}, found {items.Count}");

    // ---- the invitee's and the holders' pages over HTTP --------------------------------------------------------------

    /// <summary>
    /// Dana on the invite page: each page's one form is filled (the question asked with her answer, the terms accepted,
    /// this device confirmed, finish) and posted, until the page says COMPLETE.
    /// </summary>
    private async Task OnboardAsync(string link, IReadOnlyDictionary<string, string> answers, CancellationToken ct)
    {
        var (page, _) = await PageAsync(HttpMethod.Get, link, null, ct);
        Line("dana", $"GET {Mask(link)}: the link binds to her browser, the session pins the position's schema v1", "200 " + PageReason(page), null);
        for (var i = 0; i < 12 && PageState().Match(page).Groups[1].Value != "COMPLETE"; i++)
        {
            var form = HiddenInput().Matches(page).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value), StringComparer.Ordinal);
            var action = WebUtility.HtmlDecode(FormAction().Match(page).Groups[1].Value);
            var what = form["step"] switch
            {
                "answer" => $"answers {form["field_key"]}",
                "terms" => "accepts the terms " + form["terms_version_id"],
                "device" => "confirms this browser as her device",
                _ => "finishes: her access is created and her key shown once",
            };
            if (form["step"] == "answer")
                form["value"] = answers.TryGetValue(form["field_key"], out var answer) ? answer : throw new StoryBroke($"the page asked {form["field_key"]}, which the story has no answer for");
            if (form["step"] == "terms") form["accepted"] = "true";
            var (next, status) = await PageAsync(HttpMethod.Post, action, form, ct);
            Line("dana", $"POST {Mask(action)}: {what}", $"{status} {PageReason(next)}", null);
            page = next;
        }
        if (PageState().Match(page).Groups[1].Value != "COMPLETE") throw new StoryBroke("dana's onboarding did not complete: " + PageReason(page));
        await WorkAsync(ct);
    }

    /// <summary>A holder answers the field their personal link asks, on its page.</summary>
    private async Task AnswerBackfillAsync(string user, string link, string answer, CancellationToken ct)
    {
        var (page, _) = await PageAsync(HttpMethod.Get, link, null, ct);
        Line(user, $"GET {Mask(link)}: the personal link from her app asks one question", "200 " + PageReason(page), null);
        var form = HiddenInput().Matches(page).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value), StringComparer.Ordinal);
        form["value"] = answer;
        var (done, status) = await PageAsync(HttpMethod.Post, WebUtility.HtmlDecode(FormAction().Match(page).Groups[1].Value), form, ct);
        Line(user, $"POST {Mask(link)}: answers {form["field_key"]}", $"{status} {PageReason(done)}", null);
        if (status != 200) throw new StoryBroke($"{user}'s answer was refused: {PageReason(done)}");
        await WorkAsync(ct);
    }

    /// <summary>One page request with the browser's device cookie; a 303 is followed like a browser does. The final page and the status of the request itself.</summary>
    private async Task<(string Html, int Status)> PageAsync(HttpMethod method, string path, IReadOnlyDictionary<string, string>? form, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", $"selene_device={_device}");
        if (form is not null) request.Content = new FormUrlEncodedContent(form);
        using var response = await _http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.SeeOther && response.Headers.Location is { } next)
            return ((await PageAsync(HttpMethod.Get, next.ToString(), null, ct)).Html, 303);
        var html = await response.Content.ReadAsStringAsync(ct);
        if ((int)response.StatusCode >= 400) throw new StoryBroke($"{method} {Mask(path)} answered {(int)response.StatusCode} {PageReason(html)}");
        return (html, (int)response.StatusCode);
    }

    private static string PageReason(string html) =>
        Regex.Match(html, "<span id=\"reason-code\">([A-Z0-9_]+)</span>") is { Success: true } m ? m.Groups[1].Value : "?";

    /// <summary>A link's path with its secret cut short: the timeline is not a place for secrets.</summary>
    private static string Mask(string path) => LinkPath().Replace(path, m => m.Value[..(m.Value.Length - 39)] + "…");

    // ---- the worker, the clock and what was delivered ----------------------------------------------------------------

    /// <summary>Runs the outbox worker until nothing is due; a line per handoff it settled and per message it delivered.</summary>
    private async Task WorkAsync(CancellationToken ct)
    {
        await _worker.DrainAsync(100, ct);
        await using (var tx = await TenantTransaction.BeginAsync(_db.App, _tenant, ct))
        {
            // One line per kind of handoff the worker settled (the loop of a campaign is many rows of a few kinds).
            var settled = (await OutboxStore.ListAsync(tx, ct))
                .Where(r => r.Status is OutboxStatus.Confirmed or OutboxStatus.DeadLetter && _reportedHandoffs.Add(r.OutboxId)).ToList();
            foreach (var kind in settled.GroupBy(r => (r.EventType, r.Status)))
                Line("worker", $"handoff {kind.Key.EventType}{(kind.Count() > 1 ? $" ×{kind.Count().ToString(CultureInfo.InvariantCulture)}" : "")}",
                    kind.Key.Status, kind.First().CorrelationId);
        }
        foreach (var (file, json) in SinkFiles().Where(f => !_reportedDeliveries.Contains(f.File)).ToList())
        {
            _reportedDeliveries.Add(file);
            // The secret is cut out before the text is cut short: a shortened link would no longer look like one.
            var text = Mask(json["content_text"]?.GetValue<string>() ?? "");
            Line("delivery", $"{json["channel"]} to {json["recipient_id"]} ({json["address"]}): \"{(text.Length > 60 ? text[..60] + "…" : text)}\"",
                "SENT " + Path.GetFileName(file), null);
        }
    }

    private IEnumerable<(string File, JsonNode Json)> SinkFiles() =>
        !Directory.Exists(_sink.Directory) ? [] :
        Directory.GetFiles(_sink.Directory, "*.json").Select(f => (File: f, Json: JsonNode.Parse(File.ReadAllText(f))!))
            .Where(f => f.Json["tenant_id"]?.GetValue<string>() == _tenant).OrderBy(f => f.Json["timestamp"]!.GetValue<string>(), StringComparer.Ordinal);

    /// <summary>What reached <paramref name="user"/>'s app so far, oldest first.</summary>
    private List<string> Messages(string user) =>
        SinkFiles().Where(f => f.Json["recipient_id"]?.GetValue<string>() == user).Select(f => f.Json["content_text"]!.GetValue<string>()).ToList();

    private async Task WaitAsync(TimeSpan by, CancellationToken ct)
    {
        _clock.Advance(by);
        _out.WriteLine($"     … {Humanize(by)} later");
        await WorkAsync(ct);
    }

    /// <summary>When the next open handoff is due, or null when every handoff of the tenant is settled.</summary>
    private async Task<DateTimeOffset?> OpenHandoffsAsync(CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, _tenant, ct);
        var open = (await OutboxStore.ListAsync(tx, ct)).Where(r => r.Status is not (OutboxStatus.Confirmed or OutboxStatus.DeadLetter)).ToList();
        return open.Count == 0 ? null : new UnixNanos(open.Min(r => r.NextAttemptAt)).ToDateTimeOffset();
    }

    private static string Humanize(TimeSpan span) => span.TotalDays >= 1 ? $"{span.TotalDays:0.#} day(s)" : span.TotalHours >= 1 ? $"{span.TotalHours:0.#} hour(s)" : $"{span.TotalMinutes:0} minute(s)";

    // ---- the timeline -------------------------------------------------------------------------------------------------

    private void Chapter(string title)
    {
        _out.WriteLine();
        _out.WriteLine($"  {title}");
    }

    private void Line(string who, string what, string result, string? correlation)
    {
        _step++;
        var time = _clock.GetUtcNow().ToString("MM-dd HH:mm", CultureInfo.InvariantCulture);
        _out.WriteLine($"{_step,4}  {time}  {who,-8}  {what,-78}  {result}{(correlation is null ? "" : $"  corr {correlation}")}");
    }
}
