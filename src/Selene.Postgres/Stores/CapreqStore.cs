using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>A <c>capreq_ledger</c> row (the engine's event, in storage vocabulary).</summary>
public sealed record CapreqLedgerRow(
    long EventId,
    string TenantId,
    string CapreqId,
    string ActorUserId,
    string Action,
    string Status,
    string ReasonCode,
    string PayloadHash,
    string? RequestedCapabilityId,
    string? TargetScopeRef,
    string? Justification,
    string? Reference,
    string CorrelationId,
    string? IdempotencyKey,
    long CreatedAt);

/// <summary>A <c>capreq_current</c> row.</summary>
public sealed record CapreqCurrentRow(
    string TenantId,
    string CapreqId,
    string RequesterUserId,
    string RequestedCapabilityId,
    string TargetScopeRef,
    string Justification,
    string Status,
    string LastAction,
    string LastActorUserId,
    string PayloadHash,
    long SourceEventId,
    string LastReasonCode,
    long CreatedAt,
    long UpdatedAt);

/// <summary>PH1.CAPREQ storage: ledger append, projection upsert, reads, and the rebuild's raw material.</summary>
public static class CapreqStore
{
    private const string CurrentColumns = """
        tenant_id, capreq_id, requester_user_id, requested_capability_id, target_scope_ref, justification, status,
        last_action, last_actor_user_id, payload_hash, source_event_id, last_reason_code, created_at, updated_at
        """;

    /// <summary>
    /// Serializes all work on one capreq id (including its creation, when no row exists yet to lock) with a
    /// transaction-scoped advisory lock, then loads the current row.
    /// </summary>
    public static async Task<CapreqCurrentRow?> LockAndLoadAsync(TenantTransaction tx, string capreqId, CancellationToken ct)
    {
        // Two statements in one round trip: the SELECT must take its snapshot after the lock is granted.
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        var lockCmd = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtextextended('capreq:' || $1 || ':' || $2, 0))");
        lockCmd.Parameters.Add(new() { Value = tx.TenantId });
        lockCmd.Parameters.Add(new() { Value = capreqId });
        var load = new NpgsqlBatchCommand($"SELECT {CurrentColumns} FROM selene.capreq_current WHERE tenant_id = $1 AND capreq_id = $2");
        load.Parameters.Add(new() { Value = tx.TenantId });
        load.Parameters.Add(new() { Value = capreqId });
        batch.BatchCommands.Add(lockCmd);
        batch.BatchCommands.Add(load);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return ReadCurrent(reader);
    }

    /// <summary>Appends one event and returns its ledger id.</summary>
    public static async Task<long> AppendAsync(TenantTransaction tx, CapreqLedgerRow row, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            INSERT INTO selene.capreq_ledger (tenant_id, capreq_id, actor_user_id, action, status, reason_code, payload_hash,
                requested_capability_id, target_scope_ref, justification, reference, correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::numeric, $13, $14)
            RETURNING capreq_event_id
            """);
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = row.CapreqId });
        cmd.Parameters.Add(new() { Value = row.ActorUserId });
        cmd.Parameters.Add(new() { Value = row.Action });
        cmd.Parameters.Add(new() { Value = row.Status });
        cmd.Parameters.Add(new() { Value = row.ReasonCode });
        cmd.Parameters.Add(new() { Value = row.PayloadHash });
        cmd.Parameters.Add(new() { Value = (object?)row.RequestedCapabilityId ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)row.TargetScopeRef ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)row.Justification ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)row.Reference ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = row.CorrelationId });
        cmd.Parameters.Add(new() { Value = (object?)row.IdempotencyKey ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = row.CreatedAt });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Writes the projection row (insert on creation, update afterwards).</summary>
    public static async Task UpsertAsync(TenantTransaction tx, CapreqCurrentRow row, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            INSERT INTO selene.capreq_current ({CurrentColumns})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            ON CONFLICT (tenant_id, capreq_id) DO UPDATE SET
                status = EXCLUDED.status, last_action = EXCLUDED.last_action, last_actor_user_id = EXCLUDED.last_actor_user_id,
                payload_hash = EXCLUDED.payload_hash, source_event_id = EXCLUDED.source_event_id,
                last_reason_code = EXCLUDED.last_reason_code, updated_at = EXCLUDED.updated_at
            """);
        AddCurrentParameters(cmd, row);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<CapreqCurrentRow?> GetAsync(TenantTransaction tx, string capreqId, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {CurrentColumns} FROM selene.capreq_current WHERE tenant_id = $1 AND capreq_id = $2");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = capreqId });
        var rows = await ReadCurrentAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Lists the tenant's requests, optionally of one status, in capreq id order after <paramref name="after"/>.</summary>
    public static async Task<IReadOnlyList<CapreqCurrentRow>> ListAsync(TenantTransaction tx, string? status, string? after, int limit, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            SELECT {CurrentColumns} FROM selene.capreq_current
            WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR capreq_id > $3)
            ORDER BY capreq_id LIMIT $4
            """);
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit });
        return await ReadCurrentAsync(cmd, ct);
    }

    /// <summary>The tenant's whole ledger in event id order (the rebuild's input).</summary>
    public static async Task<IReadOnlyList<CapreqLedgerRow>> LedgerAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT capreq_event_id, tenant_id, capreq_id, actor_user_id, action, status, reason_code, payload_hash,
                   requested_capability_id, target_scope_ref, justification, reference, correlation_id::text, idempotency_key, created_at
            FROM selene.capreq_ledger WHERE tenant_id = $1 ORDER BY capreq_event_id
            """);
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        var list = new List<CapreqLedgerRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new CapreqLedgerRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7), NullableString(reader, 8),
                NullableString(reader, 9), NullableString(reader, 10), NullableString(reader, 11), reader.GetString(12),
                NullableString(reader, 13), reader.GetInt64(14)));
        }
        return list;
    }

    /// <summary>All projection rows of the tenant in capreq id order.</summary>
    public static async Task<IReadOnlyList<CapreqCurrentRow>> AllCurrentAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {CurrentColumns} FROM selene.capreq_current WHERE tenant_id = $1 ORDER BY capreq_id");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        return await ReadCurrentAsync(cmd, ct);
    }

    /// <summary>Replaces the tenant's projection with <paramref name="rows"/> (owner role: the rebuild).</summary>
    public static async Task ReplaceAllAsync(TenantTransaction tx, IReadOnlyList<CapreqCurrentRow> rows, CancellationToken ct)
    {
        await using (var delete = tx.Command("DELETE FROM selene.capreq_current WHERE tenant_id = $1"))
        {
            delete.Parameters.Add(new() { Value = tx.TenantId });
            await delete.ExecuteNonQueryAsync(ct);
        }
        foreach (var row in rows) await UpsertAsync(tx, row, ct);
    }

    private static void AddCurrentParameters(NpgsqlCommand cmd, CapreqCurrentRow row)
    {
        cmd.Parameters.Add(new() { Value = row.TenantId });
        cmd.Parameters.Add(new() { Value = row.CapreqId });
        cmd.Parameters.Add(new() { Value = row.RequesterUserId });
        cmd.Parameters.Add(new() { Value = row.RequestedCapabilityId });
        cmd.Parameters.Add(new() { Value = row.TargetScopeRef });
        cmd.Parameters.Add(new() { Value = row.Justification });
        cmd.Parameters.Add(new() { Value = row.Status });
        cmd.Parameters.Add(new() { Value = row.LastAction });
        cmd.Parameters.Add(new() { Value = row.LastActorUserId });
        cmd.Parameters.Add(new() { Value = row.PayloadHash });
        cmd.Parameters.Add(new() { Value = row.SourceEventId });
        cmd.Parameters.Add(new() { Value = row.LastReasonCode });
        cmd.Parameters.Add(new() { Value = row.CreatedAt });
        cmd.Parameters.Add(new() { Value = row.UpdatedAt });
    }

    private static async Task<IReadOnlyList<CapreqCurrentRow>> ReadCurrentAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<CapreqCurrentRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(ReadCurrent(reader));
        return list;
    }

    private static CapreqCurrentRow ReadCurrent(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8),
        reader.GetString(9), reader.GetInt64(10), reader.GetString(11), reader.GetInt64(12), reader.GetInt64(13));

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
