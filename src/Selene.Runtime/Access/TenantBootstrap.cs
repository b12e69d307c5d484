using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Access;

/// <summary>The outcome of creating a tenant: its first administrator's API key, or why not.</summary>
public sealed record TenantCreation(bool Created, ReasonCode Reason, string? AdminKey, string? AccessInstanceId);

/// <summary>
/// The only bootstrap path (issue 3): creates the tenant, its first administrator's identity and an ACTIVE access
/// instance with full authority (mode X, every action, financial authorization, verified, trusted device), journals
/// it, and returns an API key. Everything after this goes through simulations.
/// </summary>
public sealed class TenantBootstrap(SeleneDatabase db, TimeProvider clock)
{
    public const string AdminRoleTemplate = "tenant_admin";

    public static string AccessInstanceId(string tenantId, string userId) => "ai_" + Hashing.ShortHash(16, tenantId, userId);

    /// <param name="platformOperator">The tenant's actors may write GLOBAL access profiles (platform truth shared by every tenant).</param>
    public async Task<TenantCreation> CreateAsync(TenantId tenant, UserId admin, CancellationToken ct = default, bool platformOperator = false)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow()).Value;
        await using var tx = await TenantTransaction.BeginAsync(db.Owner, tenant.Value, ct);
        if (!await KeyStore.CreateTenantAsync(tx, admin, platformOperator, now, ct)) return new TenantCreation(false, ReasonCodes.TenantExists, null, null);

        var instanceId = AccessInstanceId(tenant.Value, admin.Value);
        var correlation = CorrelationId.FromDigest(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"tenant-create|{tenant.Value}|{admin.Value}")));
        var baseline = CanonicalJson.SerializeToString(new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["allow"] = new[] { "*" },
            ["financial_auth"] = true,
        });
        var eventId = await AccessStore.WriteInstanceAsync(tx, new AccessInstanceRow(tenant.Value, instanceId, admin.Value, AdminRoleTemplate, "X", baseline,
            IdentityVerified: true, "STEP_UP", "DTL4", "ACTIVE", 0, now, now), "BOOTSTRAP_ADMIN", ReasonCodes.AccessInstanceBootstrapped.Name,
            null, null, correlation.ToString(), null, ct);
        await JournalStore.AppendAsync(tx, [new JournalEntry(correlation, new TurnId(1), ReasonCodes.EngineAccess, "ACCESS_INSTANCE_UPSERT_COMMIT",
            ReasonCodes.AccessInstanceBootstrapped, JournalPayload.Create(
                ("access_instance_id", instanceId), ("tenant_id", tenant.Value), ("user_id", admin.Value), ("effective_access_mode", "X"),
                ("ledger_event_id", eventId.ToString(System.Globalization.CultureInfo.InvariantCulture))), null, null)], now, ct);
        var key = KeyStore.NewKey();
        await KeyStore.InsertKeyAsync(tx, key, admin, now, ct);
        await tx.CommitAsync(ct);
        return new TenantCreation(true, ReasonCodes.AccessInstanceBootstrapped, key, instanceId);
    }
}

/// <summary>Runs the ACCESS gate for a user of a tenant against stored truth: the instance and its overrides in force (read-only; ONE_SHOT overrides belong to their request and do not count here).</summary>
public sealed class AccessCheck(SeleneDatabase db, TimeProvider clock)
{
    public async Task<AccessGateDecision> CheckAsync(TenantId tenant, UserId user, string requestedAction, AccessMode mode,
        DeviceTrustLevel callerDevice = DeviceTrustLevel.Dtl4, bool sensitive = false, CancellationToken ct = default)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        var (instance, overrides) = await ExecutorGate.LoadAsync(tx, user.Value, caseId: null, now, ct);
        return AccessGate.Decide(new AccessGateRequest(user.Value, instance, overrides, requestedAction, mode, callerDevice, sensitive, now));
    }

    /// <summary>The gate's view of a stored instance; baseline JSON {"allow": [...], "financial_auth": bool}.</summary>
    public static AccessInstanceView ToView(AccessInstanceRow row)
    {
        using var baseline = JsonDocument.Parse(row.BaselinePermissionsJson);
        var root = baseline.RootElement;
        IReadOnlyList<string>? allow = root.TryGetProperty("allow", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : null;
        var financial = root.TryGetProperty("financial_auth", out var f) && f.ValueKind == JsonValueKind.True;
        return new AccessInstanceView(row.AccessInstanceId, row.TenantId, row.UserId, WireNames.Parse<AccessMode>(row.AccessMode), allow, financial,
            row.IdentityVerified, WireNames.Parse<DeviceTrustLevel>(row.DeviceTrustLevel), WireNames.Parse<AccessLifecycle>(row.Lifecycle));
    }

    public static JsonObject ToJson(AccessInstanceRow r)
    {
        var json = Json(r);
        if (r.Lineage is { } l)
        {
            // The compiled lineage (ACCESS_INSTANCE_COMPILE_COMMIT); null members are left out like everywhere else.
            json["compiled_global_profile_id"] = l.GlobalProfileId;
            json["compiled_global_profile_version"] = l.GlobalProfileVersion;
            if (l.TenantProfileId is not null) json["compiled_tenant_profile_id"] = l.TenantProfileId;
            if (l.TenantProfileVersion is { } tv) json["compiled_tenant_profile_version"] = tv;
            if (l.OverlaySetRef is not null) json["compiled_overlay_set_ref"] = l.OverlaySetRef;
            if (l.PositionId is not null) json["compiled_position_id"] = l.PositionId;
        }
        return json;
    }

    private static JsonObject Json(AccessInstanceRow r) => new()
    {
        ["access_instance_id"] = r.AccessInstanceId,
        ["user_id"] = r.UserId,
        ["role_template_id"] = r.RoleTemplateId,
        ["effective_access_mode"] = r.AccessMode,
        ["baseline_permissions"] = JsonNode.Parse(r.BaselinePermissionsJson),
        ["identity_verified"] = r.IdentityVerified,
        ["verification_level"] = r.VerificationLevel,
        ["device_trust_level"] = r.DeviceTrustLevel,
        ["lifecycle_state"] = r.Lifecycle,
        ["created_at"] = new UnixNanos(r.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(r.UpdatedAt).ToString(),
    };
}
