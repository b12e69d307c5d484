using System.Globalization;
using System.Text.Json;
using Npgsql;
using Selene.Postgres;
using Selene.Testing;

namespace Selene.Runtime.Tests;

/// <summary>
/// A database of its own with tenants acme (alice: administrator; bob: approver of CAPREQ_MANAGE and POSITION_MANAGE)
/// and globex (carol: administrator; dave: approver), and an executor over it.
/// </summary>
public sealed class RuntimeFixture : IAsyncLifetime
{
    private long _correlation = 1000;

    public SeleneDatabase Db { get; private set; } = null!;
    public SimulationExecutor Executor { get; private set; } = null!;
    public TurnExecutor Turns { get; private set; } = null!;
    public Maintenance Maintenance { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestCluster.CreateDatabaseAsync();
        Turns = new TurnExecutor(Db, SimulationRegistry.Default, SeleneCatalog.Default, TimeProvider.System);
        Executor = new SimulationExecutor(Turns);
        Maintenance = new Maintenance(Db, TimeProvider.System);
        // The only bootstrap path: each tenant and its administrator; every other user through the ACCESS simulation.
        var bootstrap = new Selene.Runtime.Access.TenantBootstrap(Db, TimeProvider.System);
        await bootstrap.CreateAsync(new TenantId("acme"), new UserId("alice"));
        await bootstrap.CreateAsync(new TenantId("globex"), new UserId("carol"));
        await GiveInstanceAsync("alice", "bob", "approver", "A", ["CAPREQ_MANAGE", "POSITION_MANAGE"]);
        await GiveInstanceAsync("carol", "dave", "approver", "A", ["CAPREQ_MANAGE", "POSITION_MANAGE"], tenant: "globex");
    }

    /// <summary>An administrator gives <paramref name="user"/> an ACTIVE, verified access instance (ACCESS_INSTANCE_UPSERT_COMMIT).</summary>
    public async Task GiveInstanceAsync(string admin, string user, string role, string mode, string[] allow, string tenant = "acme",
        string lifecycle = "ACTIVE")
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["target_user_id"] = user, ["role_template_id"] = role, ["access_mode"] = mode, ["allow"] = allow, ["lifecycle_state"] = lifecycle,
        });
        var result = await RunAsync(admin, Selene.Runtime.Access.GovernanceHandlers.InstanceUpsert, Key("inst"), body, tenant: tenant);
        if (!result.Succeeded) throw new InvalidOperationException($"instance for {user}: {result.Reason.Name} {result.Detail}");
    }

    public async Task DisposeAsync() => await Db.DisposeAsync();

    public CorrelationId NextCorrelation() => new((UInt128)Interlocked.Increment(ref _correlation));

    public Task<ExecutionResult> RunAsync(string actor, string simulation, string? key, string json, CorrelationId? correlation = null, string tenant = "acme")
    {
        using var doc = JsonDocument.Parse(json);
        return Executor.ExecuteAsync(new ExecutionRequest(new TenantId(tenant), new UserId(actor), simulation, key,
            doc.RootElement.Clone(), correlation ?? NextCorrelation(), new TurnId(1)));
    }

    public static string CapreqIdOf(ExecutionResult result)
    {
        using var doc = JsonDocument.Parse(result.Body!);
        return doc.RootElement.GetProperty("capreq").GetProperty("capreq_id").GetString()!;
    }

    public static string StatusOf(ExecutionResult result)
    {
        using var doc = JsonDocument.Parse(result.Body!);
        return doc.RootElement.GetProperty("capreq").GetProperty("status").GetString()!;
    }

    /// <summary>Counts rows as the owner for one tenant (row-level security still applies).</summary>
    public async Task<long> CountAsync(string tenant, string table, string where = "true")
    {
        await using var tx = await TenantTransaction.BeginAsync(Db.Owner, tenant);
        await using var cmd = tx.Command($"SELECT count(*) FROM selene.{table} WHERE {where}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task OwnerExecAsync(string tenant, string sql)
    {
        await using var tx = await TenantTransaction.BeginAsync(Db.Owner, tenant);
        await using var cmd = tx.Command(sql);
        await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    public static string Key(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];

    public static string CreateBody(string capability, string scope = "team:finance", string why = "quarterly audit") =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["requested_capability_id"] = capability, ["target_scope_ref"] = scope, ["justification"] = why });

    public static string IdBody(string capreqId) => "{\"capreq_id\":\"" + capreqId + "\"}";

    public static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);

    public static NpgsqlDataSource Superuser(string database) =>
        NpgsqlDataSource.Create(TestCluster.SuperuserConnectionStringAsync(database).GetAwaiter().GetResult());
}
