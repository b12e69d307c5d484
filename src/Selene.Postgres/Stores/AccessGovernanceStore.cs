using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>An override as projected (status ACTIVE or REVOKED; expiry is computed against now by readers).</summary>
public sealed record OverrideRow(
    string OverrideId,
    string AccessInstanceId,
    string TargetUserId,
    string OverrideType,
    string Scope,
    string GrantMode,
    string Status,
    long StartsAt,
    long? ExpiresAt,
    string? EscalationCaseId,
    string ApprovedByUserId,
    string ApprovedViaSimulationId,
    string? ApprovalRef,
    long CreatedAt,
    long UpdatedAt);

/// <summary>What the access gate reads for one user: instance, overrides in force, and the request's escalation case.</summary>
public sealed record GateFacts(AccessInstanceRow? Instance, IReadOnlyList<OverrideRow> Overrides, EscalationCaseRow? Case);

/// <summary>Who wrote a governance event, why, and under which correlation and key.</summary>
public sealed record GovernanceStamp(string ActorUserId, string ReasonCode, string CorrelationId, string IdempotencyKey, long Now);

/// <summary>An escalation case as projected.</summary>
public sealed record EscalationCaseRow(
    string EscalationCaseId,
    string TargetUserId,
    string AccessInstanceId,
    string SimulationId,
    string RequestIdempotencyKey,
    string RequestHash,
    string RequestedAction,
    string RequestedMode,
    string EffectiveMode,
    string EscalationTrigger,
    string? BoardPolicyId,
    int? PolicyVersionId,
    string? PolicyPayloadJson,
    string Status,
    string? ResolvedVia,
    string? OverrideId,
    string OpenedCorrelationId,
    long OpenedAt,
    long? ResolvedAt);

/// <summary>One recorded board vote.</summary>
public sealed record BoardVoteRow(long VoteRowId, string EscalationCaseId, string BoardPolicyId, int PolicyVersionId, string VoterUserId, string VoteValue,
    string Reason, string ThresholdStatus, long CreatedAt);

/// <summary>
/// Storage of the approval paths (migration 0006): overrides, escalation cases and board votes.
/// Each write appends to its ledger and updates its projection in the caller's transaction.
/// </summary>
public static class AccessGovernanceStore
{
    private const string OverrideColumns = """
        override_id, access_instance_id, target_user_id, override_type, scope, grant_mode, status, starts_at, expires_at, escalation_case_id,
        approved_by_user_id, approved_via_simulation_id, approval_ref, created_at, updated_at
        """;

    private const string CaseColumns = """
        escalation_case_id, target_user_id, access_instance_id, simulation_id, request_idempotency_key, request_hash, requested_action, requested_mode,
        effective_mode, escalation_trigger, board_policy_id, policy_version_id, policy_payload_json, status, resolved_via, override_id,
        opened_correlation_id::text, opened_at, resolved_at
        """;

    // ---- overrides ------------------------------------------------------------------------------------------

    /// <summary>Appends the GRANT to the ledger and projects the override as ACTIVE.</summary>
    public static async Task GrantOverrideAsync(TenantTransaction tx, OverrideRow row, string reason, GovernanceStamp stamp, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            WITH e AS (
                INSERT INTO selene.access_override_ledger (tenant_id, override_id, event_action, access_instance_id, target_user_id, override_type, scope,
                    grant_mode, starts_at, expires_at, escalation_case_id, approved_by_user_id, approved_via_simulation_id, approval_ref, reason,
                    reason_code, correlation_id, idempotency_key, created_at)
                VALUES ($1, $2, 'GRANT', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::numeric, $17, $18) RETURNING event_id)
            INSERT INTO selene.access_overrides (tenant_id, {OverrideColumns}, source_event_id)
            SELECT $1, $2, $3, $4, $5, $6, $7, 'ACTIVE', $8, $9, $10, $11, $12, $13, $18, $18, e.event_id FROM e
            """);
        Add(cmd, tx.TenantId, row.OverrideId, row.AccessInstanceId, row.TargetUserId, row.OverrideType, row.Scope, row.GrantMode, row.StartsAt,
            row.ExpiresAt, row.EscalationCaseId, row.ApprovedByUserId, row.ApprovedViaSimulationId, row.ApprovalRef, reason, stamp.ReasonCode,
            stamp.CorrelationId, stamp.IdempotencyKey, stamp.Now);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Appends a REVOKE row naming the override and marks the projection REVOKED.</summary>
    public static async Task RevokeOverrideAsync(TenantTransaction tx, OverrideRow revoked, string simulationId, string? approvalRef, string reason,
        GovernanceStamp stamp, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            WITH e AS (
                INSERT INTO selene.access_override_ledger (tenant_id, override_id, event_action, access_instance_id, target_user_id, override_type, scope,
                    grant_mode, starts_at, expires_at, escalation_case_id, approved_by_user_id, approved_via_simulation_id, approval_ref, reason,
                    reason_code, correlation_id, idempotency_key, created_at)
                VALUES ($1, $2, 'REVOKE', $3, $4, 'REVOKE', $5, NULL, $6, NULL, NULL, $7, $8, $9, $10, $11, $12::numeric, $13, $6) RETURNING event_id)
            UPDATE selene.access_overrides o SET status = 'REVOKED', source_event_id = e.event_id, updated_at = $6
            FROM e WHERE o.tenant_id = $1 AND o.override_id = $2
            """);
        Add(cmd, tx.TenantId, revoked.OverrideId, revoked.AccessInstanceId, revoked.TargetUserId, revoked.Scope, stamp.Now, stamp.ActorUserId,
            simulationId, approvalRef, reason, stamp.ReasonCode, stamp.CorrelationId, stamp.IdempotencyKey);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The newest 1000 overrides (every status) of the user, or of the tenant when <paramref name="userId"/> is null.</summary>
    public static async Task<IReadOnlyList<OverrideRow>> ListOverridesAsync(TenantTransaction tx, string? userId, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            SELECT {OverrideColumns} FROM selene.access_overrides
            WHERE tenant_id = $1 AND ($2::text IS NULL OR target_user_id = $2) ORDER BY created_at DESC, override_id LIMIT 1000
            """);
        Add(cmd, tx.TenantId, userId);
        return await ReadOverridesAsync(cmd, ct);
    }

    // Overrides in force at $3 (ACTIVE, window holding now), without ONE_SHOT ones unless they answer case $4.
    // Unbounded on purpose: the conflict rule keeps it to one per scope.
    private const string InForceSql = $"""
        SELECT {OverrideColumns} FROM selene.access_overrides
        WHERE tenant_id = $1 AND target_user_id = $2 AND status = 'ACTIVE' AND starts_at <= $3 AND (expires_at IS NULL OR expires_at > $3)
          AND (override_type <> 'ONE_SHOT' OR escalation_case_id = $4::text)
        ORDER BY created_at, override_id
        """;

    /// <summary>The user's overrides in force at <paramref name="now"/> (ONE_SHOT ones only when they answer <paramref name="caseId"/>).</summary>
    public static async Task<IReadOnlyList<OverrideRow>> InForceOverridesAsync(TenantTransaction tx, string userId, string? caseId, long now, CancellationToken ct)
    {
        await using var cmd = tx.Command(InForceSql);
        Add(cmd, tx.TenantId, userId, now, caseId);
        return await ReadOverridesAsync(cmd, ct);
    }

    /// <summary>
    /// Everything the access gate reads for one user, in one round trip (a batch of three statements): the user's
    /// instance, their overrides in force, and the escalation case <paramref name="caseId"/> (null: none asked).
    /// </summary>
    public static async Task<GateFacts> GateFactsAsync(TenantTransaction tx, string userId, string? caseId, long now, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        batch.BatchCommands.Add(BatchCommand($"SELECT {AccessStore.Columns} FROM selene.access_instances WHERE tenant_id = $1 AND user_id = $2",
            tx.TenantId, userId));
        batch.BatchCommands.Add(BatchCommand(InForceSql, tx.TenantId, userId, now, caseId));
        batch.BatchCommands.Add(BatchCommand($"SELECT {CaseColumns} FROM selene.access_escalation_cases WHERE tenant_id = $1 AND escalation_case_id = $2::text",
            tx.TenantId, caseId));
        await using var r = await batch.ExecuteReaderAsync(ct);
        var instance = await r.ReadAsync(ct) ? AccessStore.Map(r) : null;
        await r.NextResultAsync(ct);
        var overrides = new List<OverrideRow>();
        while (await r.ReadAsync(ct)) overrides.Add(MapOverride(r));
        await r.NextResultAsync(ct);
        var escalation = await r.ReadAsync(ct) ? MapCase(r) : null;
        return new GateFacts(instance, overrides, escalation);
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var v in values) command.Parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
        return command;
    }

    public static async Task<OverrideRow?> GetOverrideAsync(TenantTransaction tx, string overrideId, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {OverrideColumns} FROM selene.access_overrides WHERE tenant_id = $1 AND override_id = $2");
        Add(cmd, tx.TenantId, overrideId);
        return (await ReadOverridesAsync(cmd, ct)).FirstOrDefault();
    }

    private static async Task<IReadOnlyList<OverrideRow>> ReadOverridesAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<OverrideRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(MapOverride(r));
        return list;
    }

    private static OverrideRow MapOverride(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
            r.GetInt64(7), r.IsDBNull(8) ? null : r.GetInt64(8), r.IsDBNull(9) ? null : r.GetString(9), r.GetString(10), r.GetString(11),
            r.IsDBNull(12) ? null : r.GetString(12), r.GetInt64(13), r.GetInt64(14));

    // ---- escalation cases -----------------------------------------------------------------------------------

    /// <summary>
    /// Opens the case unless it exists (idempotent: the same refused request retried finds its case). Returns true
    /// when this call opened it.
    /// </summary>
    public static async Task<bool> OpenCaseAsync(TenantTransaction tx, EscalationCaseRow row, string snapshotJson, GovernanceStamp stamp, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            WITH e AS (
                INSERT INTO selene.access_escalation_case_ledger (tenant_id, escalation_case_id, event_action, status, case_snapshot_json, reason_code,
                    actor_user_id, correlation_id, created_at)
                VALUES ($1, $2, 'OPEN', 'OPEN', $3, $4, $5, $6::numeric, $7)
                ON CONFLICT DO NOTHING RETURNING event_id)
            INSERT INTO selene.access_escalation_cases (tenant_id, {CaseColumns.Replace("::text", "", StringComparison.Ordinal)}, source_event_id)
            SELECT $1, $2, $5, $8, $9, $10, $18, $11, $12, $13, $14, $15, $16, $17, 'OPEN', NULL, NULL, $6::numeric, $7, NULL, e.event_id FROM e
            RETURNING 1
            """);
        Add(cmd, tx.TenantId, row.EscalationCaseId, snapshotJson, stamp.ReasonCode, row.TargetUserId, row.OpenedCorrelationId, row.OpenedAt,
            row.AccessInstanceId, row.SimulationId, row.RequestIdempotencyKey, row.RequestedAction, row.RequestedMode, row.EffectiveMode,
            row.EscalationTrigger, row.BoardPolicyId, row.PolicyVersionId, row.PolicyPayloadJson, row.RequestHash);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>Records the resolution in the ledger and the projection.</summary>
    public static async Task ResolveCaseAsync(TenantTransaction tx, string caseId, string status, string resolvedVia, string? overrideId, string snapshotJson,
        GovernanceStamp stamp, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            WITH e AS (
                INSERT INTO selene.access_escalation_case_ledger (tenant_id, escalation_case_id, event_action, status, resolved_via, override_id,
                    case_snapshot_json, reason_code, actor_user_id, correlation_id, created_at)
                VALUES ($1, $2, CASE $3 WHEN 'APPROVED' THEN 'APPROVE' ELSE 'DENY' END, $3, $4, $5, $6, $7, $8, $9::numeric, $10) RETURNING event_id)
            UPDATE selene.access_escalation_cases c SET status = $3, resolved_via = $4, override_id = $5, resolved_at = $10, source_event_id = e.event_id
            FROM e WHERE c.tenant_id = $1 AND c.escalation_case_id = $2
            """);
        Add(cmd, tx.TenantId, caseId, status, resolvedVia, overrideId, snapshotJson, stamp.ReasonCode, stamp.ActorUserId, stamp.CorrelationId, stamp.Now);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One case; <paramref name="forUpdate"/> locks its row until the transaction ends.</summary>
    public static async Task<EscalationCaseRow?> GetCaseAsync(TenantTransaction tx, string caseId, bool forUpdate, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {CaseColumns} FROM selene.access_escalation_cases WHERE tenant_id = $1 AND escalation_case_id = $2"
            + (forUpdate ? " FOR UPDATE" : ""));
        Add(cmd, tx.TenantId, caseId);
        return (await ReadCasesAsync(cmd, ct)).FirstOrDefault();
    }

    /// <summary>Cases of the tenant, newest first; optionally only one status.</summary>
    public static async Task<IReadOnlyList<EscalationCaseRow>> ListCasesAsync(TenantTransaction tx, string? status, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            SELECT {CaseColumns} FROM selene.access_escalation_cases
            WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY opened_at DESC, escalation_case_id LIMIT 1000
            """);
        Add(cmd, tx.TenantId, status);
        return await ReadCasesAsync(cmd, ct);
    }

    private static async Task<IReadOnlyList<EscalationCaseRow>> ReadCasesAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<EscalationCaseRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(MapCase(r));
        return list;
    }

    private static EscalationCaseRow MapCase(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
            r.GetString(7), r.GetString(8), r.GetString(9), r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetInt32(11),
            r.IsDBNull(12) ? null : r.GetString(12), r.GetString(13), r.IsDBNull(14) ? null : r.GetString(14), r.IsDBNull(15) ? null : r.GetString(15),
            r.GetString(16), r.GetInt64(17), r.IsDBNull(18) ? null : r.GetInt64(18));

    // ---- board votes ----------------------------------------------------------------------------------------

    public static Task<IReadOnlyList<BoardVoteRow>> VotesAsync(TenantTransaction tx, string caseId, CancellationToken ct) =>
        VotesAsync(tx, [caseId], ct);

    /// <summary>The votes on several cases in one round trip, in ledger order.</summary>
    public static async Task<IReadOnlyList<BoardVoteRow>> VotesAsync(TenantTransaction tx, IReadOnlyCollection<string> caseIds, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT vote_row_id, escalation_case_id, board_policy_id, policy_version_id, voter_user_id, vote_value, reason, threshold_status, created_at
            FROM selene.access_board_votes_ledger WHERE tenant_id = $1 AND escalation_case_id = ANY($2) ORDER BY vote_row_id
            """);
        Add(cmd, tx.TenantId, caseIds.ToArray());
        var list = new List<BoardVoteRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new BoardVoteRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetString(4), r.GetString(5), r.GetString(6),
                r.GetString(7), r.GetInt64(8)));
        }
        return list;
    }

    /// <summary>Appends a vote with the threshold status it produced; returns its row id.</summary>
    public static async Task<long> AppendVoteAsync(TenantTransaction tx, string caseId, string boardPolicyId, int versionId, string voteValue, string reason,
        string thresholdStatus, GovernanceStamp stamp, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            INSERT INTO selene.access_board_votes_ledger (tenant_id, escalation_case_id, board_policy_id, policy_version_id, voter_user_id, vote_value, reason,
                threshold_status, correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10, $11) RETURNING vote_row_id
            """);
        Add(cmd, tx.TenantId, caseId, boardPolicyId, versionId, stamp.ActorUserId, voteValue, reason, thresholdStatus, stamp.CorrelationId,
            stamp.IdempotencyKey, stamp.Now);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    // ---- identities -----------------------------------------------------------------------------------------

    /// <summary>Which of <paramref name="userIds"/> have an identity in the tenant.</summary>
    public static async Task<IReadOnlySet<string>> ExistingIdentitiesAsync(TenantTransaction tx, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT user_id FROM selene.identities WHERE tenant_id = $1 AND user_id = ANY($2)");
        Add(cmd, tx.TenantId, userIds.ToArray());
        var set = new HashSet<string>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) set.Add(r.GetString(0));
        return set;
    }

    /// <summary>Creates the identity when missing; returns true when it was created.</summary>
    public static async Task<bool> EnsureIdentityAsync(TenantTransaction tx, string userId, long now, CancellationToken ct)
    {
        await using var cmd = tx.Command("INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
        Add(cmd, tx.TenantId, userId, now);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static void Add(NpgsqlCommand cmd, params object?[] values)
    {
        foreach (var v in values) cmd.Parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
    }
}
