using System.Text.Json.Nodes;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Tests.Outbox;

/// <summary>
/// TEST.RELAY, a real engine on the platform that lives only in this test assembly (docs/adding-an-engine.md): a
/// submitted item is handed off through the outbox (RELAY_ITEM_SUBMITTED) and consumed by its own simulation, which
/// refuses with the retryable RELAY_NOT_YET while the tenant's gate is closed. Its store pairs are created by the test
/// in its own database (<see cref="CreateStoresSql"/>), so no migration of the product carries them.
/// </summary>
public static class RelayModule
{
    public const string EngineId = "TEST.RELAY";
    public const string HandoffEvent = "RELAY_ITEM_SUBMITTED";
    public const string CreateStoresSql = "SELECT selene.create_engine_store('relay_gate'); SELECT selene.create_engine_store('relay_item');";

    public static readonly ReasonCode GateSet = new("RELAY_OK_GATE_SET", 99001, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode Submitted = new("RELAY_OK_SUBMITTED", 99002, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode Consumed = new("RELAY_OK_CONSUMED", 99003, EngineId, Severity.Info, ReasonKind.Success, false);
    // "Not yet": the gate is closed now and may open later, so a retry may succeed.
    public static readonly ReasonCode NotYet = new("RELAY_NOT_YET", 99101, EngineId, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode ItemExists = new("RELAY_ITEM_EXISTS", 99102, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode ItemNotFound = new("RELAY_ITEM_NOT_FOUND", 99103, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode AlreadyConsumed = new("RELAY_ALREADY_CONSUMED", 99104, EngineId, Severity.Warn, ReasonKind.Conflict, false);

    /// <summary>The retry policy of the handoff: three attempts ten seconds apart within an hour.</summary>
    public static HandoffPolicy Policy { get; } = new(3, TimeSpan.FromSeconds(10), TimeSpan.FromHours(1));

    public abstract record RelayEvent;
    public sealed record GateWasSet(bool Open) : RelayEvent;
    public sealed record ItemEvent(string ItemId, string Action, string ActorUserId) : RelayEvent;
    public sealed record GateState(bool Open);
    public sealed record ItemState(string ItemId, string Status, string SubmittedBy, string? ConsumedBy);

    internal sealed record GateInput(bool Open);
    /// <param name="DelayMs">Submit only: the handoff may run no earlier than this long after the submit (<see cref="OutboxMessage.NotBefore"/>).</param>
    internal sealed record ItemInput(string ItemId, long? DelayMs = null);

    public static Aggregate<GateState, GateWasSet, RelayEvent> Gates { get; } = new(EngineId, "relay_gate", "gate_id", "gate",
        streamOf: _ => "gate", eventTypeOf: _ => "SET", evolve: (_, e, _) => new GateState(e.Open), statusOf: s => s.Open ? "OPEN" : "CLOSED",
        view: s => new JsonObject { ["open"] = s.Open });

    public static Aggregate<ItemState, ItemEvent, RelayEvent> Items { get; } = new(EngineId, "relay_item", "item_id", "item",
        streamOf: e => e.ItemId, eventTypeOf: e => e.Action,
        evolve: (s, e, _) => e.Action == "SUBMITTED" ? new ItemState(e.ItemId, "SUBMITTED", e.ActorUserId, null) : s! with { Status = "CONSUMED", ConsumedBy = e.ActorUserId },
        statusOf: s => s.Status, view: s => new JsonObject { ["item_id"] = s.ItemId, ["status"] = s.Status, ["consumed_by"] = s.ConsumedBy });

    private static SimulationRecord Record(string id, string action, bool handoffOnly = false) =>
        new(id, EngineId, SimulationType.Commit, SimulationStatus.Active, action, AccessMode.W, "simulation_id + idempotency_key", [GateSet, Submitted, Consumed, NotYet],
            HandoffOnly: handoffOnly);

    private static JsonInputError? ValidItem(ItemInput i) =>
        IdRules.IsValidName(i.ItemId) ? null : new JsonInputError(ReasonCodes.InputFieldInvalid, "item_id is 1..64 characters of [A-Za-z0-9_.-]");

    public static EngineModule Module { get; } = new("relay", EngineId,
        [
            new EngineSimulation<GateInput, GateInput, GateState, RelayEvent, bool>(Record("RELAY_GATE_SET_COMMIT", "RELAY_MANAGE"), Gates,
                toCommand: i => i, validate: _ => null, targetOf: (_, _) => "gate",
                decide: (_, c, _, _) => new Decision<RelayEvent>.Accepted(new GateWasSet(c.Open), GateSet)),
            new EngineSimulation<ItemInput, ItemInput, ItemState, RelayEvent, bool>(Record("RELAY_SUBMIT_COMMIT", "RELAY_SUBMIT"), Items,
                toCommand: i => i, validate: ValidItem, targetOf: (c, _) => c.ItemId,
                decide: (s, c, _, ctx) => s is not null
                    ? new Decision<RelayEvent>.Rejected(ItemExists, $"item {c.ItemId} exists")
                    : new Decision<RelayEvent>.Accepted([new ItemEvent(c.ItemId, "SUBMITTED", ctx.Actor.Value)], Submitted,
                        [new OutboxMessage("SIMULATION_COMMIT", "relay:" + c.ItemId, HandoffEvent, new Dictionary<string, string> { ["item_id"] = c.ItemId },
                            c.DelayMs is { } ms ? ctx.Now.Value + ms * 1_000_000 : null)])),
            new EngineSimulation<ItemInput, ItemInput, ItemState, RelayEvent, GateState?>(Record("RELAY_CONSUME_COMMIT", "RELAY_CONSUME", handoffOnly: true), Items,
                toCommand: i => i, validate: ValidItem, targetOf: (c, _) => c.ItemId,
                readFacts: (tx, _, _, _, ct) => Gates.GetAsync(tx, "gate", ct),
                decide: (s, c, gate, ctx) =>
                    s is null ? new Decision<RelayEvent>.Rejected(ItemNotFound, $"no item {c.ItemId}")
                    : s.Status == "CONSUMED" ? new Decision<RelayEvent>.Rejected(AlreadyConsumed, $"item {c.ItemId} was consumed")
                    : gate is not { Open: true } ? new Decision<RelayEvent>.Rejected(NotYet, "the gate is closed")
                    : new Decision<RelayEvent>.Accepted(new ItemEvent(c.ItemId, "CONSUMED", ctx.Actor.Value), Consumed)),
        ],
        [Gates, Items],
        [GateSet, Submitted, Consumed, NotYet, ItemExists, ItemNotFound, AlreadyConsumed],
        [],
        Handoffs: [new HandoffRoute(HandoffEvent, "RELAY_CONSUME_COMMIT", payload => new JsonObject { ["item_id"] = payload["item_id"]!.GetValue<string>() }, Policy)]);
}
