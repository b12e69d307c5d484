using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Onb;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Delivery;
using Selene.Runtime.Link;
using Selene.Runtime.Onb;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Testing;

namespace Selene.Runtime.Tests.Onb;

/// <summary>
/// Issue 13 item 2 at scale, on real PostgreSQL and a fake clock, with one outbox worker running every engine's routes
/// and the file sink as the holders' app: a CURRENT_AND_NEW activation over 200 current holders starts one campaign;
/// each target's loop (BCAST draft → deliver → REM-scheduled follow-ups → ONB notify) runs through the outbox; half the
/// holders answer on their page after the first message, the other half are reminded until exhausted; the campaign
/// completes once, 100/200, and every holder got exactly one message per loop step.
/// </summary>
public sealed partial class BackfillCampaignTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 9, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 7)).ToArray());
    private readonly FakeTimeProvider _clock = new(T0);
    private readonly string _sink = Path.Combine(Path.GetTempPath(), "selene-backfill-" + Guid.NewGuid().ToString("N")[..8]);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private OutboxWorker _worker = null!;
    private long _correlation = 13_000;
    private int _keys;

    [GeneratedRegex(@"/invite/backfill/([A-Za-z0-9_-]{43})")]
    private static partial Regex LinkPattern();

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        var services = HandoffServices.None.With(Key).With(new DeliveryProviders(new FileSinkProvider(_sink), new Dictionary<Engines.Delivery.DeliveryChannel, IDeliveryProvider>()));
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock, services: services));
        _worker = new OutboxWorker(_db, _executor, _clock, new OutboxWorkerOptions("w1", 200, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), services));
        await new TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        if (Directory.Exists(_sink)) Directory.Delete(_sink, recursive: true);
    }

    [Fact]
    public async Task TwoHundredHolders_EveryTargetEnds_EachNotifiedOncePerLoopStep_AndTheCampaignCompletesOnce()
    {
        var holders = Enumerable.Range(0, 200).Select(i => $"h{i:D3}").ToArray();
        var position = await PositionAsync();
        foreach (var h in holders)
        {
            await OkAsync(PositionSimulations.HolderAssign, $$"""{"position_id":"{{position}}","user_id":"{{h}}"}""");
            await OkAsync(DeliveryModule.ChannelSetupCommit, $$$"""{"user_id":"{{{h}}}","setup_source":"SETTINGS","bindings":{"APP_PUSH":"{{{h}}}-phone"}}""");
        }
        await ActivateAsync(position);

        // The activation's handoff starts the campaign; each target's first message goes out at once.
        await DrainAsync();
        var campaignId = Assert.Single(await CampaignsAsync()).CampaignId;
        var first = Messages();
        Assert.Equal(holders, first.Select(m => m.Recipient).Order(StringComparer.Ordinal));

        // After BCAST's WAITING window each target is escalated, deferred with a reminder (REM schedules it) and notified:
        // REQUESTED. Even holders then answer both fields on their page (the link in their message), before any reminder.
        _clock.Advance(TimeSpan.FromTicks(Engines.Bcast.BcastDecider.WaitingWindowNs / 100));
        await DrainAsync();
        Assert.All(await TargetsAsync(campaignId), t => Assert.Equal((BackfillTargetStatus.Requested, 1), (t.Status, t.Notified)));
        var answerers = holders.Where((_, i) => i % 2 == 0).ToHashSet(StringComparer.Ordinal);
        foreach (var m in first.Where(m => answerers.Contains(m.Recipient)))
        {
            var secret = LinkPattern().Match(m.Text).Groups[1].Value;
            Assert.Equal(BackfillPageOutcome.Active, (await OnbBackfillPage.AnswerAsync(_executor, _db, secret, "licence_number", "L-" + m.Recipient, "r1", default)).Outcome);
            Assert.Equal(BackfillPageOutcome.Completed, (await OnbBackfillPage.AnswerAsync(_executor, _db, secret, "years_experience", "4", "r2", default)).Outcome);
        }

        // Run the clock until nothing is left to do: reminders, exhaustion, the closing of each broadcast, the completion.
        await RunToQuietAsync();
        var campaign = Assert.Single(await CampaignsAsync());
        Assert.Equal((BackfillCampaignState.Completed, 100, 200), (campaign.State, campaign.CompletedTargets, campaign.TotalTargets));
        var targets = await TargetsAsync(campaignId);
        Assert.Equal(200, targets.Count);
        Assert.All(targets, t => Assert.True(BackfillDecider.IsTerminal(t.Status)));
        foreach (var t in targets)
        {
            var answered = answerers.Contains(t.UserId);
            Assert.Equal(answered ? BackfillTargetStatus.Completed : BackfillTargetStatus.Failed, t.Status);
            if (!answered) Assert.Equal(OnbReasons.OnbBackfillRemindersExhausted.Name, t.LastReasonCode);
            // One notify per loop step: the request (round 0), then a reminder's for each round that scheduled another.
            Assert.Equal((1, answered ? 0 : OnbBackfillLoop.MaxReminders - 1), (t.Notified, t.Reminded));
        }

        // Exactly one message per holder per loop step: the request, then the reminders of those who never answered.
        var all = Messages();
        foreach (var h in holders)
            Assert.Equal(answerers.Contains(h) ? 1 : 1 + OnbBackfillLoop.MaxReminders, all.Count(m => m.Recipient == h));
        Assert.Equal(all.Count, all.Select(m => m.AttemptId).Distinct().Count());
        Assert.Single(await JournalOfAsync(OnbReasons.OnbOkBackfillComplete.Name));

        // A further day changes nothing: nothing fires twice, every row is settled, and every store rebuilds identically.
        _clock.Advance(TimeSpan.FromDays(1));
        await DrainAsync();
        Assert.Equal(all.Count, Messages().Count);
        Assert.Empty(await OpenRowsAsync());
        foreach (var engine in new[] { "onb", "bcast", "delivery", "rem" })
            Assert.All(await new Maintenance(_db, _clock).RebuildAsync(engine, "acme", apply: false), r => Assert.True(r.Identical, $"{r.Store}: {string.Join(", ", r.Differences)}"));
        // Every loop step, answer, failure and the completion decide again as recorded (too large to keep as a golden fixture).
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, "acme", golden: null);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private sealed record Message(string AttemptId, string Recipient, string Text);

    /// <summary>What the file sink delivered: one file per attempt.</summary>
    private List<Message> Messages() => !Directory.Exists(_sink) ? [] :
        Directory.GetFiles(_sink, "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .Select(j => new Message(j["delivery_attempt_id"]!.GetValue<string>(), j["recipient_id"]!.GetValue<string>(), j["content_text"]!.GetValue<string>())).ToList();

    private async Task DrainAsync() => Assert.True(await _worker.DrainAsync(200), "the outbox did not drain in 200 passes");

    /// <summary>Drains, then moves the clock to the next waiting row's due time, until none waits; a dead-lettered row fails.</summary>
    private Task RunToQuietAsync() => OutboxQuiet.RunAsync(_db, "acme", _clock, DrainAsync);

    /// <summary>The tenant's rows not settled yet (PENDING or FAILED awaiting a retry).</summary>
    private async Task<List<OutboxRow>> OpenRowsAsync()
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var rows = new List<OutboxRow>();
        long after = 0;
        while (true)
        {
            var page = await OutboxStore.ListAsync(tx, default, afterId: after);
            rows.AddRange(page.Where(r => r.Status is OutboxStatus.Pending or OutboxStatus.Failed or OutboxStatus.Sent or OutboxStatus.DeadLetter));
            if (page.Count < 1000) return rows;
            after = page[^1].OutboxId;
        }
    }

    private async Task<IReadOnlyList<BackfillCampaign>> CampaignsAsync()
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return (await OnbBackfill.Campaigns.ListAsync(tx, null, null, 100, default)).Select(r => r.State).ToArray();
    }

    private async Task<IReadOnlyList<BackfillTarget>> TargetsAsync(string campaignId)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await OnbBackfill.TargetsOfAsync(tx, campaignId, default);
    }

    private async Task<List<string>> JournalOfAsync(string reasonCode)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        await using var cmd = tx.Command("SELECT event_type FROM selene.journal WHERE tenant_id = 'acme' AND reason_code = $1 AND event_type = 'STATE_TRANSITION'");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = reasonCode });
        var found = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) found.Add(reader.GetString(0));
        return found;
    }

    private const string LicenceSpec = """
        {"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"USER_ANSWER","prompt_short":"Licence number?","prompt_long":"The number on your forklift licence?"}
        """;
    private const string YearsSpec = """
        {"field_key":"years_experience","field_type":"INTEGER","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"USER_ANSWER","prompt_short":"Years?","prompt_long":"How many years have you driven forklifts?"}
        """;

    /// <summary>An ACTIVE position of an ACTIVE company (its holders are assigned by the test).</summary>
    private async Task<string> PositionAsync()
    {
        await OkAsync(PositionSimulations.CompanyUpsert, """{"company_id":"acme-logistics","legal_name":"Acme Logistics GmbH","jurisdiction":"DE-BY","lifecycle_state":"ACTIVE"}""");
        var created = await OkAsync(PositionSimulations.CreateDraft, """
            {"company_id":"acme-logistics","position_title":"Forklift Driver","department":"Logistics","jurisdiction":"DE-BY","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """);
        var position = created["position"]!["position_id"]!.GetValue<string>();
        await OkAsync(PositionSimulations.Activate, $$"""{"position_id":"{{position}}"}""");
        return position;
    }

    /// <summary>Schema v1 (licence number, years) activated for current staff too.</summary>
    private async Task ActivateAsync(string position)
    {
        await OkAsync(PositionSimulations.SchemaCreateDraft, $$"""
            {"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v1","field_specs":[{{LicenceSpec}},{{YearsSpec}}]}
            """);
        await OkAsync(PositionSimulations.SchemaActivate, $$"""{"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"CURRENT_AND_NEW","backfill_launch_confirmed":true}""");
    }

    private async Task<JsonNode> OkAsync(string simulation, string body)
    {
        using var doc = JsonDocument.Parse(body);
        var result = await _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId("alice"), simulation, $"k-{++_keys}", doc.RootElement.Clone(),
            new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return JsonNode.Parse(result.Body!)!;
    }
}
