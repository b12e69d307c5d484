using Npgsql;

namespace Selene.Postgres.Stores;

/// <summary>A <c>tenant_companies</c> row.</summary>
public sealed record CompanyRow(string TenantId, string CompanyId, string LegalName, string Jurisdiction, string Lifecycle, long SourceEventId, long CreatedAt, long UpdatedAt);

/// <summary>A <c>positions</c> row.</summary>
public sealed record PositionRow(string TenantId, string PositionId, string CompanyId, string Title, string Department, string Jurisdiction,
    string ScheduleType, string PermissionProfileRef, string CompensationBandRef, string Lifecycle, long SourceEventId, long CreatedAt, long UpdatedAt);

/// <summary>A <c>position_lifecycle_events</c> row to append.</summary>
public sealed record PositionLifecycleRow(string PositionId, string Action, string? FromState, string ToState, string PayloadJson, string ReasonCode,
    string SimulationId, string ActorUserId, string CorrelationId, string? IdempotencyKey, long CreatedAt);

/// <summary>A <c>position_requirements_schema_ledger</c> row.</summary>
public sealed record SchemaLedgerRow(long EventId, string PositionId, string SchemaVersionId, string Action, string? SelectorsJson, string? FieldSpecsJson,
    string? ChangeReason, string? ApplyScope, string ActorUserId, string CorrelationId, string? IdempotencyKey, long CreatedAt);

/// <summary>A <c>position_requirements_schema_current</c> row: the active version of one position.</summary>
public sealed record ActiveSchemaRow(string TenantId, string PositionId, string SchemaVersionId, string ApplyScope, string SelectorsJson, string FieldSpecsJson,
    long SourceEventId, long UpdatedAt);

/// <summary>Storage of tenant companies, positions and requirement schemas (reference §5.4).</summary>
public static class PositionStore
{
    private const string CompanyColumns = "tenant_id, company_id, legal_name, jurisdiction, lifecycle_state, source_event_id, created_at, updated_at";
    private const string PositionColumns = """
        tenant_id, position_id, company_id, position_title, department, jurisdiction, schedule_type, permission_profile_ref,
        compensation_band_ref, lifecycle_state, source_event_id, created_at, updated_at
        """;

    /// <summary>Serializes work on one entity (also its creation) with a transaction-scoped advisory lock.</summary>
    public static Task LockAsync(TenantTransaction tx, string entityKey, CancellationToken ct) => tx.LockEntityAsync(entityKey, ct);

    public static async Task<CompanyRow?> GetCompanyAsync(TenantTransaction tx, string companyId, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {CompanyColumns} FROM selene.tenant_companies WHERE tenant_id = $1 AND company_id = $2");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = companyId });
        return (await ReadCompaniesAsync(cmd, ct)).FirstOrDefault();
    }

    public static async Task<IReadOnlyList<CompanyRow>> ListCompaniesAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {CompanyColumns} FROM selene.tenant_companies WHERE tenant_id = $1 ORDER BY company_id LIMIT 1000");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        return await ReadCompaniesAsync(cmd, ct);
    }

    /// <summary>Appends a company event and writes the projection; returns the event id.</summary>
    public static async Task<long> WriteCompanyAsync(TenantTransaction tx, string companyId, string legalName, string jurisdiction, string lifecycle,
        string actor, string correlationId, string? idempotencyKey, long now, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            WITH e AS (
                INSERT INTO selene.tenant_company_ledger (tenant_id, company_id, legal_name, jurisdiction, lifecycle_state, actor_user_id, correlation_id, idempotency_key, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9) RETURNING event_id)
            INSERT INTO selene.tenant_companies (tenant_id, company_id, legal_name, jurisdiction, lifecycle_state, source_event_id, created_at, updated_at)
            SELECT $1, $2, $3, $4, $5, e.event_id, $9, $9 FROM e
            ON CONFLICT (tenant_id, company_id) DO UPDATE SET legal_name = EXCLUDED.legal_name, jurisdiction = EXCLUDED.jurisdiction,
                lifecycle_state = EXCLUDED.lifecycle_state, source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at
            RETURNING source_event_id
            """);
        foreach (var v in new object?[] { tx.TenantId, companyId, legalName, jurisdiction, lifecycle, actor, correlationId, idempotencyKey, now })
            cmd.Parameters.Add(new() { Value = v ?? DBNull.Value });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task<PositionRow?> GetPositionAsync(TenantTransaction tx, string positionId, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {PositionColumns} FROM selene.positions WHERE tenant_id = $1 AND position_id = $2");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = positionId });
        return (await ReadPositionsAsync(cmd, ct)).FirstOrDefault();
    }

    public static async Task<bool> DuplicateExistsAsync(TenantTransaction tx, string companyId, string title, string department, string jurisdiction, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT EXISTS (SELECT 1 FROM selene.positions WHERE tenant_id = $1 AND company_id = $2 AND position_title = $3 AND department = $4 AND jurisdiction = $5)
            """);
        foreach (var v in new object[] { tx.TenantId, companyId, title, department, jurisdiction }) cmd.Parameters.Add(new() { Value = v });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task<IReadOnlyList<PositionRow>> ListPositionsAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command($"SELECT {PositionColumns} FROM selene.positions WHERE tenant_id = $1 ORDER BY position_id LIMIT 1000");
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        return await ReadPositionsAsync(cmd, ct);
    }

    /// <summary>Appends a lifecycle event and writes the position row (insert on creation); returns the event id.</summary>
    public static async Task<long> WritePositionAsync(TenantTransaction tx, PositionLifecycleRow e, PositionRow row, CancellationToken ct)
    {
        await using var cmd = tx.Command($"""
            WITH e AS (
                INSERT INTO selene.position_lifecycle_events (tenant_id, position_id, action, from_state, to_state, payload, reason_code, simulation_id,
                    actor_user_id, correlation_id, idempotency_key, created_at)
                VALUES ($1, $2, $14, $15, $10, $16, $17, $18, $19, $20::numeric, $21, $13) RETURNING event_id)
            INSERT INTO selene.positions ({PositionColumns})
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, e.event_id, $12, $13 FROM e
            ON CONFLICT (tenant_id, position_id) DO UPDATE SET lifecycle_state = EXCLUDED.lifecycle_state,
                source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at
            RETURNING source_event_id
            """);
        foreach (var v in new object?[]
                 {
                     tx.TenantId, row.PositionId, row.CompanyId, row.Title, row.Department, row.Jurisdiction, row.ScheduleType, row.PermissionProfileRef,
                     row.CompensationBandRef, row.Lifecycle, 0L, row.CreatedAt, row.UpdatedAt,
                     e.Action, e.FromState, e.PayloadJson, e.ReasonCode, e.SimulationId, e.ActorUserId, e.CorrelationId, e.IdempotencyKey,
                 })
            cmd.Parameters.Add(new() { Value = v ?? DBNull.Value });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task<IReadOnlyList<SchemaLedgerRow>> SchemaLedgerAsync(TenantTransaction tx, string positionId, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT schema_event_id, position_id, schema_version_id, action, selector_snapshot_json, field_specs_json, change_reason, apply_scope,
                   actor_user_id, correlation_id::text, idempotency_key, created_at
            FROM selene.position_requirements_schema_ledger WHERE tenant_id = $1 AND position_id = $2 ORDER BY schema_event_id
            """);
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = positionId });
        var list = new List<SchemaLedgerRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new SchemaLedgerRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), Nullable(reader, 4),
                Nullable(reader, 5), Nullable(reader, 6), Nullable(reader, 7), reader.GetString(8), reader.GetString(9), Nullable(reader, 10), reader.GetInt64(11)));
        }
        return list;
    }

    public static async Task<long> AppendSchemaAsync(TenantTransaction tx, SchemaLedgerRow row, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            INSERT INTO selene.position_requirements_schema_ledger (tenant_id, position_id, schema_version_id, action, selector_snapshot_json,
                field_specs_json, change_reason, apply_scope, actor_user_id, correlation_id, idempotency_key, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11, $12) RETURNING schema_event_id
            """);
        foreach (var v in new object?[]
                 {
                     tx.TenantId, row.PositionId, row.SchemaVersionId, row.Action, row.SelectorsJson, row.FieldSpecsJson, row.ChangeReason, row.ApplyScope,
                     row.ActorUserId, row.CorrelationId, row.IdempotencyKey, row.CreatedAt,
                 })
            cmd.Parameters.Add(new() { Value = v ?? DBNull.Value });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static async Task UpsertActiveSchemaAsync(TenantTransaction tx, ActiveSchemaRow row, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            INSERT INTO selene.position_requirements_schema_current (tenant_id, position_id, active_schema_version_id, apply_scope,
                active_selector_snapshot_json, active_field_specs_json, source_event_id, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (tenant_id, position_id) DO UPDATE SET active_schema_version_id = EXCLUDED.active_schema_version_id,
                apply_scope = EXCLUDED.apply_scope, active_selector_snapshot_json = EXCLUDED.active_selector_snapshot_json,
                active_field_specs_json = EXCLUDED.active_field_specs_json, source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at
            """);
        foreach (var v in new object[] { tx.TenantId, row.PositionId, row.SchemaVersionId, row.ApplyScope, row.SelectorsJson, row.FieldSpecsJson, row.SourceEventId, row.UpdatedAt })
            cmd.Parameters.Add(new() { Value = v });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<ActiveSchemaRow?> GetActiveSchemaAsync(TenantTransaction tx, string positionId, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT tenant_id, position_id, active_schema_version_id, apply_scope, active_selector_snapshot_json, active_field_specs_json, source_event_id, updated_at
            FROM selene.position_requirements_schema_current WHERE tenant_id = $1 AND position_id = $2
            """);
        cmd.Parameters.Add(new() { Value = tx.TenantId });
        cmd.Parameters.Add(new() { Value = positionId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new ActiveSchemaRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.GetString(5), reader.GetInt64(6), reader.GetInt64(7));
    }

    private static async Task<IReadOnlyList<CompanyRow>> ReadCompaniesAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<CompanyRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new CompanyRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7)));
        return list;
    }

    private static async Task<IReadOnlyList<PositionRow>> ReadPositionsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<PositionRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new PositionRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetInt64(10),
                reader.GetInt64(11), reader.GetInt64(12)));
        return list;
    }

    private static string? Nullable(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
