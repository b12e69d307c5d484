using System.Text.Json;

namespace Selene.Contracts;

/// <summary>The turn path (reference §1.6).</summary>
public enum TurnPath
{
    /// <summary>Typed text.</summary>
    Text,
    /// <summary>Speech.</summary>
    Voice,
}

/// <summary>The device a voice turn came from.</summary>
public enum VoicePlatform
{
    /// <summary>iOS.</summary>
    Ios,
    /// <summary>Android.</summary>
    Android,
    /// <summary>Desktop.</summary>
    Desktop,
}

/// <summary>How a voice turn started: with the wake word (PH1.W runs) or explicitly (no wake stage).</summary>
public enum VoiceTrigger
{
    /// <summary>The wake word.</summary>
    WakeWord,
    /// <summary>An explicit start (button, hotkey).</summary>
    Explicit,
}

/// <summary>A move the caller's PH1.X asks for; the gate emits exactly one move in answer.</summary>
public enum RequestedMove
{
    /// <summary>Chat.</summary>
    Respond,
    /// <summary>Ask one blocking question.</summary>
    Clarify,
    /// <summary>Ask for confirmation.</summary>
    Confirm,
    /// <summary>Explain.</summary>
    Explain,
    /// <summary>Wait.</summary>
    Wait,
    /// <summary>Run one read-only tool.</summary>
    DispatchTool,
    /// <summary>Run one simulation.</summary>
    DispatchSimulation,
}

/// <summary>Voice context: required for VOICE turns, forbidden for TEXT.</summary>
public sealed record TurnVoiceContext(VoicePlatform Platform, VoiceTrigger Trigger);

/// <summary>What the caller's ALWAYS_ON engines concluded about the turn (reference §1.2, turn posture).</summary>
public sealed record TurnPosture(
    bool SessionActive,
    bool TranscriptOk,
    bool NlpConfidenceHigh,
    bool RequiresConfirmation,
    bool ConfirmationReceived,
    bool PromptPolicyGateOk);

/// <summary>The simulation a DISPATCH_SIMULATION turn asks for.</summary>
public sealed record TurnSimulation(string SimulationId, JsonElement Inputs, string? IdempotencyKey = null);

/// <summary>The tool a DISPATCH_TOOL turn asks for.</summary>
public sealed record TurnTool(string ToolId, JsonElement Arguments);

/// <summary>One outcome-utilization row as the caller reports it (reference §1.2).</summary>
public sealed record TurnOutcome(
    string EngineId,
    string OutcomeType,
    string ActionClass,
    string ConsumedBy,
    uint LatencyCostMs,
    bool DecisionDelta,
    string ReasonCode,
    string? CorrelationId = null,
    ulong? TurnId = null);

/// <summary>
/// The body of <c>POST /v1/turns</c> (docs/turns.md). It carries only what the caller may know; every
/// authority-bearing gate input is derived by Selene (<see cref="AuthorityMembers"/> are refused).
/// </summary>
public sealed record TurnRequest(
    string CorrelationId,
    ulong TurnId,
    TurnPath Path,
    IReadOnlyList<string> AlwaysOnSequence,
    TurnPosture Posture,
    IReadOnlyList<RequestedMove> RequestedMoves,
    TurnVoiceContext? VoiceContext = null,
    IReadOnlyList<string>? OptionalRequested = null,
    int? MaxOptionalInvocations = null,
    string? ClarifyOwnerEngineId = null,
    TurnSimulation? Simulation = null,
    TurnTool? Tool = null,
    IReadOnlyList<TurnOutcome>? Outcomes = null)
{
    /// <summary>Gate inputs Selene derives itself; a body naming one (at the top or in <c>posture</c>) is refused.</summary>
    public static IReadOnlySet<string> AuthorityMembers { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "access_allowed", "blueprint_active", "simulation_active", "idempotency_required", "idempotency_key_present",
        "lease_required", "lease_valid", "policy_gate_decision", "tenant_gate_decision", "gov_gate_decision",
        "quota_gate_decision", "work_gate_decision", "capreq_gate_decision", "optional_budget_enforced",
        "optional_invocations_requested", "optional_invocations_budget", "optional_invocations_skipped_budget",
        "optional_latency_budget_ms", "optional_latency_estimated_ms", "prompt_policy_required", "execution_allowed",
        "simulation_dispatch_allowed", "tool_dispatch_allowed", "dispatch_allowed", "no_engine_to_engine_calls",
        "no_simulation_no_execution", "one_turn_one_move", "tenant_id", "actor_user_id", "user_id",
    };

    /// <summary>
    /// Reads a turn strictly. Authority-bearing members are TURN_AUTHORITY_INPUT_REJECTED (named in the detail);
    /// anything else unknown is INPUT_UNKNOWN_FIELD; shape errors are INPUT_SCHEMA_INVALID.
    /// </summary>
    public static bool TryRead(JsonElement body, out TurnRequest? request, out JsonInputError? error)
    {
        request = null;
        if (body.ValueKind == JsonValueKind.Object)
        {
            foreach (var scope in new[] { body, body.TryGetProperty("posture", out var p) && p.ValueKind == JsonValueKind.Object ? p : default })
            {
                if (scope.ValueKind != JsonValueKind.Object) continue;
                foreach (var member in scope.EnumerateObject())
                {
                    if (AuthorityMembers.Contains(member.Name))
                    {
                        error = new JsonInputError(ReasonCodes.TurnAuthorityInputRejected,
                            $"'{member.Name}' is derived by Selene, never taken from the caller");
                        return false;
                    }
                }
            }
        }
        return StrictJson.TryRead(body, out request, out error);
    }
}
