using Selene.Kernel.Os;
using static Selene.Kernel.Tests.OsFixtures;

namespace Selene.Kernel.Tests;

/// <summary>Table-driven tests for OS_POLICY_EVALUATE and OS_DECISION_COMPUTE (reference §1.3, §1.4).</summary>
public sealed class OsGateTests
{
    private const OsGateDecision Allow = OsGateDecision.Allow;
    private const OsGateDecision Deny = OsGateDecision.Deny;

    // ---- §1.4 gate table ------------------------------------------------------------------------

    public static TheoryData<OsGuardFailures, OsNextMove, string> GateTable => new()
    {
        { OsGuardFailures.Session, OsNextMove.Wait, "OS_FAIL_SESSION_GATE" },
        { OsGuardFailures.Understanding, OsNextMove.Clarify, "OS_FAIL_UNDERSTANDING_GATE" },
        { OsGuardFailures.Confirmation, OsNextMove.Confirm, "OS_FAIL_CONFIRMATION_GATE" },
        { OsGuardFailures.PromptPolicy, OsNextMove.Refuse, "OS_FAIL_PROMPT_POLICY_GATE" },
        { OsGuardFailures.GovernanceContradiction, OsNextMove.Refuse, "OS_FAIL_GOVERNANCE_CONTRADICTION" },
        { OsGuardFailures.Policy, OsNextMove.Refuse, "OS_FAIL_POLICY_GATE" },
        { OsGuardFailures.Tenant, OsNextMove.Refuse, "OS_FAIL_TENANT_GATE" },
        { OsGuardFailures.Gov, OsNextMove.Refuse, "OS_FAIL_GOV_GATE" },
        { OsGuardFailures.Quota, OsNextMove.Refuse, "OS_FAIL_QUOTA_GATE" },
        { OsGuardFailures.Work, OsNextMove.Refuse, "OS_FAIL_WORK_GATE" },
        { OsGuardFailures.Capreq, OsNextMove.Refuse, "OS_FAIL_CAPREQ_GATE" },
        { OsGuardFailures.Access, OsNextMove.Refuse, "OS_FAIL_ACCESS_GATE" },
        { OsGuardFailures.Blueprint, OsNextMove.Refuse, "OS_FAIL_BLUEPRINT_GATE" },
        { OsGuardFailures.Simulation, OsNextMove.Refuse, "OS_FAIL_SIMULATION_GATE" },
        { OsGuardFailures.Idempotency, OsNextMove.Refuse, "OS_FAIL_IDEMPOTENCY_GATE" },
        { OsGuardFailures.Lease, OsNextMove.Refuse, "OS_FAIL_LEASE_GATE" },
        { OsGuardFailures.OutcomeClassification, OsNextMove.Refuse, "OS_FAIL_OUTCOME_CLASSIFICATION_GATE" },
        { OsGuardFailures.OutcomeUnresolved, OsNextMove.Refuse, "OS_FAIL_OUTCOME_UNRESOLVED_GATE" },
        { OsGuardFailures.OptionalBudget, OsNextMove.Refuse, "OS_FAIL_OPTIONAL_BUDGET_GATE" },
    };

    [Theory]
    [MemberData(nameof(GateTable))]
    public void GateTable_EveryRow_HasItsMoveAndReason(OsGuardFailures gate, OsNextMove move, string reason)
    {
        Assert.Equal(gate, OsGate.FirstFailing(gate));
        Assert.Equal(move, OsGate.MoveFor(gate));
        Assert.Equal(reason, OsGate.ReasonFor(gate).Name);
    }

    // The rows a real evaluation can reach, end to end. The governance contradiction cannot be the first failure:
    // a mixed posture always has a non-ALLOW governance gate, which names the refusal first (docs/decisions.md); U1 is
    // fixed at 100 % coverage. Those rows are covered by the table test above.
    public static TheoryData<string, OsNextMove, string> ReachableRows => new()
    {
        { "session", OsNextMove.Wait, "OS_FAIL_SESSION_GATE" },
        { "understanding", OsNextMove.Clarify, "OS_FAIL_UNDERSTANDING_GATE" },
        { "confirmation", OsNextMove.Confirm, "OS_FAIL_CONFIRMATION_GATE" },
        { "prompt_policy", OsNextMove.Refuse, "OS_FAIL_PROMPT_POLICY_GATE" },
        { "policy", OsNextMove.Refuse, "OS_FAIL_POLICY_GATE" },
        { "gov", OsNextMove.Refuse, "OS_FAIL_GOV_GATE" },
        { "quota", OsNextMove.Refuse, "OS_FAIL_QUOTA_GATE" },
        { "capreq", OsNextMove.Refuse, "OS_FAIL_CAPREQ_GATE" },
        { "access", OsNextMove.Refuse, "OS_FAIL_ACCESS_GATE" },
        { "blueprint", OsNextMove.Refuse, "OS_FAIL_BLUEPRINT_GATE" },
        { "simulation", OsNextMove.Refuse, "OS_FAIL_SIMULATION_GATE" },
        { "idempotency", OsNextMove.Refuse, "OS_FAIL_IDEMPOTENCY_GATE" },
        { "lease", OsNextMove.Refuse, "OS_FAIL_LEASE_GATE" },
        { "unresolved", OsNextMove.Refuse, "OS_FAIL_OUTCOME_UNRESOLVED_GATE" },
        { "optional_budget", OsNextMove.Refuse, "OS_FAIL_OPTIONAL_BUDGET_GATE" },
    };

    [Theory]
    [MemberData(nameof(ReachableRows))]
    public void DecisionCompute_FailingGate_FailsClosedWithTheTableMove(string gate, OsNextMove move, string reason)
    {
        var sim = Policy(simulation: true);
        var input = gate switch
        {
            "session" => sim with { Posture = Posture with { SessionActive = false } },
            "understanding" => sim with { Posture = Posture with { NlpConfidenceHigh = false } },
            "confirmation" => sim with { Posture = Posture with { RequiresConfirmation = true } },
            "prompt_policy" => sim with { PromptPolicyRequired = true, Posture = Posture with { PromptPolicyGateOk = false } },
            "policy" => sim.AllGovernance(Deny),
            "gov" => sim.WithDecisions(Allow, Allow, Deny, Allow, Allow, Allow),
            "quota" => sim.WithDecisions(Allow, Allow, Allow, OsGateDecision.Escalate, Allow, Allow),
            "capreq" => sim.WithDecisions(Allow, Allow, Allow, Allow, Allow, Deny),
            "access" => sim with { Deps = Deps with { AccessAllowed = false } },
            "blueprint" => sim with { Deps = Deps with { BlueprintActive = false } },
            "simulation" => sim with { Deps = Deps with { SimulationActive = false } },
            "idempotency" => sim with { Deps = Deps with { IdempotencyKeyPresent = false } },
            "lease" => sim with { Deps = Deps with { LeaseRequired = true } },
            "unresolved" => Policy(false, true, Entry(OsOutcomeActionClass.ActNow, OsOutcomeEntry.NotConsumed)),
            "optional_budget" => sim with { OptionalBudget = OsOptionalBudget.NoneRequested with { Enforced = false } },
            _ => throw new ArgumentOutOfRangeException(nameof(gate)),
        };

        var (policy, decision) = Run(input, Simulation);

        Assert.Equal(reason, policy.Reason.Name);
        Assert.False(policy.ExecutionAllowed);
        Assert.False(policy.SimulationDispatchAllowed);
        Assert.Equal(OsOutputKind.Ok, decision.Kind);
        Assert.Equal(move, decision.Move);
        Assert.Equal(reason, decision.Reason.Name);
        Assert.True(decision.FailClosed);
        Assert.False(decision.DispatchAllowed);
        Assert.False(decision.ExecutionAllowed);
    }

    [Fact]
    public void DecisionCompute_AccessDenied_RefusesEvenAChat()
    {
        var (_, decision) = Run(Policy() with { Deps = Deps with { AccessAllowed = false } }, Chat);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.Equal(ReasonCodes.OsFailAccessGate, decision.Reason);
    }

    [Fact]
    public void DecisionCompute_NoSimulationRequested_BlueprintAndSimulationGatesDoNotApply()
    {
        var (policy, decision) = Run(Policy() with { Deps = Deps with { BlueprintActive = false, SimulationActive = false } }, Chat);
        Assert.True(policy.BlueprintGateOk);
        Assert.True(policy.SimulationGateOk);
        Assert.Equal(OsNextMove.Respond, decision.Move);
    }

    // ---- §1.3 reason precedence ------------------------------------------------------------------

    private static readonly OsGuardFailures[] Precedence =
    [
        OsGuardFailures.Session, OsGuardFailures.Understanding, OsGuardFailures.Confirmation, OsGuardFailures.PromptPolicy,
        OsGuardFailures.Policy, OsGuardFailures.Tenant, OsGuardFailures.Gov,
        OsGuardFailures.Quota, OsGuardFailures.Work, OsGuardFailures.Capreq, OsGuardFailures.GovernanceContradiction, OsGuardFailures.Access, OsGuardFailures.Blueprint,
        OsGuardFailures.Simulation, OsGuardFailures.Idempotency, OsGuardFailures.Lease, OsGuardFailures.OutcomeClassification,
        OsGuardFailures.OutcomeUnresolved, OsGuardFailures.OptionalBudget,
    ];

    [Fact]
    public void FirstFailing_AnyTwoGates_TheEarlierInPrecedenceWins()
    {
        Assert.Equal(OsGuardFailureNames.Count, Precedence.Length);
        for (var i = 0; i < Precedence.Length; i++)
        {
            for (var j = i + 1; j < Precedence.Length; j++)
            {
                Assert.Equal(Precedence[i], OsGate.FirstFailing(Precedence[i] | Precedence[j]));
            }
            // and against everything after it at once
            var later = OsGuardFailures.None;
            for (var j = i; j < Precedence.Length; j++) later |= Precedence[j];
            Assert.Equal(Precedence[i], OsGate.FirstFailing(later));
        }
        Assert.Equal(OsGuardFailures.None, OsGate.FirstFailing(OsGuardFailures.None));
    }

    public static TheoryData<string, string> PrecedenceCases => new()
    {
        { "session+understanding+access", "OS_FAIL_SESSION_GATE" },
        { "prompt_policy+contradiction", "OS_FAIL_PROMPT_POLICY_GATE" },
        { "contradiction+access", "OS_FAIL_CAPREQ_GATE" },
        { "policy_denied+access", "OS_FAIL_POLICY_GATE" },
        { "all_denied+access", "OS_FAIL_POLICY_GATE" },
        { "access+lease", "OS_FAIL_ACCESS_GATE" },
        { "lease+unresolved+budget", "OS_FAIL_LEASE_GATE" },
        { "unresolved+budget", "OS_FAIL_OUTCOME_UNRESOLVED_GATE" },
    };

    [Theory]
    [MemberData(nameof(PrecedenceCases))]
    public void PolicyEvaluate_SeveralGatesFail_ReasonIsTheFirstInPrecedence(string failing, string reason)
    {
        var unresolved = Entry(OsOutcomeActionClass.QueueLearn, OsOutcomeEntry.NotConsumed);
        var input = failing switch
        {
            "session+understanding+access" => Policy() with { Posture = Posture with { SessionActive = false, TranscriptOk = false }, Deps = Deps with { AccessAllowed = false } },
            "prompt_policy+contradiction" => Policy().WithDecisions(Allow, Deny, Allow, Allow, Allow, Allow) with { PromptPolicyRequired = true, Posture = Posture with { PromptPolicyGateOk = false } },
            "contradiction+access" => Policy().WithDecisions(Allow, Allow, Allow, Allow, Allow, OsGateDecision.Invalid) with { Deps = Deps with { AccessAllowed = false } },
            "policy_denied+access" => Policy().WithDecisions(Deny, Allow, Allow, Allow, Allow, Allow) with { Deps = Deps with { AccessAllowed = false } },
            "all_denied+access" => Policy().AllGovernance(Deny) with { Deps = Deps with { AccessAllowed = false } },
            "access+lease" => Policy() with { Deps = Deps with { AccessAllowed = false, LeaseRequired = true } },
            "lease+unresolved+budget" => Policy(false, false, unresolved) with { Deps = Deps with { LeaseRequired = true }, OptionalBudget = new(true, 0, 0, 0, 0, 1) },
            "unresolved+budget" => Policy(false, false, unresolved) with { OptionalBudget = new(true, 0, 0, 0, 0, 1) },
            _ => throw new ArgumentOutOfRangeException(nameof(failing)),
        };

        var (policy, decision) = Run(input, Chat);

        Assert.Equal(reason, policy.Reason.Name);
        Assert.Equal(reason, decision.Reason.Name);
    }

    // ---- guard_failures ---------------------------------------------------------------------------

    [Fact]
    public void GuardFailures_RenderInCheckOrder_NotInReasonOrder()
    {
        var input = Policy(simulation: true).WithDecisions(Deny, Allow, Allow, Allow, Allow, Allow) with
        {
            Posture = Posture with { TranscriptOk = false },
            Deps = Deps with { AccessAllowed = false, SimulationActive = false },
        };

        var policy = OsGate.PolicyEvaluate(input, OsConfig.Mvp);

        Assert.Equal(
            ["UNDERSTANDING_GATE_FAILED", "POLICY_GATE_FAILED", "GOVERNANCE_CONTRADICTION", "ACCESS_GATE_FAILED", "SIMULATION_GATE_FAILED"],
            OsGuardFailureNames.Render(policy.GuardFailures));
        Assert.Equal(ReasonCodes.OsFailUnderstandingGate, policy.Reason);
    }

    [Fact]
    public void GuardFailures_OneGovernanceGateDenies_ItsOwnCodeIsTheReasonAndTheContradictionIsListed()
    {
        var policy = OsGate.PolicyEvaluate(Policy().WithDecisions(Deny, Allow, Allow, Allow, Allow, Allow), OsConfig.Mvp);
        Assert.Equal(["POLICY_GATE_FAILED", "GOVERNANCE_CONTRADICTION"], OsGuardFailureNames.Render(policy.GuardFailures));
        Assert.Equal(ReasonCodes.OsFailPolicyGate, policy.Reason);
        var quota = OsGate.PolicyEvaluate(Policy().WithDecisions(Allow, Allow, Allow, Deny, Allow, Allow), OsConfig.Mvp);
        Assert.True(quota.GovernanceContradictionDetected);
        Assert.Equal(ReasonCodes.OsFailQuotaGate, quota.Reason);
    }

    [Fact]
    public void GuardFailureNames_EveryFlag_RendersAndParsesBack()
    {
        Assert.Equal(
            ["SESSION_GATE_FAILED", "UNDERSTANDING_GATE_FAILED", "CONFIRMATION_GATE_FAILED", "PROMPT_POLICY_GATE_FAILED",
             "POLICY_GATE_FAILED", "TENANT_GATE_FAILED", "GOV_GATE_FAILED", "QUOTA_GATE_FAILED", "WORK_GATE_FAILED",
             "CAPREQ_GATE_FAILED", "GOVERNANCE_CONTRADICTION", "ACCESS_GATE_FAILED", "BLUEPRINT_GATE_FAILED",
             "SIMULATION_GATE_FAILED", "IDEMPOTENCY_GATE_FAILED", "LEASE_GATE_FAILED", "OUTCOME_CLASSIFICATION_GATE_FAILED",
             "OUTCOME_UNRESOLVED_GATE_FAILED", "OPTIONAL_BUDGET_GATE_FAILED"],
            OsGuardFailureNames.Render((OsGuardFailures)((1u << OsGuardFailureNames.Count) - 1)));
        Assert.True(OsGuardFailureNames.TryParse(["ACCESS_GATE_FAILED", "SESSION_GATE_FAILED"], out var parsed));
        Assert.Equal(OsGuardFailures.Access | OsGuardFailures.Session, parsed);
        Assert.False(OsGuardFailureNames.TryParse(["ACCESS_GATE_FAILED", "ACCESS_GATE_FAILED"], out _));
        Assert.False(OsGuardFailureNames.TryParse(["NOPE"], out _));
        Assert.Empty(OsGuardFailureNames.Render(OsGuardFailures.None));
        Assert.Equal("LEASE_GATE_FAILED", OsGuardFailureNames.NameOf(OsGuardFailures.Lease));
    }

    // Nine failures: session, understanding, the six governance gates (all denied, so no contradiction), access.
    private static OsPolicyInput NineFailures(byte maxGuardFailures) =>
        Policy().AllGovernance(Deny) with
        {
            MaxGuardFailures = maxGuardFailures,
            Posture = Posture with { SessionActive = false, TranscriptOk = false },
            Deps = Deps with { AccessAllowed = false },
        };

    [Fact]
    public void PolicyEvaluate_MoreGuardFailuresThanTheEnvelopeAllows_RefusesBudgetExceeded()
    {
        var policy = OsGate.PolicyEvaluate(NineFailures(8), OsConfig.Mvp);

        Assert.Equal(OsOutputKind.Refused, policy.Kind);
        Assert.Equal(ReasonCodes.OsBudgetExceeded, policy.Reason);
        Assert.False(policy.ExecutionAllowed);
        Assert.False(policy.SessionGateOk);

        var decision = OsGate.DecisionCompute(policy, Chat, OsConfig.Mvp);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.True(decision.FailClosed);
        Assert.Equal(ReasonCodes.OsUpstreamInputMissing, decision.Reason);
    }

    [Fact]
    public void PolicyEvaluate_GuardFailuresAtTheEnvelopeLimit_Answers()
    {
        var eight = NineFailures(8) with { Deps = Deps };
        var policy = OsGate.PolicyEvaluate(eight, OsConfig.Mvp);
        Assert.Equal(OsOutputKind.Ok, policy.Kind);
        Assert.Equal(8, OsGuardFailureNames.CountOf(policy.GuardFailures));

        var tight = OsGate.PolicyEvaluate(Policy() with { MaxGuardFailures = 1, Posture = Posture with { SessionActive = false, TranscriptOk = false } }, OsConfig.Mvp);
        Assert.Equal(ReasonCodes.OsBudgetExceeded, tight.Reason);
        var zero = OsGate.PolicyEvaluate(Policy() with { MaxGuardFailures = 0 }, OsConfig.Mvp);
        Assert.Equal(ReasonCodes.OsOkPolicyEvaluate, zero.Reason);
    }

    public static TheoryData<byte, byte, ushort> OverBudgetEnvelopes => new()
    {
        { 9, 8, 128 },
        { 8, 9, 128 },
        { 8, 8, 129 },
    };

    [Theory]
    [MemberData(nameof(OverBudgetEnvelopes))]
    public void PolicyEvaluate_EnvelopeAboveTheRuntimeConfig_RefusesBudgetExceeded(byte guards, byte diagnostics, ushort outcomes)
    {
        var input = Policy() with { MaxGuardFailures = guards, MaxDiagnostics = diagnostics, MaxOutcomeEntries = outcomes };
        var policy = OsGate.PolicyEvaluate(input, OsConfig.Mvp);
        Assert.Equal(OsOutputKind.Refused, policy.Kind);
        Assert.Equal(ReasonCodes.OsBudgetExceeded, policy.Reason);
        Assert.Equal("request envelope exceeds runtime budgets", policy.Message);
    }

    [Fact]
    public void DecisionCompute_EnvelopeAboveAStricterConfig_RefusesBudgetExceeded()
    {
        var policy = OsGate.PolicyEvaluate(Policy(), OsConfig.Mvp);
        var decision = OsGate.DecisionCompute(policy, Chat, OsConfig.Mvp with { MaxDiagnostics = 4 });
        Assert.Equal(OsOutputKind.Refused, decision.Kind);
        Assert.Equal(ReasonCodes.OsBudgetExceeded, decision.Reason);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.True(decision.FailClosed);
    }

    // ---- governance contradiction ---------------------------------------------------------------

    public static TheoryData<OsGateDecision[], bool> Contradictions => new()
    {
        { [Allow, Allow, Allow, Allow, Allow, Allow], false },
        { [Deny, Deny, Deny, Deny, Deny, Deny], false },
        { [Deny, OsGateDecision.Escalate, OsGateDecision.Invalid, Deny, Deny, Deny], false },
        { [Allow, Allow, Allow, Allow, Allow, Deny], true },
        { [Deny, Allow, Allow, Allow, Allow, Allow], true },
        { [OsGateDecision.Escalate, Allow, Deny, Allow, OsGateDecision.Invalid, Allow], true },
    };

    [Theory]
    [MemberData(nameof(Contradictions))]
    public void PolicyEvaluate_MixedGovernance_IsAContradiction(OsGateDecision[] d, bool contradiction)
    {
        var policy = OsGate.PolicyEvaluate(Policy().WithDecisions(d[0], d[1], d[2], d[3], d[4], d[5]), OsConfig.Mvp);
        Assert.Equal(contradiction, policy.GovernanceContradictionDetected);
        Assert.Equal(d.All(x => x == Allow), policy.ExecutionAllowed);
        // The first non-ALLOW governance gate names the refusal, contradiction or not.
        var first = Array.FindIndex(d, x => x != Allow);
        if (first >= 0) Assert.Equal(OsGate.ReasonFor((OsGuardFailures)((uint)OsGuardFailures.Policy << first)), policy.Reason);
    }

    [Fact]
    public void GovernanceTrace_NamesEachEngineInOrder()
    {
        var trace = new OsGovernanceDecisions(Allow, Deny, OsGateDecision.Escalate, OsGateDecision.Invalid, Allow, Allow).Trace();
        Assert.Equal(["POLICY:ALLOW", "TENANT:DENY", "GOV:ESCALATE", "QUOTA:INVALID", "WORK:ALLOW", "CAPREQ:ALLOW"], trace);
    }

    // ---- GATE-U2 ----------------------------------------------------------------------------------

    [Fact]
    public void PolicyEvaluate_UnresolvedOutcomes_CountOnlyActNowAndQueueLearnNotConsumed()
    {
        OsOutcomeEntry[] entries =
        [
            Entry(OsOutcomeActionClass.ActNow, OsOutcomeEntry.NotConsumed),
            Entry(OsOutcomeActionClass.QueueLearn, OsOutcomeEntry.NotConsumed),
            Entry(OsOutcomeActionClass.AuditOnly, OsOutcomeEntry.NotConsumed),
            Entry(OsOutcomeActionClass.Drop, OsOutcomeEntry.NotConsumed),
            Entry(OsOutcomeActionClass.ActNow, "PH1.X"),
            Entry(OsOutcomeActionClass.QueueLearn, "PH1.LEARN"),
        ];

        var policy = OsGate.PolicyEvaluate(Policy(false, false, entries), OsConfig.Mvp);

        Assert.Equal(6, policy.OutcomeEntriesEvaluated);
        Assert.Equal(2, policy.UnresolvedOutcomes);
        Assert.False(policy.UnresolvedOutcomesZero);
        Assert.True(policy.OutcomeClassificationComplete);
        Assert.Equal(100, policy.ClassificationCoveragePct);
        Assert.Equal(ReasonCodes.OsFailOutcomeUnresolvedGate, policy.Reason);

        var resolved = OsGate.PolicyEvaluate(Policy(false, false, entries[2..]), OsConfig.Mvp);
        Assert.Equal(0, resolved.UnresolvedOutcomes);
        Assert.True(resolved.ExecutionAllowed);
    }

    // ---- GATE-U3 ----------------------------------------------------------------------------------

    public static TheoryData<bool, ushort, ushort, ushort, uint, uint, bool> BudgetArithmetic => new()
    {
        // enforced, requested, budget, skipped, latency budget, estimated, passes
        { true, 0, 0, 0, 0, 0, true },
        { true, 10, 8, 2, 120, 120, true },
        { true, 10, 8, 1, 120, 100, false },
        { true, 10, 8, 3, 120, 100, false },
        { true, 3, 8, 0, 120, 60, true },
        { true, 3, 8, 1, 120, 60, false },
        { true, 64, 0, 64, 60000, 60000, true },
        { true, 5, 5, 0, 120, 121, false },
        { false, 0, 0, 0, 0, 0, false },
    };

    [Theory]
    [MemberData(nameof(BudgetArithmetic))]
    public void PolicyEvaluate_OptionalBudget_SkippedIsRequestedMinusBudgetAndEstimateWithinBudget(
        bool enforced, ushort requested, ushort budget, ushort skipped, uint latencyBudget, uint estimated, bool passes)
    {
        var input = Policy() with { OptionalBudget = new(enforced, requested, budget, skipped, latencyBudget, estimated) };
        var (policy, decision) = Run(input, Chat);
        Assert.Equal(OsOutputKind.Ok, policy.Kind);
        Assert.Equal(passes, policy.OptionalBudgetEnforced);
        Assert.Equal(passes ? OsNextMove.Respond : OsNextMove.Refuse, decision.Move);
        if (!passes) Assert.Equal(ReasonCodes.OsFailOptionalBudgetGate, decision.Reason);
    }

    public static TheoryData<ushort, ushort, uint, uint> BudgetOutOfBounds => new()
    {
        { 65, 0, 0, 0 },
        { 0, 65, 0, 0 },
        { 0, 0, 60001, 0 },
        { 0, 0, 0, 60001 },
    };

    [Theory]
    [MemberData(nameof(BudgetOutOfBounds))]
    public void PolicyEvaluate_OptionalBudgetOutOfBounds_IsSchemaInvalid(ushort requested, ushort budget, uint latencyBudget, uint estimated)
    {
        var skipped = (ushort)Math.Max(0, requested - budget);
        var input = Policy() with { OptionalBudget = new(true, requested, budget, skipped, latencyBudget, estimated) };
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, OsGate.PolicyEvaluate(input, OsConfig.Mvp).Reason);
    }

    // ---- schema ------------------------------------------------------------------------------------

    public static TheoryData<string> SchemaViolations => new()
    {
        "default_correlation", "default_turn", "invariant_engine_calls", "invariant_no_sim_no_exec", "invariant_one_move",
        "tool_and_simulation", "undefined_gate_decision", "too_many_outcomes", "outcome_other_correlation",
        "outcome_other_turn", "outcome_bad_engine", "outcome_null_consumer", "outcome_empty_type", "outcome_long_reason",
        "outcome_undefined_class",
    };

    [Theory]
    [MemberData(nameof(SchemaViolations))]
    public void PolicyEvaluate_SchemaViolation_RefusesInputSchemaInvalid(string violation)
    {
        var entry = Entry(OsOutcomeActionClass.AuditOnly);
        var input = violation switch
        {
            "default_correlation" => Policy() with { Correlation = default },
            "default_turn" => Policy() with { Turn = default },
            "invariant_engine_calls" => Policy() with { NoEngineToEngineCalls = false },
            "invariant_no_sim_no_exec" => Policy() with { NoSimulationNoExecution = false },
            "invariant_one_move" => Policy() with { OneTurnOneMove = false },
            "tool_and_simulation" => Policy(tool: true, simulation: true),
            "undefined_gate_decision" => Policy() with { Governance = OsGovernanceDecisions.AllAllow with { Work = (OsGateDecision)9 } },
            "too_many_outcomes" => Policy(false, false, entry, entry, entry) with { MaxOutcomeEntries = 2 },
            "outcome_other_correlation" => Policy(false, false, entry with { Correlation = new CorrelationId(1) }),
            "outcome_other_turn" => Policy(false, false, entry with { Turn = new TurnId(1) }),
            "outcome_bad_engine" => Policy(false, false, entry with { EngineId = "ph1.nlp" }),
            "outcome_null_consumer" => Policy(false, false, entry with { ConsumedBy = null! }),
            "outcome_empty_type" => Policy(false, false, entry with { OutcomeType = "" }),
            "outcome_long_reason" => Policy(false, false, entry with { ReasonCode = new string('R', 65) }),
            "outcome_undefined_class" => Policy(false, false, entry with { ActionClass = (OsOutcomeActionClass)7 }),
            _ => throw new ArgumentOutOfRangeException(nameof(violation)),
        };

        var policy = OsGate.PolicyEvaluate(input, OsConfig.Mvp);

        Assert.Equal(OsOutputKind.Refused, policy.Kind);
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, policy.Reason);
        Assert.False(string.IsNullOrEmpty(policy.Message));
        Assert.False(policy.ExecutionAllowed);
        Assert.False(policy.ToolDispatchAllowed);
        Assert.False(policy.SimulationDispatchAllowed);
    }

    [Fact]
    public void PolicyEvaluate_SchemaIsCheckedBeforeBudgets()
    {
        var input = Policy() with { MaxGuardFailures = 200, NoEngineToEngineCalls = false };
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, OsGate.PolicyEvaluate(input, OsConfig.Mvp).Reason);
    }

    // ---- move selection when every gate passes ------------------------------------------------------

    public static TheoryData<string, OsNextMove, bool, bool> Moves => new()
    {
        { "simulation", OsNextMove.DispatchSimulation, true, true },
        { "tool", OsNextMove.DispatchTool, true, false },
        { "confirm", OsNextMove.Confirm, false, false },
        { "clarify", OsNextMove.Clarify, false, false },
        { "wait", OsNextMove.Wait, false, false },
        { "explain", OsNextMove.Explain, false, false },
        { "chat", OsNextMove.Respond, false, false },
        { "nothing", OsNextMove.Respond, false, false },
    };

    [Theory]
    [MemberData(nameof(Moves))]
    public void DecisionCompute_AllGatesPass_TheRequestedMove(string requested, OsNextMove move, bool dispatch, bool execution)
    {
        var request = requested switch
        {
            "simulation" => Simulation,
            "tool" => Tool,
            "confirm" => Confirm,
            "clarify" => Clarify,
            "wait" => Wait,
            "explain" => Explain,
            "chat" => Chat,
            _ => default,
        };
        var input = Policy(request.ToolRequested, request.SimulationRequested) with { PromptPolicyRequired = request.ClarifyRequired || request.ConfirmRequired };

        var (policy, decision) = Run(input, request);

        Assert.Equal(ReasonCodes.OsOkPolicyEvaluate, policy.Reason);
        Assert.Equal(OsOutputKind.Ok, decision.Kind);
        Assert.Equal(move, decision.Move);
        Assert.Equal(ReasonCodes.OsOkDecisionCompute, decision.Reason);
        Assert.False(decision.FailClosed);
        Assert.Equal(dispatch, decision.DispatchAllowed);
        Assert.Equal(execution, decision.ExecutionAllowed);
    }

    [Fact]
    public void DecisionCompute_ClarifyOwnerIsCheckedBeforeTheMoveCount()
    {
        var policy = OsGate.PolicyEvaluate(Policy(), OsConfig.Mvp);
        var decision = OsGate.DecisionCompute(policy, Chat with { ClarifyRequired = true, ClarifyOwnerEngineId = "PH1.X" }, OsConfig.Mvp);
        Assert.Equal(ReasonCodes.OsFailClarifyOwnerPrecedence, decision.Reason);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.True(decision.FailClosed);
    }

    [Fact]
    public void DecisionCompute_MoveCountIsCheckedBeforeTheGates()
    {
        var (_, decision) = Run(Policy() with { Posture = Posture with { SessionActive = false } }, Chat with { ExplainRequested = true });
        Assert.Equal(ReasonCodes.OsFailOneTurnOneMove, decision.Reason);
    }

    [Fact]
    public void DecisionCompute_DispatchRequestDiffersFromTheEvaluatedOne_RefusesSchemaInvalid()
    {
        // Evaluated without a simulation (so the blueprint and simulation gates did not apply), then asked to
        // dispatch one: the decision must not launder it.
        var input = Policy() with { Deps = Deps with { BlueprintActive = false, SimulationActive = false } };
        var (_, decision) = Run(input, Simulation);
        Assert.Equal(OsOutputKind.Refused, decision.Kind);
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, decision.Reason);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.False(decision.DispatchAllowed);
    }

    [Fact]
    public void DecisionCompute_MissingPolicy_RefusesUpstreamInputMissing()
    {
        var decision = OsGate.DecisionCompute(default, Chat, OsConfig.Mvp);
        Assert.Equal(OsOutputKind.Refused, decision.Kind);
        Assert.Equal(ReasonCodes.OsUpstreamInputMissing, decision.Reason);
        Assert.Equal(OsNextMove.Refuse, decision.Move);
    }

    [Fact]
    public void DefaultOutputs_ReadAsFailClosedRefusals_NeverAsRespond()
    {
        OsDecision decision = default;
        Assert.Equal(OsNextMove.Refuse, decision.Move);
        Assert.True(decision.FailClosed);
        Assert.Equal(ReasonCodes.OsUpstreamInputMissing, decision.Reason);
        OsPolicyResult policy = default;
        Assert.False(policy.ExecutionAllowed);
        Assert.False(policy.SessionGateOk);
        Assert.Equal(ReasonCodes.OsUpstreamInputMissing, policy.Reason);
        OsWiringOutcome outcome = default;
        Assert.Equal(OsWiringOutcomeKind.NotInvokedDisabled, outcome.Kind);
        Assert.Equal(ReasonCodes.OsNotInvokedDisabled, outcome.Reason);
    }

    // ---- Decide (§1.5) -------------------------------------------------------------------------------

    [Fact]
    public void Decide_ValidTurn_ForwardsPolicyAndDecision()
    {
        var outcome = OsGate.Decide(TurnInput(Simulation), OsConfig.Mvp);
        Assert.Equal(OsWiringOutcomeKind.Forwarded, outcome.Kind);
        Assert.Equal(OsNextMove.DispatchSimulation, outcome.Decision.Move);
        Assert.Equal(ReasonCodes.OsOkDecisionCompute, outcome.Reason);
        Assert.Equal(8, outcome.Policy.MaxGuardFailures);
        Assert.Equal(128, outcome.Policy.MaxOutcomeEntries);
    }

    [Fact]
    public void Decide_PromptPolicyRequired_IsClarifyOrConfirm()
    {
        var failedPolicy = TurnInput(Confirm) with { Posture = Posture with { PromptPolicyGateOk = false } };
        var outcome = OsGate.Decide(failedPolicy, OsConfig.Mvp);
        Assert.Equal(OsWiringOutcomeKind.Forwarded, outcome.Kind);
        Assert.Equal(OsNextMove.Refuse, outcome.Decision.Move);
        Assert.Equal(ReasonCodes.OsFailPromptPolicyGate, outcome.Decision.Reason);
    }

    public static TheoryData<string> WiringViolations => new() { "tool_and_simulation", "prompt_policy_without_clarify_or_confirm", "clarify_owner_wrong", "clarify_owner_unexpected" };

    [Theory]
    [MemberData(nameof(WiringViolations))]
    public void Decide_TurnInputViolation_RefusesValidationFailed(string violation)
    {
        var input = violation switch
        {
            "tool_and_simulation" => TurnInput(Tool with { SimulationRequested = true }),
            "prompt_policy_without_clarify_or_confirm" => TurnInput(Chat) with { Posture = Posture with { PromptPolicyGateOk = false } },
            "clarify_owner_wrong" => TurnInput(Clarify with { ClarifyOwnerEngineId = "PH1.X" }),
            "clarify_owner_unexpected" => TurnInput(Chat with { ClarifyOwnerEngineId = OsEngineIds.ClarifyOwner }),
            _ => throw new ArgumentOutOfRangeException(nameof(violation)),
        };

        var outcome = OsGate.Decide(input, OsConfig.Mvp);

        Assert.Equal(OsWiringOutcomeKind.Refused, outcome.Kind);
        Assert.Equal(ReasonCodes.OsValidationFailed, outcome.Reason);
        Assert.False(string.IsNullOrEmpty(outcome.Message));
        Assert.Equal(OsNextMove.Refuse, outcome.Decision.Move);
    }

    [Fact]
    public void Decide_PolicyRefusal_PassesThrough()
    {
        var input = TurnInput(Chat) with { OptionalBudget = new(true, 65, 0, 65, 0, 0) };
        var outcome = OsGate.Decide(input, OsConfig.Mvp);
        Assert.Equal(OsWiringOutcomeKind.Refused, outcome.Kind);
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, outcome.Reason);
        Assert.Equal(OsOutputKind.Refused, outcome.Policy.Kind);
    }

    // ---- allocation ----------------------------------------------------------------------------------

    [Fact]
    public void PolicyEvaluateAndDecisionCompute_AllocateNothing()
    {
        var entries = new[] { Entry(OsOutcomeActionClass.ActNow), Entry(OsOutcomeActionClass.Drop, OsOutcomeEntry.NotConsumed) };
        var pass = Policy(false, true, entries);
        var fail = pass.WithDecisions(Allow, Deny, Allow, Allow, Allow, Allow) with { Posture = Posture with { TranscriptOk = false } };
        var invalid = pass with { NoEngineToEngineCalls = false };
        var turn = TurnInput(Simulation, entries);
        var config = OsConfig.Mvp;
        var move = Simulation;

        var sink = 0;
        void Once()
        {
            foreach (var input in (ReadOnlySpan<OsPolicyInput>)[pass, fail, invalid])
            {
                var policy = OsGate.PolicyEvaluate(input, config);
                var decision = OsGate.DecisionCompute(policy, move, config);
                sink += (int)decision.Move + (int)policy.GuardFailures;
            }
            sink += (int)OsGate.Decide(turn, config).Decision.Move;
        }

        Once(); // JIT and static initialisation
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) Once();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0, sink);
    }
}
