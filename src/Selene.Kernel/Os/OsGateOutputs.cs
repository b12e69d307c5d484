namespace Selene.Kernel.Os;

/// <summary>Whether a PH1.OS capability produced an output.</summary>
public enum OsOutputKind
{
    /// <summary>No output (a <c>default</c> value): reads as refused, fail-closed, PH1_OS_UPSTREAM_INPUT_MISSING.</summary>
    Missing,
    /// <summary>The capability answered (which may still be a REFUSE move).</summary>
    Ok,
    /// <summary>The capability refused the request itself (<c>OsRefuse</c>): schema, budget or pipeline error.</summary>
    Refused,
}

/// <summary>
/// The OS_POLICY_EVALUATE output (reference §1.3): per-gate results, dispatch legality, the failed guards and the
/// reason code, or a refusal (<see cref="OsOutputKind.Refused"/>, with <see cref="Message"/>) when the request was
/// schema-invalid or over budget. The per-gate booleans and the dispatch flags are derived from
/// <see cref="GuardFailures"/>, so they cannot disagree; every one of them is false unless the kind is
/// <see cref="OsOutputKind.Ok"/> (a refused or missing evaluation allows nothing).
/// </summary>
public readonly record struct OsPolicyResult
{
    // Gates a tool dispatch needs (reference §1.3): session through capreq, no contradiction, access.
    private const OsGuardFailures ToolPathGates =
        OsGuardFailures.Session | OsGuardFailures.Understanding | OsGuardFailures.Confirmation | OsGuardFailures.PromptPolicy |
        OsGuardFailures.Policy | OsGuardFailures.Tenant | OsGuardFailures.Gov | OsGuardFailures.Quota | OsGuardFailures.Work |
        OsGuardFailures.Capreq | OsGuardFailures.GovernanceContradiction | OsGuardFailures.Access;

    private readonly ReasonCode? _reason;

    internal OsPolicyResult(
        OsOutputKind kind, ReasonCode reason, string? message, in OsPolicyInput input, OsGuardFailures failures,
        ushort outcomeEntriesEvaluated, ushort unresolvedOutcomes)
    {
        Kind = kind;
        _reason = reason;
        Message = message;
        Correlation = input.Correlation;
        Turn = input.Turn;
        MaxGuardFailures = input.MaxGuardFailures;
        MaxDiagnostics = input.MaxDiagnostics;
        MaxOutcomeEntries = input.MaxOutcomeEntries;
        ToolRequested = input.ToolRequested;
        SimulationRequested = input.SimulationRequested;
        Governance = input.Governance;
        OptionalBudget = input.OptionalBudget;
        GuardFailures = failures;
        OutcomeEntriesEvaluated = outcomeEntriesEvaluated;
        UnresolvedOutcomes = unresolvedOutcomes;
    }

    public OsOutputKind Kind { get; }

    /// <summary>PH1_OS_OK_POLICY_EVALUATE, the first failing gate's code, or the refusal's code.</summary>
    public ReasonCode Reason => _reason ?? ReasonCodes.OsUpstreamInputMissing;

    /// <summary>Why the request was refused; null unless <see cref="Kind"/> is <see cref="OsOutputKind.Refused"/>.</summary>
    public string? Message { get; }

    // Envelope and request echo: decision compute re-checks the budgets and the dispatch request against these.
    public CorrelationId Correlation { get; }
    public TurnId Turn { get; }
    public byte MaxGuardFailures { get; }
    public byte MaxDiagnostics { get; }
    public ushort MaxOutcomeEntries { get; }
    public bool ToolRequested { get; }
    public bool SimulationRequested { get; }
    public OsGovernanceDecisions Governance { get; }
    public OsOptionalBudget OptionalBudget { get; }

    /// <summary>The failed gates; render with <see cref="OsGuardFailureNames"/>.</summary>
    public OsGuardFailures GuardFailures { get; }

    /// <summary>How many outcome rows were evaluated.</summary>
    public ushort OutcomeEntriesEvaluated { get; }

    /// <summary>ACT_NOW or QUEUE_LEARN rows nobody consumed (GATE-U2 passes at zero).</summary>
    public ushort UnresolvedOutcomes { get; }

    /// <summary>GATE-U1 classification coverage; fixed at 100 % in this slice (reference §1.3).</summary>
    public byte ClassificationCoveragePct => 100;

    public bool IsOk => Kind == OsOutputKind.Ok;

    public bool SessionGateOk => Passed(OsGuardFailures.Session);
    public bool UnderstandingGateOk => Passed(OsGuardFailures.Understanding);
    public bool ConfirmationGateOk => Passed(OsGuardFailures.Confirmation);
    public bool PromptPolicyGateOk => Passed(OsGuardFailures.PromptPolicy);
    public bool PolicyGateOk => Passed(OsGuardFailures.Policy);
    public bool TenantGateOk => Passed(OsGuardFailures.Tenant);
    public bool GovGateOk => Passed(OsGuardFailures.Gov);
    public bool QuotaGateOk => Passed(OsGuardFailures.Quota);
    public bool WorkGateOk => Passed(OsGuardFailures.Work);
    public bool CapreqGateOk => Passed(OsGuardFailures.Capreq);

    /// <summary>True when the governance decisions mix ALLOW with anything else.</summary>
    public bool GovernanceContradictionDetected => IsOk && (GuardFailures & OsGuardFailures.GovernanceContradiction) != 0;

    public bool AccessGateOk => Passed(OsGuardFailures.Access);
    public bool BlueprintGateOk => Passed(OsGuardFailures.Blueprint);
    public bool SimulationGateOk => Passed(OsGuardFailures.Simulation);
    public bool IdempotencyGateOk => Passed(OsGuardFailures.Idempotency);
    public bool LeaseGateOk => Passed(OsGuardFailures.Lease);

    /// <summary>GATE-U1.</summary>
    public bool OutcomeClassificationComplete => Passed(OsGuardFailures.OutcomeClassification);

    /// <summary>GATE-U2.</summary>
    public bool UnresolvedOutcomesZero => Passed(OsGuardFailures.OutcomeUnresolved);

    /// <summary>GATE-U3.</summary>
    public bool OptionalBudgetEnforced => Passed(OsGuardFailures.OptionalBudget);

    /// <summary>Every gate passed and there is no governance contradiction.</summary>
    public bool ExecutionAllowed => IsOk && GuardFailures == OsGuardFailures.None;

    /// <summary>A tool (never a simulation) was requested and every gate up to access passed.</summary>
    public bool ToolDispatchAllowed => IsOk && ToolRequested && !SimulationRequested && (GuardFailures & ToolPathGates) == 0;

    /// <summary>A simulation was requested and execution is allowed.</summary>
    public bool SimulationDispatchAllowed => SimulationRequested && ExecutionAllowed;

    private bool Passed(OsGuardFailures gate) => IsOk && (GuardFailures & gate) == 0;
}

/// <summary>
/// The OS_DECISION_COMPUTE output (reference §1.4): exactly one next move with its reason code, the fail-closed
/// posture and dispatch/execution legality, or a refusal of the request itself (<see cref="OsOutputKind.Refused"/>,
/// which reads as a fail-closed REFUSE move). A <c>default</c> value reads as a fail-closed REFUSE with
/// PH1_OS_UPSTREAM_INPUT_MISSING, never as RESPOND.
/// </summary>
public readonly record struct OsDecision
{
    private readonly OsNextMove _move;
    private readonly bool _failClosed;
    private readonly ReasonCode? _reason;

    internal OsDecision(
        OsOutputKind kind, OsNextMove move, ReasonCode reason, bool failClosed, bool dispatchAllowed, bool executionAllowed,
        OsGuardFailures guards, string? message, CorrelationId correlation, TurnId turn)
    {
        Kind = kind;
        _move = move;
        _reason = reason;
        _failClosed = failClosed;
        DispatchAllowed = dispatchAllowed;
        ExecutionAllowed = executionAllowed;
        Guards = guards;
        Message = message;
        Correlation = correlation;
        Turn = turn;
    }

    public OsOutputKind Kind { get; }

    /// <summary>The one next move; REFUSE unless <see cref="Kind"/> is <see cref="OsOutputKind.Ok"/>.</summary>
    public OsNextMove Move => Kind == OsOutputKind.Ok ? _move : OsNextMove.Refuse;

    public ReasonCode Reason => _reason ?? ReasonCodes.OsUpstreamInputMissing;

    /// <summary>True for every refusal and every gate failure; never together with RESPOND.</summary>
    public bool FailClosed => Kind != OsOutputKind.Ok || _failClosed;

    /// <summary>True only for DISPATCH_TOOL and DISPATCH_SIMULATION.</summary>
    public bool DispatchAllowed { get; }

    /// <summary>True only for DISPATCH_SIMULATION.</summary>
    public bool ExecutionAllowed { get; }

    /// <summary>The policy evaluation's failed guards, for the response.</summary>
    public OsGuardFailures Guards { get; }

    /// <summary>Why the request was refused; null unless <see cref="Kind"/> is <see cref="OsOutputKind.Refused"/>.</summary>
    public string? Message { get; }

    public CorrelationId Correlation { get; }
    public TurnId Turn { get; }
}

/// <summary>What <see cref="OsGate.Decide"/> did with a turn (reference §1.5).</summary>
public enum OsWiringOutcomeKind
{
    /// <summary>PH1.OS is disabled: it was not invoked and nothing may be dispatched (AT-OS-05).</summary>
    NotInvokedDisabled,
    /// <summary>The turn was refused before a move was chosen (fail-closed).</summary>
    Refused,
    /// <summary>Both capabilities ran: <see cref="OsWiringOutcome.Policy"/> and <see cref="OsWiringOutcome.Decision"/> hold the answer.</summary>
    Forwarded,
}

/// <summary>
/// The per-turn result of <see cref="OsGate.Decide"/>: not invoked, refused (reason and message), or forwarded
/// with the policy evaluation and the decision. A <c>default</c> value is <see cref="OsWiringOutcomeKind.NotInvokedDisabled"/>.
/// </summary>
public readonly record struct OsWiringOutcome
{
    private readonly ReasonCode? _reason;

    internal OsWiringOutcome(OsWiringOutcomeKind kind, ReasonCode reason, string? message, in OsPolicyResult policy, in OsDecision decision)
    {
        Kind = kind;
        _reason = reason;
        Message = message;
        Policy = policy;
        Decision = decision;
    }

    public OsWiringOutcomeKind Kind { get; }

    /// <summary>PH1_OS_NOT_INVOKED_DISABLED, the refusal's code, or the decision's code.</summary>
    public ReasonCode Reason => _reason ?? ReasonCodes.OsNotInvokedDisabled;

    /// <summary>Why the turn was refused; null unless refused.</summary>
    public string? Message { get; }

    /// <summary>The policy evaluation (missing unless it ran).</summary>
    public OsPolicyResult Policy { get; }

    /// <summary>The decision (missing unless forwarded).</summary>
    public OsDecision Decision { get; }
}
