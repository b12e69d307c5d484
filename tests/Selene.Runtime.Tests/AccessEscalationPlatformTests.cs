using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Selene.Engines.Access;
using Selene.Engines.CapReq;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Platform;
using Selene.Testing;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// Overrides, escalation cases and board votes on the engine platform: after real traffic (a case opened by the gate,
/// decided by a board, another answered by an override, a grant revoked) the projections rebuild identical from their
/// ledgers, and a hand-altered row of each pair is found and restored.
/// </summary>
public sealed class AccessEscalationRebuildTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private static JsonNode Json(ExecutionResult result) => JsonNode.Parse(result.Body!)!;

    private async Task<string> RefusedCaseAsync(string user)
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("cap." + Guid.NewGuid().ToString("N")[..8])));
        (await f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id))).Ok("CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        var refused = await f.RunAsync(user, CapreqSimulations.Approve, Key("approve"), IdBody(id));
        Assert.Equal(ReasonCodes.AccessApRequired, refused.Reason);
        return refused.Problem!["escalation_case_id"]!.GetValue<string>();
    }

    private Task<ExecutionResult> VoteAsync(string voter, string caseId, string value) =>
        f.RunAsync(voter, GovernanceHandlers.BoardVote, Key("vote"), new JsonObject
        {
            ["escalation_case_id"] = caseId, ["board_policy_id"] = "rb-board", ["vote_value"] = value, ["reason"] = "rebuild test",
        }.ToJsonString());

    [Fact]
    public async Task RebuildAccess_AfterCaseVoteAndOverrideTraffic_IsIdentical_AndHandAlteredRowsAreFoundAndRestored()
    {
        foreach (var v in new[] { "rv1", "rv2" }) await f.GiveInstanceAsync("alice", v, "board_member", "W", ["ACCESS_ESCALATION_VOTE"]);
        await f.GiveInstanceAsync("alice", "rerin", "clerk_write", "W", ["CAPREQ_MANAGE"]);
        foreach (var (version, action) in new[] { (1, "CREATE_DRAFT"), (1, "ACTIVATE") })
        {
            var body = new JsonObject { ["board_policy_id"] = "rb-board", ["policy_version_id"] = version, ["event_action"] = action, ["reason"] = "setup" };
            if (action == "CREATE_DRAFT")
                body["policy_payload"] = new JsonObject { ["primitive"] = "UNANIMOUS_BOARD", ["members"] = new JsonArray("rv1", "rv2") };
            (await f.RunAsync("alice", GovernanceHandlers.BoardPolicyUpdate, Key("pol"), body.ToJsonString())).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        }

        // A board decides one case (a vote, then the vote that approves it with a ONE_SHOT override)...
        var boardCase = await RefusedCaseAsync("rerin");
        Assert.Equal("PENDING", Json((await VoteAsync("rv1", boardCase, "APPROVE")).Ok("ACCESS_BOARD_VOTE_OK"))["threshold_status"]!.GetValue<string>());
        var decisive = Json((await VoteAsync("rv2", boardCase, "APPROVE")).Ok("ACCESS_BOARD_VOTE_OK"));
        Assert.Equal("APPROVED", decisive["escalation_case"]!["status"]!.GetValue<string>());
        var voteRowId = decisive["vote_row_id"]!.GetValue<long>();
        // ...the vote row id is the vote's ledger event id.
        Assert.Equal(1, await f.CountAsync("acme", "access_board_votes_ledger", $"event_id = {voteRowId} AND stream_id = '{boardCase}'"));

        // ...an approver answers another with a TEMPORARY grant that names it, and a PERMANENT grant is revoked.
        var overrideCase = await RefusedCaseAsync("rerin");
        (await f.RunAsync("alice", GovernanceHandlers.TempGrant, Key("g"), new JsonObject
        {
            ["target_user_id"] = "rerin", ["override_scope"] = "CAPREQ_MANAGE", ["grant_mode"] = "A", ["reason"] = "an hour",
            ["duration_ms"] = 3_600_000, ["escalation_case_id"] = overrideCase,
        }.ToJsonString())).Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");
        var perm = Json((await f.RunAsync("alice", GovernanceHandlers.PermGrant, Key("g"), new JsonObject
        {
            ["target_user_id"] = "rerin", ["override_scope"] = "POSITION_MANAGE", ["grant_mode"] = "W", ["reason"] = "for a while",
        }.ToJsonString())).Ok("ACCESS_OVERRIDE_OK_PERM_GRANT"));
        (await f.RunAsync("alice", GovernanceHandlers.Revoke, Key("r"), new JsonObject
        {
            ["target_user_id"] = "rerin", ["override_id"] = perm["override"]!["override_id"]!.GetValue<string>(), ["reason"] = "done",
        }.ToJsonString())).Ok("ACCESS_OVERRIDE_OK_REVOKE");
        await Give("rerin2");
        var openCase = await RefusedCaseAsync("rerin2");

        var reports = await f.Maintenance.RebuildAsync("access", "acme", apply: false);
        foreach (var store in new[] { "access_override", "access_escalation_case", "access_board_votes" })
            Assert.Contains(reports, r => r.Store == store && r.Rows >= 1);
        Assert.All(reports, r => Assert.True(r.Identical, $"{r.Store} {r.TenantId}: {string.Join(",", r.Differences)}"));

        // One hand edit per pair: the revoked override claims to be in force, the open case claims approval, a vote changes sides.
        var revokedId = perm["override"]!["override_id"]!.GetValue<string>();
        await f.OwnerExecAsync("acme", $$"""
            UPDATE selene.access_override_current SET doc = jsonb_set(doc, '{status}', '"ACTIVE"'), status = 'ACTIVE' WHERE stream_id = '{{revokedId}}';
            UPDATE selene.access_escalation_case_current SET doc = jsonb_set(doc, '{status}', '"APPROVED"') WHERE stream_id = '{{openCase}}';
            UPDATE selene.access_board_votes_current SET doc = jsonb_set(doc, '{votes,0,vote_value}', '"REJECT"') WHERE stream_id = '{{boardCase}}';
            """);
        var altered = await f.Maintenance.RebuildAsync("access", "acme", apply: false);
        Assert.Equal([revokedId], Assert.Single(altered, r => r.Store == "access_override").Differences);
        Assert.Equal([openCase], Assert.Single(altered, r => r.Store == "access_escalation_case").Differences);
        Assert.Equal([boardCase], Assert.Single(altered, r => r.Store == "access_board_votes").Differences);

        await f.Maintenance.RebuildAsync("access", "acme", apply: true);
        Assert.All(await f.Maintenance.RebuildAsync("access", "acme", apply: false), r => Assert.True(r.Identical, r.Store));
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "acme");
        Assert.Equal(OverrideStatus.Revoked, (await GovernanceHandlers.Overrides.GetAsync(tx, revokedId, default))!.Status);
        Assert.Equal(EscalationStatus.Open, (await GovernanceHandlers.Cases.GetAsync(tx, openCase, default))!.Status);
        Assert.Equal([VoteValue.Approve, VoteValue.Approve], (await GovernanceHandlers.Votes.GetAsync(tx, boardCase, default))!.Votes.Select(v => v.VoteValue));
    }

    private Task Give(string user) => f.GiveInstanceAsync("alice", user, "clerk_write", "W", ["CAPREQ_MANAGE"]);

    [Fact]
    public async Task OneShotOverrides_AreOnePerCase_EvenWrittenBesideTheDecider()
    {
        await Give("rone");
        var caseId = await RefusedCaseAsync("rone");
        (await f.RunAsync("alice", GovernanceHandlers.TempGrant, Key("g"), new JsonObject
        {
            ["target_user_id"] = "rone", ["override_scope"] = "CAPREQ_MANAGE", ["grant_mode"] = "A", ["reason"] = "once", ["escalation_case_id"] = caseId,
        }.ToJsonString())).Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");

        // The backstop: a second ONE_SHOT row for the same case cannot be stored, whoever writes it.
        var copy = await Assert.ThrowsAsync<PostgresException>(() => f.OwnerExecAsync("acme", $"""
            INSERT INTO selene.access_override_current (tenant_id, stream_id, status, doc, source_event_id, updated_at)
            SELECT tenant_id, 'ovr_ffffffffffffffff', status, doc, source_event_id, updated_at FROM selene.access_override_current
            WHERE doc->>'escalation_case_id' = '{caseId}'
            """));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, copy.SqlState);
    }
}

/// <summary>Migration 0014 moves access instances, overrides, escalation cases and board votes into standard store pairs: every row and event id kept.</summary>
public sealed class AccessEscalationMigrationTests
{
    [Fact]
    public async Task Migrate_OldOverrideCaseAndVoteTables_KeepsEveryRowAndEventIdAndFoldsToTheSameProjections()
    {
        var (name, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version < 14).ToArray());

        // As the stores of migrations 0005-0007 wrote them: alice bootstrapped (no actor), erin upserted then compiled (with
        // lineage); case c1 approved by a board (two votes, the board's ONE_SHOT override), case c2 still open; a
        // PERMANENT override granted then revoked.
        const string policy = """{"members":["v1","v2"],"primitive":"UNANIMOUS_BOARD"}""";
        const string c1 = "esc_00000000000000c1", c2 = "esc_00000000000000c2", o1 = "ovr_00000000000000a1", o2 = "ovr_00000000000000a2";
        await using (var super = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name)))
        {
            await super.OpenAsync();
            await using var seed = new NpgsqlCommand($$"""
                INSERT INTO selene.tenants VALUES ('acme', 1);
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ('acme', 'alice', 1), ('acme', 'erin', 1), ('acme', 'v1', 1), ('acme', 'v2', 1);
                INSERT INTO selene.access_instance_ledger (tenant_id, access_instance_id, user_id, event_action, role_template_id, access_mode,
                    baseline_permissions_json, identity_verified, verification_level, device_trust_level, lifecycle_state, reason_code, simulation_id,
                    actor_user_id, correlation_id, idempotency_key, created_at, compiled_global_profile_id, compiled_global_profile_version,
                    compiled_tenant_profile_id, compiled_tenant_profile_version, compiled_overlay_set_ref, compiled_position_id) VALUES
                  ('acme', 'ai_00000000000000a0', 'alice', 'BOOTSTRAP_ADMIN', 'tenant_admin', 'X', '{"allow":["*"],"financial_auth":true}', true,
                   'STEP_UP', 'DTL4', 'ACTIVE', 'ACCESS_INSTANCE_BOOTSTRAPPED', NULL, NULL, 5, NULL, 1, NULL, NULL, NULL, NULL, NULL, NULL),
                  ('acme', 'ai_00000000000000e1', 'erin', 'UPSERT', 'clerk_write', 'W', '{"allow":["CAPREQ_MANAGE"],"financial_auth":false}', true,
                   'PASSCODE_TIME', 'DTL3', 'ACTIVE', 'ACCESS_INSTANCE_OK_UPSERT', 'ACCESS_INSTANCE_UPSERT_COMMIT', 'alice', 6, 'ku', 2,
                   NULL, NULL, NULL, NULL, NULL, NULL),
                  ('acme', 'ai_00000000000000e1', 'erin', 'COMPILE', 'ap.clerk', 'A', '{"allow":["CAPREQ_MANAGE"],"financial_auth":false}', true,
                   'PASSCODE_TIME', 'DTL3', 'RESTRICTED', 'ACCESS_INSTANCE_OK_COMPILE', 'ACCESS_INSTANCE_COMPILE_COMMIT', 'alice', 7, 'kc', 3,
                   'ap.clerk', 2, 'ap.clerk', 4, 'ovs_x', NULL);
                INSERT INTO selene.access_instances (tenant_id, access_instance_id, user_id, role_template_id, effective_access_mode,
                    baseline_permissions_json, identity_verified, verification_level, device_trust_level, lifecycle_state, source_event_id, created_at,
                    updated_at, compiled_global_profile_id, compiled_global_profile_version, compiled_tenant_profile_id, compiled_tenant_profile_version,
                    compiled_overlay_set_ref, compiled_position_id) VALUES
                  ('acme', 'ai_00000000000000a0', 'alice', 'tenant_admin', 'X', '{"allow":["*"],"financial_auth":true}', true, 'STEP_UP', 'DTL4',
                   'ACTIVE', 1, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL),
                  ('acme', 'ai_00000000000000e1', 'erin', 'ap.clerk', 'A', '{"allow":["CAPREQ_MANAGE"],"financial_auth":false}', true, 'PASSCODE_TIME',
                   'DTL3', 'RESTRICTED', 3, 2, 3, 'ap.clerk', 2, 'ap.clerk', 4, 'ovs_x', NULL);
                INSERT INTO selene.access_escalation_case_ledger (tenant_id, escalation_case_id, event_action, status, resolved_via, override_id,
                    case_snapshot_json, reason_code, actor_user_id, correlation_id, created_at) VALUES
                  ('acme', '{{c1}}', 'OPEN', 'OPEN', NULL, NULL, '{}', 'ACCESS_ESCALATION_CASE_OPENED', 'erin', 7, 10),
                  ('acme', '{{c2}}', 'OPEN', 'OPEN', NULL, NULL, '{}', 'ACCESS_ESCALATION_CASE_OPENED', 'erin', 8, 20),
                  ('acme', '{{c1}}', 'APPROVE', 'APPROVED', 'BOARD_VOTE', '{{o1}}', '{}', 'ACCESS_ESCALATION_APPROVED', 'v2', 9, 40);
                INSERT INTO selene.access_escalation_cases VALUES
                  ('acme', '{{c1}}', 'erin', 'ai_00000000000000e1', 'CAPREQ_APPROVE_COMMIT', 'k-a', '{{new string('a', 64)}}', 'CAPREQ_MANAGE', 'A', 'W',
                   'AP_APPROVAL_REQUIRED', 'board', 1, '{{policy}}', 'APPROVED', 'BOARD_VOTE', '{{o1}}', 7, 10, 40, 3),
                  ('acme', '{{c2}}', 'erin', 'ai_00000000000000e1', 'CAPREQ_APPROVE_COMMIT', 'k-b', '{{new string('b', 64)}}', 'CAPREQ_MANAGE', 'A', 'W',
                   'AP_APPROVAL_REQUIRED', NULL, NULL, NULL, 'OPEN', NULL, NULL, 8, 20, NULL, 2);
                INSERT INTO selene.access_board_votes_ledger (tenant_id, escalation_case_id, board_policy_id, policy_version_id, voter_user_id, vote_value,
                    reason, threshold_status, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', '{{c1}}', 'board', 1, 'v1', 'APPROVE', 'fine', 'PENDING', 11, 'kv1', 30),
                  ('acme', '{{c1}}', 'board', 1, 'v2', 'APPROVE', 'fine too', 'SATISFIED', 9, 'kv2', 40);
                INSERT INTO selene.access_override_ledger (tenant_id, override_id, event_action, access_instance_id, target_user_id, override_type, scope,
                    grant_mode, starts_at, expires_at, escalation_case_id, approved_by_user_id, approved_via_simulation_id, approval_ref, reason,
                    reason_code, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', '{{o1}}', 'GRANT', 'ai_00000000000000e1', 'erin', 'ONE_SHOT', 'CAPREQ_MANAGE', 'A', 40, NULL, '{{c1}}', 'v2',
                   'ACCESS_BOARD_VOTE_COMMIT', 'board:board:v1', 'board threshold satisfied', 'ACCESS_OVERRIDE_OK_TEMP_GRANT', 9, 'case:{{c1}}', 40),
                  ('acme', '{{o2}}', 'GRANT', 'ai_00000000000000e1', 'erin', 'PERMANENT', 'POSITION_MANAGE', 'W', 50, NULL, NULL, 'alice',
                   'ACCESS_OVERRIDE_PERM_GRANT_COMMIT', NULL, 'for good', 'ACCESS_OVERRIDE_OK_PERM_GRANT', 12, 'kp', 50),
                  ('acme', '{{o2}}', 'REVOKE', 'ai_00000000000000e1', 'erin', 'REVOKE', 'POSITION_MANAGE', NULL, 60, NULL, NULL, 'alice',
                   'ACCESS_OVERRIDE_REVOKE_COMMIT', 'ticket-9', 'not any more', 'ACCESS_OVERRIDE_OK_REVOKE', 13, 'kr', 60);
                INSERT INTO selene.access_overrides VALUES
                  ('acme', '{{o1}}', 'ai_00000000000000e1', 'erin', 'ONE_SHOT', 'CAPREQ_MANAGE', 'A', 'ACTIVE', 40, NULL, '{{c1}}', 'v2',
                   'ACCESS_BOARD_VOTE_COMMIT', 'board:board:v1', 1, 40, 40),
                  ('acme', '{{o2}}', 'ai_00000000000000e1', 'erin', 'PERMANENT', 'POSITION_MANAGE', 'W', 'REVOKED', 50, NULL, NULL, 'alice',
                   'ACCESS_OVERRIDE_PERM_GRANT_COMMIT', NULL, 3, 50, 60);
                """, super);
            await seed.ExecuteNonQueryAsync();
        }

        Assert.Equal([14], await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version <= 14).ToArray()));

        await using var tx = await TenantTransaction.BeginAsync(source, "acme");
        foreach (var (aggregate, ids, types) in new (IAggregate, long[], string[])[]
                 {
                     (GovernanceHandlers.Instances, [1, 2, 3], ["BOOTSTRAP_ADMIN", "UPSERT", "COMPILE"]),
                     (GovernanceHandlers.Cases, [1, 2, 3], ["OPEN", "OPEN", "APPROVE"]),
                     (GovernanceHandlers.Votes, [1, 2], ["VOTE", "VOTE"]),
                     (GovernanceHandlers.Overrides, [1, 2, 3], ["GRANT", "GRANT", "REVOKE"]),
                 })
        {
            var ledger = await aggregate.Store.LedgerAsync(tx, default);
            Assert.Equal(ids, ledger.Select(e => e.EventId));
            Assert.Equal(types, ledger.Select(e => e.EventType));
            // The kept projection is exactly what the ledger folds to.
            Assert.Empty(Maintenance.Differences(aggregate.Fold(ledger), await aggregate.Store.AllCurrentAsync(tx, default)));
        }

        var erin = (await GovernanceHandlers.Instances.GetAsync(tx, "erin", default))!;
        Assert.Equal((AccessLifecycle.Restricted, AccessMode.A, 2L, 3L, new CompiledLineage("ap.clerk", 2, "ap.clerk", 4, "ovs_x", null)),
            (erin.LifecycleState, erin.AccessMode, erin.CreatedAt, erin.UpdatedAt, erin.Lineage));
        Assert.Equal(["alice", "alice", "alice"], (await GovernanceHandlers.Instances.Store.LedgerAsync(tx, default)).Select(e => e.ActorUserId));

        var approved = (await GovernanceHandlers.Cases.GetAsync(tx, c1, default))!;
        Assert.Equal((EscalationStatus.Approved, ResolvedVia.BoardVote, o1, 40L, policy, new string('a', 64), "7"),
            (approved.Status, approved.ResolvedVia!.Value, approved.OverrideId, approved.ResolvedAt!.Value, approved.PolicyPayloadJson, approved.RequestHash,
                approved.OpenedCorrelationId));
        Assert.Equal(EscalationStatus.Open, (await GovernanceHandlers.Cases.GetAsync(tx, c2, default))!.Status);
        var votes = (await GovernanceHandlers.Votes.GetAsync(tx, c1, default))!;
        Assert.Equal([(1L, "v1", ThresholdStatus.Pending), (2L, "v2", ThresholdStatus.Satisfied)],
            votes.Votes.Select(v => (v.VoteRowId, v.VoterUserId, v.ThresholdStatusAfter)));
        var revoked = (await GovernanceHandlers.Overrides.GetAsync(tx, o2, default))!;
        Assert.Equal((OverrideStatus.Revoked, 50L, 60L, AccessMode.W), (revoked.Status, revoked.CreatedAt, revoked.UpdatedAt, revoked.GrantMode));
        var revokeEvent = JsonSerializer.Deserialize<OverrideRevoked>((await GovernanceHandlers.Overrides.Store.LedgerAsync(tx, default))[2].Payload, EngineJson.Options)!;
        Assert.Equal(("alice", "ACCESS_OVERRIDE_REVOKE_COMMIT", "ticket-9"), (revokeEvent.RevokedByUserId, revokeEvent.RevokedViaSimulationId, revokeEvent.ApprovalRef));

        // The gate's one-round-trip read works on the moved rows: the instance, and the ONE_SHOT override only for its case.
        var facts = await AccessGovernanceQueries.GateFactsAsync(tx, "erin", c1, 45, default);
        Assert.Equal(("erin", c1), (facts.Instance!.StreamId, facts.Case!.StreamId));
        Assert.Single(facts.Overrides);
        Assert.Empty((await AccessGovernanceQueries.GateFactsAsync(tx, "erin", c2, 45, default)).Overrides);

        // New events continue after the kept ids.
        Assert.Equal(3L, await GovernanceHandlers.Votes.Store.AppendAsync(tx, new NewLedgerEvent(c2, "VOTE", "v1", "ACCESS_BOARD_VOTE_OK", "{}", "14", "k9", 80), default));
    }
}
