namespace Selene.Learning.Tests;

/// <summary>K2/K3: keys, fingerprints, idempotent binding, support and contradiction counters, the fallback modes.</summary>
public sealed class BinderTests
{
    private static BindInput In(JournalRecord entry, WrapperPolicy policy = WrapperPolicy.Strict, int runSubjectFacts = 1) =>
        new(Journal.Fact(entry, policy), runSubjectFacts);

    /// <summary>Seed minimum test 3: identical canonical input ⇒ identical fingerprint_hash; ids, times and order do not count.</summary>
    [Fact]
    public void FingerprintStability_IdenticalCanonicalInput_IdenticalFingerprintHash()
    {
        var a = Binder.Bind([], [In(Journal.AccessRefused(1, "100", at: 5))]).Changed.Single();
        var b = Binder.Bind([], [In(Journal.AccessRefused(77, "999", at: 9_000_000))]).Changed.Single();
        Assert.Equal(a.FingerprintHash, b.FingerprintHash);
        Assert.Equal(a.DerivedUpsertKey, b.DerivedUpsertKey);
        Assert.Matches("^[0-9a-f]{64}$", a.FingerprintHash);

        var signature = new CapsuleSignature("PH1.ACCESS", "ACCESS_DECISION", WrapperSignal.Deny, ["access.step:4", "access.gate"]);
        var reordered = signature with { GateSet = ["access.gate", "access.step:4", "access.gate"] };
        Assert.Equal(Binder.Fingerprint(signature, "", "ACCESS_AP_REQUIRED"), Binder.Fingerprint(reordered, "", "ACCESS_AP_REQUIRED"));
        Assert.Equal(Binder.Fingerprint(signature, "", "ACCESS_AP_REQUIRED"), Binder.Fingerprint(signature, "", "ACCESS_AP_REQUIRED"));
        Assert.NotEqual(Binder.Fingerprint(signature, "", "ACCESS_AP_REQUIRED"), Binder.Fingerprint(signature, "", "ACCESS_SCOPE_VIOLATION"));
        Assert.NotEqual(Binder.Fingerprint(signature, "", "ACCESS_AP_REQUIRED"), Binder.Fingerprint(signature with { GateSet = ["access.gate"] }, "", "ACCESS_AP_REQUIRED"));
    }

    /// <summary>Seed minimum test 2: replaying the same facts twice yields no duplicate derived rows.</summary>
    [Fact]
    public void BinderIdempotency_SameFactsTwice_NoDuplicateDerivedRows()
    {
        BindInput[] facts = [In(Journal.AccessRefused(1, "100")), In(Journal.AccessRefused(2, "101")), In(Journal.StorageFailed(3, "102"))];
        var first = Binder.Bind([], facts);
        Assert.Equal(2, first.Changed.Count);
        Assert.Equal(3, first.Bindings.Count);
        Assert.Equal(2, first.Changed.OfType<PolicyPrior>().Single().SupportCount);

        var bound = first.Bindings.Select(b => b.IdempotencyKey).ToHashSet(StringComparer.Ordinal);
        var second = Binder.Bind(first.Changed, facts, bound);
        Assert.Empty(second.Changed);
        Assert.Empty(second.Bindings);

        // Within one pass too: a fact listed twice is bound once.
        var doubled = Binder.Bind([], [.. facts, .. facts]);
        Assert.Equal(3, doubled.Bindings.Count);
        Assert.Equal(first.Changed.Select(c => c.Canonical()), doubled.Changed.Select(c => c.Canonical()));
    }

    [Fact]
    public void Repeats_AcrossRuns_Support_OneCapsule_AndAPromotedResult_Contradicts_It()
    {
        var result = Binder.Bind([],
        [
            In(Journal.AccessRefused(1, "100", at: 10)), In(Journal.AccessRefused(5, "101", at: 50)), In(Journal.AccessRefused(3, "102", at: 30)),
            In(Journal.StorageFailed(6, "103", "CAPREQ_REJECT_COMMIT", at: 60)),
        ]);
        var policy = Assert.Single(result.Changed.OfType<PolicyPrior>());
        Assert.Equal(3, policy.SupportCount);
        Assert.Equal((10L, 50L), (policy.FirstSeenTs, policy.LastSeenTs));
        Assert.Equal(1000, policy.ConfidencePermille);
        Assert.Equal(new[] { BindingOutcome.Minted, BindingOutcome.Supported, BindingOutcome.Supported, BindingOutcome.Minted },
            result.Bindings.Select(b => b.Outcome));

        // erin's approval went through later: her policy prior for that action is contradicted, the other action's is not.
        var after = Binder.Bind(result.Changed, [In(Journal.Promoted(7, "104", at: 70))]);
        var contradicted = Assert.Single(after.Changed);
        Assert.Equal(policy.DerivedUpsertKey, contradicted.DerivedUpsertKey);
        Assert.Equal((1L, 70L), (contradicted.ContradictionCount, contradicted.LastContradictionTs));
        Assert.Equal(750, contradicted.ConfidencePermille);
        Assert.Equal(BindingOutcome.Contradicted, Assert.Single(after.Bindings).Outcome);
    }

    /// <summary>
    /// Seed minimum test 4: Strict mints only from explicit failure/denial wrappers; Hybrid also from an anomaly (a retry
    /// storm of facts without a wrapper, trigger anomaly/v1); Lenient from every fact.
    /// </summary>
    [Theory]
    [InlineData(WrapperPolicy.Strict, new[] { "ACCESS_AP_REQUIRED", "STORAGE_UNAVAILABLE" })]
    [InlineData(WrapperPolicy.Hybrid, new[] { "ACCESS_AP_REQUIRED", "ANOMALY_RETRY_STORM", "STORAGE_UNAVAILABLE" })]
    [InlineData(WrapperPolicy.Lenient, new[] { "", "ACCESS_AP_REQUIRED", "ANOMALY_RETRY_STORM", "STORAGE_UNAVAILABLE" })]
    public void WrapperFallback_StrictHybridLenient_DeriveTheExpectedSets(WrapperPolicy mode, string[] expectedCodes)
    {
        BindInput[] facts =
        [
            In(Journal.AccessRefused(1, "100"), mode),
            In(Journal.StorageFailed(2, "101"), mode),
            In(Journal.AccessAllowed(3, "102", "CAPREQ_CREATE_DRAFT"), mode, runSubjectFacts: 1),             // a plain success: no wrapper
            In(Journal.AccessAllowed(4, "103", "CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT"), mode, runSubjectFacts: 4), // a retry storm: no wrapper, an anomaly
        ];
        var result = Binder.Bind([], facts);
        Assert.Equal(expectedCodes, result.Changed.Select(c => c.Code).Order(StringComparer.Ordinal));
        Assert.Equal(4, result.Bindings.Count); // every fact is bound once, minted from or not
        if (mode == WrapperPolicy.Strict)
            Assert.All(result.Changed, c => Assert.Contains(c.Signature.Signal, new[] { WrapperSignal.Deny, WrapperSignal.Failure, WrapperSignal.FailedGate }));
        var anomaly = result.Changed.SingleOrDefault(c => c.Code == AnomalyTriggers.RetryStormCode);
        if (anomaly is not null) Assert.Contains(AnomalyTriggers.Version, anomaly.MintedBy);
    }

    [Fact]
    public void StrictMode_NeverMintsWithoutAnExplicitFailureOrDenialWrapper()
    {
        var successes = Enumerable.Range(1, 20).Select(i => In(
            i % 2 == 0 ? Journal.Promoted(i, "200") : Journal.AccessAllowed(i, "200"), WrapperPolicy.Strict, runSubjectFacts: 20)).ToArray();
        var result = Binder.Bind([], successes);
        Assert.Empty(result.Changed);
        Assert.Equal(20, result.Bindings.Count);
        Assert.All(result.Bindings, b => Assert.Null(b.DerivedUpsertKey));
    }

    [Fact]
    public void FailureAndPolicyPriors_AreSeparateTypes_KeyedOnTheirOwnCode()
    {
        var result = Binder.Bind([], [In(Journal.AccessRefused(1, "100")), In(Journal.StorageFailed(2, "101"))]);
        var policy = Assert.Single(result.Changed.OfType<PolicyPrior>());
        var failure = Assert.Single(result.Changed.OfType<FailurePrior>());
        Assert.Equal(("ACCESS_AP_REQUIRED", ""), (policy.Code, policy.Key.FailureReasonCode));
        Assert.Equal(("STORAGE_UNAVAILABLE", ""), (failure.Code, failure.PolicyReasonCode));
    }
}
