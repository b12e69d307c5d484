using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Access;
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

    /// <param name="platformOperator">The tenant's actors may write GLOBAL access profiles (platform truth shared by every tenant).</param>
    public async Task<TenantCreation> CreateAsync(TenantId tenant, UserId admin, CancellationToken ct = default, bool platformOperator = false)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        await using var tx = await TenantTransaction.BeginAsync(db.Owner, tenant.Value, ct);
        if (!await KeyStore.CreateTenantAsync(tx, admin, platformOperator, now.Value, ct)) return new TenantCreation(false, ReasonCodes.TenantExists, null, null);

        var correlation = CorrelationId.FromDigest(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"tenant-create|{tenant.Value}|{admin.Value}")));
        // Nobody's request: the envelope is the new administrator's, under the tenant-create correlation; the tenant is
        // new in this transaction, so its instance stream is too (nothing to lock or load).
        var context = new ExecutionContext(tenant, admin, correlation, new TurnId(1), new IdempotencyKey("tenant-create"), now);
        var written = InstanceDecider.Bootstrap(tenant.Value, admin.Value, AdminRoleTemplate, now);
        var (_, eventId) = await GovernanceHandlers.Instances.WriteAsync(tx, null, written, context, AccessReasons.AccessInstanceBootstrapped, ct);
        await JournalStore.AppendAsync(tx, [new JournalEntry(correlation, new TurnId(1), AccessReasons.EngineId, GovernanceHandlers.InstanceUpsert,
            AccessReasons.AccessInstanceBootstrapped, JournalPayload.Create(
                ("access_instance_id", written.AccessInstanceId), ("tenant_id", tenant.Value), ("user_id", admin.Value), ("effective_access_mode", "X"),
                ("ledger_event_id", eventId.ToString(System.Globalization.CultureInfo.InvariantCulture))), null, null)], now.Value, ct);
        var key = KeyStore.NewKey();
        await KeyStore.InsertKeyAsync(tx, key, admin, now.Value, ct);
        await tx.CommitAsync(ct);
        return new TenantCreation(true, AccessReasons.AccessInstanceBootstrapped, key, written.AccessInstanceId);
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
    public static AccessInstanceView ToView(AccessInstanceState state)
    {
        using var baseline = JsonDocument.Parse(state.BaselinePermissionsJson);
        var root = baseline.RootElement;
        IReadOnlyList<string>? allow = root.TryGetProperty("allow", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : null;
        var financial = root.TryGetProperty("financial_auth", out var f) && f.ValueKind == JsonValueKind.True;
        return new AccessInstanceView(state.AccessInstanceId, state.TenantId, state.UserId, state.AccessMode, allow, financial, state.IdentityVerified,
            state.DeviceTrustLevel, state.LifecycleState);
    }

    /// <summary>The public JSON view of an instance (read routes and the instance simulations' results).</summary>
    public static JsonObject ToJson(AccessInstanceState s)
    {
        var json = new JsonObject
        {
            ["access_instance_id"] = s.AccessInstanceId,
            ["user_id"] = s.UserId,
            ["role_template_id"] = s.RoleTemplateId,
            ["effective_access_mode"] = WireNames.Of(s.AccessMode),
            ["baseline_permissions"] = JsonNode.Parse(s.BaselinePermissionsJson),
            ["identity_verified"] = s.IdentityVerified,
            ["verification_level"] = WireNames.Of(s.VerificationLevel),
            ["device_trust_level"] = WireNames.Of(s.DeviceTrustLevel),
            ["lifecycle_state"] = WireNames.Of(s.LifecycleState),
            ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
            ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
        };
        if (s.Lineage is { } l)
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
}
