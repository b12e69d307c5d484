using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Postgres;

namespace Selene.Runtime;

/// <summary>
/// Who acts, for which tenant, in which correlation and turn, and when; and what the host composed beyond the database
/// (<see cref="Services"/>: e.g. the invite link key a LINK simulation derives secrets with; none when null).
/// </summary>
public sealed record ExecutionContext(
    TenantId Tenant,
    UserId Actor,
    CorrelationId Correlation,
    TurnId Turn,
    IdempotencyKey IdempotencyKey,
    UnixNanos Now,
    Platform.HandoffServices? Services = null)
{
    /// <summary>
    /// What the engine's decider saw and decided in this execution, as <see cref="Platform.DecisionRecord"/> writes it
    /// (recorded with the turn's decision, so <c>selene replay</c> can decide it again); null until a decider ran.
    /// </summary>
    public JsonObject? DecisionInput { get; set; }
}

/// <summary>A journal entry as a handler describes it; the executor adds correlation, turn, actor and key.</summary>
public sealed record JournalDraft(string Engine, string EventType, ReasonCode Reason, JournalPayload Payload);

/// <summary>
/// Work a caller of the executor must commit together with a dispatched simulation's effect, or not at all (the outbox
/// worker settles its row in the effect's transaction; a work order records the step it ran). Called only when the
/// gate dispatched and the engine accepted, just before the journal's batch, with the executor's transaction, the
/// execution's context and the engine's result: it defers what it can (<see cref="TenantTransaction.Defer"/>, so the
/// turn keeps its round trips) and returns its journal entries, which follow the simulation's own. A deferred write
/// that fails its row-count check fails the whole transaction.
/// </summary>
public delegate Task<IReadOnlyList<JournalDraft>> CommitHook(TenantTransaction tx, ExecutionContext context, System.Text.Json.Nodes.JsonObject result, CancellationToken ct);

/// <summary>
/// The lease a lease-gated execution runs under: the executor <paramref name="OwnerId"/> holds work order
/// <paramref name="WorkOrderId"/>'s lease with <paramref name="Token"/>. The turn gate's lease inputs come from it:
/// lease_required, and lease_valid as PH1.LEASE's stored truth says at the turn's time.
/// </summary>
public sealed record LeaseClaim(string WorkOrderId, string OwnerId, string Token);

/// <summary>What a simulation handler decided inside the executor's transaction.</summary>
public abstract record HandlerOutcome
{
    private HandlerOutcome() { }

    /// <summary>Effects were written; the executor journals, enqueues and stores the result, then commits.</summary>
    public sealed record Accepted(ReasonCode Reason, JsonObject Result, IReadOnlyList<JournalDraft> Journal, IReadOnlyList<OutboxMessage> Outbox)
        : HandlerOutcome;

    /// <summary>Refused: the executor rolls back everything and journals the refusal on its own.</summary>
    public sealed record Rejected(ReasonCode Reason, string Detail, JournalDraft Journal) : HandlerOutcome;
}

/// <summary>
/// One registered simulation: its catalog record, how to read and validate its inputs (pure, before any
/// storage), and how to run its decider against storage inside the executor's transaction.
/// </summary>
public interface ISimulationHandler
{
    SimulationRecord Record { get; }

    /// <summary>Reads and validates the body (tenant_id already checked and removed). No I/O.</summary>
    bool TryPrepare(JsonElement body, out object? input, out JsonInputError? error);

    /// <summary>Loads state, decides, and writes ledger and projection inside <paramref name="tx"/>.</summary>
    Task<HandlerOutcome> ExecuteAsync(TenantTransaction tx, object input, ExecutionContext context, CancellationToken ct);

    /// <summary>
    /// For a record with a <see cref="SimulationRecord.RequiredCapability"/>: the scope the actor's APPROVED capability
    /// request must name, from the prepared input (pure). Null for every other simulation, and for an input of a record
    /// required by the tenant's policy (<see cref="SimulationRecord.CapabilityByTenantPolicy"/>) that the policy does not govern.
    /// </summary>
    string? CapabilityScopeOf(object input);

    /// <summary>
    /// The stream <see cref="ExecuteAsync"/> locks and loads first, from the prepared input and the context (pure), so that the
    /// turn's first round trip takes that lock and loads the row (<see cref="Selene.Postgres.Stores.EngineStore.LockAndLoadAsync"/> then answers
    /// from it: docs/performance.md, issue 14). Null: not known before the handler runs.
    /// </summary>
    (Selene.Postgres.Stores.EngineStore Store, string StreamId)? FirstStream(object input, ExecutionContext context) => null;
}

/// <summary>The simulations this process can execute, by id.</summary>
public sealed class SimulationRegistry
{
    private readonly Dictionary<string, ISimulationHandler> _handlers;

    public SimulationRegistry(IEnumerable<ISimulationHandler> handlers)
    {
        Handlers = handlers.ToArray();
        _handlers = Handlers.ToDictionary(h => h.Record.SimulationId, StringComparer.Ordinal);
    }

    /// <summary>The handlers in registration order.</summary>
    public IReadOnlyList<ISimulationHandler> Handlers { get; }

    /// <summary>Every simulation of every engine module, in module order (<see cref="Platform.EngineModules.All"/>).</summary>
    public static SimulationRegistry Default { get; } = new(Platform.EngineModules.All.SelectMany(m => m.Simulations));

    public bool TryGet(string simulationId, out ISimulationHandler handler) => _handlers.TryGetValue(simulationId, out handler!);
}
