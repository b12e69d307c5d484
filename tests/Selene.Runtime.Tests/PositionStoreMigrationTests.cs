using Npgsql;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Position;
using Selene.Testing;

namespace Selene.Runtime.Tests;

/// <summary>Migration 0011 moves existing POSITION data (companies, positions, requirement schemas) into three standard store pairs.</summary>
public sealed class PositionStoreMigrationTests
{
    private const string Spec =
        """{"evidence_mode":"DOC_REQUIRED","exposure_rule":"TEXT_ONLY","field_key":"licence_number","field_type":"STRING","prompt_long":"Type the number.","prompt_short":"Licence?","required_rule":"ALWAYS","sensitivity":"PRIVATE"}""";

    private const string ConditionalSpec =
        """{"evidence_mode":"ATTESTATION","exposure_rule":"SPEAK","field_key":"hazmat","field_type":"STRING","prompt_long":"Do you hold one?","prompt_short":"Hazmat?","required_predicate_ref":"jurisdiction=DE","required_rule":"CONDITIONAL","sensitivity":"SAFE"}""";

    [Fact]
    public async Task Migrate_OldPositionTables_KeepsEveryRowAndEventIdAndFoldsToTheSameProjections()
    {
        var (name, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version < 11).ToArray());

        // Data as the POSITION store of migration 0004 wrote it: a company created and activated, a position created
        // and activated, schema v1 drafted, updated and activated (CURRENT_AND_NEW), v2 drafted; a second tenant's company.
        await using (var super = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name)))
        {
            await super.OpenAsync();
            await using var seed = new NpgsqlCommand($$"""
                INSERT INTO selene.tenants VALUES ('acme', 1), ('globex', 1);
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ('acme', 'alice', 1), ('globex', 'carol', 1);
                INSERT INTO selene.tenant_company_ledger (tenant_id, company_id, legal_name, jurisdiction, lifecycle_state, actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', 'co1', 'Company One', 'DE', 'DRAFT', 'alice', 7, 'k1', 10),
                  ('acme', 'co1', 'Company One GmbH', 'DE', 'ACTIVE', 'alice', 8, 'k2', 20),
                  ('globex', 'gx', 'Globex', 'US', 'ACTIVE', 'carol', 9, 'k1', 25);
                INSERT INTO selene.tenant_companies VALUES
                  ('acme', 'co1', 'Company One GmbH', 'DE', 'ACTIVE', 2, 10, 20),
                  ('globex', 'gx', 'Globex', 'US', 'ACTIVE', 3, 25, 25);
                INSERT INTO selene.position_lifecycle_events (tenant_id, position_id, action, from_state, to_state, payload, reason_code, simulation_id,
                    actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', 'pos_00000000000000a1', 'CREATE_DRAFT', NULL, 'DRAFT', '{"at":30}', 'POSITION_OK_CREATE_DRAFT', 'POSITION_SIM_001_CREATE_DRAFT', 'alice', 10, 'k3', 30),
                  ('acme', 'pos_00000000000000a1', 'ACTIVATE', 'DRAFT', 'ACTIVE', '{"at":40}', 'POSITION_OK_ACTIVATE_COMMIT', 'POSITION_SIM_004_ACTIVATE_COMMIT', 'alice', 11, 'k4', 40);
                INSERT INTO selene.positions VALUES
                  ('acme', 'pos_00000000000000a1', 'co1', 'Driver', 'Logistics', 'DE', 'SHIFT', 'ap.driver', 'band.b2', 'ACTIVE', 2, 30, 40);
                INSERT INTO selene.position_requirements_schema_ledger (tenant_id, position_id, schema_version_id, action, selector_snapshot_json,
                    field_specs_json, change_reason, apply_scope, actor_user_id, correlation_id, idempotency_key, created_at) VALUES
                  ('acme', 'pos_00000000000000a1', 'v1', 'CREATE_DRAFT', '{}', '[{{Spec}}]', NULL, NULL, 'alice', 12, 'k5', 50),
                  ('acme', 'pos_00000000000000a1', 'v1', 'UPDATE_COMMIT', '{"jurisdiction":"DE"}', '[{{Spec}},{{ConditionalSpec}}]', 'hazmat', NULL, 'alice', 13, 'k6', 60),
                  ('acme', 'pos_00000000000000a1', 'v1', 'ACTIVATE_COMMIT', NULL, NULL, NULL, 'CURRENT_AND_NEW', 'alice', 14, 'k7', 70),
                  ('acme', 'pos_00000000000000a1', 'v2', 'CREATE_DRAFT', '{}', '[{{Spec}}]', NULL, NULL, 'alice', 15, 'k8', 80);
                INSERT INTO selene.position_requirements_schema_current VALUES
                  ('acme', 'pos_00000000000000a1', 'v1', 'CURRENT_AND_NEW', '{"jurisdiction":"DE"}', '[{{Spec}},{{ConditionalSpec}}]', 3, 70);
                """, super);
            await seed.ExecuteNonQueryAsync();
        }

        Assert.Equal([11], await Migrator.MigrateAsync(source, Migrator.Embedded.Where(m => m.Version <= 11).ToArray()));

        await using var tx = await TenantTransaction.BeginAsync(source, "acme");
        var ledgers = new Dictionary<string, IReadOnlyList<LedgerEvent>>();
        // The stores migration 0011 moved (the holder store comes with 0024).
        foreach (var aggregate in PositionModule.Module.Aggregates.Where(a => !ReferenceEquals(a, PositionModule.Holders)))
        {
            var ledger = ledgers[aggregate.Store.Pair.Name] = await aggregate.Store.LedgerAsync(tx, default);
            var live = await aggregate.Store.AllCurrentAsync(tx, default);
            Assert.NotEmpty(live);
            Assert.Empty(Maintenance.Differences(aggregate.Fold(ledger), live));
        }
        Assert.Equal([(1L, "UPSERT"), (2L, "UPSERT")], ledgers["tenant_company"].Select(e => (e.EventId, e.EventType)));
        Assert.Equal([(1L, "CREATE_DRAFT"), (2L, "ACTIVATE")], ledgers["position"].Select(e => (e.EventId, e.EventType)));
        Assert.Equal([1L, 2L, 3L, 4L], ledgers["position_requirements_schema"].Select(e => e.EventId));
        Assert.Equal("POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", ledgers["position_requirements_schema"][2].ReasonCode);

        var company = (await PositionModule.Companies.GetAsync(tx, "co1", default))!;
        Assert.Equal(("Company One GmbH", CompanyLifecycle.Active, 10L, 20L), (company.LegalName, company.Lifecycle, company.CreatedAt, company.UpdatedAt));
        var position = (await PositionModule.Positions.GetAsync(tx, "pos_00000000000000a1", default))!;
        Assert.Equal(("Driver", ScheduleType.Shift, PositionLifecycle.Active, 30L, 40L),
            (position.Title, position.ScheduleType, position.Lifecycle, position.CreatedAt, position.UpdatedAt));
        var schemas = (await PositionModule.Schemas.GetAsync(tx, "pos_00000000000000a1", default))!;
        Assert.Equal(("v1", ApplyScope.CurrentAndNew), (schemas.ActiveVersionId, schemas.ActiveApplyScope));
        var v1 = schemas.Versions["v1"];
        Assert.Equal((true, 70L, "DE", 2), (v1.Activated, v1.LastEventAt, v1.Selectors.Jurisdiction, v1.FieldSpecs.Count));
        Assert.Equal("jurisdiction=DE", v1.FieldSpecs[1].RequiredPredicateRef);
        Assert.False(schemas.Versions["v2"].Activated);

        // New events continue after the kept ids.
        var next = await PositionModule.Positions.Store.AppendAsync(tx, new NewLedgerEvent("pos_00000000000000a1", "SUSPEND", "alice", "POSITION_OK_RETIRE_OR_SUSPEND_COMMIT",
            "{}", "16", "k9", 90), default);
        Assert.Equal(3L, next);

        await using var globex = await TenantTransaction.BeginAsync(source, "globex");
        Assert.Equal(3L, Assert.Single(await PositionModule.Companies.Store.LedgerAsync(globex, default)).EventId);
    }
}
