using System.Text;
using System.Text.Json;
using Selene.Engines.CapReq;
using Selene.Learning;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Learn;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests.Learn;

/// <summary>
/// The learning loop on real PostgreSQL (issue 16): ingest is idempotent over the same journal snapshot, the binder
/// writes no duplicate derived rows, the three query primitives answer the same ordered rows for the same snapshot and
/// filters, the mode switch is a governed simulation, and a GUIDED turn consults and journals its priors while a SHADOW
/// turn answers exactly as with no learning. Own database: the tenant's whole journal is the input.
/// </summary>
public sealed class LearningLoopTests : IAsyncLifetime
{
    private readonly RuntimeFixture _f = new();
    private LearnOperations _ops = null!;

    public async Task InitializeAsync()
    {
        await _f.InitializeAsync();
        _ops = new LearnOperations(_f.Db, TimeProvider.System);
        await _f.GiveInstanceAsync("alice", "erin", "clerk", "W", ["CAPREQ_MANAGE"]);
    }

    public Task DisposeAsync() => _f.DisposeAsync();

    /// <summary>A submitted request alice created, and erin's <paramref name="attempts"/> to approve it, each escalated (ACCESS_AP_REQUIRED).</summary>
    private async Task<string> ErinIsEscalatedAsync(int attempts)
    {
        var id = CapreqIdOf(await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("learn.cap")));
        Assert.True((await _f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id))).Succeeded);
        for (var i = 0; i < attempts; i++)
        {
            var refused = await _f.RunAsync("erin", CapreqSimulations.Approve, Key("erin"), IdBody(id));
            Assert.Equal(ReasonCodes.AccessApRequired, refused.Reason);
        }
        return id;
    }

    private async Task<LearningCounts> CountsAsync(string tenant = "acme")
    {
        await using var tx = await _ops.ReadAsync(new TenantId(tenant), default);
        return await LearningStore.CountsAsync(tx, default);
    }

    private Task<IngestReport> IngestAsync(WrapperPolicy policy = WrapperPolicy.Hybrid, bool fromStart = false) =>
        _ops.IngestAsync(new TenantId("acme"), policy, fromStart, _f.NextCorrelation(), default);

    private Task<BindReport> BindAsync() => _ops.BindAsync(new TenantId("acme"), _f.NextCorrelation(), default);

    [Fact]
    public async Task IngestingTheSameJournalSnapshotTwice_StoresTheSameFactsOnce()
    {
        await ErinIsEscalatedAsync(2);
        // An entry naming a simulation and a policy code the registry does not have: quarantined with its reason, not guessed at.
        await using (var tx = await TenantTransaction.BeginAsync(_f.Db.App, "acme"))
        {
            await JournalStore.AppendAsync(tx, [new JournalEntry(_f.NextCorrelation(), new TurnId(1), "PH1.CAPREQ", "SIMULATION_REFUSED", ReasonCodes.QueryOk,
                JournalPayload.Create(("simulation_id", CapreqSimulations.Approve), ("policy_reason_code", "NOT_A_REGISTERED_CODE")), "erin", null)], 7_000, default);
            await tx.CommitAsync();
        }
        var first = await IngestAsync();
        Assert.True(first.FactsStored >= 4, $"facts stored: {first.FactsStored}"); // per attempt at least the turn's and the access gate's decision
        Assert.Equal(first.Facts, first.FactsStored);
        Assert.Equal((1, 1), (first.Quarantined, first.QuarantinedStored));
        Assert.Equal(1, await _f.CountAsync("acme", "learn_quarantine", "reason_code = 'LEARN_WRAPPER_REASON_UNKNOWN'"));
        var counts = await CountsAsync();
        Assert.Equal(first.FactsStored, counts.Facts);
        Assert.Equal(first.ToSeq, counts.IngestedSeq);

        // Past the watermark: only the first pass's own journal entry, which names no simulation.
        var again = await IngestAsync();
        Assert.Equal((0, 0), (again.Facts, again.FactsStored));
        // From the start, in another mode: every fact is read again and none is stored twice.
        var reread = await IngestAsync(WrapperPolicy.Lenient, fromStart: true);
        Assert.Equal((first.Facts, 0), (reread.Facts, reread.FactsStored));
        Assert.Equal((1, 0), (reread.Quarantined, reread.QuarantinedStored));
        Assert.Equal(counts with { IngestedSeq = (await CountsAsync()).IngestedSeq }, await CountsAsync());
        Assert.True((await CountsAsync()).IngestedSeq > counts.IngestedSeq);
    }

    /// <summary>Seed minimum test 2, on PostgreSQL: binding the same facts again writes no derived row.</summary>
    [Fact]
    public async Task BinderIdempotency_OnPostgres_SameFactsTwice_NoDuplicateDerivedRows()
    {
        await ErinIsEscalatedAsync(3);
        await IngestAsync();
        var first = await BindAsync();
        Assert.True(first.Minted >= 2 && first.Supported >= 4, $"minted {first.Minted}, supported {first.Supported}");
        var counts = await CountsAsync();
        await using (var tx = await _ops.ReadAsync(new TenantId("acme"), default))
        {
            var priors = await LearningStore.PriorsAsync(tx, policy: true, CapreqSimulations.Approve, "erin", ReasonCodes.AccessApRequired.Name, null, default);
            Assert.Equal(3, Assert.Single(priors).SupportCount);
        }

        Assert.Equal(0, (await BindAsync()).Bound);
        await IngestAsync(WrapperPolicy.Strict, fromStart: true);
        Assert.Equal(0, (await BindAsync()).Bound);
        var after = await CountsAsync();
        Assert.Equal(counts with { IngestedSeq = after.IngestedSeq }, after);
        await using (var tx = await _ops.ReadAsync(new TenantId("acme"), default))
        {
            var priors = await LearningStore.PriorsAsync(tx, policy: true, CapreqSimulations.Approve, "erin", ReasonCodes.AccessApRequired.Name, null, default);
            Assert.Equal(3, Assert.Single(priors).SupportCount);
        }
    }

    /// <summary>
    /// anomaly/v1 counts attempts, not entries: one ordinary turn journals its decision, the access gate's and the
    /// transition, which is no retry storm; three attempts of one run for the same user and simulation are.
    /// </summary>
    [Fact]
    public async Task RetryStorm_CountsTheAttemptsOfARun_NotTheEntriesOfOneTurn()
    {
        for (var i = 0; i < 3; i++)
            Assert.True((await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("calm"), CreateBody($"calm.{i}"))).Succeeded);
        await IngestAsync();
        await BindAsync();
        Assert.Empty(await StormPriorsAsync());

        var run = _f.NextCorrelation();
        for (var i = 0; i < 3; i++)
            Assert.True((await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("storm"), CreateBody($"storm.{i}"), run)).Succeeded);
        await IngestAsync();
        await BindAsync();
        var storm = await StormPriorsAsync();
        Assert.NotEmpty(storm);
        Assert.All(storm, p => Assert.Equal(("alice", CapreqSimulations.CreateDraft), (p.Key.TargetId, p.Key.ActionKind)));
    }

    private async Task<IReadOnlyList<Capsule>> StormPriorsAsync()
    {
        await using var tx = await _ops.ReadAsync(new TenantId("acme"), default);
        return await LearningStore.PriorsAsync(tx, policy: false, null, null, AnomalyTriggers.RetryStormCode, 200, default);
    }

    /// <summary>Seed minimum test 5: the same snapshot and filters give the same rows in the same (total) order.</summary>
    [Fact]
    public async Task QueryPrimitiveDeterminism_SameSnapshotAndFilters_SameOrderedRows()
    {
        await ErinIsEscalatedAsync(2);
        // Two failures recorded for the simulation (what a storage outage journals), at one instant: the order must still be total.
        await using (var tx = await TenantTransaction.BeginAsync(_f.Db.App, "acme"))
        {
            var payload = JournalPayload.Create(("simulation_id", CapreqSimulations.Approve));
            await JournalStore.AppendAsync(tx, [
                new JournalEntry(_f.NextCorrelation(), new TurnId(1), ReasonCodes.EngineApi, "REQUEST_REFUSED", ReasonCodes.StorageUnavailable, payload, "erin", null),
                new JournalEntry(_f.NextCorrelation(), new TurnId(1), ReasonCodes.EngineApi, "REQUEST_REFUSED", ReasonCodes.StorageUnavailable, payload, "bob", null),
            ], 5_000, default);
            await tx.CommitAsync();
        }
        await IngestAsync();

        async Task<string> SnapshotAsync(string tenant)
        {
            await using var tx = await _ops.ReadAsync(new TenantId(tenant), default);
            var text = new StringBuilder();
            foreach (var r in await LearningStore.RecentFailuresAsync(tx, null, null, null, default)) text.AppendLine(r.ToString());
            foreach (var r in await LearningStore.RecentFailuresAsync(tx, CapreqSimulations.Approve, ReasonCodes.StorageUnavailable.Name, 1, default)) text.AppendLine(r.ToString());
            foreach (var r in await LearningStore.GateRollupAsync(tx, null, null, default)) text.AppendLine(r.ToString());
            foreach (var r in await LearningStore.GuardDenialsAsync(tx, null, null, null, default)) text.AppendLine(r.ToString());
            foreach (var r in await LearningStore.GuardDenialsAsync(tx, CapreqSimulations.Approve, ReasonCodes.AccessApRequired.Name, 200, default)) text.AppendLine(r.ToString());
            return text.ToString();
        }

        var once = await SnapshotAsync("acme");
        Assert.Equal(once, await SnapshotAsync("acme"));
        Assert.Equal("", await SnapshotAsync("globex")); // row-level security: another tenant's views are empty

        await using (var tx = await _ops.ReadAsync(new TenantId("acme"), default))
        {
            var failures = await LearningStore.RecentFailuresAsync(tx, null, null, null, default);
            Assert.Equal(2, failures.Count);
            Assert.True(failures[0].Seq > failures[1].Seq); // same instant: the later seq first
            Assert.All(failures, r => Assert.Equal("STORAGE_UNAVAILABLE", r.FailureReasonCode));
            var denials = await LearningStore.GuardDenialsAsync(tx, CapreqSimulations.Approve, ReasonCodes.AccessApRequired.Name, null, default);
            Assert.Equal(2, denials.Count);
            Assert.All(denials, d => Assert.Equal(("erin", "DENY"), (d.TargetId, d.Signal)));
            var rollup = await LearningStore.GateRollupAsync(tx, ReasonCodes.StorageUnavailable.Name, null, default);
            Assert.Equal(2, Assert.Single(rollup).FactCount);
            Assert.Single(await LearningStore.RecentFailuresAsync(tx, null, null, 1, default));
        }
    }

    [Fact]
    public async Task ModeSwitch_IsAGovernedSimulation()
    {
        Assert.Equal(LearnReasons.LearnModeUnchanged, (await _f.RunAsync("alice", LearnSimulations.ModeSet, Key("m"), """{"mode":"SHADOW","note":"default"}""")).Reason);
        Assert.Equal(LearnReasons.LearnModeSet, (await _f.RunAsync("alice", LearnSimulations.ModeSet, Key("m"), """{"mode":"GUIDED","note":"pilot"}""")).Reason);
        Assert.Equal(LearnReasons.LearnModeUnchanged, (await _f.RunAsync("alice", LearnSimulations.ModeSet, Key("m"), """{"mode":"GUIDED","note":"again"}""")).Reason);
        // erin has no LEARN_CONTROL: the access gate refuses, and nothing changes.
        var refused = await _f.RunAsync("erin", LearnSimulations.ModeSet, Key("m"), """{"mode":"SHADOW","note":"no"}""");
        Assert.False(refused.Succeeded);
        Assert.Equal(ReasonKind.Forbidden, refused.Reason.Kind);
        Assert.Equal(ReasonCodes.InputFieldInvalid, (await _f.RunAsync("alice", LearnSimulations.ModeSet, Key("m"), """{"mode":"GUIDED","note":""}""")).Reason);
        await using var tx = await _ops.ReadAsync(new TenantId("acme"), default);
        Assert.Equal(LearnMode.Guided, (await LearnModule.Modes.GetAsync(tx, LearnModeDecider.Stream, default))!.Mode);
    }

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>erin's turn asking to approve <paramref name="capreqId"/>, under a fixed correlation, turn and key.</summary>
    private Task<TurnResult> ErinTurnAsync(string capreqId, CorrelationId correlation, string key) =>
        _f.Turns.RunAsync(new TenantId("acme"), new UserId("erin"), new TurnRequest(correlation.ToString(), 1, TurnPath.Text,
            ["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"], new TurnPosture(true, true, true, true, true, true), [RequestedMove.DispatchSimulation],
            Simulation: new TurnSimulation(CapreqSimulations.Approve, Json(IdBody(capreqId)), key)));

    private async Task<List<JournalRecord>> JournalOfAsync(CorrelationId correlation)
    {
        await using var tx = await _ops.ReadAsync(new TenantId("acme"), default);
        return [.. await JournalStore.ByCorrelationAsync(tx, correlation, 100, default)];
    }

    [Fact]
    public async Task GuidedTurn_CarriesItsPriorsAsSuggestions_AndJournalsTheConsultation_ShadowTurnCarriesNothing()
    {
        var id = await ErinIsEscalatedAsync(3);
        await IngestAsync();
        await BindAsync();

        // SHADOW (the default): priors exist, the turn reads none, consults none and journals none.
        var shadow = _f.NextCorrelation();
        var inShadow = await ErinTurnAsync(id, shadow, "shadow-1");
        Assert.Equal(ReasonCodes.OsFailAccessGate, inShadow.Reason);
        Assert.Null(inShadow.Suggestions);
        Assert.False(TurnView.ToJson(inShadow).ContainsKey("suggestions"));
        Assert.DoesNotContain(await JournalOfAsync(shadow), e => e.EventType == JournalEventTypes.LearnPriorsConsulted);

        Assert.True((await _f.RunAsync("alice", LearnSimulations.ModeSet, Key("m"), """{"mode":"GUIDED","note":"pilot"}""")).Succeeded);
        var guided = _f.NextCorrelation();
        var inGuided = await ErinTurnAsync(id, guided, "guided-1");
        Assert.Equal(ReasonCodes.OsFailAccessGate, inGuided.Reason); // priors never change the decision
        var suggestions = inGuided.Suggestions!;
        Assert.InRange(suggestions.Count, 1, LearnAdvisor.MaxSuggestions);
        var approval = Assert.Single(suggestions, s => s!["policy_reason_code"]?.GetValue<string>() == "ACCESS_AP_REQUIRED")!;
        Assert.Equal(("POLICY", "erin", CapreqSimulations.Approve, 3L, "SUGGEST"),
            (approval["kind"]!.GetValue<string>(), approval["target_id"]!.GetValue<string>(), approval["action_kind"]!.GetValue<string>(),
             approval["support_count"]!.GetValue<long>(), approval["use"]!.GetValue<string>()));
        Assert.Contains("usually needs approval", approval["text"]!.GetValue<string>());
        var consulted = Assert.Single(await JournalOfAsync(guided), e => e.EventType == JournalEventTypes.LearnPriorsConsulted);
        Assert.Equal(LearnReasons.LearnPriorsConsulted.Name, consulted.ReasonCode);
        var payload = JsonDocument.Parse(consulted.PayloadJson).RootElement;
        Assert.Equal("GUIDED", payload.GetProperty("mode").GetString());
        Assert.Contains(approval["prior_id"]!.GetValue<string>()[..16], payload.GetProperty("priors_offered").GetString());
        Assert.Equal("NONE", payload.GetProperty("prior_prescribed").GetString());

        // A direct call refused the same way carries them beside the gate's answer too.
        var direct = await _f.RunAsync("erin", CapreqSimulations.Approve, Key("erin"), IdBody(id));
        Assert.Equal(suggestions.Count, direct.Problem!["suggestions"]!.AsArray().Count);

        // PRESCRIPTIVE: the one prior meeting the prescriptive thresholds is marked, once.
        Assert.True((await _f.RunAsync("alice", LearnSimulations.ModeSet, Key("m"), """{"mode":"PRESCRIPTIVE","note":"trusted"}""")).Succeeded);
        var prescriptive = await ErinTurnAsync(id, _f.NextCorrelation(), "prescriptive-1");
        Assert.Equal(ReasonCodes.OsFailAccessGate, prescriptive.Reason);
        Assert.Single(prescriptive.Suggestions!, s => s!["use"]!.GetValue<string>() == "PRESCRIBE");

        // Priors never enter a decision: every correlation of the tenant, consultations included, decides again as recorded.
        await ReplayAssert.EveryCorrelationReproducesAsync(_f.Db, "acme", golden: null);
    }
}
