namespace Selene.Learning.Tests;

/// <summary>K3 prescriptive gating (eligibility/v1) and K4 conformance before trust.</summary>
public sealed class EligibilityTests
{
    private const long Day = 86_400_000_000_000;

    private static readonly SimulationRecord Approve = new("CAPREQ_APPROVE_COMMIT", "PH1.CAPREQ", SimulationType.Commit, SimulationStatus.Active,
        "CAPREQ_MANAGE", AccessMode.A, "tenant+simulation_id+key", []);

    private static PolicyPrior Prior(int support, long lastSeen = 100 * Day)
    {
        var facts = Enumerable.Range(1, support).Select(i => new BindInput(Journal.Fact(Journal.AccessRefused(i, $"{100 + i}", at: lastSeen - i + 1)), 1)).ToArray();
        return Assert.Single(Binder.Bind([], facts).Changed.OfType<PolicyPrior>());
    }

    [Fact]
    public void Thresholds_GrowFromNoneToSuggestToPrescribe()
    {
        var now = 100 * Day;
        var t = EligibilityThresholds.V1;
        Assert.Equal(PriorUse.None, Eligibility.Evaluate(Prior(1), now, t).Use);
        Assert.Equal(PriorUse.Suggest, Eligibility.Evaluate(Prior(2), now, t).Use);
        Assert.Equal(PriorUse.Prescribe, Eligibility.Evaluate(Prior(3), now, t).Use);
    }

    [Fact]
    public void ContradictionAndStaleness_DegradeEligibility_Deterministically()
    {
        var now = 100 * Day;
        var t = EligibilityThresholds.V1;
        var prior = Prior(4);
        Assert.Equal(PriorUse.Prescribe, Eligibility.Evaluate(prior, now, t).Use);
        // One contradiction after the last support: no longer prescriptive, still a suggestion (confidence 800‰).
        var contradicted = prior with { ContradictionCount = 1, LastContradictionTs = prior.LastSeenTs + 1 };
        Assert.Equal((PriorUse.Suggest, "contradicted since its last supporting fact"), Eligibility.Evaluate(contradicted, now, t));
        // Contradicted as often as supported: confidence 500‰ still suggests; more contradictions than that do not.
        Assert.Equal(PriorUse.Suggest, Eligibility.Evaluate(prior with { ContradictionCount = 4, LastContradictionTs = 1 }, now, t).Use);
        Assert.Equal(PriorUse.None, Eligibility.Evaluate(prior with { ContradictionCount = 5, LastContradictionTs = 1 }, now, t).Use);
        // Stale: past 7 days only suggested, past 30 not at all.
        Assert.Equal(PriorUse.Suggest, Eligibility.Evaluate(prior, prior.LastSeenTs + 8 * Day, t).Use);
        Assert.Equal(PriorUse.None, Eligibility.Evaluate(prior, prior.LastSeenTs + 31 * Day, t).Use);
        // The same inputs always answer the same.
        Assert.Equal(Eligibility.Evaluate(contradicted, now, t), Eligibility.Evaluate(contradicted, now, t));
    }

    [Fact]
    public void Conformance_PassesAConformantPrior()
    {
        var result = Conformance.Check(Prior(3), Approve, Journal.Registry);
        Assert.True(result.Conformant, result.Detail);
    }

    [Fact]
    public void Conformance_RefusesWhatItCannotTrust()
    {
        var prior = Prior(3);
        Assert.Equal(LearnReasons.LearnConformanceSimulationUnknown, Conformance.Check(prior, null, Journal.Registry).Failed);
        Assert.Equal(LearnReasons.LearnConformanceSimulationUnknown,
            Conformance.Check(prior, Approve with { Status = SimulationStatus.Deprecated }, Journal.Registry).Failed);
        // A capsule whose key no longer follows from its signature (edited in storage) is not canonical.
        Assert.Equal(LearnReasons.LearnConformanceNotCanonical,
            Conformance.Check(prior with { PolicyReasonCode = "ACCESS_SCOPE_VIOLATION" }, Approve, Journal.Registry).Failed);
        // A failure prior keyed on an anomaly (no registered code) breaks the split.
        var anomaly = Binder.Bind([], [new BindInput(Journal.Fact(Journal.AccessAllowed(1, "9"), WrapperPolicy.Hybrid), 5)]).Changed.Single();
        Assert.Equal(LearnReasons.LearnConformanceSplitViolated,
            Conformance.Check(anomaly, Approve with { SimulationId = anomaly.Key.ActionKind }, Journal.Registry).Failed);
        // A code of the simulation's own engine that the simulation does not declare.
        var own = Approve with { OwningEngine = "PH1.ACCESS" };
        Assert.Equal(LearnReasons.LearnConformanceSideEffectUndeclared, Conformance.Check(prior, own, Journal.Registry).Failed);
        Assert.True(Conformance.Check(prior, own with { ReasonCodes = [ReasonCodes.AccessApRequired] }, Journal.Registry).Conformant);
    }
}
