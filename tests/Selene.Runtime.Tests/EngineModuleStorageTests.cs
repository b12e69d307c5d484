using Selene.Runtime.Platform;

namespace Selene.Runtime.Tests;

/// <summary>
/// Every store pair an engine module declares is, in the migrated database, what <c>selene.create_engine_store</c>
/// makes: both tables tenant-isolated (FORCE row-level security, the tenant_isolation policy), the ledger
/// append-only for selene_app by grants and for everyone by trigger, the projection writable by the runtime. The
/// list comes from <see cref="EngineModules.All"/> and the database catalog, so a new engine needs no edit here.
/// A pair with GLOBAL streams keeps those guarantees, and its policy adds exactly this: every tenant reads the
/// reserved key's rows, only a platform operator writes them, and the ledger names the actor's own tenant.
/// </summary>
public sealed class EngineModuleStorageTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    public static TheoryData<string> StoreNames() =>
        new(EngineModules.All.SelectMany(m => m.Aggregates).Select(a => a.Store.Pair.Name).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(StoreNames))]
    public async Task ModuleStorePair_IsTenantIsolated_AndItsLedgerAppendOnly(string name)
    {
        foreach (var table in new[] { name + "_ledger", name + "_current" })
        {
            await using var cmd = f.Db.Owner.CreateCommand("""
                SELECT c.relrowsecurity, c.relforcerowsecurity,
                       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'),
                       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'append_only_row'),
                       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'append_only_truncate'),
                       has_table_privilege('selene_app', c.oid, 'INSERT'), has_table_privilege('selene_app', c.oid, 'UPDATE'),
                       has_table_privilege('selene_app', c.oid, 'DELETE'), has_table_privilege('selene_app', c.oid, 'TRUNCATE')
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'selene' AND c.relname = $1 AND c.relkind = 'r'
                """);
            cmd.Parameters.Add(new() { Value = table });
            await using var r = await cmd.ExecuteReaderAsync();
            Assert.True(await r.ReadAsync(), $"{table} does not exist");
            Assert.True(r.GetBoolean(0) && r.GetBoolean(1) && r.GetBoolean(2), $"{table}: row-level security is not forced with its tenant_isolation policy");
            var ledger = table.EndsWith("_ledger", StringComparison.Ordinal);
            Assert.Equal((ledger, ledger), (r.GetBoolean(3), r.GetBoolean(4)));
            Assert.True(r.GetBoolean(5), $"{table}: the runtime cannot insert");
            Assert.Equal(!ledger, r.GetBoolean(6));
            Assert.False(r.GetBoolean(7), $"{table}: the runtime may delete");
            Assert.False(r.GetBoolean(8), $"{table}: the runtime may truncate");
        }
    }

    public static TheoryData<string> GlobalStoreNames() =>
        new(EngineModules.All.SelectMany(m => m.Aggregates).Where(a => a.HasGlobalStreams).Select(a => a.Store.Pair.Name).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(GlobalStoreNames))]
    public async Task GlobalStorePair_IsReadByEveryTenant_WrittenOnlyByAPlatformOperator_WithTheActorsTenant(string name)
    {
        await using (var cmd = f.Db.Owner.CreateCommand("""
            SELECT pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
            FROM pg_policy p WHERE p.polrelid = $1::regclass AND p.polname = 'tenant_isolation'
            """))
        {
            foreach (var table in new[] { name + "_ledger", name + "_current" })
            {
                cmd.Parameters.Clear();
                cmd.Parameters.Add(new() { Value = "selene." + table });
                await using var r = await cmd.ExecuteReaderAsync();
                Assert.True(await r.ReadAsync(), $"{table}: no tenant_isolation policy");
                Assert.Contains("global_tenant_key()", r.GetString(0), StringComparison.Ordinal);
                Assert.Contains("session_tenant_is_platform_operator()", r.GetString(1), StringComparison.Ordinal);
                Assert.DoesNotContain("session_tenant_is_platform_operator()", r.GetString(0), StringComparison.Ordinal);
            }
        }
        // The actor is an identity of the actor's own tenant, not of the row's.
        await using (var fk = f.Db.Owner.CreateCommand("""
            SELECT string_agg(pg_get_constraintdef(c.oid), ' | ') FROM pg_constraint c
            WHERE c.conrelid = $1::regclass AND c.contype = 'f' AND c.confrelid = 'selene.identities'::regclass
            """))
        {
            fk.Parameters.Add(new() { Value = $"selene.{name}_ledger" });
            Assert.Matches(@"^FOREIGN KEY \(actor_tenant_id, actor_user_id\) REFERENCES (selene\.)?identities\(tenant_id, user_id\)$", (string)(await fk.ExecuteScalarAsync())!);
        }
        // A tenant that is no platform operator may not write a GLOBAL row (globex never is one in this fixture).
        await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "globex");
        await using var insert = tx.Command($"""
            INSERT INTO selene.{name}_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
            VALUES ('{Selene.Postgres.Stores.EngineStore.GlobalTenantKey}', 'GLOBAL:probe', 'PROBE', 'carol', 'X', '{"{}"}', 1, 1)
            """);
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal("42501", error.SqlState);
    }
}
