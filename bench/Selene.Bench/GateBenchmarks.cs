using BenchmarkDotNet.Attributes;
using Selene.Kernel.Os;

namespace Selene.Bench;

/// <summary>
/// The PH1.OS gate per turn: OS_POLICY_EVALUATE then OS_DECISION_COMPUTE, time and bytes allocated (goal: well
/// under 1 µs, zero bytes). Three postures: a simulation that passes every gate, a turn refused at the access gate,
/// and a chat turn carrying the maximum 128 outcome rows (GATE-U2 scans them all). The full top-level slice, which
/// plans optional engines and may allocate, is measured alongside for reference.
/// </summary>
[MemoryDiagnoser]
public class GateBenchmarks
{
    private static readonly CorrelationId Correlation = new(4242);
    private static readonly TurnId Turn = new(7);
    private static readonly OsConfig Config = OsConfig.Mvp;
    private static readonly OsMoveRequest SimulationMove = new(false, false, null, false, false, false, false, true);
    private static readonly OsMoveRequest ChatMove = new(true, false, null, false, false, false, false, false);

    private OsPolicyInput _dispatch;
    private OsPolicyInput _accessRefused;
    private OsPolicyInput _chatWithOutcomes;
    private OsTopLevelInput _slice = null!;

    [GlobalSetup]
    public void Setup()
    {
        var deps = new OsExecutionDeps(true, true, true, true, true, false, false);
        var twoRows = new[]
        {
            new OsOutcomeEntry("PH1.LANG", "LANG_HINT", Correlation, Turn, OsOutcomeActionClass.AuditOnly, "NONE", 3, false, "LANG_OK"),
            new OsOutcomeEntry("PH1.SEARCH", "SEARCH_RESULT", Correlation, Turn, OsOutcomeActionClass.ActNow, "PH1.X", 11, true, "SEARCH_OK"),
        };
        var manyRows = Enumerable.Range(0, 128)
            .Select(i => new OsOutcomeEntry("PH1.SEARCH", "SEARCH_RESULT", Correlation, Turn, OsOutcomeActionClass.QueueLearn, "PH1.LEARN", (uint)i, i % 2 == 0, "SEARCH_OK"))
            .ToArray();
        _dispatch = Input(simulation: true, deps, twoRows);
        _accessRefused = Input(simulation: true, deps with { AccessAllowed = false }, twoRows);
        _chatWithOutcomes = Input(simulation: false, deps, manyRows);
        _slice = new OsTopLevelInput
        {
            Correlation = Correlation,
            Turn = Turn,
            Path = TurnPath.Text,
            AlwaysOnCompletedSequence = ["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"],
            OptionalRequested = ["PH1.LANG", "PH1.SEARCH"],
            MaxOptionalInvocations = 4,
            Posture = new OsTurnPosture(true, true, true, true, true, true),
            Move = SimulationMove,
            Governance = OsGovernanceDecisions.AllAllow,
            Deps = deps,
            Outcomes = [.. twoRows],
        };
    }

    private static OsPolicyInput Input(bool simulation, OsExecutionDeps deps, OsOutcomeEntry[] outcomes) => new()
    {
        Correlation = Correlation,
        Turn = Turn,
        MaxGuardFailures = Config.MaxGuardFailures,
        MaxDiagnostics = Config.MaxDiagnostics,
        MaxOutcomeEntries = Config.MaxOutcomeEntries,
        Posture = new OsTurnPosture(true, true, true, true, true, true),
        PromptPolicyRequired = false,
        SimulationRequested = simulation,
        Governance = OsGovernanceDecisions.AllAllow,
        Deps = deps,
        NoEngineToEngineCalls = true,
        NoSimulationNoExecution = true,
        OneTurnOneMove = true,
        OptionalBudget = OsOptionalBudget.NoneRequested,
        Outcomes = outcomes,
    };

    [Benchmark(Baseline = true, Description = "evaluate+compute: dispatch simulation")]
    public OsNextMove DispatchSimulation() => Decide(_dispatch, SimulationMove);

    [Benchmark(Description = "evaluate+compute: refused at access gate")]
    public OsNextMove AccessRefused() => Decide(_accessRefused, SimulationMove);

    [Benchmark(Description = "evaluate+compute: chat, 128 outcome rows")]
    public OsNextMove ChatWith128Outcomes() => Decide(_chatWithOutcomes, ChatMove);

    [Benchmark(Description = "top-level slice (plan + gate)")]
    public OsTurnOutcome TurnSlice() => OsTurnSlice.Run(_slice, Config);

    private static OsNextMove Decide(in OsPolicyInput input, in OsMoveRequest move)
    {
        var policy = OsGate.PolicyEvaluate(input, Config);
        return OsGate.DecisionCompute(policy, move, Config).Move;
    }
}
