using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Selene.Kernel.Os;

/// <summary>Voice context of a VOICE turn; required for VOICE, forbidden for TEXT.</summary>
public readonly record struct OsVoiceContext(VoicePlatform Platform, VoiceTrigger Trigger);

/// <summary>
/// One turn as the runtime hands it to the top-level turn slice (reference §1.6): ids, path and voice context, the
/// ALWAYS_ON engines that completed, the optional engines requested and their budget, and the OS turn input
/// (posture, requested move, the governance decisions and execution dependencies the runtime derived, outcome rows).
/// The GATE-U3 fields are not part of it: the slice computes them. This is what <see cref="OsTurnCodec"/> journals,
/// so equality is by value, lists included.
/// </summary>
public sealed record OsTopLevelInput
{
    public CorrelationId Correlation { get; init; }
    public TurnId Turn { get; init; }
    public TurnPath Path { get; init; }
    public OsVoiceContext? Voice { get; init; }

    /// <summary>ALWAYS_ON engine ids in completion order (≤ 16).</summary>
    public ImmutableArray<string> AlwaysOnCompletedSequence { get; init => field = value.IsDefault ? [] : value; } = [];

    /// <summary>TURN_OPTIONAL engine ids requested (≤ 64; order and repeats do not matter).</summary>
    public ImmutableArray<string> OptionalRequested { get; init => field = value.IsDefault ? [] : value; } = [];

    /// <summary>How many optional engines may run (≤ 64, and ≤ the runtime's configured maximum).</summary>
    public byte MaxOptionalInvocations { get; init; }

    public OsTurnPosture Posture { get; init; }
    public OsMoveRequest Move { get; init; }
    public OsGovernanceDecisions Governance { get; init; }
    public OsExecutionDeps Deps { get; init; }

    /// <summary>
    /// The catalog says the requested simulation id is LEGACY_DO_NOT_WIRE (reference §0.3, §1.8): the delivery-ownership
    /// guard refuses the turn with that reason before any move is computed.
    /// </summary>
    public bool SimulationLegacyDoNotWire { get; init; }

    /// <summary>Outcome-utilization rows of this turn (≤ the runtime's max_outcome_entries).</summary>
    public ImmutableArray<OsOutcomeEntry> Outcomes { get; init => field = value.IsDefault ? [] : value; } = [];

    public bool Equals(OsTopLevelInput? other) =>
        ReferenceEquals(this, other) ||
        (other is not null && Correlation == other.Correlation && Turn == other.Turn && Path == other.Path && Voice == other.Voice &&
         AlwaysOnCompletedSequence.AsSpan().SequenceEqual(other.AlwaysOnCompletedSequence.AsSpan()) &&
         OptionalRequested.AsSpan().SequenceEqual(other.OptionalRequested.AsSpan()) &&
         MaxOptionalInvocations == other.MaxOptionalInvocations && Posture == other.Posture && Move == other.Move &&
         Governance == other.Governance && Deps == other.Deps && SimulationLegacyDoNotWire == other.SimulationLegacyDoNotWire &&
         Outcomes.AsSpan().SequenceEqual(other.Outcomes.AsSpan()));

    public override int GetHashCode() =>
        HashCode.Combine(
            HashCode.Combine(Correlation, Turn, Path, Voice, MaxOptionalInvocations),
            HashCode.Combine(Posture, Move, Governance, Deps, SimulationLegacyDoNotWire),
            HashCode.Combine(AlwaysOnCompletedSequence.Length, OptionalRequested.Length, Outcomes.Length));
}

/// <summary>What the top-level turn slice did with a turn.</summary>
public abstract record OsTurnOutcome
{
    private OsTurnOutcome() { }

    /// <summary>The turn's reason code.</summary>
    public abstract ReasonCode Reason { get; }

    /// <summary>PH1.OS is disabled: nothing was invoked and nothing may be dispatched (AT-OS-05).</summary>
    public sealed record NotInvokedDisabled : OsTurnOutcome
    {
        public static NotInvokedDisabled Instance { get; } = new();
        public override ReasonCode Reason => ReasonCodes.OsNotInvokedDisabled;
    }

    /// <summary>The turn was refused before a move was chosen; always fail-closed.</summary>
    public sealed record Refused(ReasonCode Reason, string Message) : OsTurnOutcome
    {
        public override ReasonCode Reason { get; } = Reason;

        /// <summary>Always true: a refused turn dispatches and executes nothing.</summary>
        public bool FailClosed => true;
    }

    /// <summary>
    /// The gate ran: <see cref="Decision"/> holds the one move. <see cref="OptionalInvoked"/> lists the optional
    /// engines to run, in canonical TURN_OPTIONAL order; <see cref="OptionalSkippedBudget"/> those the budget left out.
    /// </summary>
    public sealed record Forwarded(
        OsPolicyResult Policy, OsDecision Decision, ImmutableArray<string> OptionalInvoked, ImmutableArray<string> OptionalSkippedBudget)
        : OsTurnOutcome
    {
        public override ReasonCode Reason => Decision.Reason;

        public bool Equals(Forwarded? other) =>
            ReferenceEquals(this, other) ||
            (other is not null && Policy == other.Policy && Decision == other.Decision &&
             OptionalInvoked.AsSpan().SequenceEqual(other.OptionalInvoked.AsSpan()) &&
             OptionalSkippedBudget.AsSpan().SequenceEqual(other.OptionalSkippedBudget.AsSpan()));

        public override int GetHashCode() => HashCode.Combine(Policy, Decision, OptionalInvoked.Length, OptionalSkippedBudget.Length);
    }
}

/// <summary>
/// The top-level turn slice (reference §1.6): checks the engine order, plans the optional engines and their budget,
/// then runs <see cref="OsGate.Decide"/>. Pure and deterministic; unlike the gate it may allocate.
/// </summary>
/// <remarks>
/// Check order: (1) input schema ⇒ PH1_OS_INPUT_SCHEMA_INVALID: ids, path and voice context, list sizes, engine-id
/// syntax, max_optional_invocations ≤ 64, the OS turn input's own rules (tool and simulation both requested,
/// prompt policy failed with neither clarify nor confirm required, clarify owner syntax, governance values, outcome
/// rows); (2) disabled ⇒ not invoked; (3) max_optional_invocations above the configured maximum ⇒
/// TOPLEVEL_OPTIONAL_BUDGET_INVALID; (4) clarify owner ⇒ TOPLEVEL_CLARIFY_OWNER_INVALID; (5) a runtime-forbidden id,
/// first in the ALWAYS_ON list then in the optional request ⇒ TOPLEVEL_RUNTIME_BOUNDARY_VIOLATION; (6) ALWAYS_ON
/// sequence ≠ the path's ⇒ TOPLEVEL_SEQUENCE_INVALID; (7) for each distinct requested id in ordinal order: not
/// TURN_OPTIONAL ⇒ TOPLEVEL_UNKNOWN_OPTIONAL_ENGINE, blocked by policy (PRUNE without clarify; DIAG without
/// clarify, confirm, tool or simulation) ⇒ TOPLEVEL_OPTIONAL_POLICY_BLOCK; (8) plan in canonical order; estimated
/// latency above the configured maximum ⇒ TOPLEVEL_OPTIONAL_BUDGET_INVALID; (9) fill GATE-U3 and decide.
/// </remarks>
public static class OsTurnSlice
{
    /// <summary>Most ALWAYS_ON ids a turn may report.</summary>
    public const int MaxAlwaysOnIds = 16;

    /// <summary>Most optional ids a turn may request.</summary>
    public const int MaxOptionalRequestedIds = 64;

    private static readonly ImmutableArray<string> VoiceWakeWord =
        ["PH1.K", "PH1.W", "PH1.VOICE.ID", "PH1.C", "PH1.SRL", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];

    private static readonly ImmutableArray<string> VoiceExplicit =
        ["PH1.K", "PH1.VOICE.ID", "PH1.C", "PH1.SRL", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];

    private static readonly ImmutableArray<string> Text = ["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];

    private static readonly FrozenSet<string> TurnOptional = OsEngineIds.TurnOptional.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// The exact ALWAYS_ON sequence a path requires (reference §1.6 step 5). A VOICE turn without a voice context
    /// is schema-invalid before this is consulted; it maps to the wake-word sequence.
    /// </summary>
    public static ImmutableArray<string> ExpectedAlwaysOn(TurnPath path, OsVoiceContext? voice) =>
        path == TurnPath.Text ? Text : voice is { Trigger: VoiceTrigger.Explicit } ? VoiceExplicit : VoiceWakeWord;

    /// <summary>Whether the optional-engine policy allows <paramref name="engineId"/> for this move (reference §1.6 step 6).</summary>
    public static bool OptionalAllowedByPolicy(string engineId, in OsMoveRequest move) => engineId switch
    {
        "PH1.PRUNE" => move.ClarifyRequired,
        "PH1.DIAG" => move.ClarifyRequired || move.ConfirmRequired || move.ToolRequested || move.SimulationRequested,
        _ => true,
    };

    /// <summary>Runs one turn through the slice and, if it passes, through the gate.</summary>
    public static OsTurnOutcome Run(OsTopLevelInput input, in OsConfig config)
    {
        ArgumentNullException.ThrowIfNull(input);

        if (SchemaViolation(input, config) is { } violation)
            return new OsTurnOutcome.Refused(ReasonCodes.OsInputSchemaInvalid, violation);
        if (!config.OsEnabled)
            return OsTurnOutcome.NotInvokedDisabled.Instance;
        if (input.MaxOptionalInvocations > config.MaxOptionalInvocations)
        {
            return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelOptionalBudgetInvalid,
                $"max_optional_invocations {input.MaxOptionalInvocations} exceeds the configured maximum {config.MaxOptionalInvocations}");
        }
        if (!OsGate.ClarifyOwnerValid(input.Move))
        {
            return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelClarifyOwnerInvalid, input.Move.ClarifyRequired
                ? "clarify owner must be PH1.NLP when clarify_required=true"
                : "clarify owner must be omitted when clarify_required=false");
        }
        if ((FirstRuntimeForbidden(input.AlwaysOnCompletedSequence) ?? FirstRuntimeForbidden(input.OptionalRequested)) is { } forbidden)
        {
            return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelRuntimeBoundaryViolation,
                $"runtime boundary violation: {forbidden} is OFFLINE_ONLY or control-plane only");
        }
        // Delivery ownership (reference §1.8): legacy LINK send ids never reach the gate.
        if (input.Move.SimulationRequested && input.SimulationLegacyDoNotWire)
            return new OsTurnOutcome.Refused(ReasonCodes.LegacyDoNotWire, "the requested simulation is LEGACY_DO_NOT_WIRE: delivery goes through BCAST and DELIVERY");

        var expected = ExpectedAlwaysOn(input.Path, input.Voice);
        if (!input.AlwaysOnCompletedSequence.AsSpan().SequenceEqual(expected.AsSpan()))
        {
            return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelSequenceInvalid,
                $"always_on sequence mismatch for path {WireNames.Of(input.Path)}; expected {string.Join(" > ", expected)}");
        }

        var requested = new SortedSet<string>(input.OptionalRequested, StringComparer.Ordinal);
        foreach (var engineId in requested)
        {
            if (!TurnOptional.Contains(engineId))
                return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelUnknownOptionalEngine, $"unknown turn-optional engine id {engineId}");
            if (!OptionalAllowedByPolicy(engineId, input.Move))
            {
                return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelOptionalPolicyBlock,
                    $"optional engine {engineId} is not allowed for the requested move");
            }
        }

        var invoked = ImmutableArray.CreateBuilder<string>();
        var skipped = ImmutableArray.CreateBuilder<string>();
        foreach (var engineId in OsEngineIds.TurnOptional)
        {
            if (!requested.Contains(engineId)) continue;
            (invoked.Count < input.MaxOptionalInvocations ? invoked : skipped).Add(engineId);
        }

        var estimatedMs = (uint)invoked.Count * config.OptionalLatencyPerEngineMs;
        if (estimatedMs > config.MaxOptionalLatencyMs)
        {
            return new OsTurnOutcome.Refused(ReasonCodes.OsToplevelOptionalBudgetInvalid,
                $"optional latency estimate {estimatedMs} ms exceeds the configured budget {config.MaxOptionalLatencyMs} ms");
        }

        var outcomes = input.Outcomes;
        var turn = new OsTurnInput
        {
            Correlation = input.Correlation,
            Turn = input.Turn,
            Posture = input.Posture,
            Move = input.Move,
            Governance = input.Governance,
            Deps = input.Deps,
            OptionalBudget = new OsOptionalBudget(
                Enforced: true,
                InvocationsRequested: (ushort)requested.Count,
                InvocationsBudget: input.MaxOptionalInvocations,
                InvocationsSkippedBudget: (ushort)skipped.Count,
                LatencyBudgetMs: config.MaxOptionalLatencyMs,
                LatencyEstimatedMs: estimatedMs),
            Outcomes = outcomes.AsMemory(),
        };

        var outcome = OsGate.Decide(turn, config);
        return outcome.Kind switch
        {
            OsWiringOutcomeKind.Forwarded => new OsTurnOutcome.Forwarded(outcome.Policy, outcome.Decision, invoked.ToImmutable(), skipped.ToImmutable()),
            OsWiringOutcomeKind.Refused => new OsTurnOutcome.Refused(outcome.Reason, outcome.Message ?? outcome.Reason.Name),
            _ => OsTurnOutcome.NotInvokedDisabled.Instance,
        };
    }

    private static string? FirstRuntimeForbidden(ImmutableArray<string> engineIds)
    {
        foreach (var engineId in engineIds)
        {
            if (OsEngineIds.IsRuntimeForbidden(engineId)) return engineId;
        }
        return null;
    }

    private static string? SchemaViolation(OsTopLevelInput input, in OsConfig config)
    {
        if (input.Correlation.Value == UInt128.Zero) return "correlation_id must be > 0";
        if (input.Turn.Value == 0) return "turn_id must be > 0";
        switch (input.Path, input.Voice)
        {
            case (TurnPath.Voice, null): return "VOICE path requires voice_context";
            case (TurnPath.Text, not null): return "TEXT path must not carry voice_context";
            case (TurnPath.Voice, { } v) when (uint)v.Platform > (uint)VoicePlatform.Desktop || (uint)v.Trigger > (uint)VoiceTrigger.Explicit:
                return "voice_context platform or trigger is not a declared member";
            case (not (TurnPath.Text or TurnPath.Voice), _): return "path must be TEXT or VOICE";
        }
        if (input.AlwaysOnCompletedSequence.Length > MaxAlwaysOnIds) return "always_on_completed_sequence must contain <= 16 engine ids";
        if (input.OptionalRequested.Length > MaxOptionalRequestedIds) return "optional_requested must contain <= 64 engine ids";
        foreach (var engineId in input.AlwaysOnCompletedSequence)
        {
            if (!OsEngineIds.IsWellFormed(engineId)) return "always_on_completed_sequence holds an id that is not ASCII [A-Z0-9._] of 1..64 characters";
        }
        foreach (var engineId in input.OptionalRequested)
        {
            if (!OsEngineIds.IsWellFormed(engineId)) return "optional_requested holds an id that is not ASCII [A-Z0-9._] of 1..64 characters";
        }
        if (input.MaxOptionalInvocations > OsGate.MaxOptionalInvocationsBound) return "max_optional_invocations must be <= 64";

        var move = input.Move;
        if (move.ToolRequested && move.SimulationRequested) return "tool_requested and simulation_requested cannot both be true";
        if (!move.ClarifyRequired && !move.ConfirmRequired && !input.Posture.PromptPolicyGateOk)
            return "prompt_policy_gate_ok must be true when neither clarify nor confirm is required";
        if (move.ClarifyOwnerEngineId is { } owner && !OsEngineIds.IsWellFormed(owner))
            return "clarify_owner_engine_id is not ASCII [A-Z0-9._] of 1..64 characters";
        if (!OsGate.IsDefined(input.Governance)) return "governance gate decisions must be ALLOW, DENY, ESCALATE or INVALID";
        if (input.Outcomes.Length > config.MaxOutcomeEntries) return "outcome_utilization_entries exceeds max_outcome_entries";
        foreach (ref readonly var entry in input.Outcomes.AsSpan())
        {
            if (OsGate.OutcomeEntryViolation(entry, input.Correlation, input.Turn) is { } violation) return violation;
        }
        return null;
    }
}
