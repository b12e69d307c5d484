using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>What claiming an idempotency key found.</summary>
public abstract record IdempotencyClaim
{
    private IdempotencyClaim() { }

    /// <summary>The key was free and is now held by this transaction.</summary>
    public sealed record Claimed : IdempotencyClaim;

    /// <summary>The key was already used: by this very request (same hash) or by another.</summary>
    public sealed record Existing(string RequestHash, int Status, string Body) : IdempotencyClaim;
}

/// <summary>Idempotency keys: (tenant, scope, key) → request hash and stored result (reference §13.1).</summary>
public static class IdempotencyStore
{
    /// <summary>
    /// Claims the key with INSERT … ON CONFLICT DO NOTHING (never check-then-insert). A concurrent holder makes
    /// this wait until it commits or rolls back; then the key is either free (claimed now) or carries a result.
    /// </summary>
    public static async Task<IdempotencyClaim> ClaimAsync(TenantTransaction tx, string scope, string key, string requestHash, long now, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        AddClaim(batch, tx, scope, key, requestHash, now);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        return await ReadClaimAsync(reader, ct);
    }

    /// <summary>
    /// Adds the claim to a batch (<see cref="ClaimAsync"/>, or a turn's first batch: <see cref="GovernanceQueries.TurnFactsAsync"/>):
    /// the insert, then a read of the key's row, which — each statement taking its own snapshot — sees the committed
    /// result when the insert found the key taken. Two result sets, read by <see cref="ReadClaimAsync"/>.
    /// </summary>
    internal static void AddClaim(NpgsqlBatch batch, TenantTransaction tx, string scope, string key, string requestHash, long now)
    {
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO selene.idempotency_keys (tenant_id, scope, idem_key, request_hash, created_at)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true
            """).Bind(tx.TenantId, scope, key, requestHash, now));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT request_hash, result_status, result_body FROM selene.idempotency_keys
            WHERE tenant_id = $1 AND scope = $2 AND idem_key = $3
            """).Bind(tx.TenantId, scope, key));
    }

    /// <summary>Reads what <see cref="AddClaim"/> added; the reader stands at its first result set and is left at its last.</summary>
    internal static async Task<IdempotencyClaim> ReadClaimAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        var claimed = await reader.ReadAsync(ct);
        await reader.NextResultAsync(ct);
        if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("idempotency row vanished after a conflict");
        return claimed ? new IdempotencyClaim.Claimed() : new IdempotencyClaim.Existing(reader.GetString(0), reader.GetInt32(1), reader.GetString(2));
    }

    /// <summary>
    /// Stores the result of the claimed key (from then on it is immutable), sent with the transaction's next batch
    /// (<see cref="TenantTransaction.Defer"/>); a key that was not claimed fails the transaction there.
    /// </summary>
    public static void Complete(TenantTransaction tx, string scope, string key, int status, string body, string reasonCode, long now)
    {
        var update = new NpgsqlBatchCommand("""
            UPDATE selene.idempotency_keys SET result_status = $4, result_body = $5, reason_code = $6, completed_at = $7
            WHERE tenant_id = $1 AND scope = $2 AND idem_key = $3
            """);
        update.Bind(tx.TenantId, scope, key, status, body, reasonCode, now);
        tx.Defer(update, "completing an idempotency key that was not claimed", expectedRows: 1);
    }

    /// <summary>The tenant's completed keys — (scope, key) to the stored result's status — for checks such as <c>selene chaos</c>'s.</summary>
    public static async Task<IReadOnlyDictionary<(string Scope, string Key), int>> CompletedAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var select = tx.Command("SELECT scope, idem_key, result_status FROM selene.idempotency_keys WHERE tenant_id = $1 AND result_body IS NOT NULL");
        select.Bind(tx.TenantId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        var completed = new Dictionary<(string, string), int>();
        while (await reader.ReadAsync(ct)) completed[(reader.GetString(0), reader.GetString(1))] = reader.IsDBNull(2) ? 0 : reader.GetInt32(2);
        return completed;
    }
}
