using System.Globalization;
using Npgsql;
using Selene.Contracts;
using Selene.Postgres;
using Selene.Postgres.Embedded;

namespace Selene.Testing;

/// <summary>
/// One embedded PostgreSQL cluster per test process (the same mechanism Selene uses, fsync off), with a
/// migrated template database; each test class clones its own database from the template
/// (CONVENTIONS.md: isolated per test class, own database cloned from a migrated template).
/// </summary>
public static class TestCluster
{
    private const string Template = "selene_template";
    private static readonly SemaphoreSlim CloneGate = new(1, 1);
    private static readonly Lazy<Task<(EmbeddedCluster Cluster, ClusterLease Lease)>> Shared = new(StartAsync);
    private static int _counter;

    public static async Task<EmbeddedCluster> ClusterAsync() => (await Shared.Value).Cluster;

    /// <summary>A fresh, migrated database of its own, opened with the runtime's roles.</summary>
    public static async Task<SeleneDatabase> CreateDatabaseAsync()
    {
        var cluster = await ClusterAsync();
        var name = "t_" + Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture) + "_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        await CloneGate.WaitAsync();
        try
        {
            await Bootstrap.CloneDatabaseAsync(cluster.NpgsqlConnectionString(EmbeddedCluster.SuperUser, "postgres"), Template, name);
        }
        finally
        {
            CloneGate.Release();
        }
        return SeleneDatabase.Attach(cluster, name);
    }

    /// <summary>A bootstrapped database with no migrations applied (for migration tests).</summary>
    public static async Task<(string Name, string OwnerConnectionString)> CreateEmptyDatabaseAsync()
    {
        var cluster = await ClusterAsync();
        var name = "e_" + Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture) + "_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        await Bootstrap.EnsureAsync(cluster.NpgsqlConnectionString(EmbeddedCluster.SuperUser, "postgres"), name);
        return (name, cluster.NpgsqlConnectionString(Bootstrap.OwnerRole, name));
    }

    /// <summary>
    /// Storage-level seeding: a tenant and an identity written directly as the owner, and a key for them. Runtime
    /// and HTTP tests go through <c>selene tenant create</c> and the ACCESS simulations instead.
    /// </summary>
    public static async Task<string> SeedUserAsync(SeleneDatabase db, string tenant, string user)
    {
        await using (var tx = await TenantTransaction.BeginAsync(db.Owner, tenant))
        {
            await using var cmd = tx.Command("""
                INSERT INTO selene.tenants (tenant_id, created_at) VALUES (@t, 1) ON CONFLICT DO NOTHING;
                INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES (@t, @u, 1) ON CONFLICT DO NOTHING;
                """);
            cmd.Parameters.AddWithValue("t", tenant);
            cmd.Parameters.AddWithValue("u", user);
            await cmd.ExecuteNonQueryAsync();
            await tx.CommitAsync();
        }
        return await Selene.Postgres.Stores.KeyStore.CreateKeyAsync(db, new TenantId(tenant), new UserId(user), 1, default)
            ?? throw new InvalidOperationException("the seeded identity has no key");
    }

    public static async Task<string> SuperuserConnectionStringAsync(string database) =>
        (await ClusterAsync()).NpgsqlConnectionString(EmbeddedCluster.SuperUser, database);

    private static async Task<(EmbeddedCluster, ClusterLease)> StartAsync()
    {
        await SweepLeftoversAsync();
        var dir = Path.Combine(Path.GetTempPath(), "stc-" + Guid.NewGuid().ToString("N")[..8]);
        var cluster = new EmbeddedCluster(new EmbeddedClusterOptions(dir, Durable: false));
        var lease = await cluster.AcquireAsync(register: true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            NpgsqlConnection.ClearAllPools();
            lease.DisposeAsync().AsTask().GetAwaiter().GetResult();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: a temp directory left behind is harmless.
            }
        };

        var superuser = cluster.NpgsqlConnectionString(EmbeddedCluster.SuperUser, "postgres");
        await Bootstrap.EnsureAsync(superuser, Template);
        await using (var owner = NpgsqlDataSource.Create(cluster.NpgsqlConnectionString(Bootstrap.OwnerRole, Template) + ";Pooling=false"))
        {
            await Migrator.MigrateAsync(owner);
        }
        return (cluster, lease);
    }

    /// <summary>
    /// Stops and deletes the clusters earlier test processes left in the temp directory (a test host that is killed
    /// never runs its exit handler, and each cluster is hundreds of megabytes and may still be running): an
    /// <c>stc-*</c> directory untouched for ten minutes that no live process holds a lease on. A cluster in use has a
    /// live user; one being created is younger than ten minutes.
    /// </summary>
    private static async Task SweepLeftoversAsync()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), "stc-*"))
        {
            try
            {
                if (Directory.GetLastWriteTimeUtc(dir) > DateTime.UtcNow.AddMinutes(-10)) continue;
                var cluster = new EmbeddedCluster(new EmbeddedClusterOptions(dir, Durable: false));
                if (cluster.HasOtherLiveUsers()) continue;
                if (PostmasterRuns(dir)) await cluster.StopAsync();
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or EmbeddedClusterException)
            {
                // Another process is sweeping it, it is not ours to delete, or it would not stop: leave it.
            }
        }
    }

    private static bool PostmasterRuns(string dir)
    {
        var pidFile = Directory.EnumerateFiles(dir, "postmaster.pid", SearchOption.AllDirectories).FirstOrDefault();
        if (pidFile is null || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
