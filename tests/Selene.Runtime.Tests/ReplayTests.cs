using Selene.Engines.CapReq;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>Replay (issue 15 item 1): each test has a database of its own (two of them alter the record).</summary>
public sealed class ReplayTests : IAsyncLifetime
{
    private readonly RuntimeFixture _f = new();

    public Task InitializeAsync() => _f.InitializeAsync();

    public Task DisposeAsync() => _f.DisposeAsync();

    private Replayer Replayer => new(_f.Db, SimulationRegistry.Default);

    /// <summary>A request's life in one correlation: create, submit, a refused fulfil, approve, fulfil.</summary>
    private async Task<CorrelationId> LifecycleAsync()
    {
        var correlation = _f.NextCorrelation();
        var id = CapreqIdOf(await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("replay.cap"), correlation));
        await _f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id), correlation);
        await _f.RunAsync("alice", CapreqSimulations.Fulfill, Key("f"), IdBody(id), correlation); // the engine refuses: not APPROVED
        await _f.RunAsync("bob", CapreqSimulations.Approve, Key("a"), IdBody(id), correlation);
        await _f.RunAsync("bob", CapreqSimulations.Fulfill, Key("f"), IdBody(id), correlation);
        await _f.RunAsync("carol", CapreqSimulations.Approve, Key("x"), IdBody(id), correlation); // no access in acme: the gate refuses
        return correlation;
    }

    [Fact]
    public async Task Replay_OfALifecycle_ReproducesEveryGateAndEngineDecision_AndTwoRunsAgree()
    {
        var correlation = await LifecycleAsync();
        var report = await Replayer.ReplayAsync(new TenantId("acme"), correlation);
        Assert.Null(report.FirstDivergence);
        Assert.Equal(6, report.Turns);
        var gates = report.Steps.Where(s => s.Replayed == "gate").ToArray();
        Assert.Equal(6, gates.Length);
        Assert.All(gates, s => Assert.Equal(ReplayVerdict.Reproduced, s.Verdict));
        // Five decisions reached the engine (four transitions, one refusal); the sixth turn stopped at the gate.
        var engine = report.Steps.Where(s => s.Replayed is not null and not "gate").ToArray();
        Assert.Equal(5, engine.Length);
        Assert.All(engine, s => Assert.Equal(ReplayVerdict.Reproduced, s.Verdict));
        Assert.Equal([CapreqReasons.CapreqCreated.Name, CapreqReasons.CapreqSubmitted.Name, CapreqReasons.CapreqTransitionInvalid.Name,
            CapreqReasons.CapreqApproved.Name, CapreqReasons.CapreqFulfilled.Name], engine.Select(s => s.ReasonCode));
        Assert.Equal("REFUSED", engine[2].Outcome);
        Assert.Contains(report.Steps, s => s.Verdict == ReplayVerdict.Recorded && s.EventType == "ACCESS_DECISION");
        Assert.Equal(report.Steps, (await Replayer.ReplayAsync(new TenantId("acme"), correlation)).Steps); // a second run agrees
        Assert.Empty((await Replayer.ReplayAsync(new TenantId("globex"), correlation)).Steps); // another tenant's correlation shows nothing
    }

    [Fact]
    public async Task Replay_EngineRecordAltered_DivergesAtThatStepAndNamesIt()
    {
        var correlation = await LifecycleAsync();
        // The recorded state of the approval says the request was a DRAFT: the decider refuses what was recorded as approved.
        await _f.OwnerExecAsync("acme", $"""
            ALTER TABLE selene.os_turn_decisions DISABLE TRIGGER append_only_row;
            UPDATE selene.os_turn_decisions SET engine_input = replace(engine_input, '"status":"PENDING_APPROVAL"', '"status":"DRAFT"')
            WHERE correlation_id = {correlation} AND simulation_id = '{CapreqSimulations.Approve}' AND engine_input LIKE '%CAPREQ_OK_APPROVE%';
            ALTER TABLE selene.os_turn_decisions ENABLE TRIGGER append_only_row;
            """);
        var report = await Replayer.ReplayAsync(new TenantId("acme"), correlation);
        var first = Assert.IsType<ReplayStep>(report.FirstDivergence);
        Assert.Equal(CapreqSimulations.Approve, first.Replayed);
        Assert.Equal(CapreqReasons.CapreqApproved.Name, first.ReasonCode);
        Assert.Equal($"the decider gives {CapreqReasons.CapreqTransitionInvalid.Name}; {CapreqReasons.CapreqApproved.Name} was recorded", first.Detail);
        Assert.Single(report.Steps, s => s.Verdict == ReplayVerdict.Diverged);
    }

    [Fact]
    public async Task Replay_GateInputAltered_DivergesAtTheTurnDecision()
    {
        var correlation = await LifecycleAsync();
        await _f.OwnerExecAsync("acme", $"""
            ALTER TABLE selene.os_turn_decisions DISABLE TRIGGER append_only_row;
            UPDATE selene.os_turn_decisions SET input_json = replace(input_json, '"access_allowed":true', '"access_allowed":false')
            WHERE decision_id = (SELECT min(decision_id) FROM selene.os_turn_decisions WHERE correlation_id = {correlation});
            ALTER TABLE selene.os_turn_decisions ENABLE TRIGGER append_only_row;
            """);
        var first = Assert.IsType<ReplayStep>((await Replayer.ReplayAsync(new TenantId("acme"), correlation)).FirstDivergence);
        Assert.Equal("gate", first.Replayed);
        Assert.Equal(1, first.Turn);
        Assert.StartsWith("the gate decides REFUSE OS_FAIL_ACCESS_GATE on the recorded input", first.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DecisionRecord_ReadsItsVersionAndTheOneBefore_AndNothingElse()
    {
        Assert.True(Platform.DecisionRecord.IsReadable(new System.Text.Json.Nodes.JsonObject { ["schema_version"] = Platform.DecisionRecord.SchemaVersion }));
        Assert.False(Platform.DecisionRecord.IsReadable(new System.Text.Json.Nodes.JsonObject { ["schema_version"] = Platform.DecisionRecord.SchemaVersion + 1 }));
        Assert.False(Platform.DecisionRecord.IsReadable(new System.Text.Json.Nodes.JsonObject { ["schema_version"] = "1" }));
        Assert.False(Platform.DecisionRecord.IsReadable(new System.Text.Json.Nodes.JsonObject()));
    }
}
