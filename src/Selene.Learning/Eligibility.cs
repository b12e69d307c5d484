namespace Selene.Learning;

/// <summary>How a turn may use a prior.</summary>
public enum PriorUse
{
    /// <summary>Not at all: too little support, too stale, too contradicted, or not conformant.</summary>
    None,
    /// <summary>As a suggestion in a guided (or prescriptive) tenant's turn response.</summary>
    Suggest,
    /// <summary>As the single pre-flight avoidance of a prescriptive tenant's turn.</summary>
    Prescribe,
}

/// <summary>
/// The numeric thresholds of prior use (K3), versioned: a change of a number is a new <see cref="Version"/>. Confidence is
/// support / (support + contradictions) in thousandths; age is the time since the capsule was last seen.
/// </summary>
public sealed record EligibilityThresholds(
    string Version,
    long SuggestMinSupport,
    long SuggestMinConfidencePermille,
    long SuggestMaxAgeNanos,
    long PrescribeMinSupport,
    long PrescribeMinConfidencePermille,
    long PrescribeMaxAgeNanos)
{
    private const long Day = 86_400_000_000_000;

    /// <summary>
    /// v1: a suggestion needs 2 facts, confidence ≥ 0.5 and a last sighting within 30 days; prescriptive use needs 3 facts,
    /// confidence ≥ 0.8, a last sighting within 7 days, and no contradiction since the last supporting fact.
    /// </summary>
    public static EligibilityThresholds V1 { get; } = new("eligibility/v1", 2, 500, 30 * Day, 3, 800, 7 * Day);
}

/// <summary>K3 prescriptive gating: what a conformant capsule may be used for now. Pure (the caller hands in the time).</summary>
public static class Eligibility
{
    /// <summary>The use <paramref name="capsule"/> qualifies for at <paramref name="now"/>, and why (the first rule it misses, or the rule it meets).</summary>
    public static (PriorUse Use, string Why) Evaluate(Capsule capsule, long now, EligibilityThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(capsule);
        ArgumentNullException.ThrowIfNull(thresholds);
        var age = now - capsule.LastSeenTs;
        if (capsule.SupportCount < thresholds.SuggestMinSupport) return (PriorUse.None, $"support {capsule.SupportCount} < {thresholds.SuggestMinSupport}");
        if (capsule.ConfidencePermille < thresholds.SuggestMinConfidencePermille)
            return (PriorUse.None, $"confidence {capsule.ConfidencePermille}‰ < {thresholds.SuggestMinConfidencePermille}‰");
        if (age > thresholds.SuggestMaxAgeNanos) return (PriorUse.None, "stale: last seen longer ago than the suggestion window");
        if (capsule.SupportCount < thresholds.PrescribeMinSupport) return (PriorUse.Suggest, $"support {capsule.SupportCount} < {thresholds.PrescribeMinSupport} for prescriptive use");
        if (capsule.ConfidencePermille < thresholds.PrescribeMinConfidencePermille)
            return (PriorUse.Suggest, $"confidence {capsule.ConfidencePermille}‰ < {thresholds.PrescribeMinConfidencePermille}‰ for prescriptive use");
        if (age > thresholds.PrescribeMaxAgeNanos) return (PriorUse.Suggest, "too stale for prescriptive use");
        if (capsule.LastContradictionTs >= capsule.LastSeenTs && capsule.ContradictionCount > 0)
            return (PriorUse.Suggest, "contradicted since its last supporting fact");
        return (PriorUse.Prescribe, thresholds.Version);
    }
}

/// <summary>The outcome of a capsule's conformance check: conformant, or the first check it fails and why.</summary>
public sealed record ConformanceResult(ReasonCode? Failed, string Detail)
{
    public bool Conformant => Failed is null;
}

/// <summary>
/// K4 conformance before trust, Selene's reading of the seed's <c>python_standard</c> gate: a capsule is used by a turn
/// only when (1) it round-trips through its canonical form and its keys are the ones its signature gives (contract
/// validity, canonical serialization, determinism), (2) its action is an ACTIVE simulation of the catalog, (3) its code
/// is one the simulation declares, or one of a gate in front of every simulation (declared side effects), and (4) it
/// keeps the failure/policy split: exactly one code, in the class the registry gives it.
/// </summary>
public static class Conformance
{
    public static ConformanceResult Check(Capsule capsule, SimulationRecord? simulation, ReasonCodeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(capsule);
        ArgumentNullException.ThrowIfNull(registry);
        var canonical = capsule.Canonical();
        var again = capsule switch
        {
            FailurePrior => CanonicalJson.SerializeToString(System.Text.Json.JsonSerializer.Deserialize<FailurePrior>(canonical, StrictJson.Options)),
            PolicyPrior => CanonicalJson.SerializeToString(System.Text.Json.JsonSerializer.Deserialize<PolicyPrior>(canonical, StrictJson.Options)),
            _ => "",
        };
        if (!string.Equals(canonical, again, StringComparison.Ordinal))
            return new(LearnReasons.LearnConformanceNotCanonical, "the capsule does not round-trip through its canonical form");
        var fingerprint = Binder.Fingerprint(capsule.Signature, capsule.Key.FailureReasonCode, capsule.PolicyReasonCode);
        if (fingerprint != capsule.FingerprintHash || Binder.DerivedUpsertKey(capsule.Key, fingerprint) != capsule.DerivedUpsertKey
            || capsule.BinderVersion != Binder.Version)
            return new(LearnReasons.LearnConformanceNotCanonical, "the capsule's fingerprint or derived key is not the one its signature gives");

        if (simulation is not { Status: SimulationStatus.Active } || simulation.SimulationId != capsule.Key.ActionKind)
            return new(LearnReasons.LearnConformanceSimulationUnknown, $"{IdRules.Shorten(capsule.Key.ActionKind)} is not an ACTIVE simulation of the catalog");

        var (code, expected, other) = capsule switch
        {
            PolicyPrior p => (p.PolicyReasonCode, RefusalClass.Policy, p.Key.FailureReasonCode),
            _ => (capsule.Key.FailureReasonCode, RefusalClass.Failure, capsule.PolicyReasonCode),
        };
        if (code.Length == 0 || other.Length > 0)
            return new(LearnReasons.LearnConformanceSplitViolated, "a prior names exactly one code: its failure code or its policy code");
        if (!registry.TryGet(code, out var reason) || RefusalClassification.Of(reason) != expected)
            return new(LearnReasons.LearnConformanceSplitViolated, $"{IdRules.Shorten(code)} is not a registered {WireNames.Of(expected)} code");
        if (reason.Engine == simulation.OwningEngine && !simulation.ReasonCodes.Contains(reason))
            return new(LearnReasons.LearnConformanceSideEffectUndeclared, $"{simulation.SimulationId} does not declare {reason.Name}");
        return new(null, "conformant");
    }
}
