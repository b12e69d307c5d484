namespace Selene.Kernel.Os;

/// <summary>
/// What the ALWAYS_ON engines concluded about the turn (reference §1.2 "turn posture" and the prompt-policy gate
/// result). These are the six booleans a caller reports; everything authority-bearing comes from the runtime.
/// </summary>
public readonly record struct OsTurnPosture(
    bool SessionActive,
    bool TranscriptOk,
    bool NlpConfidenceHigh,
    bool RequiresConfirmation,
    bool ConfirmationReceived,
    bool PromptPolicyGateOk);

/// <summary>
/// The six governance gate inputs (reference §1.2), in the order of the governance trace. Only
/// <see cref="OsGateDecision.Allow"/> passes; a mix of ALLOW and anything else is a governance contradiction.
/// </summary>
public readonly record struct OsGovernanceDecisions(
    OsGateDecision Policy,
    OsGateDecision Tenant,
    OsGateDecision Gov,
    OsGateDecision Quota,
    OsGateDecision Work,
    OsGateDecision Capreq)
{
    /// <summary>Every governance engine allows.</summary>
    public static OsGovernanceDecisions AllAllow { get; } = default;

    /// <summary>
    /// The governance decision trace (reference §1.3): <c>["POLICY:ALLOW", "TENANT:…", "GOV:…", "QUOTA:…",
    /// "WORK:…", "CAPREQ:…"]</c>. Allocates; for responses and journals only.
    /// </summary>
    public string[] Trace() =>
    [
        "POLICY:" + WireNames.Of(Policy), "TENANT:" + WireNames.Of(Tenant), "GOV:" + WireNames.Of(Gov),
        "QUOTA:" + WireNames.Of(Quota), "WORK:" + WireNames.Of(Work), "CAPREQ:" + WireNames.Of(Capreq),
    ];
}

/// <summary>
/// Execution dependencies the runtime looked up for the turn (reference §1.2): the access decision, whether the
/// blueprint and simulation are ACTIVE, and the idempotency and lease posture.
/// </summary>
public readonly record struct OsExecutionDeps(
    bool AccessAllowed,
    bool BlueprintActive,
    bool SimulationActive,
    bool IdempotencyRequired,
    bool IdempotencyKeyPresent,
    bool LeaseRequired,
    bool LeaseValid);

/// <summary>
/// GATE-U3 optional-budget posture (reference §1.2), filled by the top-level turn slice. Schema bounds:
/// requested and budget ≤ 64, both latencies ≤ 60000 ms. The gate passes when <see cref="Enforced"/> is true,
/// <see cref="InvocationsSkippedBudget"/> equals requested minus budget (saturating at zero) and the estimated
/// latency is within the latency budget.
/// </summary>
public readonly record struct OsOptionalBudget(
    bool Enforced,
    ushort InvocationsRequested,
    ushort InvocationsBudget,
    ushort InvocationsSkippedBudget,
    uint LatencyBudgetMs,
    uint LatencyEstimatedMs)
{
    /// <summary>No optional engine requested, budget enforced.</summary>
    public static OsOptionalBudget NoneRequested { get; } = new(true, 0, 0, 0, 0, 0);
}

/// <summary>
/// The move posture PH1.X asked for this turn (reference §1.2, decision request). More than one requested move is
/// refused (one turn, one move). <see cref="ClarifyOwnerEngineId"/> must be <c>PH1.NLP</c> exactly when
/// <see cref="ClarifyRequired"/> is true, and absent otherwise.
/// </summary>
public readonly record struct OsMoveRequest(
    bool ChatRequested,
    bool ClarifyRequired,
    string? ClarifyOwnerEngineId,
    bool ConfirmRequired,
    bool ExplainRequested,
    bool WaitRequired,
    bool ToolRequested,
    bool SimulationRequested)
{
    /// <summary>How many moves are requested (chat, clarify, confirm, explain, wait, tool, simulation).</summary>
    public int RequestedCount =>
        (ChatRequested ? 1 : 0) + (ClarifyRequired ? 1 : 0) + (ConfirmRequired ? 1 : 0) + (ExplainRequested ? 1 : 0) +
        (WaitRequired ? 1 : 0) + (ToolRequested ? 1 : 0) + (SimulationRequested ? 1 : 0);
}

/// <summary>
/// The OS_POLICY_EVALUATE request (reference §1.2, schema version 1): the envelope, the turn posture, the
/// prompt-policy requirement, the dispatch request, the governance decisions, the execution dependencies, the three
/// invariants, the GATE-U3 budget posture and the outcome-utilization rows of the turn.
/// </summary>
/// <remarks>
/// A default <see cref="CorrelationId"/> or <see cref="TurnId"/> (value 0, which their constructors forbid) is
/// schema-invalid. <see cref="Outcomes"/> is read, never retained or written.
/// </remarks>
public readonly record struct OsPolicyInput
{
    public CorrelationId Correlation { get; init; }
    public TurnId Turn { get; init; }

    /// <summary>Envelope: how many guard failures the caller accepts in the answer (runtime cap 8).</summary>
    public byte MaxGuardFailures { get; init; }

    /// <summary>Envelope: how many diagnostics the caller accepts (runtime cap 8).</summary>
    public byte MaxDiagnostics { get; init; }

    /// <summary>Envelope: the most outcome rows the request may carry (runtime cap 128).</summary>
    public ushort MaxOutcomeEntries { get; init; }

    public OsTurnPosture Posture { get; init; }

    /// <summary>True when the prompt-policy gate applies; the wiring sets it to clarify OR confirm required.</summary>
    public bool PromptPolicyRequired { get; init; }

    public bool ToolRequested { get; init; }
    public bool SimulationRequested { get; init; }
    public OsGovernanceDecisions Governance { get; init; }
    public OsExecutionDeps Deps { get; init; }

    /// <summary>Invariant, must be true.</summary>
    public bool NoEngineToEngineCalls { get; init; }

    /// <summary>Invariant, must be true.</summary>
    public bool NoSimulationNoExecution { get; init; }

    /// <summary>Invariant, must be true.</summary>
    public bool OneTurnOneMove { get; init; }

    public OsOptionalBudget OptionalBudget { get; init; }
    public ReadOnlyMemory<OsOutcomeEntry> Outcomes { get; init; }
}

/// <summary>
/// One turn as the OS wiring sees it (reference §1.5, <c>OsTurnInput</c>): the posture, the requested move, the
/// governance decisions and execution dependencies the runtime derived, the GATE-U3 posture and the outcome rows.
/// <see cref="OsGate.Decide"/> builds the envelope from <see cref="OsConfig"/> and sets the invariants itself.
/// </summary>
public readonly record struct OsTurnInput
{
    public CorrelationId Correlation { get; init; }
    public TurnId Turn { get; init; }
    public OsTurnPosture Posture { get; init; }
    public OsMoveRequest Move { get; init; }
    public OsGovernanceDecisions Governance { get; init; }
    public OsExecutionDeps Deps { get; init; }
    public OsOptionalBudget OptionalBudget { get; init; }
    public ReadOnlyMemory<OsOutcomeEntry> Outcomes { get; init; }
}
