using Selene.Kernel.Os;

namespace Selene.Kernel.Tests;

/// <summary>Inputs where every gate passes; tests change the one thing they are about.</summary>
internal static class OsFixtures
{
    public static readonly CorrelationId Correlation = new(7701);
    public static readonly TurnId Turn = new(8701);

    public static OsTurnPosture Posture { get; } = new(
        SessionActive: true, TranscriptOk: true, NlpConfidenceHigh: true, RequiresConfirmation: false,
        ConfirmationReceived: false, PromptPolicyGateOk: true);

    public static OsExecutionDeps Deps { get; } = new(
        AccessAllowed: true, BlueprintActive: true, SimulationActive: true, IdempotencyRequired: true,
        IdempotencyKeyPresent: true, LeaseRequired: false, LeaseValid: false);

    public static OsMoveRequest Chat { get; } = new(true, false, null, false, false, false, false, false);
    public static OsMoveRequest Simulation { get; } = new(false, false, null, false, false, false, false, true);
    public static OsMoveRequest Tool { get; } = new(false, false, null, false, false, false, true, false);
    public static OsMoveRequest Clarify { get; } = new(false, true, OsEngineIds.ClarifyOwner, false, false, false, false, false);
    public static OsMoveRequest Confirm { get; } = new(false, false, null, true, false, false, false, false);
    public static OsMoveRequest Wait { get; } = new(false, false, null, false, false, true, false, false);
    public static OsMoveRequest Explain { get; } = new(false, false, null, false, true, false, false, false);

    public static OsPolicyInput Policy(bool tool = false, bool simulation = false, params OsOutcomeEntry[] outcomes) => new()
    {
        Correlation = Correlation,
        Turn = Turn,
        MaxGuardFailures = 8,
        MaxDiagnostics = 8,
        MaxOutcomeEntries = 128,
        Posture = Posture,
        PromptPolicyRequired = false,
        ToolRequested = tool,
        SimulationRequested = simulation,
        Governance = OsGovernanceDecisions.AllAllow,
        Deps = Deps,
        NoEngineToEngineCalls = true,
        NoSimulationNoExecution = true,
        OneTurnOneMove = true,
        OptionalBudget = OsOptionalBudget.NoneRequested,
        Outcomes = outcomes,
    };

    public static OsTurnInput TurnInput(OsMoveRequest move, params OsOutcomeEntry[] outcomes) => new()
    {
        Correlation = Correlation,
        Turn = Turn,
        Posture = Posture,
        Move = move,
        Governance = OsGovernanceDecisions.AllAllow,
        Deps = Deps,
        OptionalBudget = OsOptionalBudget.NoneRequested,
        Outcomes = outcomes,
    };

    public static OsOutcomeEntry Entry(OsOutcomeActionClass actionClass, string consumedBy = "PH1.X") =>
        new("PH1.NLP", "INTENT_DRAFT", Correlation, Turn, actionClass, consumedBy, 6, true, "NLP_OK");

    public static OsPolicyInput WithDecisions(this OsPolicyInput input, OsGateDecision policy, OsGateDecision tenant,
        OsGateDecision gov, OsGateDecision quota, OsGateDecision work, OsGateDecision capreq) =>
        input with { Governance = new OsGovernanceDecisions(policy, tenant, gov, quota, work, capreq) };

    public static OsPolicyInput AllGovernance(this OsPolicyInput input, OsGateDecision d) => input.WithDecisions(d, d, d, d, d, d);

    /// <summary>Evaluates and decides with the mvp configuration.</summary>
    public static (OsPolicyResult Policy, OsDecision Decision) Run(OsPolicyInput input, OsMoveRequest move)
    {
        var policy = OsGate.PolicyEvaluate(input, OsConfig.Mvp);
        return (policy, OsGate.DecisionCompute(policy, move, OsConfig.Mvp));
    }
}

/// <summary>Top-level turns where every check passes.</summary>
internal static class OsTurns
{
    public static readonly string[] TextSequence = ["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];
    public static readonly string[] WakeWordSequence = ["PH1.K", "PH1.W", "PH1.VOICE.ID", "PH1.C", "PH1.SRL", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];
    public static readonly string[] ExplicitSequence = ["PH1.K", "PH1.VOICE.ID", "PH1.C", "PH1.SRL", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];

    public static OsTopLevelInput Text(OsMoveRequest move, params string[] optional) => new()
    {
        Correlation = OsFixtures.Correlation,
        Turn = OsFixtures.Turn,
        Path = TurnPath.Text,
        AlwaysOnCompletedSequence = [.. TextSequence],
        OptionalRequested = [.. optional],
        MaxOptionalInvocations = 8,
        Posture = OsFixtures.Posture,
        Move = move,
        Governance = OsGovernanceDecisions.AllAllow,
        Deps = OsFixtures.Deps,
    };

    public static OsTopLevelInput Voice(VoiceTrigger trigger, OsMoveRequest move) => Text(move) with
    {
        Path = TurnPath.Voice,
        Voice = new OsVoiceContext(VoicePlatform.Ios, trigger),
        AlwaysOnCompletedSequence = [.. trigger == VoiceTrigger.WakeWord ? WakeWordSequence : ExplicitSequence],
    };

    public static OsTurnOutcome Run(OsTopLevelInput input) => OsTurnSlice.Run(input, OsConfig.Mvp);

    public static OsTurnOutcome.Forwarded Forwarded(OsTurnOutcome outcome) => Assert.IsType<OsTurnOutcome.Forwarded>(outcome);

    public static void AssertRefused(OsTurnOutcome outcome, ReasonCode reason)
    {
        var refused = Assert.IsType<OsTurnOutcome.Refused>(outcome);
        Assert.Equal(reason, refused.Reason);
        Assert.True(refused.FailClosed);
        Assert.False(string.IsNullOrEmpty(refused.Message));
    }
}
