using System.Text.Json.Serialization;

namespace Selene.Learning;

/// <summary>The part of a capsule that says what was learned, common to both kinds (capsule/v1 <c>signature</c>).</summary>
public sealed record CapsuleSignature(string Engine, string EventType, WrapperSignal Signal, IReadOnlyList<string> GateSet);

/// <summary>
/// A capsule (K3): one derived row of the binder, the prior the loop offers back. <see cref="SupportCount"/> counts the
/// facts bound to it, <see cref="ContradictionCount"/> the promoted results for the same subject (the same user and
/// simulation: the action went through after all) seen after it was minted, <see cref="LastSeenTs"/> and
/// <see cref="LastContradictionTs"/> the journal times of the last of each. Priors keyed on failure codes
/// (<see cref="FailurePrior"/>) and on policy codes (<see cref="PolicyPrior"/>) are separate types and tables: the first
/// say what to try next, the second which action is usually refused (reference §13.5).
/// </summary>
public abstract record Capsule(
    string DerivedUpsertKey,
    TaskSpecKey Key,
    string PolicyReasonCode,
    string FingerprintHash,
    string BinderVersion,
    CapsuleSignature Signature,
    long SupportCount,
    long ContradictionCount,
    long FirstSeenTs,
    long LastSeenTs,
    long LastContradictionTs,
    string LastEventId,
    string MintedBy)
{
    /// <summary>support / (support + contradictions), in thousandths (integers: the same on every machine).</summary>
    [JsonIgnore]
    public long ConfidencePermille => SupportCount * 1000 / Math.Max(1, SupportCount + ContradictionCount);

    /// <summary>The code the prior is keyed on: the failure code of a failure prior, the policy code of a policy prior.</summary>
    [JsonIgnore]
    public abstract string Code { get; }

    /// <summary>Canonical JSON of the capsule (capsule/v1).</summary>
    public string Canonical() => this switch
    {
        FailurePrior f => CanonicalJson.SerializeToString(f),
        PolicyPrior p => CanonicalJson.SerializeToString(p),
        _ => throw new InvalidOperationException("a capsule is a failure or a policy prior"),
    };
}

/// <summary>A prior keyed on a failure code (table <c>learn_failure_priors</c>); its policy code is always empty.</summary>
public sealed record FailurePrior(string DerivedUpsertKey, TaskSpecKey Key, string PolicyReasonCode, string FingerprintHash, string BinderVersion,
    CapsuleSignature Signature, long SupportCount, long ContradictionCount, long FirstSeenTs, long LastSeenTs, long LastContradictionTs, string LastEventId,
    string MintedBy)
    : Capsule(DerivedUpsertKey, Key, PolicyReasonCode, FingerprintHash, BinderVersion, Signature, SupportCount, ContradictionCount, FirstSeenTs, LastSeenTs,
        LastContradictionTs, LastEventId, MintedBy)
{
    [JsonIgnore]
    public override string Code => Key.FailureReasonCode;
}

/// <summary>A prior keyed on a policy code (table <c>learn_policy_priors</c>); its failure code is always empty.</summary>
public sealed record PolicyPrior(string DerivedUpsertKey, TaskSpecKey Key, string PolicyReasonCode, string FingerprintHash, string BinderVersion,
    CapsuleSignature Signature, long SupportCount, long ContradictionCount, long FirstSeenTs, long LastSeenTs, long LastContradictionTs, string LastEventId,
    string MintedBy)
    : Capsule(DerivedUpsertKey, Key, PolicyReasonCode, FingerprintHash, BinderVersion, Signature, SupportCount, ContradictionCount, FirstSeenTs, LastSeenTs,
        LastContradictionTs, LastEventId, MintedBy)
{
    [JsonIgnore]
    public override string Code => PolicyReasonCode;
}

/// <summary>
/// Hybrid mode's anomaly triggers, versioned (<see cref="Version"/>): a fact without a wrapper that trips one is bound as
/// if it were a failure, keyed on the trigger's code. v1 has one trigger: a retry storm, at least
/// <see cref="RetryStormFacts"/> attempts (turn decisions) of one run (correlation) for one subject.
/// </summary>
public static class AnomalyTriggers
{
    public const string Version = "anomaly/v1";
    public const int RetryStormFacts = 3;

    /// <summary>The failure code an anomaly capsule is keyed on (not a registered code: conformance never trusts it).</summary>
    public const string RetryStormCode = "ANOMALY_RETRY_STORM";

    /// <summary>The trigger a fact trips, or null.</summary>
    public static string? Tripped(LearnFact fact, int runSubjectFacts) =>
        fact.Signal == WrapperSignal.Observed && runSubjectFacts >= RetryStormFacts ? RetryStormCode : null;
}

/// <summary>A fact handed to the binder with what its anomaly triggers read: how many attempts (turn decisions) its run has for its subject.</summary>
public sealed record BindInput(LearnFact Fact, int RunSubjectFacts);

/// <summary>What binding one fact did (the seen-set row, keyed on <see cref="IdempotencyKey"/>).</summary>
public enum BindingOutcome
{
    /// <summary>A new capsule.</summary>
    Minted,
    /// <summary>An existing capsule's support grew.</summary>
    Supported,
    /// <summary>A promoted result contradicted capsules of its subject (and minted nothing).</summary>
    Contradicted,
    /// <summary>Kept as a fact only: its wrapper policy mints nothing from it.</summary>
    FactOnly,
}

/// <summary>One seen-set row: the fact, its idempotency key, the capsule it minted or supported (if any) and why.</summary>
public sealed record Binding(string IdempotencyKey, string EventId, string? DerivedUpsertKey, BindingOutcome Outcome, string Rule);

/// <summary>What a binder pass changed: the capsules to upsert (their new state) and the seen-set rows to add.</summary>
public sealed record BindResult(IReadOnlyList<Capsule> Changed, IReadOnlyList<Binding> Bindings);

/// <summary>
/// K2 binder v1 and K3 capsule maintenance, pure. Keys are SHA-256 over canonical JSON arrays (never joined text, so no
/// value can fake a separator); the fingerprint covers the stable signature only — binder version, guard, event type,
/// signal, both codes, the sorted gate set — never ids, sequences, times or counts, so repeats across runs collide.
/// </summary>
public static class Binder
{
    public const string Version = "v1";

    /// <summary>fingerprint_hash of a fact's stable signature.</summary>
    public static string Fingerprint(CapsuleSignature signature, string failureReasonCode, string policyReasonCode)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return Hashing.Sha256Hex(CanonicalJson.Serialize(new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["binder_version"] = Version,
            ["engine"] = signature.Engine,
            ["event_type"] = signature.EventType,
            ["signal"] = WireNames.Of(signature.Signal),
            ["failure_reason_code"] = failureReasonCode,
            ["policy_reason_code"] = policyReasonCode,
            ["gate_set"] = signature.GateSet.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
        }));
    }

    /// <summary>The idempotency key (run_id, task_id, group_id, binder_version): binding the same fact twice is a no-op.</summary>
    public static string IdempotencyKey(LearnFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        return Hashing.Sha256Hex(CanonicalJson.Serialize(new[] { fact.RunId, fact.TaskId, fact.GroupId, Version }));
    }

    /// <summary>The derived upsert key (scope, target.kind, target.id, action.kind, failure_reason_code, fingerprint_hash, binder_version).</summary>
    public static string DerivedUpsertKey(TaskSpecKey key, string fingerprintHash)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Hashing.Sha256Hex(CanonicalJson.Serialize(new[]
            { key.Scope, key.TargetKind, key.TargetId, key.ActionKind, key.FailureReasonCode, fingerprintHash, Version }));
    }

    /// <summary>
    /// What a fact may mint under its wrapper policy: the key and codes of its capsule, and the rule that allowed it; null
    /// when it mints nothing. Strict: only explicit failure/denial wrappers. Hybrid: those and anomalies. Lenient: every fact.
    /// </summary>
    public static (TaskSpecKey Key, string Policy, string Rule)? MintOf(LearnFact fact, int runSubjectFacts)
    {
        ArgumentNullException.ThrowIfNull(fact);
        var policyName = WireNames.Of(fact.WrapperPolicy);
        if (fact.IsExplicitFailureOrDenial) return (fact.Key, fact.PolicyReasonCode, $"{policyName}:{WireNames.Of(fact.Signal)}");
        if (fact.WrapperPolicy == WrapperPolicy.Strict) return null;
        if (AnomalyTriggers.Tripped(fact, runSubjectFacts) is { } trigger)
            return (fact.Key with { FailureReasonCode = trigger }, "", $"{policyName}:{AnomalyTriggers.Version}:{trigger}");
        if (fact.WrapperPolicy == WrapperPolicy.Lenient) return (fact.Key, "", $"{policyName}:{WireNames.Of(fact.Signal)}");
        return null;
    }

    /// <summary>
    /// Folds facts (in journal order) into the capsules: each fact not bound before (by idempotency key) is bound once. A fact
    /// that may mint (<see cref="MintOf"/>) supports its capsule (support + 1, last_seen = max) or mints it; a promoted result
    /// contradicts every capsule of its subject that names a code (contradictions + 1, last_contradiction = max). The
    /// result holds each changed capsule once, in its final state, and a seen-set row per bound fact.
    /// </summary>
    public static BindResult Bind(IReadOnlyList<Capsule> existing, IReadOnlyList<BindInput> inputs, IReadOnlySet<string>? alreadyBound = null)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(inputs);
        var capsules = existing.ToDictionary(c => c.DerivedUpsertKey, StringComparer.Ordinal);
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(alreadyBound ?? new HashSet<string>(), StringComparer.Ordinal);
        var bindings = new List<Binding>();
        foreach (var (fact, runSubjectFacts) in inputs.OrderBy(i => i.Fact.Sequence))
        {
            var idempotency = IdempotencyKey(fact);
            if (!seen.Add(idempotency)) continue;

            if (fact.Signal == WrapperSignal.Promoted)
            {
                foreach (var c in capsules.Values.Where(c => c.Key.Subject == fact.Key.Subject && c.Code.Length > 0).ToArray())
                {
                    capsules[c.DerivedUpsertKey] = c switch
                    {
                        FailurePrior f => f with { ContradictionCount = f.ContradictionCount + 1, LastContradictionTs = Math.Max(f.LastContradictionTs, fact.ObservedAt) },
                        PolicyPrior p => p with { ContradictionCount = p.ContradictionCount + 1, LastContradictionTs = Math.Max(p.LastContradictionTs, fact.ObservedAt) },
                        _ => c,
                    };
                    changed.Add(c.DerivedUpsertKey);
                }
            }

            if (MintOf(fact, runSubjectFacts) is not { } mint)
            {
                bindings.Add(new Binding(idempotency, fact.EventId, null,
                    fact.Signal == WrapperSignal.Promoted ? BindingOutcome.Contradicted : BindingOutcome.FactOnly, WireNames.Of(fact.WrapperPolicy)));
                continue;
            }

            var signature = new CapsuleSignature(fact.Engine, fact.EventType, fact.Signal,
                fact.GateSet.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());
            var fingerprint = Fingerprint(signature, mint.Key.FailureReasonCode, mint.Policy);
            var upsert = DerivedUpsertKey(mint.Key, fingerprint);
            BindingOutcome outcome;
            if (capsules.TryGetValue(upsert, out var current))
            {
                capsules[upsert] = current switch
                {
                    FailurePrior f => f with { SupportCount = f.SupportCount + 1, LastSeenTs = Math.Max(f.LastSeenTs, fact.ObservedAt), LastEventId = fact.EventId },
                    PolicyPrior p => p with { SupportCount = p.SupportCount + 1, LastSeenTs = Math.Max(p.LastSeenTs, fact.ObservedAt), LastEventId = fact.EventId },
                    _ => current,
                };
                outcome = BindingOutcome.Supported;
            }
            else
            {
                capsules[upsert] = mint.Policy.Length > 0
                    ? new PolicyPrior(upsert, mint.Key, mint.Policy, fingerprint, Version, signature, 1, 0, fact.ObservedAt, fact.ObservedAt, 0, fact.EventId, mint.Rule)
                    : new FailurePrior(upsert, mint.Key, "", fingerprint, Version, signature, 1, 0, fact.ObservedAt, fact.ObservedAt, 0, fact.EventId, mint.Rule);
                outcome = BindingOutcome.Minted;
            }
            changed.Add(upsert);
            bindings.Add(new Binding(idempotency, fact.EventId, upsert, outcome, mint.Rule));
        }
        return new BindResult(changed.Select(k => capsules[k]).ToArray(), bindings);
    }
}
