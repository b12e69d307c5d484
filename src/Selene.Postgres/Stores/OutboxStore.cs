using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres.Stores;

/// <summary>Who caused a handoff: the acting user and the turn of the transaction that enqueued it (migration 0017).</summary>
public sealed record OutboxOrigin(string ActorUserId, TurnId Turn);

/// <summary>The statuses of an outbox row (KC.13.2); the wire names are the column's values.</summary>
public static class OutboxStatus
{
    /// <summary>Waiting for its first attempt (or re-driven by an operator).</summary>
    public const string Pending = "PENDING";
    /// <summary>Claimed by a worker under a lease: in flight. A SENT row whose lease expired is claimable again.</summary>
    public const string Sent = "SENT";
    /// <summary>The handoff's effect committed, in the same transaction as this status.</summary>
    public const string Confirmed = "CONFIRMED";
    /// <summary>An attempt failed; the next one is due at next_attempt_at.</summary>
    public const string Failed = "FAILED";
    /// <summary>Given up: PH1.SCHED said FAIL or WAIT, or the row cannot run at all; only an operator re-drives it.</summary>
    public const string DeadLetter = "DEAD_LETTER";

    /// <summary>Every status, in the order of a row's life.</summary>
    public static IReadOnlyList<string> All { get; } = [Pending, Sent, Confirmed, Failed, DeadLetter];
}

/// <summary>An outbox row as stored. Times are unix nanoseconds; the lease fields are set while a worker holds the row.</summary>
public sealed record OutboxRow(
    string TenantId,
    long OutboxId,
    string CorrelationId,
    string IdempotencyKey,
    string OperationType,
    string EventType,
    string Payload,
    string Status,
    int AttemptCount,
    long NextAttemptAt,
    string? LastErrorReasonCode,
    string? LeaseOwner,
    Guid? LeaseToken,
    long? LeaseExpiresAt,
    long CreatedAt,
    string? ActorUserId,
    long? OriginTurnId,
    long? CompletedAt);

/// <summary>
/// Where a worker's attempt leaves a row it holds: its new status, attempt count, next due time and last error
/// (completed_at is set for CONFIRMED). The lease is always released.
/// </summary>
public sealed record OutboxSettlement(string Status, int AttemptCount, long NextAttemptAt, string? LastErrorReasonCode, long? CompletedAt);

/// <summary>
/// The outbox (KC.13.2): handoffs written in the same transaction as the event that causes them, claimed by the
/// workers across tenants (<c>selene.claim_outbox</c>, migration 0017), and settled by the worker that holds the lease.
/// </summary>
public static class OutboxStore
{
    /// <summary>Enqueues messages; a message whose (tenant, idempotency key) exists already is not enqueued again.</summary>
    /// <returns>How many rows were new.</returns>
    public static async Task<int> EnqueueAsync(TenantTransaction tx, CorrelationId correlation, IReadOnlyList<OutboxMessage> messages, long now, CancellationToken ct,
        OutboxOrigin? origin = null)
    {
        if (messages.Count == 0) return 0;
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        foreach (var m in messages) batch.BatchCommands.Add(Insert(tx, correlation, m, now, origin));
        return await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Enqueues messages with the transaction's next batch (<see cref="TenantTransaction.Defer"/>), as <see cref="EnqueueAsync"/> does.</summary>
    public static void Enqueue(TenantTransaction tx, CorrelationId correlation, IReadOnlyList<OutboxMessage> messages, long now, OutboxOrigin? origin = null)
    {
        foreach (var m in messages) tx.Defer(Insert(tx, correlation, m, now, origin), "enqueueing a handoff");
    }

    private static NpgsqlBatchCommand Insert(TenantTransaction tx, CorrelationId correlation, OutboxMessage m, long now, OutboxOrigin? origin)
    {
        var cmd = new NpgsqlBatchCommand("""
            INSERT INTO selene.outbox (tenant_id, correlation_id, idempotency_key, operation_type, event_type, payload, next_attempt_at, created_at,
                actor_user_id, origin_turn_id)
            VALUES ($1, $2::numeric, $3, $4, $5, $6, $10, $7, $8, $9)
            ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
            """);
        cmd.Bind(tx.TenantId, correlation.ToString(), m.IdempotencyKey, m.OperationType, m.EventType,
            CanonicalJson.SerializeToString(m.Payload), now, origin?.ActorUserId, origin is null ? null : checked((long)origin.Turn.Value),
            Math.Max(now, m.NotBefore ?? now));
        return cmd;
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> claimable rows of <paramref name="eventTypes"/> in every tenant, oldest due
    /// first (<c>selene.claim_outbox</c>: FOR UPDATE SKIP LOCKED, status SENT, lease owner, token and expiry). One
    /// statement in a transaction of its own on the runtime's pool; the claim is committed when this returns.
    /// </summary>
    public static async Task<IReadOnlyList<(string TenantId, long OutboxId)>> ClaimAsync(NpgsqlDataSource app, IReadOnlyList<string> eventTypes, string owner,
        Guid token, long now, long leaseExpiresAt, int limit, CancellationToken ct)
    {
        if (eventTypes.Count == 0) return [];
        await using var cmd = app.CreateCommand("SELECT tenant_id, outbox_id FROM selene.claim_outbox($1, $2, $3, $4, $5, $6)")
            .Bind(eventTypes.ToArray(), owner, token, now, leaseExpiresAt, limit);
        var claimed = new List<(string, long)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) claimed.Add((reader.GetString(0), reader.GetInt64(1)));
        return claimed;
    }

    private const string Columns = """
        SELECT tenant_id, outbox_id, correlation_id::text, idempotency_key, operation_type, event_type, payload, status, attempt_count, next_attempt_at,
               last_error_reason_code, lease_owner, lease_token, lease_expires_at, created_at, actor_user_id, origin_turn_id, completed_at
        FROM selene.outbox
        """;

    /// <summary>One row of the tenant, or null; <paramref name="forUpdate"/> locks it until the transaction ends.</summary>
    public static async Task<OutboxRow?> GetAsync(TenantTransaction tx, long outboxId, CancellationToken ct, bool forUpdate = false)
    {
        await using var cmd = tx.Command(Columns + " WHERE tenant_id = $1 AND outbox_id = $2" + (forUpdate ? " FOR UPDATE" : "")).Bind(tx.TenantId, outboxId);
        var rows = await ReadAllAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>The tenant's row of <paramref name="eventType"/> enqueued under <paramref name="idempotencyKey"/>, or null.</summary>
    public static async Task<OutboxRow?> FindAsync(TenantTransaction tx, string eventType, string idempotencyKey, CancellationToken ct)
    {
        await using var cmd = tx.Command(Columns + " WHERE tenant_id = $1 AND event_type = $2 AND idempotency_key = $3 ORDER BY outbox_id LIMIT 1")
            .Bind(tx.TenantId, eventType, idempotencyKey);
        var rows = await ReadAllAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>The tenant's rows, optionally of one status, in id order after <paramref name="afterId"/> (keyset paging).</summary>
    public static async Task<IReadOnlyList<OutboxRow>> ListAsync(TenantTransaction tx, CancellationToken ct, string? status = null, long afterId = 0, int limit = 1000)
    {
        await using var cmd = tx.Command(Columns + """
             WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND outbox_id > $3
            ORDER BY outbox_id LIMIT $4
            """).Bind(tx.TenantId, status, afterId, limit);
        return await ReadAllAsync(cmd, ct);
    }

    /// <summary>
    /// Settles a row this worker holds (status SENT under <paramref name="leaseToken"/>) and releases the lease. The
    /// command touches one row, or none when the lease was lost (expired and claimed by another worker).
    /// </summary>
    private static NpgsqlBatchCommand Settle(string tenantId, long outboxId, Guid leaseToken, OutboxSettlement s) =>
        new NpgsqlBatchCommand("""
            UPDATE selene.outbox
            SET status = $4, attempt_count = $5, next_attempt_at = $6, last_error_reason_code = $7, completed_at = $8,
                lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE tenant_id = $1 AND outbox_id = $2 AND status = 'SENT' AND lease_token = $3
            """).Bind(tenantId, outboxId, leaseToken, s.Status, s.AttemptCount, s.NextAttemptAt, s.LastErrorReasonCode, s.CompletedAt);

    /// <summary>
    /// <see cref="Settle"/> with the transaction's next batch (the journal's): the transaction fails there when the
    /// lease was lost, so an effect never commits under a lease another worker holds.
    /// </summary>
    public static void DeferSettle(TenantTransaction tx, long outboxId, Guid leaseToken, OutboxSettlement settlement) =>
        tx.Defer(Settle(tx.TenantId, outboxId, leaseToken, settlement), $"settling outbox row {outboxId}: its lease was lost", expectedRows: 1);

    /// <summary>Puts a DEAD_LETTER row back to PENDING, due at <paramref name="now"/>, keeping its attempt count; false when it is not DEAD_LETTER.</summary>
    public static async Task<bool> RedriveAsync(TenantTransaction tx, long outboxId, long now, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            UPDATE selene.outbox SET status = 'PENDING', next_attempt_at = $3, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE tenant_id = $1 AND outbox_id = $2 AND status = 'DEAD_LETTER'
            """).Bind(tx.TenantId, outboxId, now);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static async Task<IReadOnlyList<OutboxRow>> ReadAllAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<OutboxRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new OutboxRow(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7),
                r.GetInt32(8), r.GetInt64(9), r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetString(11),
                r.IsDBNull(12) ? null : r.GetGuid(12), r.IsDBNull(13) ? null : r.GetInt64(13), r.GetInt64(14), r.IsDBNull(15) ? null : r.GetString(15),
                r.IsDBNull(16) ? null : r.GetInt64(16), r.IsDBNull(17) ? null : r.GetInt64(17)));
        }
        return list;
    }
}
