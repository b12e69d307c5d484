using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>An <c>access_ap_authoring_review_ledger</c> row to append.</summary>
public sealed record ApReviewLedgerRow(string? TenantId, string Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string EventKind,
    string? ReviewChannel, string ConfirmationState, string Reason, string ReasonCode, string SimulationId, string ActorTenantId, string ActorUserId,
    string CorrelationId, string? IdempotencyKey, long CreatedAt);

/// <summary>An <c>access_ap_authoring_review_current</c> row: where the review of one version stands.</summary>
public sealed record ApReviewRow(string? TenantId, string Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string? ReviewChannel,
    string ConfirmationState, int RuleActionCount, long LatestReviewEventId, long UpdatedAt);

/// <summary>An <c>access_ap_rule_review_actions_ledger</c> row to append.</summary>
public sealed record ApRuleActionRow(string? TenantId, string Scope, string ScopeKey, string AccessProfileId, int SchemaVersionId, string RuleAction,
    string? SuggestedRuleRef, string? CapabilityId, string? ConstraintRef, string? EscalationPolicyRef, string Reason, string ReasonCode, string SimulationId,
    string ActorTenantId, string ActorUserId, string CorrelationId, string? IdempotencyKey, long CreatedAt);

/// <summary>Where a compiled access instance came from (the <c>compiled_*</c> columns of the instance ledger and projection).</summary>
public sealed record InstanceLineage(string GlobalProfileId, int GlobalProfileVersion, string? TenantProfileId, int? TenantProfileVersion,
    string? OverlaySetRef, string? PositionId);

/// <summary>
/// PH2.ACCESS.002 "master access schema" storage (reference §7.6): authoring reviews and rule actions (AP schema
/// versions and tenant overlays are engine aggregates). Their GLOBAL rows (tenant_id NULL) are read by every tenant;
/// row-level security shows a session its own rows and the GLOBAL ones.
/// </summary>
public static class AccessProfileStore
{
    private const string ReviewColumns = """
        tenant_id, scope, scope_key, access_profile_id, schema_version_id, review_channel, confirmation_state, rule_action_count, latest_review_event_id, updated_at
        """;
    /// <summary>
    /// A transaction-scoped advisory lock on <paramref name="key"/> (the compile's lock on one access instance; the
    /// profile streams take the engine store's lock).
    /// </summary>
    public static async Task LockAsync(TenantTransaction tx, string key, CancellationToken ct)
    {
        await using var cmd = Command(tx, "SELECT pg_advisory_xact_lock(hashtextextended('access-profile:' || $1, 0))", key);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // ---- Authoring review ---------------------------------------------------------------------------------------

    public static async Task<ApReviewRow?> GetReviewAsync(TenantTransaction tx, string scopeKey, string accessProfileId, int schemaVersionId, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"""
            SELECT {ReviewColumns} FROM selene.access_ap_authoring_review_current
            WHERE scope_key = $1 AND access_profile_id = $2 AND schema_version_id = $3
            """, scopeKey, accessProfileId, schemaVersionId);
        return (await ReadReviewsAsync(cmd, ct)).FirstOrDefault();
    }

    /// <summary>The reviews of every version of one profile the session sees.</summary>
    public static async Task<IReadOnlyList<ApReviewRow>> ListReviewsAsync(TenantTransaction tx, string accessProfileId, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"""
            SELECT {ReviewColumns} FROM selene.access_ap_authoring_review_current WHERE access_profile_id = $1 ORDER BY scope, schema_version_id LIMIT 10000
            """, accessProfileId);
        return await ReadReviewsAsync(cmd, ct);
    }

    /// <summary>The ids of the rule actions recorded on one version, ascending.</summary>
    public static async Task<IReadOnlyList<long>> RuleActionIdsAsync(TenantTransaction tx, string scopeKey, string accessProfileId, int schemaVersionId, CancellationToken ct)
    {
        await using var cmd = Command(tx, """
            SELECT review_action_row_id FROM selene.access_ap_rule_review_actions_ledger
            WHERE scope_key = $1 AND access_profile_id = $2 AND schema_version_id = $3 ORDER BY review_action_row_id
            """, scopeKey, accessProfileId, schemaVersionId);
        var list = new List<long>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(reader.GetInt64(0));
        return list;
    }

    public static async Task<long> AppendReviewEventAsync(TenantTransaction tx, ApReviewLedgerRow r, CancellationToken ct)
    {
        await using var cmd = Command(tx, """
            INSERT INTO selene.access_ap_authoring_review_ledger (tenant_id, scope, scope_key, access_profile_id, schema_version_id, event_kind, review_channel,
                confirmation_state, reason, reason_code, simulation_id, actor_tenant_id, actor_user_id, correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::numeric, $15, $16) RETURNING review_event_id
            """, r.TenantId, r.Scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.EventKind, r.ReviewChannel, r.ConfirmationState, r.Reason,
            r.ReasonCode, r.SimulationId, r.ActorTenantId, r.ActorUserId, r.CorrelationId, r.IdempotencyKey, r.CreatedAt);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task UpsertReviewAsync(TenantTransaction tx, ApReviewRow r, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"""
            INSERT INTO selene.access_ap_authoring_review_current ({ReviewColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (scope_key, access_profile_id, schema_version_id) DO UPDATE SET review_channel = EXCLUDED.review_channel,
                confirmation_state = EXCLUDED.confirmation_state, rule_action_count = EXCLUDED.rule_action_count,
                latest_review_event_id = EXCLUDED.latest_review_event_id, updated_at = EXCLUDED.updated_at
            """, r.TenantId, r.Scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.ReviewChannel, r.ConfirmationState, r.RuleActionCount,
            r.LatestReviewEventId, r.UpdatedAt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<long> AppendRuleActionAsync(TenantTransaction tx, ApRuleActionRow r, CancellationToken ct)
    {
        await using var cmd = Command(tx, """
            INSERT INTO selene.access_ap_rule_review_actions_ledger (tenant_id, scope, scope_key, access_profile_id, schema_version_id, rule_action,
                suggested_rule_ref, capability_id, constraint_ref, escalation_policy_ref, reason, reason_code, simulation_id, actor_tenant_id, actor_user_id,
                correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::numeric, $17, $18) RETURNING review_action_row_id
            """, r.TenantId, r.Scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.RuleAction, r.SuggestedRuleRef, r.CapabilityId, r.ConstraintRef,
            r.EscalationPolicyRef, r.Reason, r.ReasonCode, r.SimulationId, r.ActorTenantId, r.ActorUserId, r.CorrelationId, r.IdempotencyKey, r.CreatedAt);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static NpgsqlCommand Command(TenantTransaction tx, string sql, params object?[] values)
    {
        var cmd = tx.Command(sql);
        foreach (var v in values) cmd.Parameters.Add(new() { Value = v ?? DBNull.Value });
        return cmd;
    }

    private static async Task<IReadOnlyList<ApReviewRow>> ReadReviewsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<ApReviewRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new ApReviewRow(NullableString(reader, 0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                NullableString(reader, 5), reader.GetString(6), reader.GetInt32(7), reader.GetInt64(8), reader.GetInt64(9)));
        }
        return list;
    }

    private static string? NullableString(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

}
