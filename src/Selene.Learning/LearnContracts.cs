using System.Text;

namespace Selene.Learning;

/// <summary>
/// One versioned schema of the learning loop's contract baseline (K0), pinned: <see cref="Id"/> names the schema and its
/// version (a breaking change is a new id, never an edit of this one), <see cref="CanonicalText"/> is its canonical JSON
/// (<see cref="CanonicalJson"/>), and <see cref="Sha256"/> the hash a contract test holds it to, so a change to the text
/// fails the build until the pin (and the version, if it breaks a reader) is moved on purpose.
/// </summary>
public sealed record PinnedSchema(string Id, string CanonicalText)
{
    /// <summary>SHA-256 (lower hex) of <see cref="CanonicalText"/>'s UTF-8 bytes.</summary>
    public string Sha256 => Hashing.Sha256Hex(CanonicalText);
}

/// <summary>
/// The pinned schemas of the learning loop (reference §2, §4): the guardrails bundle, the reason semantics (the
/// failure/policy split and its one ingest-only alias), guard and transition evaluation records, the wrapper envelope and
/// the capsule. Each is written once here and canonicalized; <see cref="All"/> lists them in id order.
/// </summary>
public static class LearnSchemas
{
    public const string GuardrailsBundleId = "selene.learn.guardrails_bundle/v1";
    public const string ReasonSemanticsId = "selene.learn.reason_semantics/v1";
    public const string GuardEvalId = "selene.learn.guard_eval/v1";
    public const string TransitionEvalId = "selene.learn.transition_eval/v1";
    public const string WrapperId = "selene.learn.wrapper/v1";
    public const string CapsuleId = "selene.learn.capsule/v1";

    public static PinnedSchema GuardrailsBundle { get; } = Pin(GuardrailsBundleId, """
        {"$id":"selene.learn.guardrails_bundle/v1","type":"object","additionalProperties":false,
         "required":["artifact_kind","bundle_id","version","unknowns_policy","guards"],
         "properties":{
           "artifact_kind":{"const":"guardrails_bundle"},
           "bundle_id":{"type":"string","minLength":1},
           "version":{"type":"string","minLength":1},
           "unknowns_policy":{"type":"object","additionalProperties":false,
             "required":["on_unknown_state","on_unknown_transition","reason_code","max_unknowns"],
             "properties":{"on_unknown_state":{"enum":["DENY","STOP"]},"on_unknown_transition":{"enum":["DENY","STOP"]},
               "reason_code":{"type":"string","pattern":"^[A-Z0-9_]+$"},"max_unknowns":{"type":"integer","minimum":0}}},
           "guards":{"type":"array","minItems":1,"items":{"type":"object","additionalProperties":false,
             "required":["guard_id","engine","event_type","deny_decision"],
             "properties":{"guard_id":{"type":"string","minLength":1},"engine":{"type":"string"},"event_type":{"type":"string"},
               "deny_decision":{"enum":["DENY","STOP"]}}}}}}
        """);

    public static PinnedSchema ReasonSemantics { get; } = Pin(ReasonSemanticsId, """
        {"$id":"selene.learn.reason_semantics/v1","type":"object","additionalProperties":false,
         "required":["failure_reason_code","policy_reason_code"],
         "properties":{"failure_reason_code":{"type":"string","pattern":"^([A-Z][A-Z0-9_]*)?$"},
                       "policy_reason_code":{"type":"string","pattern":"^([A-Z][A-Z0-9_]*)?$"}},
         "x-aliases":{"reason_code":"failure_reason_code","guard_reason_code":"policy_reason_code"},
         "x-alias-scope":"INGEST_ONLY",
         "x-alias-rule":"an alias is read only from a record that carries neither failure_reason_code nor policy_reason_code",
         "x-rule":"a guard denial sets policy_reason_code and never overwrites failure_reason_code"}
        """);

    public static PinnedSchema GuardEval { get; } = Pin(GuardEvalId, """
        {"$id":"selene.learn.guard_eval/v1","type":"object","additionalProperties":false,
         "required":["guard_id","status","decision","reason_codes","evidence_refs"],
         "properties":{"guard_id":{"type":"string","minLength":1},"status":{"enum":["PASS","FAIL","SKIP"]},
           "decision":{"enum":["ALLOW","DENY","STOP"]},"reason_codes":{"type":"array","items":{"type":"string"}},
           "evidence_refs":{"type":"array","items":{"type":"string"}}}}
        """);

    public static PinnedSchema TransitionEval { get; } = Pin(TransitionEvalId, """
        {"$id":"selene.learn.transition_eval/v1","type":"object","additionalProperties":false,
         "required":["transition_id","from_state","to_state","decision","reason_codes","violated_guards","evidence_refs"],
         "properties":{"transition_id":{"type":"string","minLength":1},"from_state":{"type":"string"},"to_state":{"type":"string"},
           "decision":{"enum":["ALLOW","DENY","STOP"]},"reason_codes":{"type":"array","items":{"type":"string"}},
           "violated_guards":{"type":"array","items":{"type":"string"}},"evidence_refs":{"type":"array","items":{"type":"string"}}}}
        """);

    public static PinnedSchema Wrapper { get; } = Pin(WrapperId, """
        {"$id":"selene.learn.wrapper/v1","type":"object","additionalProperties":false,
         "required":["event_id","run_id","sequence","task_id","group_id","signal","wrapper_policy","key","policy_reason_code",
                     "engine","event_type","reason_code","gate_set","evidence_refs","source_digest","observed_at","guard"],
         "properties":{"event_id":{"type":"string","pattern":"^evt-[0-9a-f]{32}$"},"run_id":{"type":"string","minLength":1},
           "sequence":{"type":"integer","minimum":1},"task_id":{"type":"string","minLength":1},"group_id":{"type":"string","minLength":1},
           "signal":{"enum":["FAILED_GATE","DENY","FAILURE","PROMOTED","OBSERVED"]},"wrapper_policy":{"enum":["STRICT","HYBRID","LENIENT"]},
           "key":{"type":"object","additionalProperties":false,
             "required":["scope","target_kind","target_id","action_kind","failure_reason_code"],
             "properties":{"scope":{"type":"string","minLength":1},"target_kind":{"type":"string","minLength":1},
               "target_id":{"type":"string","minLength":1},"action_kind":{"type":"string","minLength":1},"failure_reason_code":{"type":"string"}}},
           "policy_reason_code":{"type":"string"},"engine":{"type":"string"},"event_type":{"type":"string"},"reason_code":{"type":"string"},
           "gate_set":{"type":"array","items":{"type":"string"}},"evidence_refs":{"type":"array","minItems":1,"items":{"type":"string"}},
           "source_digest":{"type":"string","pattern":"^[0-9a-f]{64}$"},"observed_at":{"type":"integer"},
           "guard":{"$ref":"selene.learn.guard_eval/v1"},"transition":{"$ref":"selene.learn.transition_eval/v1"}}}
        """);

    public static PinnedSchema Capsule { get; } = Pin(CapsuleId, """
        {"$id":"selene.learn.capsule/v1","type":"object","additionalProperties":false,
         "required":["derived_upsert_key","key","policy_reason_code","fingerprint_hash","binder_version","signature",
                     "support_count","contradiction_count","first_seen_ts","last_seen_ts","last_contradiction_ts","last_event_id","minted_by"],
         "properties":{"derived_upsert_key":{"type":"string","pattern":"^[0-9a-f]{64}$"},"fingerprint_hash":{"type":"string","pattern":"^[0-9a-f]{64}$"},
           "binder_version":{"const":"v1"},"support_count":{"type":"integer","minimum":1},"contradiction_count":{"type":"integer","minimum":0},
           "signature":{"type":"object","required":["engine","event_type","signal","gate_set"]},
           "minted_by":{"type":"string"}}}
        """);

    /// <summary>Every pinned schema, in id order.</summary>
    public static IReadOnlyList<PinnedSchema> All { get; } =
        new[] { GuardrailsBundle, ReasonSemantics, GuardEval, TransitionEval, Wrapper, Capsule }.OrderBy(s => s.Id, StringComparer.Ordinal).ToArray();

    private static PinnedSchema Pin(string id, string text) => new(id, Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(text))));
}

/// <summary>
/// The reason semantics of one fact (reference §4.3): what went wrong (<see cref="FailureReasonCode"/>) and what a rule
/// disallowed (<see cref="PolicyReasonCode"/>), empty when absent. The two never overwrite each other; the legacy alias
/// <c>reason_code</c> (→ failure) and <c>guard_reason_code</c> (→ policy) are read only at ingest, and only from a record
/// that carries neither split field (a journal entry written before the split, issue 15).
/// </summary>
public sealed record ReasonSemantics(string FailureReasonCode, string PolicyReasonCode)
{
    public const string FailureField = RefusalClassification.FailureField;
    public const string PolicyField = RefusalClassification.PolicyField;
    public const string LegacyFailureAlias = "reason_code";
    public const string LegacyPolicyAlias = "guard_reason_code";

    public static ReasonSemantics None { get; } = new("", "");

    /// <summary>A guard denial: sets the policy code; the failure code stays what it was.</summary>
    public ReasonSemantics WithGuardDenial(string policyReasonCode) => this with { PolicyReasonCode = policyReasonCode };

    /// <summary>A failure: sets the failure code; the policy code stays what it was.</summary>
    public ReasonSemantics WithFailure(string failureReasonCode) => this with { FailureReasonCode = failureReasonCode };

    /// <summary>
    /// Reads the semantics of an ingested record: the split fields when either is present, otherwise the legacy aliases.
    /// </summary>
    public static ReasonSemantics AtIngest(IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var failure = fields.GetValueOrDefault(FailureField);
        var policy = fields.GetValueOrDefault(PolicyField);
        if (failure is null && policy is null)
            return new(fields.GetValueOrDefault(LegacyFailureAlias) ?? "", fields.GetValueOrDefault(LegacyPolicyAlias) ?? "");
        return new(failure ?? "", policy ?? "");
    }

    /// <summary>
    /// Reads the reason filters of a query (the priors, the views): only the two split fields; an alias is refused
    /// (<see cref="LearnReasons.LearnReasonAliasRefused"/>) because it is accepted at ingest only.
    /// </summary>
    public static JsonInputError? FromQuery(IReadOnlyDictionary<string, string> filters, out ReasonSemantics semantics)
    {
        ArgumentNullException.ThrowIfNull(filters);
        semantics = None;
        foreach (var alias in new[] { LegacyFailureAlias, LegacyPolicyAlias })
            if (filters.ContainsKey(alias))
                return new JsonInputError(LearnReasons.LearnReasonAliasRefused,
                    $"'{alias}' is a legacy alias accepted only at ingest: filter by {FailureField} or {PolicyField}");
        semantics = new(filters.GetValueOrDefault(FailureField) ?? "", filters.GetValueOrDefault(PolicyField) ?? "");
        return null;
    }
}

/// <summary>A guard's status in one evaluation (guard_eval/v1).</summary>
public enum GuardStatus
{
    Pass,
    Fail,
    Skip,
}

/// <summary>What a guard evaluation decided (guard_eval/v1, transition_eval/v1).</summary>
public enum GuardDecision
{
    Allow,
    Deny,
    Stop,
}

/// <summary>What a bundle does with a state or transition it does not know (unknowns = DENY, at most <see cref="MaxUnknowns"/>).</summary>
public sealed record UnknownsPolicy(GuardDecision OnUnknownState, GuardDecision OnUnknownTransition, string ReasonCode, int MaxUnknowns);

/// <summary>One guard of the bundle: which journal entries are its evaluations (engine and event type) and how it denies.</summary>
public sealed record GuardSpec(string GuardId, string Engine, string EventType, GuardDecision DenyDecision);

/// <summary>
/// The guardrails bundle (guardrails_bundle/v1): control-plane input, written here and never derived from what is
/// ingested. Selene's guards are the gates that journal a decision: the turn gate, the access gate, each engine's state
/// machine and the outbox's attempts.
/// </summary>
public sealed record GuardrailsBundle(string ArtifactKind, string BundleId, string Version, UnknownsPolicy UnknownsPolicy, IReadOnlyList<GuardSpec> Guards)
{
    /// <summary>Selene's bundle: every guard whose decisions the journal records.</summary>
    public static GuardrailsBundle Selene { get; } = new("guardrails_bundle", "selene.default", "1",
        new UnknownsPolicy(GuardDecision.Deny, GuardDecision.Deny, "LEARN_WRAPPER_REASON_UNKNOWN", 0),
        [
            new("os.turn_gate", ReasonCodes.EngineOs, "TURN_DECISION", GuardDecision.Deny),
            new("access.gate", "PH1.ACCESS", "ACCESS_DECISION", GuardDecision.Deny),
            new("engine.state_machine", "*", "SIMULATION_REFUSED", GuardDecision.Deny),
            new("engine.state_machine", "*", "STATE_TRANSITION", GuardDecision.Deny),
            new("api.request", ReasonCodes.EngineApi, "REQUEST_REFUSED", GuardDecision.Deny),
            new("work.outbox_attempt", ReasonCodes.EngineWork, "OUTBOX_ATTEMPT_FAILURE", GuardDecision.Stop),
        ]);

    /// <summary>The guard whose evaluation a journal entry is, or null when the entry is no guard's.</summary>
    public GuardSpec? GuardOf(string engine, string eventType) =>
        Guards.FirstOrDefault(g => g.EventType == eventType && (g.Engine == "*" || g.Engine == engine));

    /// <summary>Canonical JSON of the bundle (the form its schema describes).</summary>
    public string Canonical() => CanonicalJson.SerializeToString(this);
}

/// <summary>One guard evaluation (guard_eval/v1), as a journal entry of that guard records it.</summary>
public sealed record GuardEval(string GuardId, GuardStatus Status, GuardDecision Decision, IReadOnlyList<string> ReasonCodes, IReadOnlyList<string> EvidenceRefs)
{
    public string Canonical() => CanonicalJson.SerializeToString(this);
}

/// <summary>One state-machine transition's evaluation (transition_eval/v1): an engine's STATE_TRANSITION or SIMULATION_REFUSED.</summary>
public sealed record TransitionEval(string TransitionId, string FromState, string ToState, GuardDecision Decision, IReadOnlyList<string> ReasonCodes,
    IReadOnlyList<string> ViolatedGuards, IReadOnlyList<string> EvidenceRefs)
{
    public string Canonical() => CanonicalJson.SerializeToString(this);
}
