using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres.Stores;

/// <summary>The outbox (KC.13.2): handoffs written in the same transaction as the event that causes them.</summary>
public static class OutboxStore
{
    /// <summary>Enqueues messages; a message whose (tenant, idempotency key) exists already is not enqueued again.</summary>
    /// <returns>How many rows were new.</returns>
    public static async Task<int> EnqueueAsync(TenantTransaction tx, CorrelationId correlation, IReadOnlyList<OutboxMessage> messages, long now, CancellationToken ct)
    {
        if (messages.Count == 0) return 0;
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        foreach (var m in messages) batch.BatchCommands.Add(Insert(tx, correlation, m, now));
        return await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Enqueues messages with the transaction's next batch (<see cref="TenantTransaction.Defer"/>), as <see cref="EnqueueAsync"/> does.</summary>
    public static void Enqueue(TenantTransaction tx, CorrelationId correlation, IReadOnlyList<OutboxMessage> messages, long now)
    {
        foreach (var m in messages) tx.Defer(Insert(tx, correlation, m, now), "enqueueing a handoff");
    }

    private static NpgsqlBatchCommand Insert(TenantTransaction tx, CorrelationId correlation, OutboxMessage m, long now)
    {
        var cmd = new NpgsqlBatchCommand("""
            INSERT INTO selene.outbox (tenant_id, correlation_id, idempotency_key, operation_type, event_type, payload, next_attempt_at, created_at)
            VALUES ($1, $2::numeric, $3, $4, $5, $6, $7, $7)
            ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
            """);
        cmd.Bind(tx.TenantId, correlation.ToString(), m.IdempotencyKey, m.OperationType, m.EventType,
            CanonicalJson.SerializeToString(m.Payload), now);
        return cmd;
    }

    /// <summary>An outbox row as stored.</summary>
    public sealed record OutboxRow(long OutboxId, string IdempotencyKey, string OperationType, string EventType, string Payload, string Status, int AttemptCount);

    public static async Task<IReadOnlyList<OutboxRow>> ListAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT outbox_id, idempotency_key, operation_type, event_type, payload, status, attempt_count
            FROM selene.outbox WHERE tenant_id = $1 ORDER BY outbox_id
            """);
        cmd.Bind(tx.TenantId);
        var list = new List<OutboxRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new OutboxRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt32(6)));
        return list;
    }
}
