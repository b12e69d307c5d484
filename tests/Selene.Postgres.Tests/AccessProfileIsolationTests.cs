using Selene.Engines.Access;
using Selene.Postgres.Stores;

namespace Selene.Postgres.Tests;

/// <summary>Rows of the access-profile tables for the storage fixtures.</summary>
internal static class AccessProfileFixtureRows
{
    /// <summary>One TENANT-scoped row in each access-profile table for the transaction's tenant (actor u1).</summary>
    public static async Task SeedTenantRowsAsync(TenantTransaction tx, string tenant) => await SeedAsync(tx, tenant, "TENANT", tenant, "ap1", "ov1");

    /// <summary>One GLOBAL row (tenant_id NULL) in each table that holds them, written by the transaction's tenant.</summary>
    public static async Task SeedGlobalRowsAsync(TenantTransaction tx, string profileId) => await SeedAsync(tx, null, "GLOBAL", "GLOBAL", profileId, null);

    private static async Task SeedAsync(TenantTransaction tx, string? tenant, string scope, string scopeKey, string profileId, string? overlayId)
    {
        // The version's review and rule actions (one stream each), and the profile stream, in the pairs of the
        // tenant or, for GLOBAL rows, under the reserved tenant key.
        EngineStore Pair(string name) => tenant is null ? new EngineStore(new StorePair(name)).Global : new EngineStore(new StorePair(name));
        var version = scope + ":" + profileId + ":1";
        var envelope = $$"""
            "scope":"{{scope}}","scope_key":"{{scopeKey}}","access_profile_id":"{{profileId}}","schema_version_id":1,"actor_user_id":"u1","at":1,"reason":"seed"
            """;
        var reviews = Pair("access_ap_authoring_review");
        var chosen = await reviews.AppendAsync(tx, new NewLedgerEvent(version, "REVIEW_CHANNEL_COMMIT", "u1", AccessReasons.AccessApReviewChannelChosen.Name,
            $$"""{{{envelope}},"channel":"PHONE_DESKTOP"}""", "7", "k1", 1), default);
        await reviews.UpsertAsync(tx, new ProjectionRow(version, "REVIEW_IN_PROGRESS",
            $$"""{{{envelope}},"channel":"PHONE_DESKTOP","state":"REVIEW_IN_PROGRESS","latest_review_event_id":{{chosen}}}""", chosen, 1), default);
        var ruleActions = Pair("access_ap_rule_review_actions");
        var agreed = await ruleActions.AppendAsync(tx, new NewLedgerEvent(version, "AGREE", "u1", AccessReasons.AccessApRuleActionRecorded.Name,
            $$"""{{{envelope}},"action":"AGREE","suggested_rule_ref":"rule.one","capability_id":null,"constraint_ref":null,"escalation_policy_ref":null}""",
            "7", "k1", 1), default);
        await ruleActions.UpsertAsync(tx, new ProjectionRow(version, "RECORDED", $$"""{{{envelope}},"rule_action_ids":[{{agreed}}]}""", agreed, 1), default);
        // One profile stream in the AP schema pair: the tenant's own, or a GLOBAL one under the reserved tenant key.
        var schemas = Pair("access_ap_schema");
        var stream = scope + ":" + profileId;
        var payload = """{"access_mode":"R","capability_allow_list":["CAPREQ_MANAGE"],"financial_auth":false,"profile_name":"Seed","derived_from_global_profile_id":null}""";
        var drafted = await schemas.AppendAsync(tx, new NewLedgerEvent(stream, "CREATE_DRAFT", "u1", AccessReasons.AccessApSchemaDrafted.Name,
            $$"""{"scope":"{{scope}}","scope_key":"{{scopeKey}}","access_profile_id":"{{profileId}}","schema_version_id":1,"actor_user_id":"u1","at":1,"reason":"seed","payload":{{payload}},"is_update":false}""",
            "7", "k1", 1), default);
        await schemas.UpsertAsync(tx, new ProjectionRow(stream, "INACTIVE",
            $$$"""{"scope":"{{{scope}}}","scope_key":"{{{scopeKey}}}","access_profile_id":"{{{profileId}}}","profile":{"versions":{"1":{"schema_version_id":1,"lifecycle":"DRAFT","payload":{{{payload}}},"last_event_at":1}},"current_version_id":null}}""",
            drafted, 1), default);
        if (overlayId is null) return;
        // One ACTIVE overlay in the engine store pair (as the overlay aggregate writes it).
        var overlays = new EngineStore(new StorePair("access_ap_overlay"));
        var ops = """[{"op":"ADD_PERMISSION","capability_id":"CAPREQ_SELF_APPROVE","constraint_ref":null,"escalation_policy_ref":null}]""";
        var written = await overlays.AppendAsync(tx, new NewLedgerEvent(overlayId, "CREATE_DRAFT", "u1", AccessReasons.AccessApOverlayUpdated.Name,
            $$"""{"event":"VERSION_WRITTEN","tenant_id":"{{tx.TenantId}}","overlay_id":"{{overlayId}}","overlay_version_id":1,"actor_user_id":"u1","at":1,"reason":"seed","ops":{{ops}},"is_update":false}""",
            "7", "k1", 1), default);
        await overlays.UpsertAsync(tx, new ProjectionRow(overlayId, "ACTIVE",
            $$$"""{"overlay_id":"{{{overlayId}}}","versions":{"1":{"overlay_version_id":1,"lifecycle":"ACTIVE","ops":{{{ops}}},"last_event_at":1}},"active_version_id":1}""",
            written, 1), default);
    }
}

/// <summary>
/// GLOBAL access profiles are platform truth shared by every tenant, next to each tenant's own rows: every tenant
/// sees GLOBAL rows and its own TENANT rows, never another tenant's; without a session tenant nothing is visible;
/// only a platform-operator tenant writes GLOBAL rows. The profile pairs keep their GLOBAL rows under the reserved
/// tenant key (<see cref="EngineStore.GlobalTenantKey"/>): AP schema versions, authoring reviews and rule actions.
/// </summary>
public sealed class AccessProfileIsolationTests(StorageFixture fixture) : IClassFixture<StorageFixture>, IAsyncLifetime
{
    private const string Global = "tenant_id = '" + EngineStore.GlobalTenantKey + "'";

    public static TheoryData<string> Shared => new(["access_ap_schema_ledger", "access_ap_schema_current", "access_ap_authoring_review_ledger",
        "access_ap_authoring_review_current", "access_ap_rule_review_actions_ledger", "access_ap_rule_review_actions_current"]);

    public async Task InitializeAsync()
    {
        await using (var tx = await TenantTransaction.BeginAsync(fixture.Db.App, "acme"))
        await using (var exists = tx.Command($"SELECT count(*) FROM selene.access_ap_schema_current WHERE {Global}"))
        {
            if ((long)(await exists.ExecuteScalarAsync())! > 0) return; // seeded by an earlier test of this class
        }
        // Only a platform operator writes GLOBAL rows: acme is one while it seeds them.
        await SetOperatorAsync("acme", true);
        try
        {
            await using var tx = await TenantTransaction.BeginAsync(fixture.Db.App, "acme");
            await AccessProfileFixtureRows.SeedGlobalRowsAsync(tx, "gp1");
            await tx.CommitAsync();
        }
        finally
        {
            await SetOperatorAsync("acme", false);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [MemberData(nameof(Shared))]
    public async Task TenantsSeeGlobalRowsAndTheirOwn_NeverAnotherTenants(string table)
    {
        const string global = Global;
        foreach (var (tenant, other) in new[] { ("acme", "globex"), ("globex", "acme") })
        {
            Assert.Equal(1, await CountAsync(tenant, table, global));
            Assert.True(await CountAsync(tenant, table, $"tenant_id = '{tenant}'") > 0, $"{tenant} sees its own {table} rows");
            Assert.Equal(0, await CountAsync(tenant, table, $"tenant_id = '{other}'"));
            Assert.Equal(0, await CountAsync(tenant, table, $"tenant_id IS DISTINCT FROM '{tenant}' AND NOT ({global})"));
        }
        Assert.Equal(1, await CountAsync("initech", table, "true")); // a tenant without rows sees just the GLOBAL one
        Assert.Equal(0, await Sql.CountAsync(fixture.Db.App, null, table)); // no session tenant: nothing
    }

    [Fact]
    public async Task ATenant_CannotWriteOrChangeAnotherTenantsProfileRows()
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", """
            INSERT INTO selene.access_ap_schema_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
            VALUES ('globex', 'TENANT:ap9', 'RETIRE', 'u1', 'ACCESS_AP_SCHEMA_OK_RETIRE_COMMIT', '{}', 9, 2)
            """);
        Assert.Equal("42501", error.SqlState); // new row violates row-level security policy

        await Sql.ExecAsync(fixture.Db.App, "acme", "UPDATE selene.access_ap_schema_current SET status = 'ACTIVE' WHERE tenant_id = 'globex'");
        await Sql.ExecAsync(fixture.Db.App, "acme", "UPDATE selene.access_ap_overlay_current SET status = 'INACTIVE' WHERE tenant_id = 'globex'");
        Assert.Equal(1, await CountAsync("globex", "access_ap_schema_current", "tenant_id = 'globex' AND status = 'INACTIVE'"));
        Assert.Equal(1, await CountAsync("globex", "access_ap_overlay_current", "status = 'ACTIVE'"));
    }

    [Fact]
    public async Task OnlyAPlatformOperator_WritesGlobalRows_AndItStillCannotWriteAnotherTenants()
    {
        var global = $"""
            INSERT INTO selene.access_ap_schema_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
            VALUES ('{EngineStore.GlobalTenantKey}', 'GLOBAL:gp9', 'CREATE_DRAFT', 'u1', 'ACCESS_AP_SCHEMA_OK_CREATE_DRAFT', '{"{}"}', 9, 2)
            """;
        var alter = $"UPDATE selene.access_ap_schema_current SET status = 'ACTIVE' WHERE {Global}";
        Assert.Equal("42501", (await Sql.FailsAsync(fixture.Db.App, "globex", global)).SqlState);
        Assert.Equal("42501", (await Sql.FailsAsync(fixture.Db.App, "globex", alter)).SqlState); // visible, yet not writable
        Assert.Equal(1, await CountAsync("globex", "access_ap_schema_current", $"{Global} AND status = 'INACTIVE'"));

        await SetOperatorAsync("globex", true);
        try
        {
            await using (var tx = await TenantTransaction.BeginAsync(fixture.Db.App, "globex"))
            {
                await using (var insert = tx.Command(global)) await insert.ExecuteNonQueryAsync();
                await using var actor = tx.Command("SELECT actor_tenant_id FROM selene.access_ap_schema_ledger WHERE stream_id = 'GLOBAL:gp9'");
                Assert.Equal("globex", await actor.ExecuteScalarAsync()); // the actor's own tenant is recorded
            } // rolled back: the operator could, the row is not kept
            var other = await Sql.FailsAsync(fixture.Db.App, "globex", """
                INSERT INTO selene.access_ap_schema_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
                VALUES ('acme', 'TENANT:ap9', 'CREATE_DRAFT', 'u1', 'ACCESS_AP_SCHEMA_OK_CREATE_DRAFT', '{}', 9, 2)
                """);
            Assert.Equal("42501", other.SqlState);
        }
        finally
        {
            await SetOperatorAsync("globex", false);
        }
    }

    [Theory]
    [InlineData("access_ap_schema")]
    [InlineData("access_ap_authoring_review")]
    [InlineData("access_ap_rule_review_actions")]
    public async Task TheDatabase_RefusesRowsWhoseScopeAndTenantDisagree(string pair)
    {
        // A GLOBAL stream only under the reserved key, a TENANT stream never there; a tenant row's actor is of that tenant.
        foreach (var (tenantId, stream, actorTenant) in new[]
                 {
                     ("acme", "GLOBAL:ap9", "acme"), (EngineStore.GlobalTenantKey, "TENANT:ap9", "acme"), ("acme", "TENANT:ap9", "globex"),
                 })
        {
            var error = await Sql.FailsAsync(fixture.Db.Owner, tenantId, $"""
                INSERT INTO selene.{pair}_ledger (tenant_id, stream_id, event_type, actor_user_id, actor_tenant_id, reason_code, payload, correlation_id, created_at)
                VALUES ('{tenantId}', '{stream}', 'X', 'u1', '{actorTenant}', 'r', '{"{}"}', 9, 2)
                """);
            Assert.Equal("23514", error.SqlState); // check_violation
        }
    }

    [Fact]
    public async Task PlatformOperator_IsAnsweredForTheSessionTenantOnly()
    {
        Assert.False(await IsOperatorAsync("acme"));
        await SetOperatorAsync("acme", true);
        try
        {
            Assert.True(await IsOperatorAsync("acme"));
            Assert.False(await IsOperatorAsync("globex"));
        }
        finally
        {
            await SetOperatorAsync("acme", false);
        }
    }

    [Fact]
    public async Task ActiveOverlays_AreTheSessionTenantsOnly()
    {
        // The self-approval fact reads the ACTIVE overlay streams: each tenant finds its own and only its own.
        var overlays = new EngineStore(new StorePair("access_ap_overlay"));
        foreach (var tenant in new[] { "acme", "globex" })
        {
            await using var tx = await TenantTransaction.BeginAsync(fixture.Db.App, tenant);
            var row = Assert.Single(await overlays.ListAsync(tx, "ACTIVE", null, 100, default));
            Assert.Equal("ov1", row.StreamId);
            Assert.Contains($"\"tenant_id\": \"{tenant}\"", Assert.Single(await overlays.LedgerAsync(tx, default)).Payload);
        }
    }

    private async Task<bool> IsOperatorAsync(string tenant)
    {
        await using var tx = await TenantTransaction.BeginAsync(fixture.Db.App, tenant);
        return await EngineStore.SessionIsPlatformOperatorAsync(tx, default);
    }

    private Task SetOperatorAsync(string tenant, bool on) =>
        Sql.ExecAsync(fixture.Db.Owner, null, $"UPDATE selene.tenants SET platform_operator = {(on ? "true" : "false")} WHERE tenant_id = '{tenant}'");

    private async Task<long> CountAsync(string tenant, string table, string where)
    {
        await using var tx = await TenantTransaction.BeginAsync(fixture.Db.App, tenant);
        await using var cmd = tx.Command($"SELECT count(*) FROM selene.{table} WHERE {where}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
