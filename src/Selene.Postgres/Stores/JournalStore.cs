using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres.Stores;

/// <summary>The PH1.J journal: per-tenant hash chain, appended inside the caller's transaction.</summary>
public static class JournalStore
{
    /// <summary>
    /// Appends entries to the tenant's chain. Locks the chain head (serializing appends within the tenant until
    /// commit), computes each hash in order, inserts, and moves the head. Returns the stored records. Every entry is
    /// stored with its <see cref="JournalEntry.RecordedPayload"/>, so each refusal, whoever wrote it, names its
    /// failure or policy code.
    /// </summary>
    /// <param name="beforeWrite">
    /// Called with the records once their seqs and hashes are known, before they are sent: writes that need them
    /// (the stored result names its journal seqs) can be deferred into the same round trip.
    /// </param>
    public static async Task<IReadOnlyList<JournalRecord>> AppendAsync(TenantTransaction tx, IReadOnlyList<JournalEntry> entries, long now, CancellationToken ct,
        Action<IReadOnlyList<JournalRecord>>? beforeWrite = null)
    {
        if (entries.Count == 0) return [];
        var (lastSeq, lastHash) = await LockHeadAsync(tx, ct);

        var records = new List<JournalRecord>(entries.Count);
        // The first entry binds the ledger rows the transaction wrote since its last append.
        var (ledgerRefs, ledgerHash) = tx.TakeLedgerBinding();
        foreach (var e in entries)
        {
            var seq = lastSeq + 1;
            var payloadJson = JournalChain.CanonicalPayloadJson(e.RecordedPayload);
            var partial = new JournalRecord(tx.TenantId, seq, e.CorrelationId.ToString(), checked((long)e.TurnId.Value), e.Engine, e.EventType,
                e.Reason.Name, e.Reason.Id, payloadJson, e.ActorUserId, e.IdempotencyKey, now, lastHash, "", ledgerRefs, ledgerHash);
            (ledgerRefs, ledgerHash) = (null, null);
            var record = partial with { Hash = JournalChain.ComputeHash(partial) };
            records.Add(record);
            lastSeq = seq;
            lastHash = record.Hash;
        }

        beforeWrite?.Invoke(records);
        // The transaction's deferred writes ride along: one round trip for them and the entries.
        var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        var commits = tx.CommitsWithJournal;
        var deferred = tx.TakeDeferred(batch, checkInBatch: commits);
        foreach (var r in records)
        {
            var cmd = new NpgsqlBatchCommand("""
                INSERT INTO selene.journal (tenant_id, seq, correlation_id, turn_id, engine, event_type, reason_code, reason_code_id,
                    payload, actor_user_id, idempotency_key, created_at, prev_hash, hash, ledger_refs, ledger_hash)
                VALUES ($1, $2, $3::numeric, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                """);
            cmd.Bind(r.TenantId, r.Seq, r.CorrelationId, r.TurnId, r.Engine, r.EventType, r.ReasonCode, r.ReasonCodeId,
                r.PayloadJson, r.ActorUserId, r.IdempotencyKey, r.CreatedAt, r.PrevHash, r.Hash, r.LedgerRefs, r.LedgerHash);
            batch.BatchCommands.Add(cmd);
        }
        var move = new NpgsqlBatchCommand("UPDATE selene.journal_heads SET last_seq = $2, last_hash = $3 WHERE tenant_id = $1");
        move.Bind(tx.TenantId, lastSeq, lastHash);
        batch.BatchCommands.Add(move);
        // Last, when asked for: the commit (the deferred writes' row counts were checked in the batch, before it).
        if (commits) tx.TakeCommit(batch);
        await using (batch)
        {
            try
            {
                await batch.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException failure) when (tx.DeferredCheckFailure(failure) is { } checkFailed)
            {
                throw checkFailed;
            }
        }
        TenantTransaction.CheckDeferred(deferred);
        if (commits) tx.CommitSent();
        return records;
    }

    /// <summary>
    /// Locks the tenant's chain head and reads it. A row lock, not a write: the head row gets one new version per
    /// append (the move), not two. A tenant's first append finds no head and creates it; a concurrent first append
    /// waits on the insert's conflict and then takes the row lock the same way.
    /// </summary>
    private static async Task<(long LastSeq, string LastHash)> LockHeadAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using (var locked = tx.Command("SELECT last_seq, last_hash FROM selene.journal_heads WHERE tenant_id = $1 FOR UPDATE"))
        {
            locked.Bind(tx.TenantId);
            await using var reader = await locked.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct)) return (reader.GetInt64(0), reader.GetString(1));
        }
        await using var created = tx.Command("""
            INSERT INTO selene.journal_heads (tenant_id, last_seq, last_hash) VALUES ($1, 0, $2)
            ON CONFLICT (tenant_id) DO UPDATE SET last_seq = selene.journal_heads.last_seq
            RETURNING last_seq, last_hash
            """);
        // The no-op DO UPDATE takes the row lock when a concurrent first append created the head first.
        created.Bind(tx.TenantId, JournalChain.GenesisHash);
        await using var head = await created.ExecuteReaderAsync(ct);
        await head.ReadAsync(ct);
        return (head.GetInt64(0), head.GetString(1));
    }

    private const string SelectColumns = """
        SELECT tenant_id, seq, correlation_id::text, turn_id, engine, event_type, reason_code, reason_code_id, payload,
               actor_user_id, idempotency_key, created_at, prev_hash, hash, ledger_refs, ledger_hash
        FROM selene.journal
        """;

    public static async Task<IReadOnlyList<JournalRecord>> ByCorrelationAsync(TenantTransaction tx, CorrelationId correlation, int limit, CancellationToken ct)
    {
        await using var cmd = tx.Command(SelectColumns + " WHERE tenant_id = $1 AND correlation_id = $2::numeric ORDER BY seq LIMIT $3");
        cmd.Bind(tx.TenantId, correlation.ToString(), limit);
        return await ReadAllAsync(cmd, ct);
    }

    /// <summary>Streams the tenant's whole chain in seq order, in pages (audit verify).</summary>
    public static async IAsyncEnumerable<JournalRecord> ChainAsync(TenantTransaction tx, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        long after = 0;
        while (true)
        {
            var page = await PageAsync(tx, after, 1000, ct);
            foreach (var r in page) yield return r;
            if (page.Count < 1000) yield break;
            after = page[^1].Seq;
        }
    }

    /// <summary>Up to <paramref name="limit"/> entries of the tenant's chain after seq <paramref name="after"/>, in seq order.</summary>
    public static async Task<IReadOnlyList<JournalRecord>> PageAsync(TenantTransaction tx, long after, int limit, CancellationToken ct)
    {
        await using var cmd = tx.Command(SelectColumns + " WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        cmd.Bind(tx.TenantId, after, limit);
        return await ReadAllAsync(cmd, ct);
    }

    /// <summary>The chain head the tenant's journal records (last seq and hash); seq 0 and the genesis hash before any entry.</summary>
    public static async Task<(long LastSeq, string LastHash)> HeadAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT last_seq, last_hash FROM selene.journal_heads WHERE tenant_id = $1");
        cmd.Bind(tx.TenantId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetString(1)) : (0L, JournalChain.GenesisHash);
    }

    private static async Task<IReadOnlyList<JournalRecord>> ReadAllAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<JournalRecord>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new JournalRecord(
                reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetInt64(7), reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10),
                reader.GetInt64(11), reader.GetString(12), reader.GetString(13),
                reader.IsDBNull(14) ? null : reader.GetString(14), reader.IsDBNull(15) ? null : reader.GetString(15)));
        }
        return list;
    }
}
