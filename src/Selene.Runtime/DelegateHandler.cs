using System.Text.Json;
using Selene.Postgres;

namespace Selene.Runtime;

/// <summary>
/// A simulation handler built from two functions: turning the strict-JSON input into a command (pure, may refuse
/// with a reason code) and running the command inside the executor's transaction. Its record may not require a
/// capability (the CAPREQ gate needs the scope from the input, which only an <c>EngineSimulation</c> declares).
/// </summary>
public sealed class DelegateHandler<TInput, TCommand>(
    SimulationRecord record,
    Func<TInput, (TCommand? Command, JsonInputError? Error)> prepare,
    Func<TenantTransaction, TCommand, ExecutionContext, CancellationToken, Task<HandlerOutcome>> execute) : ISimulationHandler
    where TInput : class
    where TCommand : class
{
    public SimulationRecord Record { get; } = record.RequiredCapability is null ? record
        : throw new ArgumentException($"{record.SimulationId}: a delegate handler cannot require a capability", nameof(record));

    public bool TryPrepare(JsonElement body, out object? input, out JsonInputError? error)
    {
        input = null;
        if (!StrictJson.TryRead<TInput>(body, out var parsed, out error)) return false;
        var (command, problem) = prepare(parsed!);
        if (problem is not null || command is null)
        {
            error = problem ?? new JsonInputError(ReasonCodes.InputSchemaInvalid, "the input could not be read");
            return false;
        }
        input = command;
        return true;
    }

    /// <summary>A delegate handler never requires a capability.</summary>
    public string? CapabilityScopeOf(object input) => null;

    public Task<HandlerOutcome> ExecuteAsync(TenantTransaction tx, object input, ExecutionContext context, CancellationToken ct) =>
        execute(tx, (TCommand)input, context, ct);
}
