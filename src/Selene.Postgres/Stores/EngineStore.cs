using System.Text.RegularExpressions;
using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres.Stores;

/// <summary>
/// One engine store pair, <c>&lt;Name&gt;_ledger</c> and <c>&lt;Name&gt;_current</c>, as created by the SQL helper
/// <c>selene.create_engine_store(name)</c> in a migration. The name is lower_snake, so it is safe to splice.
/// </summary>
public sealed partial record StorePair
{
    public StorePair(string name)
    {
        if (!NamePattern().IsMatch(name)) throw new ArgumentException($"store name '{name}' must be lower_snake (1..40 chars)", nameof(name));
        Name = name;
    }

    public string Name { get; }

    public string Ledger => $"selene.{Name}_ledger";

    public string Current => $"selene.{Name}_current";

    [GeneratedRegex("^[a-z][a-z0-9_]{0,39}$")]
    private static partial Regex NamePattern();
}

/// <summary>An event to append: the envelope plus the engine's event as a JSON object (<paramref name="Payload"/>).</summary>
public sealed record NewLedgerEvent(
    string StreamId,
    string EventType,
    string ActorUserId,
    string ReasonCode,
    string Payload,
    string CorrelationId,
    string? IdempotencyKey,
    long CreatedAt);

/// <summary>A stored ledger event (the rebuild's input).</summary>
public sealed record LedgerEvent(long EventId, string StreamId, string EventType, string ActorUserId, string ReasonCode, string Payload, long CreatedAt);

/// <summary>
/// A projection row: the stream's status (indexed) and its state as a JSON object. <paramref name="Doc"/> read back
/// from the database is jsonb's normal form, so compare documents as JSON, not as text.
/// </summary>
public sealed record ProjectionRow(string StreamId, string Status, string Doc, long SourceEventId, long UpdatedAt);

/// <summary>
/// The one store every engine uses for its pairs: lock-and-load by stream id, append, upsert, get, list by status
/// with keyset paging, and the raw reads and replacement the rebuild needs. All work runs in a tenant transaction,
/// so row-level security scopes it; the one advisory-lock key scheme (<see cref="TenantTransaction.EntityLock"/>: <c>store:tenant:stream</c>) serializes the work
/// on one stream, its creation included. Rows are read and written under the transaction's tenant, or, for the
/// <see cref="Global"/> view of a pair created with GLOBAL rows (<c>selene.create_engine_store(name, true)</c>),
/// under the reserved key <see cref="GlobalTenantKey"/>: every tenant reads those, only a platform operator writes
/// them (the pair's row-level security), and their lock is one for all tenants.
/// </summary>
public sealed class EngineStore(StorePair pair)
{
    /// <summary>The columns of a projection row, in the order <see cref="ReadRow"/> reads them.</summary>
    internal const string CurrentColumns = "stream_id, status, doc::text, source_event_id, updated_at";

    public StorePair Pair { get; } = pair;

    /// <summary>The reserved tenant key of GLOBAL rows (<c>selene.global_tenant_key()</c>); no tenant id can take it.</summary>
    public const string GlobalTenantKey = "@global";

    /// <summary>The same pair's GLOBAL rows (under <see cref="GlobalTenantKey"/>), whichever tenant's transaction reads or writes them.</summary>
    public EngineStore Global => _global ??= new EngineStore(Pair) { TenantKey = GlobalTenantKey };

    private EngineStore? _global;

    /// <summary>Null: the transaction's tenant; otherwise the tenant key every row of this view is under.</summary>
    private string? TenantKey { get; init; }

    /// <summary>Whether the session's tenant is a platform operator: the tenants that may write GLOBAL rows.</summary>
    public static async Task<bool> SessionIsPlatformOperatorAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT selene.session_tenant_is_platform_operator()");
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private string KeyOf(TenantTransaction tx) => TenantKey ?? tx.TenantId;

    /// <summary>
    /// Takes the stream's transaction-scoped advisory lock, then loads its projection row (null when the stream
    /// does not exist yet). One round trip; the SELECT takes its snapshot after the lock is granted.
    /// </summary>
    /// <remarks>
    /// When an earlier batch of the transaction took the lock and loaded the row already (<see cref="AddLockAndLoad"/>, a turn's
    /// first round trip), that row is answered without a round trip, once: nobody else can have written the stream since,
    /// because writers hold its lock, and the transaction itself writes a stream only after it loaded it.
    /// </remarks>
    public async Task<ProjectionRow?> LockAndLoadAsync(TenantTransaction tx, string streamId, CancellationToken ct)
    {
        if (tx.TryTakeLoaded(LockKey(tx, streamId), out var loaded)) return loaded;
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        AddLockAndLoad(batch, tx, streamId);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        return await ReadLockAndLoadAsync(reader, ct);
    }

    /// <summary>Adds the stream's lock and the load of its row to a batch (two result sets, read by <see cref="ReadLockAndLoadAsync"/>).</summary>
    internal void AddLockAndLoad(NpgsqlBatch batch, TenantTransaction tx, string streamId)
    {
        batch.BatchCommands.Add(TenantTransaction.EntityLock(Pair.Name, KeyOf(tx), streamId));
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand($"SELECT {CurrentColumns} FROM {Pair.Current} WHERE tenant_id = $1 AND stream_id = $2"),
            KeyOf(tx), streamId));
    }

    /// <summary>Reads what <see cref="AddLockAndLoad"/> added; the reader stands at its first result set and is left at its last.</summary>
    internal static async Task<ProjectionRow?> ReadLockAndLoadAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        await reader.NextResultAsync(ct);
        return await reader.ReadAsync(ct) ? ReadRow(reader) : null;
    }

    /// <summary>
    /// Locks and loads the stream in a batch the caller sends (<see cref="GovernanceQueries.TurnFactsAsync"/>); the row is kept
    /// on the transaction for the stream's next <see cref="LockAndLoadAsync"/>.
    /// </summary>
    internal async Task ReadLockAndLoadIntoAsync(NpgsqlDataReader reader, TenantTransaction tx, string streamId, CancellationToken ct) =>
        tx.Loaded(LockKey(tx, streamId), await ReadLockAndLoadAsync(reader, ct));

    private string LockKey(TenantTransaction tx, string streamId) => Pair.Name + ":" + KeyOf(tx) + ":" + streamId;

    /// <summary>
    /// Appends one event and returns its ledger id. The row as stored (its payload in jsonb's text form) is hashed for the
    /// transaction's next journal append, which binds it into the chain (<see cref="LedgerBinding"/>).
    /// </summary>
    public async Task<long> AppendAsync(TenantTransaction tx, NewLedgerEvent e, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"""
            INSERT INTO {Pair.Ledger} (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::numeric, $8, $9)
            RETURNING event_id, payload::text, correlation_id::text
            """), KeyOf(tx), e.StreamId, e.EventType, e.ActorUserId, e.ReasonCode, e.Payload, e.CorrelationId, e.IdempotencyKey, e.CreatedAt);
        long eventId;
        string payload, correlation;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (eventId, payload, correlation) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
        }
        tx.LedgerWritten(Pair.Name, eventId, LedgerBinding.RowHash(new LedgerRowImage(Pair.Name, eventId, KeyOf(tx), e.StreamId, e.EventType,
            e.ActorUserId, e.ReasonCode, payload, correlation, e.IdempotencyKey, e.CreatedAt)));
        return eventId;
    }

    /// <summary>
    /// The rows of this pair with the given event ids that the transaction can see (its tenant's, and GLOBAL rows), as
    /// <see cref="LedgerBinding"/> hashes them: what a journal entry's binding is checked against.
    /// </summary>
    public async Task<IReadOnlyList<LedgerRowImage>> RowImagesAsync(TenantTransaction tx, IReadOnlyList<long> eventIds, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"""
            SELECT event_id, tenant_id, stream_id, event_type, actor_user_id, reason_code, payload::text, correlation_id::text, idempotency_key, created_at
            FROM {Pair.Ledger} WHERE event_id = ANY($1) ORDER BY event_id
            """), eventIds.ToArray());
        var list = new List<LedgerRowImage>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new LedgerRowImage(Pair.Name, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetInt64(9)));
        return list;
    }

    /// <summary>Per ledger (by pair name), the last event id written before ledger rows were bound into the journal (migration 0025); absent for pairs created since.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> BindingFloorsAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT store, last_unbound_event_id FROM selene.ledger_binding_floor");
        var floors = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) floors[reader.GetString(0)] = reader.GetInt64(1);
        return floors;
    }

    /// <summary>The event ids of the tenant's own rows of this pair above <paramref name="after"/>, in order (the audit's coverage check).</summary>
    public async Task<IReadOnlyList<long>> EventIdsAsync(TenantTransaction tx, long after, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"SELECT event_id FROM {Pair.Ledger} WHERE tenant_id = $1 AND event_id > $2 ORDER BY event_id"),
            KeyOf(tx), after);
        var list = new List<long>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(reader.GetInt64(0));
        return list;
    }

    /// <summary>Writes the stream's projection row (insert on creation, update afterwards).</summary>
    public async Task UpsertAsync(TenantTransaction tx, ProjectionRow row, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction) { BatchCommands = { Upsert(tx, row) } };
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Writes the stream's projection row with the transaction's next batch (<see cref="TenantTransaction.Defer"/>):
    /// the pipeline's last write to a stream it holds the lock of, read by nothing before commit.
    /// </summary>
    public void DeferUpsert(TenantTransaction tx, ProjectionRow row) => tx.Defer(Upsert(tx, row), $"writing {Pair.Current}", expectedRows: 1);

    private NpgsqlBatchCommand Upsert(TenantTransaction tx, ProjectionRow row) => SqlBinding.Bind(new NpgsqlBatchCommand($"""
        INSERT INTO {Pair.Current} (tenant_id, stream_id, status, doc, source_event_id, updated_at)
        VALUES ($1, $2, $3, $4::jsonb, $5, $6)
        ON CONFLICT (tenant_id, stream_id) DO UPDATE SET
            status = EXCLUDED.status, doc = EXCLUDED.doc, source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at
        """), KeyOf(tx), row.StreamId, row.Status, row.Doc, row.SourceEventId, row.UpdatedAt);

    /// <summary>One stream's projection row without a lock (reads), or null.</summary>
    public async Task<ProjectionRow?> GetAsync(TenantTransaction tx, string streamId, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"SELECT {CurrentColumns} FROM {Pair.Current} WHERE tenant_id = $1 AND stream_id = $2"),
            KeyOf(tx), streamId);
        var rows = await ReadRowsAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>
    /// The tenant's rows, optionally of one status and only streams whose id starts with <paramref name="prefix"/> (the
    /// rows of one parent, e.g. a broadcast's recipients), in stream id order after <paramref name="after"/> (keyset paging).
    /// </summary>
    public async Task<IReadOnlyList<ProjectionRow>> ListAsync(TenantTransaction tx, string? status, string? after, int limit, CancellationToken ct,
        string? prefix = null)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"""
            SELECT {CurrentColumns} FROM {Pair.Current}
            WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR stream_id > $3)
              AND ($5::text IS NULL OR starts_with(stream_id, $5))
            ORDER BY stream_id LIMIT $4
            """), KeyOf(tx), status, after, limit, prefix);
        return await ReadRowsAsync(cmd, ct);
    }

    /// <summary>
    /// Holds writers off the pair for the rest of the transaction: SHARE while a rebuild compares, EXCLUSIVE while
    /// it replaces (a transition committing in between would otherwise be overwritten by older state).
    /// </summary>
    public async Task LockForRebuildAsync(TenantTransaction tx, bool exclusive, CancellationToken ct)
    {
        await using var cmd = tx.Command($"LOCK TABLE {Pair.Ledger}, {Pair.Current} IN {(exclusive ? "EXCLUSIVE" : "SHARE")} MODE");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The tenant's whole ledger in event id order; with <paramref name="streamId"/>, that one stream's events only.</summary>
    public async Task<IReadOnlyList<LedgerEvent>> LedgerAsync(TenantTransaction tx, CancellationToken ct, string? streamId = null)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"""
            SELECT event_id, stream_id, event_type, actor_user_id, reason_code, payload::text, created_at
            FROM {Pair.Ledger} WHERE tenant_id = $1 AND ($2::text IS NULL OR stream_id = $2) ORDER BY event_id
            """), KeyOf(tx), streamId);
        var list = new List<LedgerEvent>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new LedgerEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetInt64(6)));
        return list;
    }

    /// <summary>All projection rows of the tenant in stream id order.</summary>
    public async Task<IReadOnlyList<ProjectionRow>> AllCurrentAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"SELECT {CurrentColumns} FROM {Pair.Current} WHERE tenant_id = $1 ORDER BY stream_id"), KeyOf(tx));
        return await ReadRowsAsync(cmd, ct);
    }

    /// <summary>Replaces the tenant's projection with <paramref name="rows"/> (owner role: the rebuild).</summary>
    public async Task ReplaceAllAsync(TenantTransaction tx, IReadOnlyList<ProjectionRow> rows, CancellationToken ct)
    {
        await using (var delete = SqlBinding.Bind(tx.Command($"DELETE FROM {Pair.Current} WHERE tenant_id = $1"), KeyOf(tx)))
            await delete.ExecuteNonQueryAsync(ct);
        foreach (var row in rows) await UpsertAsync(tx, row, ct);
    }

    private static async Task<IReadOnlyList<ProjectionRow>> ReadRowsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<ProjectionRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(ReadRow(reader));
        return list;
    }

    /// <summary>One projection row of <see cref="CurrentColumns"/> from the reader's current row.</summary>
    internal static ProjectionRow ReadRow(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4));
}
