namespace Selene.Learning;

/// <summary>
/// PH1.LEARN's reason codes (block 17xxx: 170xx successes, 172xx refusals of the mode simulation, 173xx why a journal entry
/// was quarantined instead of becoming a fact, 174xx why a capsule failed its conformance check). Quarantine and
/// conformance codes name a defect of learning input, never an HTTP outcome of a caller's request; their kind is the
/// class the failure/policy table gives them (docs/learning.md).
/// </summary>
public static class LearnReasons
{
    /// <summary>The journal's engine id for the learning loop.</summary>
    public const string EngineId = "PH1.LEARN";

    public static readonly ReasonCode LearnModeSet = new("LEARN_OK_MODE_SET", 17001, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A guided or prescriptive turn consulted priors (journal entry LEARN_PRIORS_CONSULTED).</summary>
    public static readonly ReasonCode LearnPriorsConsulted = new("LEARN_OK_PRIORS_CONSULTED", 17002, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An ingest pass read the tenant's journal (<c>selene learn ingest</c>).</summary>
    public static readonly ReasonCode LearnIngested = new("LEARN_OK_INGESTED", 17003, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A binder pass folded the unbound facts into capsules (<c>selene learn bind</c>).</summary>
    public static readonly ReasonCode LearnBound = new("LEARN_OK_BOUND", 17004, EngineId, Severity.Info, ReasonKind.Success, false);

    /// <summary>The tenant's mode already is the one asked for.</summary>
    public static readonly ReasonCode LearnModeUnchanged = new("LEARN_MODE_UNCHANGED", 17201, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A query named the legacy <c>reason_code</c> alias: it is accepted only at ingest.</summary>
    public static readonly ReasonCode LearnReasonAliasRefused = new("LEARN_REASON_ALIAS_REFUSED", 17202, EngineId, Severity.Warn, ReasonKind.Invalid, false);

    /// <summary>A journal entry's payload is not a JSON object of strings.</summary>
    public static readonly ReasonCode LearnWrapperPayloadInvalid = new("LEARN_WRAPPER_PAYLOAD_INVALID", 17301, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>A journal entry names both failure_reason_code and policy_reason_code, or a split field for a success.</summary>
    public static readonly ReasonCode LearnWrapperSplitViolated = new("LEARN_WRAPPER_SPLIT_VIOLATED", 17302, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>A journal entry's reason code (or the code a split field names) is not in the registry.</summary>
    public static readonly ReasonCode LearnWrapperReasonUnknown = new("LEARN_WRAPPER_REASON_UNKNOWN", 17303, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>A wrapper lacks a required field (run_id, group_id, signal, wrapper_policy, evidence, a TaskSpec key field).</summary>
    public static readonly ReasonCode LearnWrapperFieldMissing = new("LEARN_WRAPPER_FIELD_MISSING", 17304, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>A wrapper's event_id is not the one its run, sequence and canonical payload give.</summary>
    public static readonly ReasonCode LearnWrapperLineageMismatch = new("LEARN_WRAPPER_LINEAGE_MISMATCH", 17305, EngineId, Severity.Warn, ReasonKind.Invalid, false);

    /// <summary>Conformance: the capsule's simulation is not an ACTIVE simulation of the catalog.</summary>
    public static readonly ReasonCode LearnConformanceSimulationUnknown = new("LEARN_CONFORMANCE_SIMULATION_UNKNOWN", 17401, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>Conformance: the capsule does not round-trip through its canonical form, or its keys are not the ones its signature gives.</summary>
    public static readonly ReasonCode LearnConformanceNotCanonical = new("LEARN_CONFORMANCE_NOT_CANONICAL", 17402, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>Conformance: the capsule's code is not one the simulation declares or one of the gates in front of it.</summary>
    public static readonly ReasonCode LearnConformanceSideEffectUndeclared = new("LEARN_CONFORMANCE_SIDE_EFFECT_UNDECLARED", 17403, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>Conformance: the capsule breaks the failure/policy split (both codes, neither, or a code in the other class).</summary>
    public static readonly ReasonCode LearnConformanceSplitViolated = new("LEARN_CONFORMANCE_SPLIT_VIOLATED", 17404, EngineId, Severity.Warn, ReasonKind.Conflict, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(LearnReasons));
}
