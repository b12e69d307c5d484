using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Selene.Kernel.Os;

namespace Selene.Kernel.Tests;

/// <summary>FsCheck properties of the PH1.OS gate, slice and codec, with fixed seeds so a failure replays.</summary>
public sealed class OsGateProperties
{
    private static readonly Config Seeded = Config.QuickThrowOnFailure.WithMaxTest(3000).WithReplay(20261121UL, 4001UL);
    private static readonly Config SeededSlice = Config.QuickThrowOnFailure.WithMaxTest(2000).WithReplay(20261121UL, 4211UL);

    private static Arbitrary<(OsPolicyInput Policy, OsMoveRequest Move)> GateInputs => OsGenerators.GateInputs.ToArbitrary();

    private static (OsPolicyResult Policy, OsDecision Decision) Run((OsPolicyInput Policy, OsMoveRequest Move) x) =>
        OsFixtures.Run(x.Policy, x.Move);

    [Fact]
    public void Gate_SameInput_SameOutput() =>
        Prop.ForAll(GateInputs, x =>
        {
            var a = Run(x);
            var b = Run((x.Policy with { Outcomes = x.Policy.Outcomes.ToArray() }, x.Move with { ClarifyOwnerEngineId = Copy(x.Move.ClarifyOwnerEngineId) }));
            return a.Policy.Kind == b.Policy.Kind && a.Policy.Reason == b.Policy.Reason && a.Policy.GuardFailures == b.Policy.GuardFailures &&
                   a.Decision == b.Decision;
        }).Check(Seeded);

    [Fact]
    public void Gate_ExactlyOneMove_AndLegalityFollowsTheMove() =>
        Prop.ForAll(GateInputs, x =>
        {
            var (_, d) = Run(x);
            return d.Kind != OsOutputKind.Missing && Enum.IsDefined(d.Move) &&
                   d.DispatchAllowed == d.Move is OsNextMove.DispatchTool or OsNextMove.DispatchSimulation &&
                   d.ExecutionAllowed == (d.Move == OsNextMove.DispatchSimulation) &&
                   (d.Kind == OsOutputKind.Ok || d.Move == OsNextMove.Refuse);
        }).Check(Seeded);

    [Fact]
    public void Gate_DispatchSimulation_OnlyWhenEveryGateIsTrue() =>
        Prop.ForAll(GateInputs, x =>
        {
            var (p, d) = Run(x);
            if (d.Move != OsNextMove.DispatchSimulation) return true;
            // Checked against the raw inputs, not only against the gate's own booleans.
            var i = x.Policy;
            var g = i.Governance;
            var b = i.OptionalBudget;
            var rawAllPass =
                i.Posture.SessionActive && i.Posture.TranscriptOk && i.Posture.NlpConfidenceHigh &&
                (!i.Posture.RequiresConfirmation || i.Posture.ConfirmationReceived) && (!i.PromptPolicyRequired || i.Posture.PromptPolicyGateOk) &&
                g == OsGovernanceDecisions.AllAllow &&
                i.Deps.AccessAllowed && i.Deps.BlueprintActive && i.Deps.SimulationActive &&
                (!i.Deps.IdempotencyRequired || i.Deps.IdempotencyKeyPresent) && (!i.Deps.LeaseRequired || i.Deps.LeaseValid) &&
                !i.Outcomes.ToArray().Any(e => e.ActionClass is OsOutcomeActionClass.ActNow or OsOutcomeActionClass.QueueLearn && e.ConsumedBy == OsOutcomeEntry.NotConsumed) &&
                b.Enforced && b.InvocationsSkippedBudget == Math.Max(0, b.InvocationsRequested - b.InvocationsBudget) && b.LatencyEstimatedMs <= b.LatencyBudgetMs &&
                i.SimulationRequested && x.Move.RequestedCount == 1;
            var gates =
                p.SessionGateOk && p.UnderstandingGateOk && p.ConfirmationGateOk && p.PromptPolicyGateOk && p.PolicyGateOk && p.TenantGateOk &&
                p.GovGateOk && p.QuotaGateOk && p.WorkGateOk && p.CapreqGateOk && !p.GovernanceContradictionDetected && p.AccessGateOk &&
                p.BlueprintGateOk && p.SimulationGateOk && p.IdempotencyGateOk && p.LeaseGateOk && p.OutcomeClassificationComplete &&
                p.UnresolvedOutcomesZero && p.OptionalBudgetEnforced && p.ExecutionAllowed && p.SimulationDispatchAllowed;
            return rawAllPass && gates && d.DispatchAllowed && d.ExecutionAllowed && !d.FailClosed;
        }).Check(Seeded);

    [Fact]
    public void Gate_FailClosed_NeverCarriesRespond() =>
        Prop.ForAll(GateInputs, x =>
        {
            var (_, d) = Run(x);
            return !d.FailClosed || d.Move != OsNextMove.Respond;
        }).Check(Seeded);

    [Fact]
    public void Gate_MoreThanOneRequestedMove_AlwaysRefuses() =>
        Prop.ForAll(GateInputs, x =>
        {
            var (_, d) = Run(x);
            return x.Move.RequestedCount <= 1 || (d.Move == OsNextMove.Refuse && d.FailClosed);
        }).Check(Seeded);

    [Fact]
    public void Gate_DecisionOnAFailedGate_HasThePolicyReason() =>
        Prop.ForAll(GateInputs, x =>
        {
            var (p, d) = Run(x);
            var gateFailure = p.IsOk && p.GuardFailures != OsGuardFailures.None && OsGate.ClarifyOwnerValid(x.Move) && x.Move.RequestedCount <= 1;
            return !gateFailure || (d.Reason == p.Reason && d.FailClosed);
        }).Check(Seeded);

    [Fact]
    public void Slice_SameInput_SameOutcome_AndSafetyHolds() =>
        Prop.ForAll(OsGenerators.TopLevel.ToArbitrary(), input =>
        {
            var a = OsTurnSlice.Run(input, OsConfig.Mvp);
            if (!a.Equals(OsTurnSlice.Run(input with { OptionalRequested = [.. input.OptionalRequested] }, OsConfig.Mvp))) return false;
            // Request order never changes the decision (set semantics); only a refusal's message may name another id.
            var reordered = OsTurnSlice.Run(input with { OptionalRequested = [.. input.OptionalRequested.Reverse()] }, OsConfig.Mvp);
            if (a.Reason != reordered.Reason || (a is OsTurnOutcome.Forwarded && !a.Equals(reordered))) return false;
            if (a is not OsTurnOutcome.Forwarded f) return true;
            var d = f.Decision;
            return (!d.FailClosed || d.Move != OsNextMove.Respond) &&
                   (input.Move.RequestedCount <= 1 || d.Move == OsNextMove.Refuse) &&
                   (d.Move != OsNextMove.DispatchSimulation || (f.Policy.ExecutionAllowed && input.Deps.SimulationActive && input.Deps.BlueprintActive)) &&
                   f.OptionalInvoked.Length <= input.MaxOptionalInvocations &&
                   f.OptionalInvoked.Length * 20 <= 120;
        }).Check(SeededSlice);

    [Fact]
    public void Codec_RoundTrip_ReproducesTheInputExactly() =>
        Prop.ForAll(OsGenerators.AnyTopLevel.ToArbitrary(), input =>
        {
            var json = OsTurnCodec.Write(input).ToJsonString();
            using var document = JsonDocument.Parse(json);
            return OsTurnCodec.TryRead(document.RootElement, out var read, out var error) && error is null && input.Equals(read) &&
                   OsTurnCodec.Write(read).ToJsonString() == json;
        }).Check(SeededSlice);

    [Fact]
    public void Codec_ReplayedTurn_GivesTheSameOutcome() =>
        Prop.ForAll(OsGenerators.TopLevel.ToArbitrary(), input =>
        {
            using var document = JsonDocument.Parse(OsTurnCodec.Write(input).ToJsonString());
            return OsTurnCodec.TryRead(document.RootElement, out var replayed, out _) &&
                   OsTurnSlice.Run(replayed, OsConfig.Mvp).Equals(OsTurnSlice.Run(input, OsConfig.Mvp));
        }).Check(SeededSlice);

    [Fact]
    public void Generators_ReachEveryMoveAndTheRefusals()
    {
        // Guards the properties above against passing vacuously.
        var gate = OsGenerators.GateInputs.Sample(3000, new Rnd(20261121UL, 4001UL), 30).Select(Run).ToArray();
        foreach (var move in Enum.GetValues<OsNextMove>()) Assert.Contains(gate, r => r.Decision.Move == move);
        Assert.True(gate.Count(r => r.Decision.Move == OsNextMove.DispatchSimulation) >= 50);
        Assert.Contains(gate, r => r.Decision.Reason == ReasonCodes.OsFailOneTurnOneMove);
        Assert.Contains(gate, r => r.Policy.GovernanceContradictionDetected);
        Assert.Contains(gate, r => r.Decision.Reason == ReasonCodes.OsFailQuotaGate);
        Assert.Contains(gate, r => r.Decision.Reason == ReasonCodes.OsFailOptionalBudgetGate);
        Assert.Contains(gate, r => r.Policy.Reason == ReasonCodes.OsBudgetExceeded);
        Assert.Contains(gate, r => r.Policy.Reason == ReasonCodes.OsInputSchemaInvalid);

        var slice = OsGenerators.TopLevel.Sample(2000, new Rnd(20261121UL, 4211UL), 30).Select(i => OsTurnSlice.Run(i, OsConfig.Mvp)).ToArray();
        Assert.True(slice.Count(o => o is OsTurnOutcome.Forwarded { Decision.Move: OsNextMove.DispatchSimulation }) >= 20);
        foreach (var reason in new[]
                 {
                     ReasonCodes.OsToplevelSequenceInvalid, ReasonCodes.OsToplevelUnknownOptionalEngine, ReasonCodes.OsToplevelOptionalBudgetInvalid,
                     ReasonCodes.OsToplevelRuntimeBoundaryViolation, ReasonCodes.OsToplevelClarifyOwnerInvalid, ReasonCodes.OsInputSchemaInvalid,
                 })
        {
            Assert.Contains(slice, o => o.Reason == reason);
        }
    }

    private static string? Copy(string? s) => s is null ? null : new string(s.AsSpan());
}
