using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Outbox;

/// <summary>The answer to a re-drive: OUTBOX_REDRIVEN with the row as it is now, or the reason it was refused (nothing changed).</summary>
public sealed record OutboxRedrive(ReasonCode Reason, string Detail, OutboxRow? Row)
{
    public bool Succeeded => Reason == ReasonCodes.OutboxRedriven;
}

/// <summary>
/// What operators see and do with handoffs (<c>selene outbox list | retry</c>, <c>GET /v1/outbox</c>): list a tenant's
/// rows by status, and re-drive a DEAD_LETTER row once — back to PENDING, due now, its attempt count kept, journaled.
/// </summary>
public sealed class OutboxOperations(SeleneDatabase db, TimeProvider clock)
{
    /// <summary>The most rows one listing answers.</summary>
    public const int ListLimit = 1000;

    /// <summary>The rows of one tenant (or of every tenant), optionally of one status, in id order.</summary>
    public async Task<IReadOnlyList<OutboxRow>> ListAsync(TenantId? tenant, string? status, CancellationToken ct = default)
    {
        var tenants = tenant is { } t ? [t.Value] : await KeyStore.TenantsAsync(db, ct);
        var rows = new List<OutboxRow>();
        foreach (var id in tenants)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, id, ct);
            rows.AddRange(await OutboxStore.ListAsync(tx, ct, status, limit: ListLimit));
        }
        return rows;
    }

    /// <summary>Re-drives a DEAD_LETTER row of the tenant: OUTBOX_ROW_NOT_FOUND or OUTBOX_REDRIVE_STATE_INVALID otherwise.</summary>
    public async Task<OutboxRedrive> RedriveAsync(TenantId tenant, long outboxId, CancellationToken ct = default)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        var row = await OutboxStore.GetAsync(tx, outboxId, ct, forUpdate: true);
        if (row is null)
            return new OutboxRedrive(ReasonCodes.OutboxRowNotFound, $"no outbox row {outboxId.ToString(CultureInfo.InvariantCulture)} in tenant {tenant.Value}", null);
        if (row.Status != OutboxStatus.DeadLetter)
            return new OutboxRedrive(ReasonCodes.OutboxRedriveStateInvalid, $"outbox row {outboxId.ToString(CultureInfo.InvariantCulture)} is {row.Status}: only DEAD_LETTER rows are re-driven", row);
        if (!await OutboxStore.RedriveAsync(tx, outboxId, now.Value, ct))
            throw new InvalidOperationException($"outbox row {outboxId} changed under its row lock");
        await JournalStore.AppendAsync(tx, [new JournalEntry(OutboxWorker.HandoffCorrelation(row), OutboxWorker.HandoffTurn(row), ReasonCodes.EngineWork, JournalEventTypes.OutboxRedriven, ReasonCodes.OutboxRedriven,
            JournalPayload.Create(
                ("outbox_id", outboxId.ToString(CultureInfo.InvariantCulture)),
                ("event_type", row.EventType),
                ("attempt_count", row.AttemptCount.ToString(CultureInfo.InvariantCulture)),
                ("last_error_reason_code", row.LastErrorReasonCode ?? "NONE")), null, OutboxWorker.HandoffKey(row.TenantId, row.IdempotencyKey))], now.Value, ct);
        var after = await OutboxStore.GetAsync(tx, outboxId, ct);
        await tx.CommitAsync(ct);
        return new OutboxRedrive(ReasonCodes.OutboxRedriven, $"outbox row {outboxId.ToString(CultureInfo.InvariantCulture)} is PENDING again, due now", after);
    }

    /// <summary>The public JSON view of a row (the lease token is not shown: it fences workers, nobody else needs it).</summary>
    public static JsonObject ToJson(OutboxRow r) => new()
    {
        ["tenant_id"] = r.TenantId,
        ["outbox_id"] = r.OutboxId,
        ["correlation_id"] = r.CorrelationId,
        ["idempotency_key"] = r.IdempotencyKey,
        ["operation_type"] = r.OperationType,
        ["event_type"] = r.EventType,
        ["payload"] = JsonNode.Parse(r.Payload),
        ["status"] = r.Status,
        ["attempt_count"] = r.AttemptCount,
        ["next_attempt_at"] = new UnixNanos(r.NextAttemptAt).ToString(),
        ["last_error_reason_code"] = r.LastErrorReasonCode,
        ["last_error_class"] = LastErrorClass(r),
        ["lease_owner"] = r.LeaseOwner,
        ["lease_expires_at"] = r.LeaseExpiresAt is { } expires ? new UnixNanos(expires).ToString() : null,
        ["actor_user_id"] = r.ActorUserId,
        ["origin_turn_id"] = r.OriginTurnId,
        ["created_at"] = new UnixNanos(r.CreatedAt).ToString(),
        ["completed_at"] = r.CompletedAt is { } done ? new UnixNanos(done).ToString() : null,
    };

    /// <summary>
    /// FAILURE or POLICY (<see cref="RefusalClassification"/>) for the row's last error, as its journal entry records it;
    /// null with no error or one the registry does not know.
    /// </summary>
    public static string? LastErrorClass(OutboxRow r) =>
        r.LastErrorReasonCode is { } name && EngineModules.Reasons.TryGet(name, out var code) && RefusalClassification.Of(code) is { } refusal
            ? WireNames.Of(refusal) : null;

    /// <summary>GET /v1/outbox?state=S&amp;after=ID&amp;limit=N: the caller's tenant's handoffs, in id order (at most 1000).</summary>
    public static ReadRoute Route { get; } = new("ListOutbox", "/outbox",
        "The tenant's outbox handoffs in id order; optional state=PENDING|SENT|CONFIRMED|FAILED|DEAD_LETTER, after (an outbox id), limit (1..1000).",
        NotFound: false, ListRouteAsync, QueryParameters: ["state", "after", "limit"]);

    private static async Task<ReadResult> ListRouteAsync(ReadRequest request, CancellationToken ct)
    {
        var query = request.QueryValues;
        var state = query.GetValueOrDefault("state");
        if (state is not null && !OutboxStatus.All.Contains(state, StringComparer.Ordinal))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "state must be PENDING, SENT, CONFIRMED, FAILED or DEAD_LETTER");
        long after = 0;
        if (query.TryGetValue("after", out var afterText) && (!long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "after must be an outbox id");
        var limit = ListLimit;
        if (query.TryGetValue("limit", out var text) && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > ListLimit))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "limit must be 1..1000");

        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await OutboxStore.ListAsync(tx, ct, state, after, limit);
        var body = new JsonObject { ["outbox"] = new JsonArray(rows.Select(r => (JsonNode)ToJson(r)).ToArray()) };
        if (rows.Count == limit) body["next_after"] = rows[^1].OutboxId;
        return new ReadResult.Ok(body);
    }
}
