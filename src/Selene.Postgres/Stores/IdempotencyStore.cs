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
        await using (var insert = tx.Command("""
            INSERT INTO selene.idempotency_keys (tenant_id, scope, idem_key, request_hash, created_at)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
            """))
        {
            insert.Bind(tx.TenantId, scope, key, requestHash, now);
            if (await insert.ExecuteNonQueryAsync(ct) == 1) return new IdempotencyClaim.Claimed();
        }

        await using var select = tx.Command("""
            SELECT request_hash, result_status, result_body FROM selene.idempotency_keys
            WHERE tenant_id = $1 AND scope = $2 AND idem_key = $3
            """);
        select.Bind(tx.TenantId, scope, key);
        await using var reader = await select.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("idempotency row vanished after a conflict");
        return new IdempotencyClaim.Existing(reader.GetString(0), reader.GetInt32(1), reader.GetString(2));
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
