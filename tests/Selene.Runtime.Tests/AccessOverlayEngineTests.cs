using System.Text.Json;
using Npgsql;
using Selene.Engines.Access;
using Selene.Postgres;
using Selene.Runtime.Access;
using Selene.Runtime.Platform;
using Selene.Testing;
using static Selene.Runtime.Tests.AccessProfileKit;

namespace Selene.Runtime.Tests;

/// <summary>Tenant overlays on the engine platform: the rebuild reproduces their projection and finds a hand-altered row.</summary>
public sealed class AccessOverlayEngineTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private readonly AccessProfileKit _kit = new(f);

    private const string SelfApprove = """[{"op":"ADD_PERMISSION","capability_id":"CAPREQ_SELF_APPROVE"}]""";

    private static string Overlay() => "ov-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Drafts, updates, activates, supersedes and retires overlays in both tenants, with refused moves in between.</summary>
    private async Task DriveAsync(string tenant)
    {
        var o = Overlay();
        await _kit.ActiveOverlayAsync(o, 1, SelfApprove, tenant);
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 2, "CREATE_DRAFT", SelfApprove), tenant);
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 2, "UPDATE_DRAFT", """[{"op":"TIGHTEN_CONSTRAINT","constraint_ref":"weekdays-only"}]"""), tenant);
        Assert.False((await _kit.RunAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "ACTIVATE"), tenant)).Succeeded);
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 2, "ACTIVATE"), tenant);
        var retired = Overlay();
        await _kit.ActiveOverlayAsync(retired, 1, SelfApprove, tenant);
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(retired, 1, "RETIRE"), tenant);
    }

    [Fact]
    public async Task Rebuild_AfterOverlayTraffic_ReproducesTheLiveProjection()
    {
        await DriveAsync("acme");
        await DriveAsync("globex");
        var reports = (await f.Maintenance.RebuildAsync("access", null, apply: false)).Where(r => r.Store == "access_ap_overlay").ToArray();
        Assert.Contains(reports, r => r.TenantId == "acme" && r.Rows >= 2);
        Assert.Contains(reports, r => r.TenantId == "globex" && r.Rows >= 2);
        Assert.All(reports, r => Assert.True(r.Identical, $"{r.TenantId}: {string.Join(",", r.Differences)}"));
    }

    [Fact]
    public async Task Rebuild_OverlayDocumentAlteredByHand_IsFoundAndRestored()
    {
        var o = Overlay();
        await _kit.ActiveOverlayAsync(o, 1, SelfApprove, "globex");
        // Only the document changes: the ACTIVE version's op now grants something else.
        await f.OwnerExecAsync("globex", $$"""
            UPDATE selene.access_ap_overlay_current SET doc = jsonb_set(doc, '{versions,1,ops,0,capability_id}', '"PAYROLL_APPROVE"')
            WHERE stream_id = '{{o}}'
            """);
        var altered = Assert.Single(await f.Maintenance.RebuildAsync("PH1.ACCESS", "globex", apply: false), r => r.Store == "access_ap_overlay");
        Assert.Equal([o], altered.Differences);

        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("access", "globex", apply: true), r => r.Store == "access_ap_overlay").Applied);
        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("access", "globex", apply: false), r => r.Store == "access_ap_overlay").Identical);
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "globex");
        Assert.Contains(await ProfileHandlers.ActiveOverlayOpsAsync(tx, default), op => op.OverlayId == o && op.CapabilityId == "CAPREQ_SELF_APPROVE");
    }
}

/// <summary>Migration 0013 moves existing overlays into the standard store pair: every row and event id kept.</summary>
public sealed class AccessOverlayMigrationTests
{
    [Fact]
    public async Task Migrate_OldOverlayTables_KeepsEveryRowAndEventIdAndFoldsToTheSameProjection()
    {
        var (name, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version < 13).ToArray());

        // Data as the overlay store of migration 0007 wrote it: ov1 v1 drafted, updated, activated, then superseded by
        // v2; ov2 drafted, activated and retired.
        await using (var super = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name)))
        {
            await super.OpenAsync();
            await using var seed = new NpgsqlCommand("""
                INSERT INTO selene.tenants VALUES ('acme', 1);
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ('acme', 'alice', 1);
                INSERT INTO selene.access_ap_overlay_ledger (tenant_id, overlay_id, overlay_version_id, event_action, lifecycle_state, overlay_ops_json,
                    superseded_by_version_id, reason, reason_code, simulation_id, actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', 'ov1', 1, 'CREATE_DRAFT', 'DRAFT', '[{"capability_id":"CAPREQ_MANAGE","op":"REMOVE_PERMISSION"}]', NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 1, 'k1', 10),
                  ('acme', 'ov1', 1, 'UPDATE_DRAFT', 'DRAFT', '[{"capability_id":"CAPREQ_SELF_APPROVE","op":"ADD_PERMISSION"}]', NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 2, 'k2', 20),
                  ('acme', 'ov1', 1, 'ACTIVATE', 'ACTIVE', NULL, NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 3, 'k3', 30),
                  ('acme', 'ov2', 1, 'CREATE_DRAFT', 'DRAFT', '[{"constraint_ref":"weekdays-only","op":"TIGHTEN_CONSTRAINT"}]', NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 4, NULL, 40),
                  ('acme', 'ov1', 2, 'CREATE_DRAFT', 'DRAFT', '[{"escalation_policy_ref":"board.finance","op":"SET_ESCALATION_POLICY"}]', NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 5, 'k5', 50),
                  ('acme', 'ov1', 1, 'RETIRE', 'RETIRED', NULL, 2, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 6, 'k6', 60),
                  ('acme', 'ov1', 2, 'ACTIVATE', 'ACTIVE', NULL, NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 6, 'k6', 60),
                  ('acme', 'ov2', 1, 'ACTIVATE', 'ACTIVE', NULL, NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 7, 'k7', 70),
                  ('acme', 'ov2', 1, 'RETIRE', 'RETIRED', NULL, NULL, 'r', 'ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT', 'ACCESS_AP_OVERLAY_UPDATE_COMMIT', 'alice', 8, 'k8', 80);
                INSERT INTO selene.access_ap_overlay_current VALUES
                  ('acme', 'ov1', 2, '[{"escalation_policy_ref":"board.finance","op":"SET_ESCALATION_POLICY"}]', 7, 60);
                """, super);
            await seed.ExecuteNonQueryAsync();
        }

        Assert.Equal([13], await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version <= 13).ToArray()));

        await using var tx = await TenantTransaction.BeginAsync(source, "acme");
        var store = ProfileHandlers.Overlays.Store;
        var ledger = await store.LedgerAsync(tx, default);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), ledger.Select(e => e.EventId));
        Assert.Equal(["CREATE_DRAFT", "UPDATE_DRAFT", "ACTIVATE", "CREATE_DRAFT", "CREATE_DRAFT", "RETIRE", "ACTIVATE", "ACTIVATE", "RETIRE"],
            ledger.Select(e => e.EventType));
        var superseded = JsonSerializer.Deserialize<OverlayVersionRetired>(ledger[5].Payload, EngineJson.Options)!;
        Assert.Equal((1, (int?)2, true), (superseded.OverlayVersionId, superseded.SupersededBy, superseded.WasActive));
        var explicitRetire = JsonSerializer.Deserialize<OverlayVersionRetired>(ledger[8].Payload, EngineJson.Options)!;
        Assert.Equal(((int?)null, true), (explicitRetire.SupersededBy, explicitRetire.WasActive));

        // Every overlay now has a row (ov2, retired, is INACTIVE), equal to what the fold of its ledger gives.
        var live = await store.AllCurrentAsync(tx, default);
        Assert.Equal([("ov1", "ACTIVE"), ("ov2", "INACTIVE")], live.Select(r => (r.StreamId, r.Status)));
        Assert.Empty(Maintenance.Differences(ProfileHandlers.Overlays.Fold(ledger), live));
        var ov1 = (await ProfileHandlers.Overlays.GetAsync(tx, "ov1", default))!;
        Assert.Equal((2, ApLifecycle.Retired, OverlayOpKind.AddPermission), (ov1.ActiveVersionId, ov1.Versions[1].Lifecycle, ov1.Versions[1].Ops[0].Op));
        Assert.Equal([new ActiveOverlayOp("ov1", 2, "SET_ESCALATION_POLICY", null, null, "board.finance")], await ProfileHandlers.ActiveOverlayOpsAsync(tx, default));

        // New events continue after the kept ids.
        var next = await store.AppendAsync(tx, new Selene.Postgres.Stores.NewLedgerEvent("ov2", "CREATE_DRAFT", "alice", "ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT",
            "{}", "10", "k9", 90), default);
        Assert.Equal(10L, next);
    }
}
