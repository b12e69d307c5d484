using Npgsql;

namespace Selene.Postgres.Tests;

/// <summary>Tenants never meet: row-level security is forced on every tenant-scoped table.</summary>
public sealed class IsolationTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    /// <summary>The global tables that hold no tenant data visible to the runtime.</summary>
    private static readonly string[] GlobalTables = ["tenants", "api_keys", "schema_migrations"];

    private static readonly string[] TenantTableNames = ["identities", "idempotency_keys", "journal", "journal_heads", "outbox", "capreq_ledger", "capreq_current",
        "tenant_company_ledger", "tenant_company_current", "position_ledger", "position_current", "position_requirements_schema_ledger",
        "position_requirements_schema_current", "access_instance_ledger", "access_instance_current", "access_override_ledger", "access_override_current",
        "access_board_policy_ledger", "access_board_policy_current", "access_escalation_case_ledger", "access_escalation_case_current", "access_board_votes_ledger",
        "access_board_votes_current",
        // Access profiles: the first six also hold GLOBAL rows (under the reserved tenant key), see AccessProfileIsolationTests.
        "access_ap_schema_ledger", "access_ap_schema_current", "access_ap_authoring_review_ledger", "access_ap_authoring_review_current",
        "access_ap_rule_review_actions_ledger", "access_ap_rule_review_actions_current", "access_ap_overlay_ledger", "access_ap_overlay_current",
        // PH1.OS (0008): decided turns with their gate inputs.
        "os_turn_decisions",
        // PH1.OS outcome utilization and utility reviews (0009); the view os_utility_review_current is security_invoker.
        "os_outcome_utilization", "os_utility_review"];

    public static TheoryData<string> TenantTables => new(TenantTableNames);

    [Fact]
    public async Task EveryTableWithTenantId_HasForcedRowLevelSecurity()
    {
        await using var cmd = fixture.Db.Owner.CreateCommand("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'selene' AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            ORDER BY 1
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        var seen = new List<string>();
        while (await reader.ReadAsync())
        {
            var table = reader.GetString(0);
            if (GlobalTables.Contains(table)) continue;
            seen.Add(table);
            Assert.True(reader.GetBoolean(1), $"{table}: row-level security is not enabled");
            Assert.True(reader.GetBoolean(2), $"{table}: row-level security is not forced");
            Assert.True(reader.GetBoolean(3), $"{table}: no tenant_isolation policy");
        }
        // Every table with a tenant_id is checked above, from the catalog, so a new engine's tables need no edit here;
        // the list names the tables whose rows the fixture seeds for the visibility theory below.
        Assert.Empty(TenantTableNames.Except(seen));
    }

    [Theory]
    [MemberData(nameof(TenantTables))]
    public async Task AppRole_SeesOnlyItsTenantsRows(string table)
    {
        var acme = await Sql.CountAsync(fixture.Db.App, "acme", table);
        var globex = await Sql.CountAsync(fixture.Db.App, "globex", table);
        var nobody = await Sql.CountAsync(fixture.Db.App, "initech", table);
        var unset = await Sql.CountAsync(fixture.Db.App, null, table);
        Assert.True(acme > 0, $"{table} has rows for acme");
        Assert.True(globex > 0, $"{table} has rows for globex");
        Assert.Equal(0, nobody);
        Assert.Equal(0, unset);

        await using var conn = await fixture.Db.App.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand("SELECT set_config('selene.tenant_id', 'acme', true)", conn, tx)) await set.ExecuteNonQueryAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM selene.{table} WHERE tenant_id <> 'acme'", conn, tx);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task AppRole_WritingAnotherTenantsRow_IsRefused()
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "globex", """
            INSERT INTO selene.capreq_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
            VALUES ('acme', 'capreq_00000000000000c3', 'CANCEL', 'u1', 'CAPREQ_OK_CANCEL', '{}', 9, 2)
            """);
        Assert.Equal("42501", error.SqlState); // new row violates row-level security policy
        var update = await Sql.FailsAsync(fixture.Db.App, "globex", "UPDATE selene.capreq_current SET tenant_id = 'acme'");
        Assert.Equal("42501", update.SqlState);
    }

    [Fact]
    public async Task AppRole_UpdatingAnotherTenantsProjection_TouchesNothing()
    {
        await Sql.ExecAsync(fixture.Db.App, "globex", "UPDATE selene.capreq_current SET status = 'CANCELED' WHERE tenant_id = 'acme'");
        await using var tx = await TenantTransaction.BeginAsync(fixture.Db.Owner, "acme");
        await using var cmd = tx.Command("SELECT status FROM selene.capreq_current WHERE stream_id = 'capreq_00000000000000a1'");
        Assert.Equal("DRAFT", (string)(await cmd.ExecuteScalarAsync())!);
    }

    [Theory]
    [InlineData("api_keys")]
    [InlineData("tenants")]
    public async Task AppRole_CannotReadGlobalRegistries(string table)
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", $"SELECT * FROM selene.{table}");
        Assert.Equal("42501", error.SqlState);
    }

    [Fact]
    public async Task AppRole_CannotChangeSchema()
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", "CREATE TABLE selene.sneaky (id int)");
        Assert.Equal("42501", error.SqlState);
    }
}
