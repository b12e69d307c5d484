using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>Where a compiled access instance came from (the <c>compiled_*</c> columns of the instance ledger and projection).</summary>
public sealed record InstanceLineage(string GlobalProfileId, int GlobalProfileVersion, string? TenantProfileId, int? TenantProfileVersion,
    string? OverlaySetRef, string? PositionId);

/// <summary>An access instance as stored (ledger snapshot and projection share this shape); <see cref="Lineage"/> is set by a compile.</summary>
public sealed record AccessInstanceRow(
    string TenantId,
    string AccessInstanceId,
    string UserId,
    string RoleTemplateId,
    string AccessMode,
    string BaselinePermissionsJson,
    bool IdentityVerified,
    string VerificationLevel,
    string DeviceTrustLevel,
    string Lifecycle,
    long SourceEventId,
    long CreatedAt,
    long UpdatedAt,
    InstanceLineage? Lineage = null);

/// <summary>PH2.ACCESS.002 storage: the instance ledger and its projection.</summary>
public static class AccessStore
{
    internal const string Columns = """
        tenant_id, access_instance_id, user_id, role_template_id, effective_access_mode, baseline_permissions_json, identity_verified,
        verification_level, device_trust_level, lifecycle_state, source_event_id, created_at, updated_at, compiled_global_profile_id,
        compiled_global_profile_version, compiled_tenant_profile_id, compiled_tenant_profile_version, compiled_overlay_set_ref, compiled_position_id
        """;

    /// <summary>Appends the instance's new state to the ledger and writes the projection; returns the event id.</summary>
    public static async Task<long> WriteInstanceAsync(TenantTransaction tx, AccessInstanceRow row, string eventAction, string reasonCode,
        string? simulationId, string? actor, string correlationId, string? idempotencyKey, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            WITH e AS (
                INSERT INTO selene.access_instance_ledger (tenant_id, access_instance_id, user_id, event_action, role_template_id, access_mode,
                    baseline_permissions_json, identity_verified, verification_level, device_trust_level, lifecycle_state, reason_code,
                    simulation_id, actor_user_id, correlation_id, idempotency_key, created_at, compiled_global_profile_id, compiled_global_profile_version,
                    compiled_tenant_profile_id, compiled_tenant_profile_version, compiled_overlay_set_ref, compiled_position_id)
                VALUES ($1, $2, $3, $14, $4, $5, $6, $7, $8, $9, $10, $15, $16, $17, $18::numeric, $19, $13, $20, $21, $22, $23, $24, $25) RETURNING event_id)
            INSERT INTO selene.access_instances ({Columns})
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, e.event_id, $12, $13, $20, $21, $22, $23, $24, $25 FROM e
            ON CONFLICT (tenant_id, access_instance_id) DO UPDATE SET role_template_id = EXCLUDED.role_template_id,
                effective_access_mode = EXCLUDED.effective_access_mode, baseline_permissions_json = EXCLUDED.baseline_permissions_json,
                identity_verified = EXCLUDED.identity_verified, verification_level = EXCLUDED.verification_level,
                device_trust_level = EXCLUDED.device_trust_level, lifecycle_state = EXCLUDED.lifecycle_state,
                source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at,
                compiled_global_profile_id = EXCLUDED.compiled_global_profile_id, compiled_global_profile_version = EXCLUDED.compiled_global_profile_version,
                compiled_tenant_profile_id = EXCLUDED.compiled_tenant_profile_id, compiled_tenant_profile_version = EXCLUDED.compiled_tenant_profile_version,
                compiled_overlay_set_ref = EXCLUDED.compiled_overlay_set_ref, compiled_position_id = EXCLUDED.compiled_position_id
            RETURNING source_event_id
            """);
        foreach (var v in new object?[]
                 {
                     tx.TenantId, row.AccessInstanceId, row.UserId, row.RoleTemplateId, row.AccessMode, row.BaselinePermissionsJson, row.IdentityVerified,
                     row.VerificationLevel, row.DeviceTrustLevel, row.Lifecycle, 0L, row.CreatedAt, row.UpdatedAt,
                     eventAction, reasonCode, simulationId, actor, correlationId, idempotencyKey,
                     row.Lineage?.GlobalProfileId, row.Lineage?.GlobalProfileVersion, row.Lineage?.TenantProfileId, row.Lineage?.TenantProfileVersion,
                     row.Lineage?.OverlaySetRef, row.Lineage?.PositionId,
                 })
            cmd.Parameters.Add(new() { Value = v ?? DBNull.Value });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task<AccessInstanceRow?> GetByUserAsync(TenantTransaction tx, string userId, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {Columns} FROM selene.access_instances WHERE tenant_id = $1 AND user_id = $2");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = userId });
        return (await ReadAsync(cmd, ct)).FirstOrDefault();
    }

    public static async Task<IReadOnlyList<AccessInstanceRow>> ListAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {Columns} FROM selene.access_instances WHERE tenant_id = $1 ORDER BY user_id LIMIT 1000");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        return await ReadAsync(cmd, ct);
    }

    private static async Task<IReadOnlyList<AccessInstanceRow>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<AccessInstanceRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(Map(reader));
        return list;
    }

    /// <summary>One row of <see cref="Columns"/>.</summary>
    internal static AccessInstanceRow Map(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.GetString(5), reader.GetBoolean(6), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetInt64(10),
            reader.GetInt64(11), reader.GetInt64(12), reader.IsDBNull(13) ? null : new InstanceLineage(reader.GetString(13), reader.GetInt32(14),
                reader.IsDBNull(15) ? null : reader.GetString(15), reader.IsDBNull(16) ? null : reader.GetInt32(16),
                reader.IsDBNull(17) ? null : reader.GetString(17), reader.IsDBNull(18) ? null : reader.GetString(18)));
}
