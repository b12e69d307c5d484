using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>An <c>access_ap_schema_ledger</c> row. <see cref="TenantId"/> is null for GLOBAL rows.</summary>
public sealed record ApSchemaLedgerRow(
    long EventId,
    string? TenantId,
    string Scope,
    string ScopeKey,
    string AccessProfileId,
    int SchemaVersionId,
    string EventAction,
    string Lifecycle,
    string? PayloadJson,
    int? SupersededByVersionId,
    long? ActivationReviewEventId,
    int? ActivationRuleActionCount,
    string? ActivationRuleActionSetRef,
    string Reason,
    string ReasonCode,
    string SimulationId,
    string ActorTenantId,
    string ActorUserId,
    string CorrelationId,
    string? IdempotencyKey,
    long CreatedAt);

/// <summary>An <c>access_ap_schema_current</c> row: the current (ACTIVE) version of one profile in one scope.</summary>
public sealed record ApCurrentRow(string? TenantId, string Scope, string ScopeKey, string AccessProfileId, int ActiveSchemaVersionId, string PayloadJson,
    long ActiveEventId, long UpdatedAt);

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

/// <summary>
/// PH2.ACCESS.002 "master access schema" storage (reference §7.6): AP schema versions and their projection,
/// authoring reviews and rule actions (tenant overlays are an engine aggregate). Tables that hold GLOBAL rows (tenant_id NULL) are read
/// by every tenant; row-level security shows a session its own rows and the GLOBAL ones.
/// </summary>
public static class AccessProfileStore
{
    private const string ApLedgerColumns = """
        event_id, tenant_id, scope, scope_key, access_profile_id, schema_version_id, event_action, lifecycle_state, profile_payload_json,
        superseded_by_version_id, activation_review_event_id, activation_rule_action_count, activation_rule_action_set_ref, reason, reason_code,
        simulation_id, actor_tenant_id, actor_user_id, correlation_id::text, idempotency_key, created_at
        """;
    private const string ApCurrentColumns = "tenant_id, scope, scope_key, access_profile_id, active_schema_version_id, profile_payload_json, active_event_id, updated_at";
    private const string ReviewColumns = """
        tenant_id, scope, scope_key, access_profile_id, schema_version_id, review_channel, confirmation_state, rule_action_count, latest_review_event_id, updated_at
        """;
    /// <summary>
    /// Serializes work on one profile or overlay across tenants (GLOBAL profiles are shared) with a
    /// transaction-scoped advisory lock; <paramref name="key"/> already names the scope.
    /// </summary>
    public static async Task LockAsync(TenantTransaction tx, string key, CancellationToken ct)
    {
        await using var cmd = Command(tx, "SELECT pg_advisory_xact_lock(hashtextextended('access-profile:' || $1, 0))", key);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Whether the session's tenant is a platform operator (may write GLOBAL profiles).</summary>
    public static async Task<bool> IsPlatformOperatorAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT selene.session_tenant_is_platform_operator()");
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    // ---- AP schema versions ------------------------------------------------------------------------------------

    /// <summary>The ledger of one profile in one scope, in event order.</summary>
    public static async Task<IReadOnlyList<ApSchemaLedgerRow>> ApLedgerAsync(TenantTransaction tx, string scopeKey, string accessProfileId, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"""
            SELECT {ApLedgerColumns} FROM selene.access_ap_schema_ledger WHERE scope_key = $1 AND access_profile_id = $2 ORDER BY event_id
            """, scopeKey, accessProfileId);
        return await ReadApLedgerAsync(cmd, ct);
    }

    /// <summary>The ledger of one profile in every scope the session sees (GLOBAL and its own), in event order.</summary>
    public static async Task<IReadOnlyList<ApSchemaLedgerRow>> ApLedgerAllScopesAsync(TenantTransaction tx, string accessProfileId, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"""
            SELECT {ApLedgerColumns} FROM selene.access_ap_schema_ledger WHERE access_profile_id = $1 ORDER BY event_id LIMIT 10000
            """, accessProfileId);
        return await ReadApLedgerAsync(cmd, ct);
    }

    public static async Task<long> AppendApEventAsync(TenantTransaction tx, ApSchemaLedgerRow r, CancellationToken ct)
    {
        await using var cmd = Command(tx, """
            INSERT INTO selene.access_ap_schema_ledger (tenant_id, scope, scope_key, access_profile_id, schema_version_id, event_action, lifecycle_state,
                profile_payload_json, superseded_by_version_id, activation_review_event_id, activation_rule_action_count, activation_rule_action_set_ref,
                reason, reason_code, simulation_id, actor_tenant_id, actor_user_id, correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::numeric, $19, $20) RETURNING event_id
            """, r.TenantId, r.Scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.EventAction, r.Lifecycle, r.PayloadJson, r.SupersededByVersionId,
            r.ActivationReviewEventId, r.ActivationRuleActionCount, r.ActivationRuleActionSetRef, r.Reason, r.ReasonCode, r.SimulationId, r.ActorTenantId,
            r.ActorUserId, r.CorrelationId, r.IdempotencyKey, r.CreatedAt);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task UpsertApCurrentAsync(TenantTransaction tx, ApCurrentRow r, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"""
            INSERT INTO selene.access_ap_schema_current ({ApCurrentColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (scope_key, access_profile_id) DO UPDATE SET active_schema_version_id = EXCLUDED.active_schema_version_id,
                profile_payload_json = EXCLUDED.profile_payload_json, active_event_id = EXCLUDED.active_event_id, updated_at = EXCLUDED.updated_at
            """, r.TenantId, r.Scope, r.ScopeKey, r.AccessProfileId, r.ActiveSchemaVersionId, r.PayloadJson, r.ActiveEventId, r.UpdatedAt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Clears the projection of one profile in one scope (its current version was retired).</summary>
    public static async Task DeleteApCurrentAsync(TenantTransaction tx, string scopeKey, string accessProfileId, CancellationToken ct)
    {
        await using var cmd = Command(tx, "DELETE FROM selene.access_ap_schema_current WHERE scope_key = $1 AND access_profile_id = $2", scopeKey, accessProfileId);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<ApCurrentRow?> GetApCurrentAsync(TenantTransaction tx, string scopeKey, string accessProfileId, CancellationToken ct)
    {
        await using var cmd = Command(tx, $"SELECT {ApCurrentColumns} FROM selene.access_ap_schema_current WHERE scope_key = $1 AND access_profile_id = $2",
            scopeKey, accessProfileId);
        return (await ReadApCurrentAsync(cmd, ct)).FirstOrDefault();
    }

    /// <summary>The current versions the session sees: GLOBAL ones and its own tenant's.</summary>
    public static async Task<IReadOnlyList<ApCurrentRow>> ListApCurrentAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {ApCurrentColumns} FROM selene.access_ap_schema_current ORDER BY scope, access_profile_id LIMIT 1000");
        return await ReadApCurrentAsync(cmd, ct);
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

    // ---- Identities -----------------------------------------------------------------------------------------------

    private static NpgsqlCommand Command(TenantTransaction tx, string sql, params object?[] values)
    {
        var cmd = tx.Command(sql);
        foreach (var v in values) cmd.Parameters.Add(new() { Value = v ?? DBNull.Value });
        return cmd;
    }

    private static async Task<IReadOnlyList<ApSchemaLedgerRow>> ReadApLedgerAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<ApSchemaLedgerRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new ApSchemaLedgerRow(reader.GetInt64(0), NullableString(reader, 1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt32(5), reader.GetString(6), reader.GetString(7), NullableString(reader, 8), NullableInt(reader, 9),
                reader.IsDBNull(10) ? null : reader.GetInt64(10), NullableInt(reader, 11), NullableString(reader, 12), reader.GetString(13),
                reader.GetString(14), reader.GetString(15), reader.GetString(16), reader.GetString(17), reader.GetString(18), NullableString(reader, 19),
                reader.GetInt64(20)));
        }
        return list;
    }

    private static async Task<IReadOnlyList<ApCurrentRow>> ReadApCurrentAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<ApCurrentRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new ApCurrentRow(NullableString(reader, 0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.GetString(5), reader.GetInt64(6), reader.GetInt64(7)));
        }
        return list;
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

    private static int? NullableInt(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetInt32(i);
}
