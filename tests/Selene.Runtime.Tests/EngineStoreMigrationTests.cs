using System.Text.Json;
using Npgsql;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.CapReq;
using Selene.Runtime.Platform;
using Selene.Testing;

namespace Selene.Runtime.Tests;

/// <summary>Migration 0010 moves existing CAPREQ data into the standard store pair: every row and event id kept.</summary>
public sealed class EngineStoreMigrationTests
{
    [Fact]
    public async Task Migrate_OldCapreqTables_KeepsEveryRowAndEventIdAndFoldsToTheSameProjection()
    {
        var (name, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version < 10).ToArray());

        // Data as the CAPREQ store of migration 0002 wrote it: one request created and submitted, one created.
        await using (var super = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name)))
        {
            await super.OpenAsync();
            await using var seed = new NpgsqlCommand("""
                INSERT INTO selene.tenants VALUES ('acme', 1);
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ('acme', 'alice', 1);
                INSERT INTO selene.capreq_ledger (tenant_id, capreq_id, actor_user_id, action, status, reason_code, payload_hash,
                    requested_capability_id, target_scope_ref, justification, reference, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', 'capreq_00000000000000a1', 'alice', 'CREATE_DRAFT', 'DRAFT', 'CAPREQ_CREATED', 'h1', 'payroll.read', 'team:x', 'audit', NULL, 7, 'k1', 10),
                  ('acme', 'capreq_00000000000000a1', 'alice', 'SUBMIT_FOR_APPROVAL', 'PENDING_APPROVAL', 'CAPREQ_SUBMITTED', 'h2', NULL, NULL, NULL, 'route-1', 8, 'k2', 20),
                  ('acme', 'capreq_00000000000000b2', 'alice', 'CREATE_DRAFT', 'DRAFT', 'CAPREQ_CREATED', 'h3', 'crm.read', 'team:y', 'review', NULL, 9, NULL, 30);
                INSERT INTO selene.capreq_current VALUES
                  ('acme', 'capreq_00000000000000a1', 'alice', 'payroll.read', 'team:x', 'audit', 'PENDING_APPROVAL', 'SUBMIT_FOR_APPROVAL', 'alice', 'h2', 2, 'CAPREQ_SUBMITTED', 10, 20),
                  ('acme', 'capreq_00000000000000b2', 'alice', 'crm.read', 'team:y', 'review', 'DRAFT', 'CREATE_DRAFT', 'alice', 'h3', 3, 'CAPREQ_CREATED', 30, 30);
                """, super);
            await seed.ExecuteNonQueryAsync();
        }

        Assert.Equal([10], await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version <= 10).ToArray()));

        await using var tx = await TenantTransaction.BeginAsync(source, "acme");
        var store = CapreqModule.Requests.Store;
        var ledger = await store.LedgerAsync(tx, default);
        Assert.Equal([1L, 2L, 3L], ledger.Select(e => e.EventId));
        Assert.Equal(["CREATE_DRAFT", "SUBMIT_FOR_APPROVAL", "CREATE_DRAFT"], ledger.Select(e => e.EventType));
        var submitted = JsonSerializer.Deserialize<CapreqEvent>(ledger[1].Payload, EngineJson.Options)!;
        Assert.Equal(("route-1", CapreqStatus.PendingApproval, (string?)null), (submitted.Reference, submitted.Status, submitted.Justification));

        var live = await store.AllCurrentAsync(tx, default);
        Assert.Equal(2, live.Count);
        Assert.Empty(Maintenance.Differences(CapreqModule.Requests.Fold(ledger), live));
        var a1 = (await CapreqModule.Requests.GetAsync(tx, "capreq_00000000000000a1", default))!;
        Assert.Equal((CapreqStatus.PendingApproval, "audit", 2L, 20L), (a1.Status, a1.Justification, a1.SourceEventId, a1.UpdatedAt));

        // New events continue after the kept ids; the old idempotency backstop still holds per (stream, type, key).
        var next = await store.AppendAsync(tx, new NewLedgerEvent("capreq_00000000000000b2", "CANCEL", "alice", "CAPREQ_CANCELED", "{}", "10", "k1", 40), default);
        Assert.Equal(4L, next);
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => store.AppendAsync(tx,
            new NewLedgerEvent("capreq_00000000000000a1", "CREATE_DRAFT", "alice", "CAPREQ_CREATED", "{}", "11", "k1", 50), default));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
    }
}
