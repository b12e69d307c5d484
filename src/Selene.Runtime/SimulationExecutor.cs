using System.Text.Json;
using System.Text.Json.Nodes;

namespace Selene.Runtime;

/// <summary>One request to run a simulation, with identity already established by the edge.</summary>
public sealed record ExecutionRequest(
    TenantId Tenant,
    UserId Actor,
    string SimulationId,
    string? IdempotencyKey,
    JsonElement Body,
    CorrelationId Correlation,
    TurnId Turn);

/// <summary>How an execution ended.</summary>
public enum ExecutionOutcome
{
    /// <summary>The simulation ran and committed now.</summary>
    Executed,
    /// <summary>The same request ran before with this key; its stored result is returned and nothing changed.</summary>
    Replayed,
    /// <summary>The engine refused; the refusal is journaled and nothing else changed.</summary>
    Refused,
    /// <summary>The request was not acceptable (input, key, tenant); nothing was stored.</summary>
    Invalid,
}

/// <summary>The executor's answer. <see cref="Body"/> is the canonical JSON result for Executed and Replayed.</summary>
/// <param name="Problem">For refusals: what the caller is told beyond the reason code (e.g. the gate's answer and the escalation case).</param>
/// <param name="Journaled">True when the turn gate decided, so the request is on record (its decision, and the refusal if any).</param>
public sealed record ExecutionResult(ExecutionOutcome Outcome, ReasonCode Reason, string? Detail, byte[]? Body, CorrelationId Correlation,
    JsonObject? Problem = null, bool Journaled = false)
{
    public bool Succeeded => Outcome is ExecutionOutcome.Executed or ExecutionOutcome.Replayed;
}

/// <summary>
/// Direct simulation calls (<c>POST /v1/simulations/{id}</c>, the CLI, tests): a thin wrapper that builds a confirmed
/// TEXT turn asking for DISPATCH_SIMULATION and runs it through <see cref="TurnExecutor"/>, so there is one path to
/// execution (ARCHITECTURE.md §3). The turn's answer is translated back: the executor's result when the gate
/// dispatched, otherwise the most specific reason Selene knows (the access gate's refusal, an unknown or inactive
/// simulation, a missing key, a legacy id).
/// </summary>
public sealed class SimulationExecutor(TurnExecutor turns)
{
    /// <summary>The ALWAYS_ON sequence of a text turn, which a direct call stands for.</summary>
    public static IReadOnlyList<string> TextAlwaysOn { get; } = ["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];

    /// <summary>The host clock the executions read (<see cref="TurnExecutor.Clock"/>).</summary>
    public TimeProvider Clock => turns.Clock;

    /// <summary>A direct call is a confirmed, understood text turn in an active session.</summary>
    public static TurnPosture ConfirmedPosture { get; } = new(true, true, true, true, true, true);

    /// <param name="onCommit">Work that must commit with the simulation's effect or not at all (<see cref="CommitHook"/>).</param>
    /// <param name="lease">For a lease-gated execution (a work order's step): the lease it must run under.</param>
    /// <param name="handoff">True only for the outbox worker's run of a handoff (<see cref="SimulationRecord.HandoffOnly"/>).</param>
    /// <param name="key">The caller's API key when the edge accepted it without asking the database (<see cref="TurnExecutor.RunAsync"/>).</param>
    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request, CancellationToken ct = default, CommitHook? onCommit = null, LeaseClaim? lease = null,
        bool handoff = false, Selene.Postgres.ApiKeyCheck? key = null)
    {
        if (request.Body.ValueKind != JsonValueKind.Object)
            return Invalid(request, ReasonCodes.InputSchemaInvalid, "the body must be a JSON object");
        if (StrictJson.CheckText(request.Body) is { } textError)
            return Invalid(request, textError.Reason, textError.Detail);
        var turn = new TurnRequest(request.Correlation.ToString(), request.Turn.Value, TurnPath.Text, TextAlwaysOn, ConfirmedPosture,
            [RequestedMove.DispatchSimulation], Simulation: new TurnSimulation(request.SimulationId, request.Body, request.IdempotencyKey));
        var result = await turns.RunAsync(request.Tenant, request.Actor, turn, ct, onCommit, lease, handoff, key);
        return result switch
        {
            { Execution: { } execution } => execution with { Journaled = execution.Outcome != ExecutionOutcome.Replayed },
            { Kind: TurnOutcomeKind.Invalid } or { Kind: TurnOutcomeKind.NotInvoked } => Invalid(request, result.Reason, result.Detail ?? result.Reason.Name),
            { Cause: { } cause } when cause == ReasonCodes.SimulationUnknown || cause == ReasonCodes.SimulationNotActive || cause == ReasonCodes.IdempotencyKeyMissing =>
                Invalid(request, cause, result.Detail ?? cause.Name) with { Journaled = true },
            { Cause: { } cause } => new ExecutionResult(ExecutionOutcome.Refused, cause, result.Detail, null, request.Correlation,
                WithSuggestions(result.Problem, result.Suggestions), Journaled: true),
            _ => new ExecutionResult(ExecutionOutcome.Refused, result.Reason, result.Detail ?? $"the turn gate decided {WireNames.Of(result.Move)}", null,
                request.Correlation, WithSuggestions(new JsonObject { ["next_move"] = WireNames.Of(result.Move) }, result.Suggestions), Journaled: true),
        };
    }

    /// <summary>A refusal's problem members with the learning loop's suggestions beside them (a GUIDED or PRESCRIPTIVE tenant's).</summary>
    private static JsonObject? WithSuggestions(JsonObject? problem, JsonArray? suggestions)
    {
        if (suggestions is null) return problem;
        var copy = problem?.DeepClone().AsObject() ?? new JsonObject();
        copy["suggestions"] = suggestions.DeepClone();
        return copy;
    }

    /// <summary>The reason code a stored result carries.</summary>
    internal static ReasonCode ReasonCodeOf(byte[] storedBody)
    {
        using var doc = JsonDocument.Parse(storedBody);
        var name = doc.RootElement.GetProperty("reason_code").GetString()!;
        return Platform.EngineModules.Reasons.TryGet(name, out var code) ? code : throw new InvalidOperationException($"stored result carries unregistered reason code {name}");
    }

    private static ExecutionResult Invalid(ExecutionRequest request, ReasonCode reason, string detail) =>
        new(ExecutionOutcome.Invalid, reason, detail, null, request.Correlation);
}
