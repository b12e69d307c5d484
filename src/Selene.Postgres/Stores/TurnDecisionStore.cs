using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres.Stores;

/// <summary>
/// A decided turn as stored: the exact gate input (canonical JSON) and what the gate decided on it; and, when an engine's
/// decider ran, what it saw and decided (<paramref name="EngineInput"/>, canonical JSON: the runtime's decision record).
/// </summary>
public sealed record TurnDecisionRow(
    long DecisionId,
    string CorrelationId,
    long TurnId,
    string ActorUserId,
    string InputJson,
    string InputHash,
    string NextMove,
    string ReasonCode,
    bool FailClosed,
    string? SimulationId,
    string? IdempotencyKey,
    long CreatedAt,
    string? EngineInput = null);

/// <summary>PH1.OS turn decisions (migration 0008): append-only, read back for replay.</summary>
public static class TurnDecisionStore
{
    /// <summary>Records one decided turn inside the caller's transaction; returns its decision id.</summary>
    public static async Task<long> AppendAsync(TenantTransaction tx, TurnDecisionRow row, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction) { BatchCommands = { Insert(tx, row, returning: true) } };
        return (long)(await batch.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Records one decided turn with the transaction's next batch (<see cref="TenantTransaction.Defer"/>): the hot path.</summary>
    public static void Append(TenantTransaction tx, TurnDecisionRow row) => tx.Defer(Insert(tx, row, returning: false), "recording a turn decision");

    private static NpgsqlBatchCommand Insert(TenantTransaction tx, TurnDecisionRow row, bool returning)
    {
        var cmd = new NpgsqlBatchCommand("""
            INSERT INTO selene.os_turn_decisions (tenant_id, correlation_id, turn_id, actor_user_id, input_json, input_hash, next_move,
                reason_code, fail_closed, simulation_id, idempotency_key, created_at, engine_input)
            VALUES ($1, $2::numeric, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """ + (returning ? " RETURNING decision_id" : ""));
        cmd.Bind(tx.TenantId, row.CorrelationId, row.TurnId, row.ActorUserId, row.InputJson, row.InputHash, row.NextMove, row.ReasonCode,
            row.FailClosed, row.SimulationId, row.IdempotencyKey, row.CreatedAt, row.EngineInput);
        return cmd;
    }

    /// <summary>The decided turns of one correlation, oldest first (at most <paramref name="limit"/>).</summary>
    public static async Task<IReadOnlyList<TurnDecisionRow>> ByCorrelationAsync(TenantTransaction tx, CorrelationId correlation, int limit, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT decision_id, correlation_id::text, turn_id, actor_user_id, input_json, input_hash, next_move, reason_code, fail_closed,
                   simulation_id, idempotency_key, created_at, engine_input
            FROM selene.os_turn_decisions WHERE tenant_id = $1 AND correlation_id = $2::numeric
            ORDER BY decision_id LIMIT $3
            """);
        cmd.Bind(tx.TenantId, correlation.ToString(), limit);
        var rows = new List<TurnDecisionRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new TurnDecisionRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetBoolean(8), reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.IsDBNull(10) ? null : reader.GetString(10), reader.GetInt64(11), reader.IsDBNull(12) ? null : reader.GetString(12)));
        }
        return rows;
    }
}
