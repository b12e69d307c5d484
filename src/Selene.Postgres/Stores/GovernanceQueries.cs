using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>
/// What the governance gate reads for one turn: the tenant's and the platform's control rows, the governance rows of
/// the requested definitions, today's execution counts, and the actor's APPROVED capability request when one is required.
/// </summary>
/// <param name="Definitions">Rows of <c>gov_definition_current</c> among the streams asked for (tenant and GLOBAL ones).</param>
/// <param name="ApprovedCapreqId">The oldest matching APPROVED request; null when none or none was asked for.</param>
public sealed record GovernanceRows(ProjectionRow? TenantControl, ProjectionRow? GlobalControl, IReadOnlyList<ProjectionRow> Definitions,
    long TenantUsed, long UserUsed, string? ApprovedCapreqId);

/// <summary>
/// The reads and the counter of PH1.GOV beyond <see cref="EngineStore"/>, over the pairs <c>gov_control</c> and
/// <c>gov_definition</c> and the table <c>gov_quota_usage</c> (migration 0016): the gate's facts in one round trip, and
/// the day's execution count written with the execution's journal batch.
/// </summary>
public static class GovernanceQueries
{
    /// <summary>The user id of a tenant's own row in <c>gov_quota_usage</c> (no user id can take it).</summary>
    public const string TenantTotal = "*";

    private const string Columns = EngineStore.CurrentColumns;

    /// <summary>
    /// A turn's first round trip: the transaction's prelude (<see cref="TenantTransaction.OpenAsync"/>: the tenant and the
    /// API key's check), the idempotency key's claim when <paramref name="claim"/> is given (<see cref="IdempotencyStore.AddClaim"/>),
    /// and the gate facts: the access gate's (<see cref="AccessGovernanceQueries.GateFactsAsync"/>) and everything the
    /// governance gate reads — the control rows (stream TENANT of the tenant, GLOBAL of the platform), the rows of
    /// <paramref name="definitionStreams"/>, the tenant's and <paramref name="userId"/>'s executions on <paramref name="day"/>,
    /// and, when <paramref name="capability"/> is given, the oldest APPROVED capability request of <paramref name="userId"/>
    /// for exactly that capability and <paramref name="scope"/> — so neither the claim nor governance costs a turn a round
    /// trip of its own. The facts are read after the claim (each statement takes its own snapshot), as if read in a later round trip.
    /// With <paramref name="priorsFor"/> (a simulation id), the same batch reads the learning loop's mode and priors for the
    /// user and that simulation (<see cref="LearningStore.AddTurnPriors"/>: nothing in SHADOW).
    /// Last, when <paramref name="stream"/> is given, the stream the execution will work on is locked and loaded for it
    /// (<see cref="EngineStore.LockAndLoadAsync"/> answers from that): after the claim, as it would be.
    /// </summary>
    public static async Task<(IdempotencyClaim? Claim, GateFacts Access, GovernanceRows Governance, TurnPriors Priors)> TurnFactsAsync(TenantTransaction tx,
        (string Scope, string Key, string RequestHash)? claim, string userId, string? caseId, long now, DateOnly day, IReadOnlyList<string> definitionStreams,
        string? capability, string? scope, CancellationToken ct, (EngineStore Store, string StreamId)? stream = null, string? priorsFor = null,
        int priorsPerKind = 0)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        var prelude = tx.TakePrelude(batch);
        if (claim is { } c) IdempotencyStore.AddClaim(batch, tx, c.Scope, c.Key, c.RequestHash, now);
        AccessGovernanceQueries.AddGateFacts(batch, tx, userId, caseId, now);
        AddFacts(batch, tx, userId, day, definitionStreams, capability, scope);
        if (priorsFor is not null) LearningStore.AddTurnPriors(batch, tx, userId, priorsFor, priorsPerKind);
        if (stream is { } s) s.Store.AddLockAndLoad(batch, tx, s.StreamId);
        await using var r = await batch.ExecuteReaderAsync(ct);
        await tx.ReadPreludeAsync(r, prelude, ct);
        IdempotencyClaim? claimed = null;
        if (claim is not null)
        {
            claimed = await IdempotencyStore.ReadClaimAsync(r, ct);
            await r.NextResultAsync(ct);
        }
        var access = await AccessGovernanceQueries.ReadGateFactsAsync(r, ct);
        await r.NextResultAsync(ct);
        var governance = await ReadFactsAsync(r, capability is not null, ct);
        var priors = priorsFor is not null && await r.NextResultAsync(ct) ? await LearningStore.ReadTurnPriorsAsync(r, ct) : TurnPriors.None;
        if (stream is { } loaded)
        {
            await r.NextResultAsync(ct);
            await loaded.Store.ReadLockAndLoadIntoAsync(r, tx, loaded.StreamId, ct);
        }
        return (claimed, access, governance, priors);
    }

    private static void AddFacts(NpgsqlBatch batch, TenantTransaction tx, string userId, DateOnly day, IReadOnlyList<string> definitionStreams,
        string? capability, string? scope)
    {
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand($"""
            SELECT {Columns} FROM selene.gov_control_current
            WHERE (tenant_id = $1 AND stream_id = 'TENANT') OR (tenant_id = selene.global_tenant_key() AND stream_id = 'GLOBAL')
            """), tx.TenantId));
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand($"""
            SELECT {Columns} FROM selene.gov_definition_current
            WHERE tenant_id IN ($1, selene.global_tenant_key()) AND stream_id = ANY($2) ORDER BY stream_id
            """), tx.TenantId, definitionStreams.ToArray()));
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand(
            "SELECT user_id, executions FROM selene.gov_quota_usage WHERE tenant_id = $1 AND day = $2 AND user_id IN ($3, $4)"),
            tx.TenantId, day, userId, TenantTotal));
        if (capability is not null)
            batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand("""
                SELECT stream_id FROM selene.capreq_current
                WHERE tenant_id = $1 AND status = 'APPROVED' AND doc->>'requested_capability_id' = $2 AND doc->>'target_scope_ref' = $3
                  AND doc->>'requester_user_id' = $4
                ORDER BY source_event_id LIMIT 1
                """), tx.TenantId, capability, scope, userId));
    }

    /// <summary>Reads what <see cref="AddFacts"/> asked for; the reader stands at the first of its result sets.</summary>
    private static async Task<GovernanceRows> ReadFactsAsync(NpgsqlDataReader r, bool capability, CancellationToken ct)
    {
        ProjectionRow? tenantControl = null, globalControl = null;
        while (await r.ReadAsync(ct))
        {
            var row = EngineStore.ReadRow(r);
            if (row.StreamId == "TENANT") tenantControl = row; else globalControl = row;
        }
        await r.NextResultAsync(ct);
        var definitions = new List<ProjectionRow>();
        while (await r.ReadAsync(ct)) definitions.Add(EngineStore.ReadRow(r));
        await r.NextResultAsync(ct);
        long tenantUsed = 0, userUsed = 0;
        while (await r.ReadAsync(ct))
        {
            if (r.GetString(0) == TenantTotal) tenantUsed = r.GetInt64(1); else userUsed = r.GetInt64(1);
        }
        string? capreqId = null;
        if (capability && await r.NextResultAsync(ct) && await r.ReadAsync(ct)) capreqId = r.GetString(0);
        return new GovernanceRows(tenantControl, globalControl, definitions, tenantUsed, userUsed, capreqId);
    }

    /// <summary>
    /// Counts one execution of <paramref name="userId"/> on <paramref name="day"/> with the transaction's next batch
    /// (the execution's own): the user's row and the tenant's, each checked against its budget. An increment past a
    /// budget (a concurrent execution took the last unit) fails the CHECK <c>gov_quota_usage_within_limit_retry</c>,
    /// which <see cref="StorageFailures"/> classifies as a lost race: the turn runs again and the gate refuses it.
    /// </summary>
    public static void DeferCountExecution(TenantTransaction tx, string userId, DateOnly day, long tenantLimit, long userLimit) =>
        tx.Defer(SqlBinding.Bind(new NpgsqlBatchCommand("""
            INSERT INTO selene.gov_quota_usage (tenant_id, day, user_id, executions, quota_limit) VALUES ($1, $2, $3, 1, $4), ($1, $2, $5, 1, $6)
            ON CONFLICT (tenant_id, day, user_id) DO UPDATE SET executions = gov_quota_usage.executions + 1, quota_limit = EXCLUDED.quota_limit
            """), tx.TenantId, day, userId, userLimit, TenantTotal, tenantLimit), "counting an execution against the day's budget", expectedRows: 2);

    /// <summary>The tenant's and <paramref name="userId"/>'s executions on <paramref name="day"/> (the read route's figures).</summary>
    public static async Task<(long Tenant, long User)> UsageAsync(TenantTransaction tx, string? userId, DateOnly day, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command("SELECT user_id, executions FROM selene.gov_quota_usage WHERE tenant_id = $1 AND day = $2 AND user_id IN ($3, $4)"),
            tx.TenantId, day, userId ?? TenantTotal, TenantTotal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        long tenant = 0, user = 0;
        while (await r.ReadAsync(ct))
        {
            if (r.GetString(0) == TenantTotal) tenant = r.GetInt64(1); else user = r.GetInt64(1);
        }
        return (tenant, user);
    }
}
