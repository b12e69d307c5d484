using Selene.Kernel.Os;
using static Selene.Kernel.Tests.OsFixtures;
using static Selene.Kernel.Tests.OsTurns;

namespace Selene.Kernel.Tests;

/// <summary>
/// The PH1.OS acceptance tests of the design reference (§1.9), one method per id. AT-OS-11, 12, 15 and 16
/// (utility review, legacy LINK ids, delivery ownership) live with their own features.
/// </summary>
public sealed class OsAcceptanceTests
{
    [Fact]
    public void AT_OS_01_NoSimulationNoExecution_InactiveSimulationNeverExecutes()
    {
        var input = Policy(simulation: true) with { Deps = Deps with { SimulationActive = false } };

        var (policy, decision) = Run(input, Simulation);

        Assert.False(policy.ExecutionAllowed);
        Assert.False(policy.SimulationDispatchAllowed);
        Assert.Equal(ReasonCodes.OsFailSimulationGate, policy.Reason);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.True(decision.FailClosed);
        Assert.False(decision.DispatchAllowed);
        Assert.False(decision.ExecutionAllowed);

        // Through the whole slice as well.
        var turn = Forwarded(OsTurns.Run(Text(Simulation) with { Deps = Deps with { SimulationActive = false } }));
        Assert.Equal(OsNextMove.Refuse, turn.Decision.Move);
        Assert.False(turn.Decision.ExecutionAllowed);
    }

    [Fact]
    public void AT_OS_02_OneTurnOneMove_TwoRequestedMovesAreRefused()
    {
        var (_, decision) = Run(Policy() with { PromptPolicyRequired = true }, Chat with { ClarifyRequired = true, ClarifyOwnerEngineId = OsEngineIds.ClarifyOwner });

        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.True(decision.FailClosed);
        Assert.Equal(ReasonCodes.OsFailOneTurnOneMove, decision.Reason);

        var turn = Forwarded(OsTurns.Run(Text(Wait with { ExplainRequested = true })));
        Assert.Equal(OsNextMove.Refuse, turn.Decision.Move);
        Assert.Equal(ReasonCodes.OsFailOneTurnOneMove, turn.Reason);
    }

    [Fact]
    public void AT_OS_03_DispatchSimulationOnlyWhenAllGatesPass()
    {
        var (policy, decision) = Run(Policy(simulation: true), Simulation);
        Assert.True(policy.ExecutionAllowed);
        Assert.True(policy.SimulationDispatchAllowed);
        Assert.Equal(OsNextMove.DispatchSimulation, decision.Move);
        Assert.True(decision.DispatchAllowed);
        Assert.True(decision.ExecutionAllowed);
        Assert.False(decision.FailClosed);
        Assert.Equal(ReasonCodes.OsOkDecisionCompute, decision.Reason);

        // Any single failing dependency takes the dispatch away.
        OsPolicyInput[] oneGateDown =
        [
            Policy(simulation: true) with { Posture = Posture with { SessionActive = false } },
            Policy(simulation: true) with { Deps = Deps with { AccessAllowed = false } },
            Policy(simulation: true) with { Deps = Deps with { BlueprintActive = false } },
            Policy(simulation: true) with { Deps = Deps with { IdempotencyKeyPresent = false } },
            Policy(simulation: true) with { Deps = Deps with { LeaseRequired = true } },
            Policy(simulation: true).WithDecisions(OsGateDecision.Allow, OsGateDecision.Allow, OsGateDecision.Allow, OsGateDecision.Allow, OsGateDecision.Deny, OsGateDecision.Allow),
            Policy(simulation: true) with { OptionalBudget = new(true, 2, 1, 0, 120, 20) },
        ];
        foreach (var input in oneGateDown)
        {
            var (_, refused) = Run(input, Simulation);
            Assert.NotEqual(OsNextMove.DispatchSimulation, refused.Move);
            Assert.False(refused.DispatchAllowed);
            Assert.False(refused.ExecutionAllowed);
        }
    }

    [Fact]
    public void AT_OS_04_ToolPathIsSimulationFree()
    {
        // No blueprint, no simulation: the tool path needs neither, and never executes.
        var input = Policy(tool: true) with { Deps = Deps with { BlueprintActive = false, SimulationActive = false } };

        var (policy, decision) = Run(input, Tool);

        Assert.True(policy.ToolDispatchAllowed);
        Assert.False(policy.SimulationDispatchAllowed);
        Assert.Equal(OsNextMove.DispatchTool, decision.Move);
        Assert.True(decision.DispatchAllowed);
        Assert.False(decision.ExecutionAllowed);

        // A tool and a simulation together are never a tool dispatch.
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, OsGate.PolicyEvaluate(Policy(tool: true, simulation: true), OsConfig.Mvp).Reason);
        OsTurns.AssertRefused(OsTurns.Run(Text(Tool with { SimulationRequested = true })), ReasonCodes.OsInputSchemaInvalid);
    }

    [Fact]
    public void AT_OS_05_DisabledIsNotInvoked()
    {
        var disabled = OsConfig.Mvp with { OsEnabled = false };

        var wiring = OsGate.Decide(TurnInput(Simulation), disabled);
        Assert.Equal(OsWiringOutcomeKind.NotInvokedDisabled, wiring.Kind);
        Assert.Equal(ReasonCodes.OsNotInvokedDisabled, wiring.Reason);
        Assert.Equal(OsOutputKind.Missing, wiring.Policy.Kind);
        Assert.Equal(OsNextMove.Refuse, wiring.Decision.Move);
        Assert.False(wiring.Decision.DispatchAllowed);

        var turn = OsTurnSlice.Run(Text(Simulation, "PH1.LANG"), disabled);
        Assert.IsType<OsTurnOutcome.NotInvokedDisabled>(turn);
        Assert.Equal(ReasonCodes.OsNotInvokedDisabled, turn.Reason);
    }

    [Fact]
    public void AT_OS_06_CorrelationIntegrity()
    {
        var entry = Entry(OsOutcomeActionClass.AuditOnly);
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, OsGate.PolicyEvaluate(Policy(false, false, entry with { Correlation = new CorrelationId(7702) }), OsConfig.Mvp).Reason);
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, OsGate.PolicyEvaluate(Policy(false, false, entry with { Turn = new TurnId(8702) }), OsConfig.Mvp).Reason);
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat) with { Outcomes = [entry with { Turn = new TurnId(1) }] }), ReasonCodes.OsInputSchemaInvalid);

        var turn = Forwarded(OsTurns.Run(Text(Chat) with { Outcomes = [entry] }));
        Assert.Equal(Correlation, turn.Policy.Correlation);
        Assert.Equal(Turn, turn.Policy.Turn);
        Assert.Equal(Correlation, turn.Decision.Correlation);
        Assert.Equal(Turn, turn.Decision.Turn);
    }

    [Fact]
    public void AT_OS_07_VoiceAlwaysOnSequenceLocked()
    {
        Assert.Equal(OsNextMove.Respond, Forwarded(OsTurns.Run(Voice(VoiceTrigger.WakeWord, Chat))).Decision.Move);
        Assert.Equal(OsNextMove.Respond, Forwarded(OsTurns.Run(Voice(VoiceTrigger.Explicit, Chat))).Decision.Move);

        string[][] wrongForWakeWord =
        [
            ExplicitSequence, // the wake stage is missing
            ["PH1.W", "PH1.K", "PH1.VOICE.ID", "PH1.C", "PH1.SRL", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"],
            [.. WakeWordSequence, "PH1.X"],
            WakeWordSequence[..^1],
            TextSequence,
            [],
        ];
        foreach (var sequence in wrongForWakeWord)
        {
            OsTurns.AssertRefused(OsTurns.Run(Voice(VoiceTrigger.WakeWord, Chat) with { AlwaysOnCompletedSequence = [.. sequence] }), ReasonCodes.OsToplevelSequenceInvalid);
        }
        // An explicit trigger has no wake stage: reporting one is drift too.
        OsTurns.AssertRefused(OsTurns.Run(Voice(VoiceTrigger.Explicit, Chat) with { AlwaysOnCompletedSequence = [.. WakeWordSequence] }), ReasonCodes.OsToplevelSequenceInvalid);
        // A voice turn needs its context.
        OsTurns.AssertRefused(OsTurns.Run(Voice(VoiceTrigger.WakeWord, Chat) with { Voice = null }), ReasonCodes.OsInputSchemaInvalid);
    }

    [Fact]
    public void AT_OS_08_TextAlwaysOnSequenceLocked()
    {
        Assert.Equal(OsNextMove.Respond, Forwarded(OsTurns.Run(Text(Chat))).Decision.Move);

        string[][] wrong =
        [
            ["PH1.CONTEXT", "PH1.NLP", "PH1.POLICY", "PH1.X"],
            ["PH1.NLP", "PH1.CONTEXT", "PH1.X"],
            ["PH1.K", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"],
            WakeWordSequence,
            [],
        ];
        foreach (var sequence in wrong)
        {
            OsTurns.AssertRefused(OsTurns.Run(Text(Chat) with { AlwaysOnCompletedSequence = [.. sequence] }), ReasonCodes.OsToplevelSequenceInvalid);
        }
        // A text turn carries no voice context.
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat) with { Voice = new OsVoiceContext(VoicePlatform.Desktop, VoiceTrigger.Explicit) }), ReasonCodes.OsInputSchemaInvalid);
    }

    [Fact]
    public void AT_OS_09_UnknownOptionalEngineRejected()
    {
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "PH1.LANG", "PH1.TELEPATHY")), ReasonCodes.OsToplevelUnknownOptionalEngine);
        // ALWAYS_ON and enterprise engines are not optional either.
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "PH1.NLP")), ReasonCodes.OsToplevelUnknownOptionalEngine);
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "PH1.TENANT")), ReasonCodes.OsToplevelUnknownOptionalEngine);
        // A malformed id never gets that far.
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "ph1.lang")), ReasonCodes.OsInputSchemaInvalid);
    }

    [Fact]
    public void AT_OS_10_OptionalBudgetBreachFailsClosed()
    {
        // Seven optional engines at 20 ms each is 140 ms, over the 120 ms budget.
        string[] seven = ["PH1.ENDPOINT", "PH1.LANG", "PH1.PRON", "PH1.DOC", "PH1.SUMMARY", "PH1.VISION", "PH1.SEARCH"];
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, seven)), ReasonCodes.OsToplevelOptionalBudgetInvalid);
        // Asking for more invocations than the runtime allows.
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat) with { MaxOptionalInvocations = 9 }), ReasonCodes.OsToplevelOptionalBudgetInvalid);
        // Within the invocation budget, the rest is skipped (degrade), not executed.
        var degraded = Forwarded(OsTurns.Run(Text(Chat, seven) with { MaxOptionalInvocations = 6 }));
        Assert.Equal(["PH1.ENDPOINT", "PH1.LANG", "PH1.PRON", "PH1.DOC", "PH1.SUMMARY", "PH1.VISION"], degraded.OptionalInvoked.ToArray());
        Assert.Equal(["PH1.SEARCH"], degraded.OptionalSkippedBudget.ToArray());
        Assert.True(degraded.Policy.OptionalBudgetEnforced);
        // Budget posture drift at the gate is a fail-closed refusal.
        var (_, decision) = Run(Policy(simulation: true) with { OptionalBudget = new(true, 3, 3, 0, 120, 140) }, Simulation);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.Equal(ReasonCodes.OsFailOptionalBudgetGate, decision.Reason);
        Assert.True(decision.FailClosed);
    }

    [Fact]
    public void AT_OS_13_OfflineEngineLeakRejected()
    {
        foreach (var offline in OsEngineIds.OfflineOnly)
        {
            OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "PH1.LANG", offline)), ReasonCodes.OsToplevelRuntimeBoundaryViolation);
            OsTurns.AssertRefused(OsTurns.Run(Text(Chat) with { AlwaysOnCompletedSequence = [offline, .. TextSequence] }), ReasonCodes.OsToplevelRuntimeBoundaryViolation);
        }
    }

    [Fact]
    public void AT_OS_14_ControlPlaneEngineLeakRejected()
    {
        foreach (var controlPlane in OsEngineIds.ControlPlane)
        {
            OsTurns.AssertRefused(OsTurns.Run(Text(Chat, controlPlane)), ReasonCodes.OsToplevelRuntimeBoundaryViolation);
            OsTurns.AssertRefused(OsTurns.Run(Text(Chat) with { AlwaysOnCompletedSequence = [.. TextSequence, controlPlane] }), ReasonCodes.OsToplevelRuntimeBoundaryViolation);
        }
        // The ALWAYS_ON list is checked first, and the message names the offending engine.
        var refused = Assert.IsType<OsTurnOutcome.Refused>(OsTurns.Run(Text(Chat, "PH1.GOV") with { AlwaysOnCompletedSequence = ["PH1.KMS"] }));
        Assert.Contains("PH1.KMS", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AT_OS_15_LegacyLinkSendIdsRejected()
    {
        // The catalog marks the legacy LINK send ids; the delivery-ownership guard refuses them before any gate, even
        // when every other posture would let a simulation through.
        var legacy = Text(Simulation) with { SimulationLegacyDoNotWire = true };
        OsTurns.AssertRefused(OsTurns.Run(legacy), ReasonCodes.LegacyDoNotWire);
        Assert.Equal(OsNextMove.DispatchSimulation, OsTurns.Forwarded(OsTurns.Run(legacy with { SimulationLegacyDoNotWire = false })).Decision.Move);
        // The flag concerns the requested simulation only: a chat turn is not affected.
        Assert.Equal(OsNextMove.Respond, OsTurns.Forwarded(OsTurns.Run(Text(Chat) with { SimulationLegacyDoNotWire = true })).Decision.Move);
        // And it is recorded: the journal codec carries it, so a replay refuses the same way.
        Assert.True(OsTurnCodec.TryRead(System.Text.Json.JsonDocument.Parse(OsTurnCodec.Write(legacy).ToJsonString()).RootElement, out var back, out var error), error);
        OsTurns.AssertRefused(OsTurns.Run(back), ReasonCodes.LegacyDoNotWire);
    }

    [Fact]
    public void AT_OS_17_ClarifyOwnerPrecedence()
    {
        // The slice: only PH1.NLP may own a clarify, and no owner without a clarify.
        OsTurns.AssertRefused(OsTurns.Run(Text(Clarify with { ClarifyOwnerEngineId = "PH1.X" })), ReasonCodes.OsToplevelClarifyOwnerInvalid);
        OsTurns.AssertRefused(OsTurns.Run(Text(Clarify with { ClarifyOwnerEngineId = null })), ReasonCodes.OsToplevelClarifyOwnerInvalid);
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat with { ClarifyOwnerEngineId = OsEngineIds.ClarifyOwner })), ReasonCodes.OsToplevelClarifyOwnerInvalid);
        // It is checked before the engine order.
        OsTurns.AssertRefused(OsTurns.Run(Text(Clarify with { ClarifyOwnerEngineId = "PH1.X" }) with { AlwaysOnCompletedSequence = [] }), ReasonCodes.OsToplevelClarifyOwnerInvalid);
        // The decision capability: before one-turn-one-move.
        var policy = OsGate.PolicyEvaluate(Policy() with { PromptPolicyRequired = true }, OsConfig.Mvp);
        var decision = OsGate.DecisionCompute(policy, Clarify with { ClarifyOwnerEngineId = "PH1.CONTEXT", WaitRequired = true }, OsConfig.Mvp);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.Equal(ReasonCodes.OsFailClarifyOwnerPrecedence, decision.Reason);
        Assert.True(decision.FailClosed);
        // The owner rule satisfied: the clarify goes out.
        Assert.Equal(OsNextMove.Clarify, Forwarded(OsTurns.Run(Text(Clarify))).Decision.Move);
    }

    [Fact]
    public void AT_OS_18_PruneDiagPolicyBlock()
    {
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "PH1.PRUNE")), ReasonCodes.OsToplevelOptionalPolicyBlock);
        OsTurns.AssertRefused(OsTurns.Run(Text(Confirm, "PH1.PRUNE")), ReasonCodes.OsToplevelOptionalPolicyBlock);
        OsTurns.AssertRefused(OsTurns.Run(Text(Chat, "PH1.DIAG")), ReasonCodes.OsToplevelOptionalPolicyBlock);
        OsTurns.AssertRefused(OsTurns.Run(Text(Explain, "PH1.DIAG")), ReasonCodes.OsToplevelOptionalPolicyBlock);

        Assert.Equal(["PH1.PRUNE", "PH1.DIAG"], Forwarded(OsTurns.Run(Text(Clarify, "PH1.DIAG", "PH1.PRUNE"))).OptionalInvoked.ToArray());
        foreach (var move in new[] { Confirm, Tool, Simulation })
        {
            Assert.Equal(["PH1.DIAG"], Forwarded(OsTurns.Run(Text(move, "PH1.DIAG"))).OptionalInvoked.ToArray());
        }
    }
}
