using Selene.Kernel.Os;
using static Selene.Kernel.Tests.OsFixtures;
using static Selene.Kernel.Tests.OsTurns;

namespace Selene.Kernel.Tests;

/// <summary>The top-level turn slice's check order, plan and GATE-U3 arithmetic (reference §1.6).</summary>
public sealed class OsTurnSliceTests
{
    [Fact]
    public void Run_OptionalPlan_FollowsCanonicalOrderWithSetSemantics()
    {
        var input = Text(Clarify, "PH1.KG", "PH1.LANG", "PH1.PRUNE", "PH1.LANG", "PH1.ENDPOINT") with { MaxOptionalInvocations = 2 };

        var turn = Forwarded(OsTurns.Run(input));

        Assert.Equal(["PH1.ENDPOINT", "PH1.LANG"], turn.OptionalInvoked.ToArray());
        Assert.Equal(["PH1.PRUNE", "PH1.KG"], turn.OptionalSkippedBudget.ToArray());
        var budget = turn.Policy.OptionalBudget;
        Assert.True(budget.Enforced);
        Assert.Equal(4, budget.InvocationsRequested); // distinct
        Assert.Equal(2, budget.InvocationsBudget);
        Assert.Equal(2, budget.InvocationsSkippedBudget);
        Assert.Equal(120u, budget.LatencyBudgetMs);
        Assert.Equal(40u, budget.LatencyEstimatedMs);
        Assert.True(turn.Policy.OptionalBudgetEnforced);
    }

    public static TheoryData<int, byte, int, int, bool> BudgetArithmetic => new()
    {
        // requested (distinct), max invocations, invoked, skipped, refused for latency
        { 0, 8, 0, 0, false },
        { 3, 8, 3, 0, false },
        { 6, 8, 6, 0, false },
        { 7, 8, 7, 0, true },
        { 7, 6, 6, 1, false },
        { 10, 0, 0, 10, false },
        { 25, 4, 4, 21, false },
    };

    [Theory]
    [MemberData(nameof(BudgetArithmetic))]
    public void Run_OptionalBudget_RequestedBudgetSkippedAndLatency(int requested, byte max, int invoked, int skipped, bool refused)
    {
        // Avoid PRUNE and DIAG (policy-gated) by taking the canonical list without them.
        var ids = OsEngineIds.TurnOptional.Where(id => id is not ("PH1.PRUNE" or "PH1.DIAG")).ToArray();
        var pool = ids.Concat(["PH1.PRUNE", "PH1.DIAG"]).Take(requested).ToArray();
        var outcome = OsTurns.Run(Text(Clarify, pool) with { MaxOptionalInvocations = max });

        if (refused)
        {
            AssertRefused(outcome, ReasonCodes.OsToplevelOptionalBudgetInvalid);
            return;
        }
        var turn = Forwarded(outcome);
        Assert.Equal(invoked, turn.OptionalInvoked.Length);
        Assert.Equal(skipped, turn.OptionalSkippedBudget.Length);
        Assert.Equal(requested, turn.Policy.OptionalBudget.InvocationsRequested);
        Assert.Equal(max, turn.Policy.OptionalBudget.InvocationsBudget);
        Assert.Equal((uint)(invoked * 20), turn.Policy.OptionalBudget.LatencyEstimatedMs);
        Assert.Equal(Math.Max(0, requested - max), turn.Policy.OptionalBudget.InvocationsSkippedBudget);
        Assert.Equal(ReasonCodes.OsOkPolicyEvaluate, turn.Policy.Reason);
    }

    public static TheoryData<string, string> CheckOrder => new()
    {
        // Each input breaks two rules; the earlier check in §1.6 wins.
        { "schema_before_disabled", "PH1_OS_INPUT_SCHEMA_INVALID" },
        { "budget_before_clarify_owner", "PH1_OS_TOPLEVEL_OPTIONAL_BUDGET_INVALID" },
        { "clarify_owner_before_boundary", "PH1_OS_TOPLEVEL_CLARIFY_OWNER_INVALID" },
        { "boundary_before_sequence", "PH1_OS_TOPLEVEL_RUNTIME_BOUNDARY_VIOLATION" },
        { "sequence_before_unknown", "PH1_OS_TOPLEVEL_SEQUENCE_INVALID" },
        { "unknown_and_policy_in_ordinal_order", "PH1_OS_TOPLEVEL_OPTIONAL_POLICY_BLOCK" },
        { "unknown_before_latency", "PH1_OS_TOPLEVEL_UNKNOWN_OPTIONAL_ENGINE" },
        { "latency_before_gate", "PH1_OS_TOPLEVEL_OPTIONAL_BUDGET_INVALID" },
    };

    [Theory]
    [MemberData(nameof(CheckOrder))]
    public void Run_TwoViolations_TheEarlierCheckWins(string scenario, string reason)
    {
        var config = OsConfig.Mvp;
        string[] seven = ["PH1.ENDPOINT", "PH1.LANG", "PH1.PRON", "PH1.DOC", "PH1.SUMMARY", "PH1.VISION", "PH1.SEARCH"];
        var input = scenario switch
        {
            "schema_before_disabled" => Text(Chat) with { OptionalRequested = ["lower.case"] },
            "budget_before_clarify_owner" => Text(Chat with { ClarifyOwnerEngineId = "PH1.NLP" }) with { MaxOptionalInvocations = 9 },
            "clarify_owner_before_boundary" => Text(Clarify with { ClarifyOwnerEngineId = "PH1.X" }, "PH1.RLL"),
            "boundary_before_sequence" => Text(Chat, "PH1.EXPORT") with { AlwaysOnCompletedSequence = [] },
            "sequence_before_unknown" => Text(Chat, "PH1.NOPE") with { AlwaysOnCompletedSequence = ["PH1.X"] },
            // Distinct ids are checked in ordinal order: PH1.DIAG (blocked) sorts before PH1.ZZZ (unknown).
            "unknown_and_policy_in_ordinal_order" => Text(Chat, "PH1.ZZZ", "PH1.DIAG"),
            "unknown_before_latency" => Text(Chat, [.. seven, "PH1.NOPE"]),
            "latency_before_gate" => Text(Chat, seven) with { Deps = Deps with { AccessAllowed = false } },
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };
        if (scenario == "schema_before_disabled") config = config with { OsEnabled = false };

        AssertRefused(OsTurnSlice.Run(input, config), ByName(reason));
    }

    private static ReasonCode ByName(string name) => name switch
    {
        "PH1_OS_INPUT_SCHEMA_INVALID" => ReasonCodes.OsInputSchemaInvalid,
        "PH1_OS_TOPLEVEL_OPTIONAL_BUDGET_INVALID" => ReasonCodes.OsToplevelOptionalBudgetInvalid,
        "PH1_OS_TOPLEVEL_CLARIFY_OWNER_INVALID" => ReasonCodes.OsToplevelClarifyOwnerInvalid,
        "PH1_OS_TOPLEVEL_RUNTIME_BOUNDARY_VIOLATION" => ReasonCodes.OsToplevelRuntimeBoundaryViolation,
        "PH1_OS_TOPLEVEL_OPTIONAL_POLICY_BLOCK" => ReasonCodes.OsToplevelOptionalPolicyBlock,
        "PH1_OS_TOPLEVEL_UNKNOWN_OPTIONAL_ENGINE" => ReasonCodes.OsToplevelUnknownOptionalEngine,
        "PH1_OS_TOPLEVEL_SEQUENCE_INVALID" => ReasonCodes.OsToplevelSequenceInvalid,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static TheoryData<string> SchemaViolations => new()
    {
        "default_correlation", "default_turn", "undefined_path", "undefined_platform", "too_many_always_on",
        "too_many_optional", "malformed_always_on", "null_optional", "long_id", "max_optional_over_64",
        "tool_and_simulation", "prompt_policy_failed_without_clarify_or_confirm", "malformed_clarify_owner",
        "undefined_gate_decision", "too_many_outcomes", "bad_outcome_row",
    };

    [Theory]
    [MemberData(nameof(SchemaViolations))]
    public void Run_MalformedInput_RefusesInputSchemaInvalid(string violation)
    {
        var entry = Entry(OsOutcomeActionClass.AuditOnly);
        var input = violation switch
        {
            "default_correlation" => Text(Chat) with { Correlation = default },
            "default_turn" => Text(Chat) with { Turn = default },
            "undefined_path" => Text(Chat) with { Path = (TurnPath)5 },
            "undefined_platform" => Voice(VoiceTrigger.WakeWord, Chat) with { Voice = new OsVoiceContext((VoicePlatform)9, VoiceTrigger.WakeWord) },
            "too_many_always_on" => Text(Chat) with { AlwaysOnCompletedSequence = [.. Enumerable.Repeat("PH1.X", 17)] },
            "too_many_optional" => Text(Chat, [.. Enumerable.Repeat("PH1.LANG", 65)]),
            "malformed_always_on" => Text(Chat) with { AlwaysOnCompletedSequence = ["PH1.NLP", "PH1 CONTEXT", "PH1.POLICY", "PH1.X"] },
            "null_optional" => Text(Chat, [null!]),
            "long_id" => Text(Chat, "PH1." + new string('A', 61)),
            "max_optional_over_64" => Text(Chat) with { MaxOptionalInvocations = 65 },
            "tool_and_simulation" => Text(Tool with { SimulationRequested = true }),
            "prompt_policy_failed_without_clarify_or_confirm" => Text(Chat) with { Posture = Posture with { PromptPolicyGateOk = false } },
            "malformed_clarify_owner" => Text(Clarify with { ClarifyOwnerEngineId = "ph1.nlp" }),
            "undefined_gate_decision" => Text(Chat) with { Governance = OsGovernanceDecisions.AllAllow with { Quota = (OsGateDecision)4 } },
            "too_many_outcomes" => Text(Chat) with { Outcomes = [.. Enumerable.Repeat(entry, 129)] },
            "bad_outcome_row" => Text(Chat) with { Outcomes = [entry with { ConsumedBy = "" }] },
            _ => throw new ArgumentOutOfRangeException(nameof(violation)),
        };

        AssertRefused(OsTurns.Run(input), ReasonCodes.OsInputSchemaInvalid);
    }

    [Fact]
    public void Run_SixtyFourOptionalIdsAndSixtyFourCharacterIds_AreWithinBounds()
    {
        var turn = OsTurns.Run(Text(Chat, [.. Enumerable.Repeat("PH1.LANG", 64)]));
        Assert.Equal(["PH1.LANG"], Forwarded(turn).OptionalInvoked.ToArray());
        AssertRefused(OsTurns.Run(Text(Chat, "PH1." + new string('A', 60))), ReasonCodes.OsToplevelUnknownOptionalEngine);
    }

    [Fact]
    public void Run_GateRefusal_IsReportedAsRefused()
    {
        // A prompt-policy failure with confirm required passes the slice and fails at the gate (a REFUSE move).
        var turn = Forwarded(OsTurns.Run(Text(Confirm) with { Posture = Posture with { PromptPolicyGateOk = false } }));
        Assert.Equal(OsNextMove.Refuse, turn.Decision.Move);
        Assert.Equal(ReasonCodes.OsFailPromptPolicyGate, turn.Reason);
    }

    [Fact]
    public void Run_SameInput_EqualOutcomes()
    {
        var input = Text(Clarify, "PH1.PRUNE", "PH1.LANG");
        Assert.Equal(OsTurns.Run(input), OsTurns.Run(input with { OptionalRequested = ["PH1.LANG", "PH1.PRUNE"] }));
        Assert.Equal(input, input with { OptionalRequested = [.. input.OptionalRequested] });
    }
}
