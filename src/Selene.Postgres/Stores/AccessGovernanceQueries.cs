using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>What the access gate reads for one user: instance, overrides in force, and the request's escalation case.</summary>
public sealed record GateFacts(ProjectionRow? Instance, IReadOnlyList<ProjectionRow> Overrides, ProjectionRow? Case);

/// <summary>One escalation case's projection row with the row of its votes (null: no vote yet).</summary>
public sealed record CaseWithVotes(ProjectionRow Case, ProjectionRow? Votes);

/// <summary>
/// The reads of ACCESS governance that need more than <see cref="EngineStore"/> offers, over the engine store pairs
/// <c>access_instance</c>, <c>access_override</c>, <c>access_escalation_case</c> and <c>access_board_votes</c> (migration 0014): the gate's
/// facts in one round trip (every turn's hot path), and the newest-first listings of the read routes. Rows come back
/// as projection rows; the runtime reads them with the aggregates' own state types.
/// </summary>
public static class AccessGovernanceQueries
{
    private const string Columns = EngineStore.CurrentColumns;

    // Overrides in force at $3 (ACTIVE, window holding now), without ONE_SHOT ones unless they answer case $4.
    // Unbounded on purpose: the conflict rule keeps it to one per scope. Index: access_override_current_by_user (0014).
    private const string InForceSql = $"""
        SELECT {Columns} FROM selene.access_override_current
        WHERE tenant_id = $1 AND doc->>'target_user_id' = $2 AND status = 'ACTIVE'
          AND (doc->>'starts_at')::bigint <= $3 AND (doc->>'expires_at' IS NULL OR (doc->>'expires_at')::bigint > $3)
          AND (doc->>'override_type' <> 'ONE_SHOT' OR doc->>'escalation_case_id' = $4::text)
        ORDER BY (doc->>'created_at')::bigint, stream_id
        """;

    /// <summary>
    /// Everything the access gate reads for one user, in one round trip (a batch of three statements): the user's
    /// instance, their overrides in force at <paramref name="now"/> (ONE_SHOT ones only when they answer
    /// <paramref name="caseId"/>), and the escalation case <paramref name="caseId"/> (null: none asked).
    /// </summary>
    public static async Task<GateFacts> GateFactsAsync(TenantTransaction tx, string userId, string? caseId, long now, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        AddGateFacts(batch, tx, userId, caseId, now);
        await using var r = await batch.ExecuteReaderAsync(ct);
        return await ReadGateFactsAsync(r, ct);
    }

    /// <summary>The gate's three statements, for a batch that reads more in the same round trip (<see cref="GovernanceQueries.TurnFactsAsync"/>).</summary>
    internal static void AddGateFacts(NpgsqlBatch batch, TenantTransaction tx, string userId, string? caseId, long now)
    {
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand($"SELECT {Columns} FROM selene.access_instance_current WHERE tenant_id = $1 AND stream_id = $2"),
            tx.TenantId, userId));
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand(InForceSql), tx.TenantId, userId, now, caseId));
        batch.BatchCommands.Add(SqlBinding.Bind(new NpgsqlBatchCommand($"SELECT {Columns} FROM selene.access_escalation_case_current WHERE tenant_id = $1 AND stream_id = $2"),
            tx.TenantId, caseId));
    }

    /// <summary>Reads what <see cref="AddGateFacts"/> asked for; the reader stands at the first of its three result sets.</summary>
    internal static async Task<GateFacts> ReadGateFactsAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var instance = await r.ReadAsync(ct) ? Row(r) : null;
        await r.NextResultAsync(ct);
        var overrides = new List<ProjectionRow>();
        while (await r.ReadAsync(ct)) overrides.Add(Row(r));
        await r.NextResultAsync(ct);
        var escalation = await r.ReadAsync(ct) ? Row(r) : null;
        return new GateFacts(instance, overrides, escalation);
    }

    /// <summary>The user's overrides in force at <paramref name="now"/>, ONE_SHOT ones left out (the conflict rule's input).</summary>
    public static async Task<IReadOnlyList<ProjectionRow>> InForceOverridesAsync(TenantTransaction tx, string userId, long now, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command(InForceSql), tx.TenantId, userId, now, null);
        return await ReadAsync(cmd, Row, ct);
    }

    /// <summary>The newest 1000 overrides (every status) of the user, or of the tenant when <paramref name="userId"/> is null.</summary>
    public static async Task<IReadOnlyList<ProjectionRow>> OverridesNewestFirstAsync(TenantTransaction tx, string? userId, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command($"""
            SELECT {Columns} FROM selene.access_override_current
            WHERE tenant_id = $1 AND ($2::text IS NULL OR doc->>'target_user_id' = $2)
            ORDER BY (doc->>'created_at')::bigint DESC, stream_id LIMIT 1000
            """), tx.TenantId, userId);
        return await ReadAsync(cmd, Row, ct);
    }

    /// <summary>The newest 1000 cases of the tenant (optionally of one status), each with its votes, in one round trip.</summary>
    public static async Task<IReadOnlyList<CaseWithVotes>> CasesNewestFirstAsync(TenantTransaction tx, string? status, CancellationToken ct)
    {
        await using var cmd = SqlBinding.Bind(tx.Command("""
            SELECT c.stream_id, c.status, c.doc::text, c.source_event_id, c.updated_at,
                   v.stream_id, v.status, v.doc::text, v.source_event_id, v.updated_at
            FROM selene.access_escalation_case_current c
            LEFT JOIN selene.access_board_votes_current v ON v.tenant_id = c.tenant_id AND v.stream_id = c.stream_id
            WHERE c.tenant_id = $1 AND ($2::text IS NULL OR c.status = $2)
            ORDER BY (c.doc->>'opened_at')::bigint DESC, c.stream_id LIMIT 1000
            """), tx.TenantId, status);
        return await ReadAsync(cmd, r => new CaseWithVotes(Row(r), r.IsDBNull(5) ? null
            : new ProjectionRow(r.GetString(5), r.GetString(6), r.GetString(7), r.GetInt64(8), r.GetInt64(9))), ct);
    }

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(NpgsqlCommand cmd, Func<NpgsqlDataReader, T> map, CancellationToken ct)
    {
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }

    private static ProjectionRow Row(NpgsqlDataReader r) => EngineStore.ReadRow(r);
}
