namespace Selene.Postgres.Stores;

/// <summary>A ledger row that carries an idempotency key: its table, the key, the time of the execution that wrote it, its event id.</summary>
public sealed record LedgerEffect(string Table, string IdempotencyKey, long CreatedAt, long EventId);

/// <summary>
/// Every ledger row of a tenant that carries an idempotency key, across every ledger of the schema (each table named
/// <c>*_ledger</c> with <c>idempotency_key</c>, <c>created_at</c> and <c>event_id</c>: the engine stores and the older ledgers
/// shaped like them). Read by <c>selene chaos</c> to see which executions a key caused.
/// </summary>
public static class LedgerEffects
{
    public static async Task<IReadOnlyList<LedgerEffect>> ListAsync(TenantTransaction tx, CancellationToken ct)
    {
        var tables = new List<string>();
        await using (var catalog = tx.Command("""
            SELECT c.table_name::text FROM information_schema.columns c
            WHERE c.table_schema = 'selene' AND c.column_name = 'idempotency_key' AND c.table_name LIKE '%\_ledger'
              AND EXISTS (SELECT 1 FROM information_schema.columns d WHERE d.table_schema = 'selene' AND d.table_name = c.table_name AND d.column_name = 'created_at')
              AND EXISTS (SELECT 1 FROM information_schema.columns d WHERE d.table_schema = 'selene' AND d.table_name = c.table_name AND d.column_name = 'event_id')
            ORDER BY 1
            """))
        await using (var reader = await catalog.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) tables.Add(reader.GetString(0));
        var rows = new List<LedgerEffect>();
        if (tables.Count == 0) return rows;
        // The names come from the catalog (lower_snake identifiers), quoted all the same.
        await using var select = tx.Command(string.Join(" UNION ALL ", tables.Select(t =>
            $"SELECT '{t}', idempotency_key, created_at, event_id FROM selene.\"{t}\" WHERE tenant_id = $1 AND idempotency_key IS NOT NULL")));
        select.Bind(tx.TenantId);
        await using (var reader = await select.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) rows.Add(new LedgerEffect(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
        return rows;
    }
}
