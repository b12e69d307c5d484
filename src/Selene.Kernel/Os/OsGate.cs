using System.Numerics;

namespace Selene.Kernel.Os;

/// <summary>
/// PH1.OS, the orchestration gate (reference §1): OS_POLICY_EVALUATE computes the gate posture, OS_DECISION_COMPUTE
/// chooses exactly one next move, and <see cref="Decide"/> runs both the way the per-turn wiring does (§1.5).
/// Pure and deterministic: the same inputs always give the same outputs. <see cref="PolicyEvaluate"/> and
/// <see cref="DecisionCompute"/> allocate nothing (the gate runs on every turn).
/// </summary>
/// <remarks>
/// Choices where the reference is silent, so that they are the same every time:
/// <list type="bullet">
/// <item>Schema is checked before budgets, in both capabilities (a request must be well-formed before its budgets
/// mean anything).</item>
/// <item>GATE-U3's bounds (requested and budget ≤ 64, latencies ≤ 60000 ms) are schema; its relations (enforced,
/// skipped = requested − budget saturating, estimate ≤ budget) are the gate, so a budget drift is a fail-closed
/// OS_FAIL_OPTIONAL_BUDGET_GATE rather than a schema refusal.</item>
/// <item>Outcome rows are schema-checked field by field: engine id and consumed_by are engine ids
/// (<see cref="OsEngineIds.IsWellFormed"/>; <c>NONE</c> is one), outcome type and reason code are 1..64
/// characters, the action class is a declared member. A row nobody can read must not count as consumed.</item>
/// <item>Enum values outside their declared members are schema-invalid.</item>
/// <item>Decision compute refuses (PH1_OS_UPSTREAM_INPUT_MISSING) a policy result that is missing or refused, and
/// refuses (PH1_OS_INPUT_SCHEMA_INVALID) a move request whose tool/simulation request differs from the one the
/// policy evaluated, since the blueprint and simulation gates only apply to an evaluated simulation request.</item>
/// <item>Output validation also requires that dispatch is allowed only for the two dispatch moves and execution
/// only for DISPATCH_SIMULATION.</item>
/// </list>
/// </remarks>
public static class OsGate
{
    /// <summary>Schema bound of the GATE-U3 invocation counts.</summary>
    public const int MaxOptionalInvocationsBound = 64;

    /// <summary>Schema bound of the GATE-U3 latencies, in milliseconds.</summary>
    public const uint MaxOptionalLatencyBoundMs = 60_000;

    private const int MaxOutcomeTextLength = 64;

    /// <summary>
    /// OS_POLICY_EVALUATE (reference §1.3). Refuses with PH1_OS_INPUT_SCHEMA_INVALID when the request breaks its
    /// schema (§1.2), with PH1_OS_BUDGET_EXCEEDED when the envelope asks for more than <paramref name="config"/>
    /// allows or more guards failed than the envelope's <c>max_guard_failures</c>; otherwise answers with every
    /// gate, the dispatch legality and the reason code (PH1_OS_OK_POLICY_EVALUATE when execution is allowed, else
    /// the first failing gate in precedence order).
    /// </summary>
    public static OsPolicyResult PolicyEvaluate(in OsPolicyInput input, in OsConfig config)
    {
        var schemaViolation = SchemaViolation(input, out var unresolved);
        if (schemaViolation is not null)
            return new OsPolicyResult(OsOutputKind.Refused, ReasonCodes.OsInputSchemaInvalid, schemaViolation, input, OsGuardFailures.None, 0, 0);
        if (EnvelopeExceeds(input.MaxGuardFailures, input.MaxDiagnostics, input.MaxOutcomeEntries, config))
            return new OsPolicyResult(OsOutputKind.Refused, ReasonCodes.OsBudgetExceeded, "request envelope exceeds runtime budgets", input, OsGuardFailures.None, 0, 0);

        var failures = Evaluate(input, unresolved);
        if (BitOperations.PopCount((uint)failures) > input.MaxGuardFailures)
            return new OsPolicyResult(OsOutputKind.Refused, ReasonCodes.OsBudgetExceeded, "guard failure budget exceeded", input, failures, 0, 0);

        var reason = failures == OsGuardFailures.None ? ReasonCodes.OsOkPolicyEvaluate : ReasonFor(FirstFailing(failures));
        return new OsPolicyResult(OsOutputKind.Ok, reason, null, input, failures, (ushort)input.Outcomes.Length, unresolved);
    }

    /// <summary>
    /// OS_DECISION_COMPUTE (reference §1.4), in its exact precedence: envelope budgets; clarify owner; one turn one
    /// move; the first failing gate (WAIT, CLARIFY or CONFIRM for the session, understanding and confirmation
    /// gates, REFUSE for the rest, all fail-closed); then, with every gate passed, DISPATCH_SIMULATION →
    /// DISPATCH_TOOL → CONFIRM → CLARIFY → WAIT → EXPLAIN → RESPOND. The output is validated before it is returned;
    /// an inconsistent output is refused with PH1_OS_INTERNAL_PIPELINE_ERROR.
    /// </summary>
    public static OsDecision DecisionCompute(in OsPolicyResult policy, in OsMoveRequest move, in OsConfig config)
    {
        if (policy.Kind != OsOutputKind.Ok)
            return Refused(policy, ReasonCodes.OsUpstreamInputMissing, "policy evaluation is missing or was refused");
        if (move.ToolRequested != policy.ToolRequested || move.SimulationRequested != policy.SimulationRequested)
            return Refused(policy, ReasonCodes.OsInputSchemaInvalid, "the move request's tool/simulation request differs from the evaluated one");
        if (EnvelopeExceeds(policy.MaxGuardFailures, policy.MaxDiagnostics, policy.MaxOutcomeEntries, config))
            return Refused(policy, ReasonCodes.OsBudgetExceeded, "request envelope exceeds runtime budgets");

        if (!ClarifyOwnerValid(move))
            return FailClosed(policy, OsNextMove.Refuse, ReasonCodes.OsFailClarifyOwnerPrecedence);
        var requested = move.RequestedCount;
        if (requested > 1)
            return FailClosed(policy, OsNextMove.Refuse, ReasonCodes.OsFailOneTurnOneMove);

        var failures = policy.GuardFailures;
        if (failures != OsGuardFailures.None)
        {
            var first = FirstFailing(failures);
            return FailClosed(policy, MoveFor(first), ReasonFor(first));
        }

        if (move.SimulationRequested)
            return Validated(policy, OsNextMove.DispatchSimulation, policy.SimulationDispatchAllowed, policy.ExecutionAllowed);
        if (move.ToolRequested)
            return Validated(policy, OsNextMove.DispatchTool, policy.ToolDispatchAllowed, false);
        if (move.ConfirmRequired) return Validated(policy, OsNextMove.Confirm, false, false);
        if (move.ClarifyRequired) return Validated(policy, OsNextMove.Clarify, false, false);
        if (move.WaitRequired) return Validated(policy, OsNextMove.Wait, false, false);
        if (move.ExplainRequested) return Validated(policy, OsNextMove.Explain, false, false);
        if (move.ChatRequested || requested == 0) return Validated(policy, OsNextMove.Respond, false, false);
        return Refused(policy, ReasonCodes.OsUpstreamInputMissing, "unable to derive a deterministic next move");
    }

    /// <summary>
    /// One turn through PH1.OS the way the wiring calls it (reference §1.5): validate the turn input (tool and
    /// simulation both requested, or a failed prompt policy when neither clarify nor confirm is required ⇒ refused
    /// PH1_OS_VALIDATION_FAILED); disabled ⇒ not invoked; clarify owner (⇒ refused PH1_OS_VALIDATION_FAILED);
    /// build the envelope from <paramref name="config"/> with the invariants set and
    /// <c>prompt_policy_required = clarify_required OR confirm_required</c>; POLICY_EVALUATE (a refusal passes
    /// through); check the response belongs to this turn; DECISION_COMPUTE (a refusal passes through); forward both.
    /// Allocates nothing.
    /// </summary>
    public static OsWiringOutcome Decide(in OsTurnInput input, in OsConfig config)
    {
        var move = input.Move;
        if (move.ToolRequested && move.SimulationRequested)
            return WiringRefused(ReasonCodes.OsValidationFailed, "tool_requested and simulation_requested cannot both be true", default);
        if (!move.ClarifyRequired && !move.ConfirmRequired && !input.Posture.PromptPolicyGateOk)
            return WiringRefused(ReasonCodes.OsValidationFailed, "prompt_policy_gate_ok must be true when neither clarify nor confirm is required", default);
        if (!config.OsEnabled)
            return default;
        if (!ClarifyOwnerValid(move))
        {
            return WiringRefused(ReasonCodes.OsValidationFailed, move.ClarifyRequired
                ? "clarify owner must be PH1.NLP when clarify_required=true"
                : "clarify owner must be omitted when clarify_required=false", default);
        }

        var policyInput = new OsPolicyInput
        {
            Correlation = input.Correlation,
            Turn = input.Turn,
            MaxGuardFailures = config.MaxGuardFailures,
            MaxDiagnostics = config.MaxDiagnostics,
            MaxOutcomeEntries = config.MaxOutcomeEntries,
            Posture = input.Posture,
            PromptPolicyRequired = move.ClarifyRequired || move.ConfirmRequired,
            ToolRequested = move.ToolRequested,
            SimulationRequested = move.SimulationRequested,
            Governance = input.Governance,
            Deps = input.Deps,
            NoEngineToEngineCalls = true,
            NoSimulationNoExecution = true,
            OneTurnOneMove = true,
            OptionalBudget = input.OptionalBudget,
            Outcomes = input.Outcomes,
        };
        var policy = PolicyEvaluate(policyInput, config);
        if (policy.Kind != OsOutputKind.Ok)
            return WiringRefused(policy.Reason, policy.Message, policy);
        if (policy.Correlation != input.Correlation || policy.Turn != input.Turn)
            return WiringRefused(ReasonCodes.OsValidationFailed, "invalid os policy response contract", policy);

        var decision = DecisionCompute(policy, move, config);
        if (decision.Kind != OsOutputKind.Ok)
            return new OsWiringOutcome(OsWiringOutcomeKind.Refused, decision.Reason, decision.Message, policy, decision);
        return new OsWiringOutcome(OsWiringOutcomeKind.Forwarded, decision.Reason, null, policy, decision);
    }

    /// <summary>The clarify-owner rule: PH1.NLP exactly when a clarify is required, absent otherwise.</summary>
    public static bool ClarifyOwnerValid(in OsMoveRequest move) =>
        move.ClarifyRequired
            ? string.Equals(move.ClarifyOwnerEngineId, OsEngineIds.ClarifyOwner, StringComparison.Ordinal)
            : move.ClarifyOwnerEngineId is null;

    /// <summary>
    /// The first failing gate in reason precedence, which is the bit order (the <c>guard_failures</c> check order). Unlike
    /// reference §1.3, a failing governance gate names itself before the governance contradiction: the contradiction
    /// (some ALLOW, some not) is still detected and listed, but a refusal by safe mode, the kill switch, a quota or the
    /// CAPREQ gate answers with that gate's own code (issue 10; docs/decisions.md). <see cref="OsGuardFailures.None"/> if none.
    /// </summary>
    public static OsGuardFailures FirstFailing(OsGuardFailures failures) =>
        failures == OsGuardFailures.None ? OsGuardFailures.None : Lowest(failures);

    /// <summary>The OS_FAIL_* reason code of one failed gate.</summary>
    public static ReasonCode ReasonFor(OsGuardFailures gate) => gate switch
    {
        OsGuardFailures.Session => ReasonCodes.OsFailSessionGate,
        OsGuardFailures.Understanding => ReasonCodes.OsFailUnderstandingGate,
        OsGuardFailures.Confirmation => ReasonCodes.OsFailConfirmationGate,
        OsGuardFailures.PromptPolicy => ReasonCodes.OsFailPromptPolicyGate,
        OsGuardFailures.Policy => ReasonCodes.OsFailPolicyGate,
        OsGuardFailures.Tenant => ReasonCodes.OsFailTenantGate,
        OsGuardFailures.Gov => ReasonCodes.OsFailGovGate,
        OsGuardFailures.Quota => ReasonCodes.OsFailQuotaGate,
        OsGuardFailures.Work => ReasonCodes.OsFailWorkGate,
        OsGuardFailures.Capreq => ReasonCodes.OsFailCapreqGate,
        OsGuardFailures.GovernanceContradiction => ReasonCodes.OsFailGovernanceContradiction,
        OsGuardFailures.Access => ReasonCodes.OsFailAccessGate,
        OsGuardFailures.Blueprint => ReasonCodes.OsFailBlueprintGate,
        OsGuardFailures.Simulation => ReasonCodes.OsFailSimulationGate,
        OsGuardFailures.Idempotency => ReasonCodes.OsFailIdempotencyGate,
        OsGuardFailures.Lease => ReasonCodes.OsFailLeaseGate,
        OsGuardFailures.OutcomeClassification => ReasonCodes.OsFailOutcomeClassificationGate,
        OsGuardFailures.OutcomeUnresolved => ReasonCodes.OsFailOutcomeUnresolvedGate,
        OsGuardFailures.OptionalBudget => ReasonCodes.OsFailOptionalBudgetGate,
        _ => ReasonCodes.OsInternalPipelineError,
    };

    /// <summary>The move of a gate failure (reference §1.4 table): WAIT, CLARIFY, CONFIRM or REFUSE.</summary>
    public static OsNextMove MoveFor(OsGuardFailures gate) => gate switch
    {
        OsGuardFailures.Session => OsNextMove.Wait,
        OsGuardFailures.Understanding => OsNextMove.Clarify,
        OsGuardFailures.Confirmation => OsNextMove.Confirm,
        _ => OsNextMove.Refuse,
    };

    private static OsGuardFailures Lowest(OsGuardFailures failures) =>
        (OsGuardFailures)(1u << BitOperations.TrailingZeroCount((uint)failures));

    private static bool EnvelopeExceeds(byte maxGuardFailures, byte maxDiagnostics, ushort maxOutcomeEntries, in OsConfig config) =>
        maxGuardFailures > config.MaxGuardFailures || maxDiagnostics > config.MaxDiagnostics || maxOutcomeEntries > config.MaxOutcomeEntries;

    // Returns the first schema violation (reference §1.2), or null; counts unresolved outcomes on the way so the
    // rows are walked once.
    private static string? SchemaViolation(in OsPolicyInput input, out ushort unresolved)
    {
        unresolved = 0;
        if (input.Correlation.Value == UInt128.Zero) return "correlation_id must be > 0";
        if (input.Turn.Value == 0) return "turn_id must be > 0";
        if (!input.NoEngineToEngineCalls || !input.NoSimulationNoExecution || !input.OneTurnOneMove)
            return "invariants no_engine_to_engine_calls, no_simulation_no_execution and one_turn_one_move must be true";
        if (input.ToolRequested && input.SimulationRequested) return "tool_requested and simulation_requested cannot both be true";

        if (!IsDefined(input.Governance)) return "governance gate decisions must be ALLOW, DENY, ESCALATE or INVALID";

        var b = input.OptionalBudget;
        if (b.InvocationsRequested > MaxOptionalInvocationsBound) return "optional_invocations_requested must be <= 64";
        if (b.InvocationsBudget > MaxOptionalInvocationsBound) return "optional_invocations_budget must be <= 64";
        if (b.LatencyBudgetMs > MaxOptionalLatencyBoundMs) return "optional_latency_budget_ms must be <= 60000";
        if (b.LatencyEstimatedMs > MaxOptionalLatencyBoundMs) return "optional_latency_estimated_ms must be <= 60000";

        var outcomes = input.Outcomes.Span;
        if (outcomes.Length > input.MaxOutcomeEntries) return "outcome_utilization_entries exceeds max_outcome_entries";
        foreach (ref readonly var entry in outcomes)
        {
            if (OutcomeEntryViolation(entry, input.Correlation, input.Turn) is { } violation) return violation;
            if (entry.ActionClass is OsOutcomeActionClass.ActNow or OsOutcomeActionClass.QueueLearn &&
                string.Equals(entry.ConsumedBy, OsOutcomeEntry.NotConsumed, StringComparison.Ordinal))
            {
                unresolved++;
            }
        }
        return null;
    }

    private static OsGuardFailures Evaluate(in OsPolicyInput input, ushort unresolved)
    {
        var f = OsGuardFailures.None;
        var p = input.Posture;
        if (!p.SessionActive) f |= OsGuardFailures.Session;
        if (!(p.TranscriptOk && p.NlpConfidenceHigh)) f |= OsGuardFailures.Understanding;
        if (p.RequiresConfirmation && !p.ConfirmationReceived) f |= OsGuardFailures.Confirmation;
        if (input.PromptPolicyRequired && !p.PromptPolicyGateOk) f |= OsGuardFailures.PromptPolicy;

        var g = input.Governance;
        var allows = 0;
        if (g.Policy == OsGateDecision.Allow) allows++; else f |= OsGuardFailures.Policy;
        if (g.Tenant == OsGateDecision.Allow) allows++; else f |= OsGuardFailures.Tenant;
        if (g.Gov == OsGateDecision.Allow) allows++; else f |= OsGuardFailures.Gov;
        if (g.Quota == OsGateDecision.Allow) allows++; else f |= OsGuardFailures.Quota;
        if (g.Work == OsGateDecision.Allow) allows++; else f |= OsGuardFailures.Work;
        if (g.Capreq == OsGateDecision.Allow) allows++; else f |= OsGuardFailures.Capreq;
        if (allows is > 0 and < 6) f |= OsGuardFailures.GovernanceContradiction;

        var d = input.Deps;
        if (!d.AccessAllowed) f |= OsGuardFailures.Access;
        if (input.SimulationRequested && !d.BlueprintActive) f |= OsGuardFailures.Blueprint;
        if (input.SimulationRequested && !d.SimulationActive) f |= OsGuardFailures.Simulation;
        if (d.IdempotencyRequired && !d.IdempotencyKeyPresent) f |= OsGuardFailures.Idempotency;
        if (d.LeaseRequired && !d.LeaseValid) f |= OsGuardFailures.Lease;

        // GATE-U1: classification coverage is fixed at 100 % in this slice (reference §1.3), so it never fails.
        if (unresolved != 0) f |= OsGuardFailures.OutcomeUnresolved;

        var b = input.OptionalBudget;
        var expectedSkipped = b.InvocationsRequested > b.InvocationsBudget ? b.InvocationsRequested - b.InvocationsBudget : 0;
        if (!b.Enforced || b.InvocationsSkippedBudget != expectedSkipped || b.LatencyEstimatedMs > b.LatencyBudgetMs)
            f |= OsGuardFailures.OptionalBudget;
        return f;
    }

    // Shared with the turn slice, which checks the same rows before anything else (reference §1.6 step 1).
    internal static string? OutcomeEntryViolation(in OsOutcomeEntry entry, CorrelationId correlation, TurnId turn)
    {
        if (entry.Correlation != correlation) return "outcome entry correlation_id must match the envelope";
        if (entry.Turn != turn) return "outcome entry turn_id must match the envelope";
        if (!OsEngineIds.IsWellFormed(entry.EngineId)) return "outcome entry engine_id is not an engine id";
        if (!OsEngineIds.IsWellFormed(entry.ConsumedBy)) return "outcome entry consumed_by is not an engine id or NONE";
        if (!IsBoundedText(entry.OutcomeType)) return "outcome entry outcome_type must be 1..64 characters";
        if (!IsBoundedText(entry.ReasonCode)) return "outcome entry reason_code must be 1..64 characters";
        if ((uint)entry.ActionClass > (uint)OsOutcomeActionClass.Drop) return "outcome entry action_class is not a declared member";
        return null;
    }

    internal static bool IsDefined(in OsGovernanceDecisions g) =>
        IsDefined(g.Policy) && IsDefined(g.Tenant) && IsDefined(g.Gov) && IsDefined(g.Quota) && IsDefined(g.Work) && IsDefined(g.Capreq);

    private static bool IsDefined(OsGateDecision decision) => (uint)decision <= (uint)OsGateDecision.Invalid;

    private static bool IsBoundedText(string? text) => text is { Length: > 0 and <= MaxOutcomeTextLength };

    private static OsDecision Refused(in OsPolicyResult policy, ReasonCode reason, string message) =>
        new(OsOutputKind.Refused, OsNextMove.Refuse, reason, true, false, false, policy.GuardFailures, message, policy.Correlation, policy.Turn);

    private static OsDecision FailClosed(in OsPolicyResult policy, OsNextMove move, ReasonCode reason) =>
        new(OsOutputKind.Ok, move, reason, true, false, false, policy.GuardFailures, null, policy.Correlation, policy.Turn);

    // Every gate passed: build the move and validate it (reference §1.4 output validation).
    private static OsDecision Validated(in OsPolicyResult policy, OsNextMove move, bool dispatchAllowed, bool executionAllowed)
    {
        var valid =
            (move != OsNextMove.DispatchTool || dispatchAllowed) &&
            (move != OsNextMove.DispatchSimulation || (dispatchAllowed && executionAllowed)) &&
            (!dispatchAllowed || move is OsNextMove.DispatchTool or OsNextMove.DispatchSimulation) &&
            (!executionAllowed || move == OsNextMove.DispatchSimulation);
        return valid
            ? new OsDecision(OsOutputKind.Ok, move, ReasonCodes.OsOkDecisionCompute, false, dispatchAllowed, executionAllowed, policy.GuardFailures, null, policy.Correlation, policy.Turn)
            : Refused(policy, ReasonCodes.OsInternalPipelineError, "decision output failed validation");
    }

    private static OsWiringOutcome WiringRefused(ReasonCode reason, string? message, in OsPolicyResult policy) =>
        new(OsWiringOutcomeKind.Refused, reason, message, policy, default);
}
