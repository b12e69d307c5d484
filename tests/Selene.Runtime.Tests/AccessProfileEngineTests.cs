using System.Text.Json;
using Npgsql;
using Selene.Engines.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Platform;
using Selene.Testing;
using static Selene.Runtime.Tests.AccessProfileKit;

namespace Selene.Runtime.Tests;

/// <summary>
/// AP schema versions on the engine platform: TENANT streams under their tenant, GLOBAL streams under the reserved
/// tenant key; the rebuild reproduces both and finds a hand-altered row in either.
/// </summary>
public sealed class AccessProfileEngineTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private readonly AccessProfileKit _kit = new(f);

    private static string Profile() => "ape-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>
    /// Drafts, updates, reviews (channel, two rule actions, confirmation), activates, supersedes and retires a profile in
    /// one scope, with refused moves in between.
    /// </summary>
    private async Task<string> DriveAsync(string scope, string tenant)
    {
        var p = Profile();
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, scope, Payload()), tenant);
        await _kit.OkAsync(ProfileHandlers.SchemaUpdate, SchemaBody(p, 1, scope, Payload(mode: "A")), tenant);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, VersionBody(p, 1, scope, "\"review_channel\":\"READ_OUT_LOUD\""), tenant);
        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, VersionBody(p, 1, scope, "\"rule_action\":\"AGREE\",\"suggested_rule_ref\":\"rule.one\""), tenant);
        Assert.False((await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1, scope), tenant)).Succeeded);
        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, VersionBody(p, 1, scope, "\"rule_action\":\"ADD_CUSTOM_RULE\",\"capability_id\":\"CAPREQ_MANAGE\""), tenant);
        await _kit.OkAsync(ProfileHandlers.ConfirmCommit, VersionBody(p, 1, scope, "\"authoring_confirmation_state\":\"CONFIRMED_FOR_ACTIVATION\""), tenant);
        await _kit.OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1, scope), tenant);
        Assert.False((await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1, scope), tenant)).Succeeded);
        await _kit.ActiveProfileAsync(p, 2, scope, tenant: tenant);
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 3, scope, Payload()), tenant);
        await _kit.OkAsync(ProfileHandlers.SchemaRetire, SchemaBody(p, 3, scope), tenant);
        return p;
    }

    [Fact]
    public async Task Rebuild_AfterProfileTraffic_IsIdenticalForEveryTenantAndTheGlobalKey()
    {
        await _kit.MakeAcmeOperatorAsync();
        var global = await DriveAsync("GLOBAL", "acme");
        await DriveAsync("TENANT", "acme");
        await DriveAsync("TENANT", "globex");

        foreach (var store in Stores)
        {
            var reports = (await f.Maintenance.RebuildAsync("access", null, apply: false)).Where(r => r.Store == store).ToArray();
            Assert.Contains(reports, r => r.TenantId == "acme" && r.Rows >= 1);
            Assert.Contains(reports, r => r.TenantId == "globex" && r.Rows >= 1);
            Assert.Contains(reports, r => r.TenantId == EngineStore.GlobalTenantKey && r.Rows >= 1);
            Assert.All(reports, r => Assert.True(r.Identical, $"{store} {r.TenantId}: {string.Join(",", r.Differences)}"));
        }
        // The GLOBAL key holds only the aggregates with GLOBAL streams.
        Assert.Equal(EngineModules.All.SelectMany(m => m.Aggregates).Where(a => a.HasGlobalStreams).Select(a => a.Store.Pair.Name),
            (await f.Maintenance.RebuildAsync(null, EngineStore.GlobalTenantKey, apply: false)).Select(r => r.Store));

        // The GLOBAL stream is one for every tenant: globex reads acme's version 2 as current.
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "globex");
        var stream = (await ProfileHandlers.Schemas.GetAsync(tx, ProfileDecider.StreamId(ApScope.Global, global), default))!;
        Assert.Equal((2, ApLifecycle.Retired, ApLifecycle.Retired), (stream.Profile.CurrentVersionId, stream.Profile.Versions[1].Lifecycle, stream.Profile.Versions[3].Lifecycle));
    }

    [Fact]
    public async Task ReadRoutes_ListTheCurrentGlobalAndOwnVersions_AndShowEveryVersionWithItsReview()
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Profile();
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL");
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, "TENANT", Payload(name: "Own")), "globex");
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, VersionBody(p, 1, "TENANT", "\"review_channel\":\"PHONE_DESKTOP\""), "globex");
        var rule = await _kit.OkAsync(ProfileHandlers.RuleActionCommit, VersionBody(p, 1, "TENANT", "\"rule_action\":\"AGREE\",\"suggested_rule_ref\":\"rule.one\""), "globex");
        var latestReview = Json(rule, "authoring_review", "latest_review_event_id").GetInt64();

        // globex lists the GLOBAL current version (its own is only a draft), in the list's shape.
        var list = await ReadAsync("ListAccessProfiles", "globex", new Dictionary<string, string>());
        var listed = Assert.Single(list["access_profiles"]!.AsArray(), e => e!["access_profile_id"]!.GetValue<string>() == p)!.AsObject();
        Assert.Equal(["access_profile_id", "lifecycle_state", "profile_payload", "schema_version_id", "scope", "scope_key", "updated_at"],
            listed.Select(m => m.Key).Order(StringComparer.Ordinal));
        Assert.Equal(("GLOBAL", "GLOBAL", 1, "ACTIVE", "Warehouse lead"), (listed["scope"]!.GetValue<string>(), listed["scope_key"]!.GetValue<string>(),
            listed["schema_version_id"]!.GetValue<int>(), listed["lifecycle_state"]!.GetValue<string>(), listed["profile_payload"]!["profile_name"]!.GetValue<string>()));

        // The detail: the GLOBAL version, then globex's own draft with its review (one rule action).
        var detail = (await ReadAsync("GetAccessProfile", "globex", new Dictionary<string, string> { ["access_profile_id"] = p }))["access_profile"]!;
        var versions = detail["versions"]!.AsArray();
        Assert.Equal([("GLOBAL", "ACTIVE", true), ("TENANT", "DRAFT", false)], versions.Select(v =>
            (v!["scope"]!.GetValue<string>(), v["lifecycle_state"]!.GetValue<string>(), v["is_current"]!.GetValue<bool>())));
        Assert.Null(versions[0]!["authoring_review"]);
        var review = versions[1]!["authoring_review"]!;
        Assert.Equal(("REVIEW_IN_PROGRESS", 1, latestReview, "PHONE_DESKTOP"), (review["confirmation_state"]!.GetValue<string>(),
            review["rule_action_count"]!.GetValue<int>(), review["latest_review_event_id"]!.GetValue<long>(), review["review_channel"]!.GetValue<string>()));
        // acme sees the GLOBAL version only: globex's draft is globex's.
        var acme = (await ReadAsync("GetAccessProfile", "acme", new Dictionary<string, string> { ["access_profile_id"] = p }))["access_profile"]!;
        Assert.Equal("GLOBAL", Assert.Single(acme["versions"]!.AsArray())!["scope"]!.GetValue<string>());
    }

    private async Task<System.Text.Json.Nodes.JsonObject> ReadAsync(string route, string tenant, Dictionary<string, string> values)
    {
        var result = await ProfileHandlers.Routes.Single(r => r.Name == route).Query(new ReadRequest(f.Db, new TenantId(tenant), values, new Dictionary<string, string>(), new UnixNanos(1)), default);
        return Assert.IsType<ReadResult.Ok>(result).Body;
    }

    private static readonly string[] Stores = ["access_ap_schema", "access_ap_authoring_review", "access_ap_rule_review_actions"];

    [Theory]
    [InlineData("TENANT", "globex")]
    [InlineData("GLOBAL", EngineStore.GlobalTenantKey)]
    public async Task Rebuild_ReviewAndRuleActionRowsAlteredByHand_AreFoundAndRestored(string scope, string tenantKey)
    {
        await _kit.MakeAcmeOperatorAsync();
        var tenant = scope == "GLOBAL" ? "acme" : "globex";
        var p = Profile();
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, scope, Payload()), tenant);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, VersionBody(p, 1, scope, "\"review_channel\":\"PHONE_DESKTOP\""), tenant);
        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, VersionBody(p, 1, scope, "\"rule_action\":\"AGREE\",\"suggested_rule_ref\":\"rule.one\""), tenant);
        var version = ProfileDecider.VersionStreamId(scope == "GLOBAL" ? ApScope.Global : ApScope.Tenant, p, 1);
        // Only the documents change: the review says confirmed, the rule actions name an id that is not theirs.
        await f.OwnerExecAsync(tenantKey, $$"""
            UPDATE selene.access_ap_authoring_review_current SET doc = jsonb_set(doc, '{state}', '"CONFIRMED_FOR_ACTIVATION"')
            WHERE tenant_id = '{{tenantKey}}' AND stream_id = '{{version}}';
            UPDATE selene.access_ap_rule_review_actions_current SET doc = jsonb_set(doc, '{rule_action_ids}', '[1, 2]')
            WHERE tenant_id = '{{tenantKey}}' AND stream_id = '{{version}}';
            """);
        var reports = await f.Maintenance.RebuildAsync("access", tenantKey, apply: false);
        Assert.Equal([version], Assert.Single(reports, r => r.Store == "access_ap_authoring_review").Differences);
        Assert.Equal([version], Assert.Single(reports, r => r.Store == "access_ap_rule_review_actions").Differences);

        Assert.All(await f.Maintenance.RebuildAsync("access", tenantKey, apply: true), r => Assert.True(r.Applied));
        Assert.All(await f.Maintenance.RebuildAsync("access", tenantKey, apply: false), r => Assert.True(r.Identical, $"{r.Store}: {string.Join(",", r.Differences)}"));
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "globex");
        var review = ProfileDecider.ReviewOf(await ProfileHandlers.Reviews.GetAsync(tx, version, default), await ProfileHandlers.RuleActions.GetAsync(tx, version, default))!;
        Assert.Equal(ConfirmationState.ReviewInProgress, review.State);
        Assert.Single(review.RuleActionIds);
    }

    [Theory]
    [InlineData("TENANT", "globex")]
    [InlineData("GLOBAL", EngineStore.GlobalTenantKey)]
    public async Task Rebuild_ProfileDocumentAlteredByHand_IsFoundAndRestored(string scope, string tenantKey)
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Profile();
        await _kit.ActiveProfileAsync(p, 1, scope, tenant: scope == "GLOBAL" ? "acme" : "globex");
        var stream = ProfileDecider.StreamId(scope == "GLOBAL" ? ApScope.Global : ApScope.Tenant, p);
        // Only the document changes: the current version now grants everything.
        await f.OwnerExecAsync(tenantKey, $$"""
            UPDATE selene.access_ap_schema_current SET doc = jsonb_set(doc, '{profile,versions,1,payload,capability_allow_list}', '["*"]')
            WHERE tenant_id = '{{tenantKey}}' AND stream_id = '{{stream}}'
            """);
        var altered = Assert.Single(await f.Maintenance.RebuildAsync("PH1.ACCESS", tenantKey, apply: false), r => r.Store == "access_ap_schema");
        Assert.Equal([stream], altered.Differences);

        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("access", tenantKey, apply: true), r => r.Store == "access_ap_schema").Applied);
        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("access", tenantKey, apply: false), r => r.Store == "access_ap_schema").Identical);
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "globex");
        var restored = (await ProfileHandlers.Schemas.GetAsync(tx, stream, default))!;
        Assert.Equal(["CAPREQ_MANAGE", "POSITION_MANAGE"], restored.Profile.Versions[1].Payload.CapabilityAllowList);
        // The applied rebuild is on record in the chain of the key it rebuilt.
        Assert.True(await f.CountAsync(tenantKey, "journal", "event_type = 'PROJECTION_REBUILT' AND payload LIKE '%access_ap_schema%'") >= 1);
    }
}

/// <summary>Migration 0015 moves existing AP schema versions into the standard store pair: every row and event id kept, GLOBAL ones under the reserved key.</summary>
public sealed class AccessProfileMigrationTests
{
    [Fact]
    public async Task Migrate_OldSchemaTables_KeepsEveryRowAndEventIdAndFoldsToTheSameProjection()
    {
        var (name, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version < 15).ToArray());

        // Data as the profile store of migration 0007 wrote it: a GLOBAL profile gp (v1 activated under a review,
        // then superseded by v2) written by the operator tenant opco; acme's own ap (v1 drafted, updated, activated,
        // retired); globex's own ap (a draft).
        await using (var super = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name)))
        {
            await super.OpenAsync();
            await using var seed = new NpgsqlCommand("""
                INSERT INTO selene.tenants (tenant_id, created_at, platform_operator) VALUES ('opco', 1, true), ('acme', 1, false), ('globex', 1, false);
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ('opco', 'root', 1), ('acme', 'alice', 1), ('globex', 'carol', 1);
                INSERT INTO selene.access_ap_authoring_review_ledger (tenant_id, scope, scope_key, access_profile_id, schema_version_id, event_kind,
                    review_channel, confirmation_state, reason, reason_code, simulation_id, actor_tenant_id, actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'REVIEW_CHANNEL_COMMIT', 'PHONE_DESKTOP', 'REVIEW_IN_PROGRESS', 'r', 'x', 's', 'opco', 'root', 1, 'r1', 2),
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'CONFIRMATION_COMMIT', 'PHONE_DESKTOP', 'CONFIRMED_FOR_ACTIVATION', 'r', 'x', 's', 'opco', 'root', 1, 'r2', 5),
                  ('globex', 'TENANT', 'globex', 'ap', 1, 'CONFIRMATION_COMMIT', NULL, 'DECLINED', 'r', 'x', 's', 'globex', 'carol', 1, 'r1', 95);
                INSERT INTO selene.access_ap_rule_review_actions_ledger (tenant_id, scope, scope_key, access_profile_id, schema_version_id, rule_action,
                    suggested_rule_ref, capability_id, constraint_ref, escalation_policy_ref, reason, reason_code, simulation_id, actor_tenant_id, actor_user_id,
                    correlation_id, idempotency_key, created_at) VALUES
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'AGREE', 'rule.one', NULL, NULL, NULL, 'r', 'x', 's', 'opco', 'root', 1, 'a1', 3),
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'ADD_CUSTOM_RULE', NULL, 'CAPREQ_MANAGE', 'weekdays-only', NULL, 'r', 'x', 's', 'opco', 'root', 1, 'a2', 4);
                INSERT INTO selene.access_ap_authoring_review_current VALUES
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'PHONE_DESKTOP', 'CONFIRMED_FOR_ACTIVATION', 2, 2, 5),
                  ('globex', 'TENANT', 'globex', 'ap', 1, NULL, 'DECLINED', 0, 3, 95);
                INSERT INTO selene.access_ap_schema_ledger (tenant_id, scope, scope_key, access_profile_id, schema_version_id, event_action, lifecycle_state,
                    profile_payload_json, superseded_by_version_id, activation_review_event_id, activation_rule_action_count, activation_rule_action_set_ref,
                    reason, reason_code, simulation_id, actor_tenant_id, actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'CREATE_DRAFT', 'DRAFT', '{"access_mode":"R","capability_allow_list":["CAPREQ_MANAGE"],"financial_auth":false,"profile_name":"G"}',
                      NULL, NULL, NULL, NULL, 'r', 'ACCESS_AP_SCHEMA_OK_CREATE_DRAFT', 'ACCESS_AP_SCHEMA_CREATE_DRAFT', 'opco', 'root', 1, 'k1', 10),
                  ('acme', 'TENANT', 'acme', 'ap', 1, 'CREATE_DRAFT', 'DRAFT', '{"access_mode":"W","capability_allow_list":["*"],"financial_auth":false,"profile_name":"A","derived_from_global_profile_id":"gp"}',
                      NULL, NULL, NULL, NULL, 'r', 'ACCESS_AP_SCHEMA_OK_CREATE_DRAFT', 'ACCESS_AP_SCHEMA_CREATE_DRAFT', 'acme', 'alice', 2, 'k1', 20),
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'ACTIVATE', 'ACTIVE', NULL, NULL, 2, 2, 'ras_0123456789abcdef0123456789abcdef',
                      'r', 'ACCESS_AP_SCHEMA_OK_ACTIVATE_COMMIT', 'ACCESS_AP_SCHEMA_ACTIVATE_COMMIT', 'opco', 'root', 3, 'k3', 30),
                  ('acme', 'TENANT', 'acme', 'ap', 1, 'UPDATE_DRAFT', 'DRAFT', '{"access_mode":"A","capability_allow_list":["CAPREQ_MANAGE"],"financial_auth":true,"profile_name":"A"}',
                      NULL, NULL, NULL, NULL, 'r', 'ACCESS_AP_SCHEMA_OK_UPDATE_COMMIT', 'ACCESS_AP_SCHEMA_UPDATE_COMMIT', 'acme', 'alice', 4, 'k4', 40),
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 2, 'CREATE_DRAFT', 'DRAFT', '{"access_mode":"W","capability_allow_list":["CAPREQ_MANAGE"],"financial_auth":false,"profile_name":"G2"}',
                      NULL, NULL, NULL, NULL, 'r', 'ACCESS_AP_SCHEMA_OK_CREATE_DRAFT', 'ACCESS_AP_SCHEMA_CREATE_DRAFT', 'opco', 'root', 5, 'k5', 50),
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 1, 'RETIRE', 'RETIRED', NULL, 2, NULL, NULL, NULL,
                      'r', 'ACCESS_AP_SCHEMA_OK_ACTIVATE_COMMIT', 'ACCESS_AP_SCHEMA_ACTIVATE_COMMIT', 'opco', 'root', 6, 'k6', 60),
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 2, 'ACTIVATE', 'ACTIVE', NULL, NULL, NULL, NULL, NULL,
                      'r', 'ACCESS_AP_SCHEMA_OK_ACTIVATE_COMMIT', 'ACCESS_AP_SCHEMA_ACTIVATE_COMMIT', 'opco', 'root', 6, 'k6', 60),
                  ('acme', 'TENANT', 'acme', 'ap', 1, 'ACTIVATE', 'ACTIVE', NULL, NULL, NULL, NULL, NULL,
                      'r', 'ACCESS_AP_SCHEMA_OK_ACTIVATE_COMMIT', 'ACCESS_AP_SCHEMA_ACTIVATE_COMMIT', 'acme', 'alice', 7, 'k7', 70),
                  ('acme', 'TENANT', 'acme', 'ap', 1, 'RETIRE', 'RETIRED', NULL, NULL, NULL, NULL, NULL,
                      'r', 'ACCESS_AP_SCHEMA_OK_RETIRE_COMMIT', 'ACCESS_AP_SCHEMA_RETIRE_COMMIT', 'acme', 'alice', 8, 'k8', 80),
                  ('globex', 'TENANT', 'globex', 'ap', 1, 'CREATE_DRAFT', 'DRAFT', '{"access_mode":"R","capability_allow_list":["CAPREQ_MANAGE"],"financial_auth":false,"profile_name":"X"}',
                      NULL, NULL, NULL, NULL, 'r', 'ACCESS_AP_SCHEMA_OK_CREATE_DRAFT', 'ACCESS_AP_SCHEMA_CREATE_DRAFT', 'globex', 'carol', 9, 'k1', 90);
                INSERT INTO selene.access_ap_schema_current VALUES
                  (NULL, 'GLOBAL', 'GLOBAL', 'gp', 2, '{"access_mode":"W","capability_allow_list":["CAPREQ_MANAGE"],"financial_auth":false,"profile_name":"G2"}', 7, 60);
                """, super);
            await seed.ExecuteNonQueryAsync();
        }

        Assert.Equal([15], await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version <= 15).ToArray()));

        var store = ProfileHandlers.Schemas.Store;
        var ledgers = new Dictionary<string, IReadOnlyList<LedgerEvent>>();
        foreach (var key in new[] { EngineStore.GlobalTenantKey, "acme", "globex" })
        {
            await using var tx = await TenantTransaction.BeginAsync(source, key);
            ledgers[key] = await store.LedgerAsync(tx, default);
            // Each key's projection, in each of the three pairs, is exactly what the fold of its ledger gives.
            foreach (var aggregate in new IAggregate[] { ProfileHandlers.Schemas, ProfileHandlers.Reviews, ProfileHandlers.RuleActions })
                Assert.Empty(Maintenance.Differences(aggregate.Fold(await aggregate.Store.LedgerAsync(tx, default)), await aggregate.Store.AllCurrentAsync(tx, default)));
        }
        Assert.Equal([1L, 3, 5, 6, 7], ledgers[EngineStore.GlobalTenantKey].Select(e => e.EventId));
        Assert.Equal([2L, 4, 8, 9], ledgers["acme"].Select(e => e.EventId));
        Assert.Equal([10L], ledgers["globex"].Select(e => e.EventId));
        Assert.Equal(["CREATE_DRAFT", "ACTIVATE", "CREATE_DRAFT", "RETIRE", "ACTIVATE"], ledgers[EngineStore.GlobalTenantKey].Select(e => e.EventType));
        Assert.All(ledgers[EngineStore.GlobalTenantKey], e => Assert.Equal("GLOBAL:gp", e.StreamId));
        Assert.All(ledgers["acme"], e => Assert.Equal("TENANT:ap", e.StreamId));

        var activation = JsonSerializer.Deserialize<ApVersionActivated>(ledgers[EngineStore.GlobalTenantKey][1].Payload, EngineJson.Options)!;
        Assert.Equal(new ApActivationLineage(2, 2, "ras_0123456789abcdef0123456789abcdef"), activation.Lineage);
        var superseded = JsonSerializer.Deserialize<ApVersionRetired>(ledgers[EngineStore.GlobalTenantKey][3].Payload, EngineJson.Options)!;
        Assert.Equal((1, (int?)2, true), (superseded.SchemaVersionId, superseded.SupersededBy, superseded.WasCurrent));
        var explicitRetire = JsonSerializer.Deserialize<ApVersionRetired>(ledgers["acme"][3].Payload, EngineJson.Options)!;
        Assert.Equal(((int?)null, true), (explicitRetire.SupersededBy, explicitRetire.WasCurrent));

        // Reviews and rule actions keep the ids of their own ledgers: what the activation lineage names and hashes.
        await using (var tx = await TenantTransaction.BeginAsync(source, "globex"))
        {
            Assert.Equal([(1L, "REVIEW_CHANNEL_COMMIT"), (2L, "CONFIRMATION_COMMIT")],
                (await ProfileHandlers.Reviews.Store.Global.LedgerAsync(tx, default)).Select(e => (e.EventId, e.EventType)));
            Assert.Equal([(1L, "AGREE"), (2L, "ADD_CUSTOM_RULE")],
                (await ProfileHandlers.RuleActions.Store.Global.LedgerAsync(tx, default)).Select(e => (e.EventId, e.EventType)));
            var review = ProfileDecider.ReviewOf(await ProfileHandlers.Reviews.GetAsync(tx, "GLOBAL:gp:1", default),
                await ProfileHandlers.RuleActions.GetAsync(tx, "GLOBAL:gp:1", default))!;
            Assert.Equal(new ApReviewState(ReviewChannel.PhoneDesktop, ConfirmationState.ConfirmedForActivation, 2, review.RuleActionIds), review);
            Assert.Equal([1L, 2L], review.RuleActionIds);
            var custom = JsonSerializer.Deserialize<ApRuleActionRecorded>((await ProfileHandlers.RuleActions.Store.Global.LedgerAsync(tx, default))[1].Payload, EngineJson.Options)!;
            Assert.Equal((RuleAction.AddCustomRule, "CAPREQ_MANAGE", "weekdays-only", (string?)null), (custom.Action, custom.CapabilityId, custom.ConstraintRef, custom.SuggestedRuleRef));
            // A review declined before any channel: no channel, DECLINED, its own id.
            var declined = (await ProfileHandlers.Reviews.GetAsync(tx, "TENANT:ap:1", default))!;
            Assert.Equal(((ReviewChannel?)null, ConfirmationState.Declined, 3L), (declined.Channel, declined.State, declined.LatestReviewEventId));
        }

        // globex reads the GLOBAL profile (the operator's) and its own draft; acme's retired profile is INACTIVE.
        await using (var tx = await TenantTransaction.BeginAsync(source, "globex"))
        {
            var gp = (await ProfileHandlers.Schemas.GetAsync(tx, "GLOBAL:gp", default))!;
            Assert.Equal((ApScope.Global, "GLOBAL", 2, "G2"), (gp.Scope, gp.ScopeKey, gp.Profile.CurrentVersionId!.Value, gp.Profile.Versions[2].Payload.ProfileName));
            var own = (await ProfileHandlers.Schemas.GetAsync(tx, "TENANT:ap", default))!;
            Assert.Equal(("globex", ApLifecycle.Draft, (int?)null), (own.ScopeKey, own.Profile.Versions[1].Lifecycle, own.Profile.CurrentVersionId));
        }
        await using (var tx = await TenantTransaction.BeginAsync(source, "acme"))
        {
            var ap = (await ProfileHandlers.Schemas.GetAsync(tx, "TENANT:ap", default))!;
            Assert.Equal((ApLifecycle.Retired, AccessMode.A), (ap.Profile.Versions[1].Lifecycle, ap.Profile.Versions[1].Payload.AccessMode));
            Assert.Null(ap.Profile.Versions[1].Payload.DerivedFromGlobalProfileId); // the update's payload, which names none
            Assert.Equal("INACTIVE", (await store.GetAsync(tx, "TENANT:ap", default))!.Status);
        }

        // The actor's own tenant is kept; new GLOBAL events continue after the kept ids.
        await using (var check = NpgsqlDataSource.Create(await TestCluster.SuperuserConnectionStringAsync(name)))
        await using (var cmd = check.CreateCommand("SELECT string_agg(DISTINCT actor_tenant_id, ',') FROM selene.access_ap_schema_ledger WHERE tenant_id = '@global'"))
            Assert.Equal("opco", await cmd.ExecuteScalarAsync());
        await using (var tx = await TenantTransaction.BeginAsync(source, "opco"))
        {
            var next = await store.Global.AppendAsync(tx, new NewLedgerEvent("GLOBAL:gp", "CREATE_DRAFT", "root", "ACCESS_AP_SCHEMA_OK_CREATE_DRAFT", "{}", "11", "k9", 100), default);
            Assert.Equal(11L, next);
        }
    }
}
