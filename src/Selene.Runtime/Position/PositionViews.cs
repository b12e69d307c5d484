using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Position;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Position;

/// <summary>Between the position engine's vocabulary, storage rows and the public JSON views.</summary>
public static class PositionViews
{
    public static PositionState ToState(PositionRow r) => new(
        r.TenantId, r.PositionId, r.CompanyId, r.Title, r.Department, r.Jurisdiction, WireNames.Parse<ScheduleType>(r.ScheduleType),
        r.PermissionProfileRef, r.CompensationBandRef, WireNames.Parse<PositionLifecycle>(r.Lifecycle), r.CreatedAt, r.UpdatedAt);

    public static PositionRow ToRow(PositionState s) => new(
        s.TenantId, s.PositionId, s.CompanyId, s.Title, s.Department, s.Jurisdiction, WireNames.Of(s.ScheduleType),
        s.PermissionProfileRef, s.CompensationBandRef, WireNames.Of(s.Lifecycle), 0, s.CreatedAt, s.UpdatedAt);

    /// <summary>Folds a position's schema ledger (in event order) into its versions and active version.</summary>
    public static PositionSchemas FoldSchemas(IEnumerable<SchemaLedgerRow> ledger)
    {
        var schemas = PositionSchemas.Empty;
        foreach (var r in ledger)
        {
            PositionEvent e = r.Action switch
            {
                "CREATE_DRAFT" or "UPDATE_COMMIT" => new SchemaVersionWritten("", r.PositionId, r.ActorUserId, r.CreatedAt, r.SchemaVersionId,
                    JsonSerializer.Deserialize<SchemaSelectors>(r.SelectorsJson!, StrictJson.Options)!,
                    JsonSerializer.Deserialize<FieldSpec[]>(r.FieldSpecsJson!, StrictJson.Options)!, r.ChangeReason),
                "ACTIVATE_COMMIT" => new SchemaVersionActivated("", r.PositionId, r.ActorUserId, r.CreatedAt, r.SchemaVersionId, WireNames.Parse<ApplyScope>(r.ApplyScope!)),
                _ => throw new InvalidOperationException($"schema ledger action {r.Action} is not handled"),
            };
            schemas = PositionDecider.EvolveSchemas(schemas, e);
        }
        return schemas;
    }

    public static JsonObject Position(PositionRow r) => new()
    {
        ["position_id"] = r.PositionId,
        ["company_id"] = r.CompanyId,
        ["position_title"] = r.Title,
        ["department"] = r.Department,
        ["jurisdiction"] = r.Jurisdiction,
        ["schedule_type"] = r.ScheduleType,
        ["permission_profile_ref"] = r.PermissionProfileRef,
        ["compensation_band_ref"] = r.CompensationBandRef,
        ["lifecycle_state"] = r.Lifecycle,
        ["created_at"] = new UnixNanos(r.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(r.UpdatedAt).ToString(),
    };

    public static JsonObject Company(CompanyRow r) => new()
    {
        ["company_id"] = r.CompanyId,
        ["legal_name"] = r.LegalName,
        ["jurisdiction"] = r.Jurisdiction,
        ["lifecycle_state"] = r.Lifecycle,
        ["created_at"] = new UnixNanos(r.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(r.UpdatedAt).ToString(),
    };

    public static JsonObject SchemaVersion(string positionId, SchemaVersionState v, string status, ApplyScope? applyScope)
    {
        var json = new JsonObject
        {
            ["position_id"] = positionId,
            ["schema_version_id"] = v.SchemaVersionId,
            ["status"] = status,
            ["field_count"] = v.FieldSpecs.Count,
            ["selectors"] = JsonSerializer.SerializeToNode(v.Selectors, StrictJson.Options),
            ["field_specs"] = JsonSerializer.SerializeToNode(v.FieldSpecs, StrictJson.Options),
        };
        if (applyScope is { } scope) json["apply_scope"] = WireNames.Of(scope);
        return json;
    }

    public static JsonObject ActiveSchema(ActiveSchemaRow r) => new()
    {
        ["position_id"] = r.PositionId,
        ["schema_version_id"] = r.SchemaVersionId,
        ["status"] = "ACTIVE",
        ["apply_scope"] = r.ApplyScope,
        ["selectors"] = JsonNode.Parse(r.SelectorsJson),
        ["field_specs"] = JsonNode.Parse(r.FieldSpecsJson),
        ["updated_at"] = new UnixNanos(r.UpdatedAt).ToString(),
    };
}
