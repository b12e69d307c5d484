using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Selene.Engines.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Platform;
using Selene.Testing;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>ACCESS governance on the engine platform: its aggregates rebuild from their ledgers, and hand edits are found.</summary>
public sealed class AccessGovernanceRebuildTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private Task<ExecutionResult> PolicyAsync(string tenant, string actor, string id, int version, string action, JsonObject? payload = null)
    {
        var body = new JsonObject { ["board_policy_id"] = id, ["policy_version_id"] = version, ["event_action"] = action, ["reason"] = "rebuild test" };
        if (payload is not null) body["policy_payload"] = payload;
        return f.RunAsync(actor, GovernanceHandlers.BoardPolicyUpdate, Key("pol"), body.ToJsonString(), tenant: tenant);
    }

    private async Task DrivePoliciesAsync(string tenant, string admin, string member)
    {
        JsonObject Single() => new() { ["primitive"] = "SINGLE_APPROVER", ["members"] = new JsonArray(member) };
        (await PolicyAsync(tenant, admin, "rb-a", 1, "CREATE_DRAFT", Single())).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        (await PolicyAsync(tenant, admin, "rb-a", 1, "ACTIVATE")).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        (await PolicyAsync(tenant, admin, "rb-a", 2, "CREATE_DRAFT", Single())).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        (await PolicyAsync(tenant, admin, "rb-a", 2, "ACTIVATE")).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        (await PolicyAsync(tenant, admin, "rb-b", 1, "CREATE_DRAFT", Single())).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        (await PolicyAsync(tenant, admin, "rb-b", 1, "RETIRE")).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        Assert.Equal(AccessReasons.AccessBoardPolicyTransitionInvalid, (await PolicyAsync(tenant, admin, "rb-b", 1, "ACTIVATE")).Reason);
    }

    [Fact]
    public async Task RebuildAccess_AfterPolicyTraffic_IsIdentical_AndAHandAlteredPolicyIsFoundAndRestored()
    {
        await DrivePoliciesAsync("acme", "alice", "bob");
        await DrivePoliciesAsync("globex", "carol", "dave");
        var reports = await f.Maintenance.RebuildAsync("access", null, apply: false);
        Assert.Contains(reports, r => r.Store == "access_board_policy" && r.TenantId == "acme" && r.Rows >= 2);
        Assert.All(reports, r => Assert.True(r.Identical, $"{r.Store} {r.TenantId}: {string.Join(",", r.Differences)}"));

        // Only the document changes: the superseded version claims to be in force again.
        await f.OwnerExecAsync("globex", """
            UPDATE selene.access_board_policy_current SET doc = jsonb_set(doc, '{versions,0,lifecycle_state}', '"ACTIVE"') WHERE stream_id = 'rb-a'
            """);
        var altered = Assert.Single(await f.Maintenance.RebuildAsync("PH1.ACCESS", "globex", apply: false), r => r.Store == "access_board_policy");
        Assert.Equal(["rb-a"], altered.Differences);

        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("access", "globex", apply: true), r => r.Store == "access_board_policy").Applied);
        Assert.All(await f.Maintenance.RebuildAsync("access", "globex", apply: false), r => Assert.True(r.Identical, r.Store));
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "globex");
        var restored = (await GovernanceHandlers.Policies.GetAsync(tx, "rb-a", default))!;
        Assert.Equal((BoardPolicyStatus.Active, 2), (restored.Status, restored.ActivePolicyVersionId));
        Assert.Equal([PolicyVersionState.Retired, PolicyVersionState.Active], restored.Versions.Select(v => v.LifecycleState));
    }

    [Fact]
    public async Task PolicyUpdate_KeepsItsResultBody_AndJournalsOneStateTransitionUnderPhOneAccess()
    {
        var correlation = f.NextCorrelation();
        var body = new JsonObject
        {
            ["board_policy_id"] = "journaled", ["policy_version_id"] = 1, ["event_action"] = "CREATE_DRAFT", ["reason"] = "journal",
            ["policy_payload"] = new JsonObject { ["primitive"] = "SINGLE_APPROVER", ["members"] = new JsonArray("bob") },
        };
        var result = JsonNode.Parse((await f.RunAsync("alice", GovernanceHandlers.BoardPolicyUpdate, Key("j"), body.ToJsonString(), correlation))
            .Ok("ACCESS_BOARD_POLICY_OK_UPDATE").Body!)!.AsObject();
        // The result body is the one it was before the move: the policy, the version acted on and its state.
        Assert.True(result.ContainsKey("board_policy"));
        Assert.False(result.ContainsKey("ledger_event_id"));
        Assert.Equal((1, "DRAFT"), (result["policy_version_id"]!.GetValue<int>(), result["policy_state"]!.GetValue<string>()));
        Assert.Equal(1, await f.CountAsync("acme", "journal",
            $"correlation_id = {correlation} AND engine = 'PH1.ACCESS' AND event_type = 'STATE_TRANSITION' AND payload LIKE '%\"version_state_to\":\"DRAFT\"%'"));
        Assert.Equal(0, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND engine <> 'PH1.ACCESS' AND event_type NOT IN ('TURN_DECISION')"));
    }
}

/// <summary>Migration 0012 moves existing ACCESS governance data into standard store pairs: every row and event id kept.</summary>
public sealed class AccessGovernanceMigrationTests
{
    [Fact]
    public async Task Migrate_OldBoardPolicyTables_KeepsEveryRowAndEventIdAndFoldsToTheSameProjection()
    {
        var (name, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version < 12).ToArray());

        // As the store of migration 0006 wrote them: "board" v1 active, then v2 activated (v1 superseded); "draft" v1 a draft; "gone" v1 retired.
        const string one = """{"members":["alice"],"primitive":"SINGLE_APPROVER"}""";
        const string two = """{"members":["alice","bob"],"primitive":"UNANIMOUS_BOARD"}""";
        await using (var super = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name)))
        {
            await super.OpenAsync();
            await using var seed = new NpgsqlCommand($"""
                INSERT INTO selene.tenants VALUES ('acme', 1);
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ('acme', 'alice', 1), ('acme', 'bob', 1);
                INSERT INTO selene.access_board_policy_ledger (tenant_id, board_policy_id, policy_version_id, event_action, lifecycle_state,
                    policy_payload_json, reason, reason_code, actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', 'board', 1, 'CREATE_DRAFT', 'DRAFT', '{one}', 'r1', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'alice', 7, 'k1', 10),
                  ('acme', 'board', 1, 'ACTIVATE', 'ACTIVE', '{one}', 'r2', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'alice', 8, 'k2', 20),
                  ('acme', 'draft', 1, 'CREATE_DRAFT', 'DRAFT', '{two}', 'r3', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'bob', 9, 'k3', 30),
                  ('acme', 'board', 2, 'CREATE_DRAFT', 'DRAFT', '{two}', 'r4', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'alice', 10, 'k4', 40),
                  ('acme', 'board', 2, 'ACTIVATE', 'ACTIVE', '{two}', 'r5', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'alice', 11, 'k5', 50),
                  ('acme', 'gone', 1, 'CREATE_DRAFT', 'DRAFT', '{one}', 'r6', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'alice', 12, 'k6', 60),
                  ('acme', 'gone', 1, 'RETIRE', 'RETIRED', '{one}', 'r7', 'ACCESS_BOARD_POLICY_OK_UPDATE', 'alice', 13, 'k7', 70);
                INSERT INTO selene.access_board_policies VALUES ('acme', 'board', 2, '{two}', 5, 50);
                """, super);
            await seed.ExecuteNonQueryAsync();
        }

        Assert.Equal([12], await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version <= 12).ToArray()));

        await using var tx = await TenantTransaction.BeginAsync(source, "acme");
        var store = GovernanceHandlers.Policies.Store;
        var ledger = await store.LedgerAsync(tx, default);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], ledger.Select(e => e.EventId));
        Assert.Equal(["CREATE_DRAFT", "ACTIVATE", "CREATE_DRAFT", "CREATE_DRAFT", "ACTIVATE", "CREATE_DRAFT", "RETIRE"], ledger.Select(e => e.EventType));
        var activated = JsonSerializer.Deserialize<BoardPolicyEvent>(ledger[1].Payload, EngineJson.Options)!;
        Assert.Equal((PolicyVersionState.Draft, PolicyVersionState.Active, one, "r2"),
            (activated.VersionStateFrom!.Value, activated.LifecycleState, activated.PolicyPayloadJson, activated.Reason));

        var live = await store.AllCurrentAsync(tx, default);
        Assert.Equal(["board", "draft", "gone"], live.Select(r => r.StreamId));
        Assert.Equal(["ACTIVE", "DRAFT", "RETIRED"], live.Select(r => r.Status));
        Assert.Empty(Maintenance.Differences(GovernanceHandlers.Policies.Fold(ledger), live));
        var board = (await GovernanceHandlers.Policies.GetAsync(tx, "board", default))!;
        Assert.Equal((2, 5L, 50L), (board.ActivePolicyVersionId, board.SourceEventId, board.UpdatedAt));
        Assert.Equal([(PolicyVersionState.Retired, PolicyEventAction.Activate, 20L), (PolicyVersionState.Active, PolicyEventAction.Activate, 50L)],
            board.Versions.Select(v => (v.LifecycleState, v.LastEventAction, v.UpdatedAt)));

        // New events continue after the kept ids.
        Assert.Equal(8L, await store.AppendAsync(tx, new NewLedgerEvent("draft", "ACTIVATE", "alice", "ACCESS_BOARD_POLICY_OK_UPDATE", "{}", "14", "k8", 80), default));
    }
}
