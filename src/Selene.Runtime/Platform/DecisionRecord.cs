using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Selene.Runtime.Platform;

/// <summary>What an engine decided again from its recorded inputs: its reason and <see cref="DecisionRecord.OutcomeHash"/>.</summary>
public sealed record ReplayedDecision(string ReasonCode, string OutcomeHash);

/// <summary>A simulation whose decider can be run again over what was recorded when it executed (<see cref="DecisionRecord"/>).</summary>
public interface IReplayableSimulation
{
    /// <summary>Decides the recorded execution again (pure: no storage, no clock). Throws when the record cannot be read as this simulation's.</summary>
    ReplayedDecision Replay(JsonObject recorded);
}

/// <summary>
/// The record of one engine decision, written at execution time with the turn's decision (<c>os_turn_decisions.engine_input</c>)
/// so that <c>selene replay</c> can run the pure decider again (issue 15): the command (with its concrete type), the
/// target's state as its projection stores it, the facts the engine read (with their type), the context the decider saw
/// (tenant, actor, correlation, turn, key, time) and the outcome — its reason and the SHA-256 of the reason and every
/// event as the ledger stores it. Version <see cref="SchemaVersion"/>; docs/journal.md states the N/N−1 rule.
/// </summary>
public static class DecisionRecord
{
    /// <summary>The version written; a reader accepts it and the one before.</summary>
    public const int SchemaVersion = 1;

    public static JsonObject Write<TCommand, TFacts>(string simulationId, string target, TCommand command, string? stateDoc, TFacts facts,
        ExecutionContext context, (string Reason, string Hash) outcome) where TCommand : class => new()
    {
        ["schema_version"] = SchemaVersion,
        ["simulation_id"] = simulationId,
        ["target"] = target,
        ["command_type"] = command.GetType().FullName,
        ["command"] = JsonSerializer.SerializeToNode(command, command.GetType(), EngineJson.Options),
        ["state"] = stateDoc is null ? null : JsonNode.Parse(stateDoc),
        ["facts_type"] = facts?.GetType().FullName,
        ["facts"] = facts is null ? null : JsonSerializer.SerializeToNode(facts, facts.GetType(), EngineJson.Options),
        ["context"] = new JsonObject
        {
            ["tenant_id"] = context.Tenant.Value,
            ["actor_user_id"] = context.Actor.Value,
            ["correlation_id"] = context.Correlation.ToString(),
            ["turn_id"] = context.Turn.Value,
            ["idempotency_key"] = context.IdempotencyKey.Value,
            ["now"] = context.Now.Value,
        },
        ["reason_code"] = outcome.Reason,
        ["outcome_hash"] = outcome.Hash,
    };

    /// <summary>SHA-256 of the reason and, for an acceptance, each event's ledger type and payload in order (null events: a refusal).</summary>
    public static string OutcomeHash(string reason, IEnumerable<(string Type, string Payload)>? events)
    {
        var text = new StringBuilder(reason).Append('\n').Append(events is null ? "REFUSED" : "ACCEPTED").Append('\n');
        foreach (var (type, payload) in events ?? []) text.Append(type).Append('\n').Append(payload).Append('\n');
        return Hashing.Sha256Hex(text.ToString());
    }

    /// <summary>Reads a recorded command or facts member as the type it was written with (which must be a <paramref name="declared"/>).</summary>
    public static object? Read(JsonObject recorded, string member, Type declared)
    {
        if (recorded[member] is not { } node) return null;
        var name = (string?)recorded[member + "_type"] ?? throw new InvalidDataException($"the record names no type for its {member}");
        var type = declared.Assembly.GetType(name) ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(name)).FirstOrDefault(t => t is not null);
        if (type is null || !type.IsAssignableTo(declared))
            throw new InvalidDataException($"the recorded {member} type {name} is not a {declared.Name} of this version");
        return node.Deserialize(type, EngineJson.Options);
    }

    /// <summary>The context the decider saw (no host services: deciders are pure).</summary>
    public static ExecutionContext ContextOf(JsonObject recorded)
    {
        var c = recorded["context"]!.AsObject();
        if (!CorrelationId.TryParse((string?)c["correlation_id"], out var correlation)) throw new InvalidDataException("the record's correlation id is not one");
        return new ExecutionContext(new TenantId((string)c["tenant_id"]!), new UserId((string)c["actor_user_id"]!), correlation,
            new TurnId((ulong)c["turn_id"]!), new IdempotencyKey((string)c["idempotency_key"]!), new UnixNanos((long)c["now"]!));
    }

    /// <summary>The stored text of a record (canonical JSON).</summary>
    public static string ToText(JsonObject recorded) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(recorded.ToJsonString())));

    /// <summary>The recorded schema version, when this version reads it (itself and the one before).</summary>
    public static bool IsReadable(JsonObject recorded) =>
        recorded["schema_version"] is JsonValue v && v.TryGetValue<int>(out var version) && version is >= SchemaVersion - 1 and <= SchemaVersion && version >= 1;
}
