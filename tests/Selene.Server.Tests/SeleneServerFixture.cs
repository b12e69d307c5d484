using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Npgsql;

namespace Selene.Server.Tests;

/// <summary>Every end-to-end test class joins this collection: one data directory, one server, run one test at a time.</summary>
[CollectionDefinition(Name)]
public sealed class SeleneServerCollection : ICollectionFixture<SeleneServerFixture>
{
    public const string Name = "selene server";
}

/// <summary>Row counts of the tables a request can write, across all tenants (read as the cluster's superuser).</summary>
public sealed record StorageCounts(long Journal, long CapreqLedger, long CapreqCurrent, long IdempotencyKeys, long Outbox);

/// <summary>
/// A fresh data directory under /tmp, a real <c>selene serve</c> child process on a free port, and API keys made
/// with the CLI: acme/alice, acme/bob and globex/carol. Disposing sends SIGTERM, waits for the server to exit,
/// runs <c>selene db stop</c> and deletes the directory.
/// </summary>
public sealed class SeleneServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartupDeadline = TimeSpan.FromSeconds(60);
    private RunningProcess? _server;

    /// <summary>Short on purpose: the cluster's unix socket path must stay under 100 characters.</summary>
    public string DataDir { get; } = "/tmp/sst-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    public Uri BaseAddress { get; private set; } = null!;
    public SeleneApi Api { get; private set; } = null!;
    public string AliceKey { get; private set; } = "";
    public string BobKey { get; private set; } = "";
    public string CarolKey { get; private set; } = "";

    /// <summary>The server's console output so far (for failure messages).</summary>
    public string ServerOutput => _server?.Output ?? "";

    public async Task InitializeAsync()
    {
        try
        {
            Assert.True(File.Exists(ChildProcess.SeleneDll), $"selene.dll is missing next to the tests: {ChildProcess.SeleneDll}");
            BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
            _server = RunningProcess.Start(ChildProcess.DotnetHost,
                [ChildProcess.SeleneDll, "--data-dir", DataDir, "serve", "--urls", BaseAddress.ToString().TrimEnd('/')]);
            Api = new SeleneApi(BaseAddress);
            await WaitUntilHealthyAsync(_server, BaseAddress);

            // The CLI attaches to the cluster the server started; the server resolves keys per request. Tenants and their
            // administrators come from `selene tenant create`; bob (an approver of acme) from the ACCESS simulation.
            AliceKey = await CreateTenantAsync("acme", "alice");
            CarolKey = await CreateTenantAsync("globex", "carol");
            await GiveInstanceAsync(AliceKey, "bob", "approver", "A", "CAPREQ_MANAGE", "POSITION_MANAGE");
            BobKey = await CreateKeyAsync("acme", "bob");
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        var problems = new List<string>();
        if (_server is not null)
        {
            if (!await _server.StopAsync(TimeSpan.FromSeconds(30)))
                problems.Add($"selene serve did not exit within 30 s of SIGTERM:\n{_server.Output}");
            else if (_server.Process.ExitCode != 0)
                problems.Add($"selene serve exited with {_server.Process.ExitCode} after SIGTERM:\n{_server.Output}");
            // No request of the whole run may have ended in an unhandled error (logged as fail:/crit:).
            if (_server.Output.Contains("fail:", StringComparison.Ordinal) || _server.Output.Contains("crit:", StringComparison.Ordinal))
                problems.Add($"selene serve logged errors during the run:\n{_server.Output}");
            _server.Dispose();
        }
        if (File.Exists(Path.Combine(DataDir, "pg", "PG_VERSION")))
        {
            var stop = await ChildProcess.SeleneAsync(DataDir, "db", "stop");
            if (stop.ExitCode != 0) problems.Add($"selene db stop failed: {stop}");
        }
        if (Directory.Exists(DataDir)) Directory.Delete(DataDir, recursive: true);
        if (problems.Count > 0) throw new InvalidOperationException(string.Join("\n", problems));
    }

    /// <summary>Runs the CLI against this fixture's data directory.</summary>
    public Task<ProcessResult> SeleneAsync(params string[] args) => ChildProcess.SeleneAsync(DataDir, args);

    /// <summary>Counts rows in every table a simulation writes (superuser: row-level security does not hide rows).</summary>
    public async Task<StorageCounts> CountsAsync()
    {
        await using var conn = new NpgsqlConnection($"Host={DataDir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM selene.journal), (SELECT count(*) FROM selene.capreq_ledger),
                   (SELECT count(*) FROM selene.capreq_current), (SELECT count(*) FROM selene.idempotency_keys),
                   (SELECT count(*) FROM selene.outbox)
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new StorageCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    /// <summary>Row counts of every table in the selene schema (superuser: row-level security does not hide rows).</summary>
    public async Task<Dictionary<string, long>> TableCountsAsync()
    {
        await using var conn = new NpgsqlConnection($"Host={DataDir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT table_name::text,
                   (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint
            FROM information_schema.tables WHERE table_schema = 'selene' AND table_type = 'BASE TABLE'
            """, conn);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    /// <summary>
    /// A digest of the rows of <paramref name="tenants"/> in every table of the selene schema with a tenant_id column,
    /// per table (superuser): an update in place changes it, which a row count would miss.
    /// </summary>
    public async Task<Dictionary<string, string>> TenantDigestsAsync(params string[] tenants)
    {
        await using var conn = new NpgsqlConnection($"Host={DataDir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        await conn.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("""
            SELECT c.table_name::text FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = 'selene' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' ORDER BY 1
            """, conn))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var cmd = new NpgsqlCommand(
                $"SELECT md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '')) FROM selene.\"{table}\" r WHERE r.tenant_id::text = ANY($1)", conn);
            cmd.Parameters.Add(new() { Value = tenants });
            digests[table] = (string)(await cmd.ExecuteScalarAsync())!;
        }
        return digests;
    }

    /// <summary>Runs SQL as the cluster's superuser (row-level security does not apply): test data the API cannot write.</summary>
    public async Task SuperuserExecAsync(string sql)
    {
        await using var conn = new NpgsqlConnection($"Host={DataDir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Enqueues a handoff in <paramref name="tenant"/> through the outbox's own enqueue, as the runtime's role (row-level
    /// security applies) under a fresh correlation id: test data no engine writes.
    /// </summary>
    public async Task EnqueueAsync(string tenant, string actor, Selene.Contracts.OutboxMessage message)
    {
        await using var app = NpgsqlDataSource.Create($"Host={DataDir}/run;Port=5432;Database=selene;Username={Selene.Postgres.Bootstrap.AppRole};Pooling=false");
        await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(app, tenant);
        var correlation = Selene.Contracts.CorrelationId.FromDigest(RandomNumberGenerator.GetBytes(16));
        Assert.Equal(1, await Selene.Postgres.Stores.OutboxStore.EnqueueAsync(tx, correlation, [message], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
            default, new Selene.Postgres.Stores.OutboxOrigin(actor, new Selene.Contracts.TurnId(1))));
        await tx.CommitAsync();
    }

    /// <summary>Ledger events of one capability request (superuser read).</summary>
    public async Task<long> LedgerEventsOfAsync(string capreqId)
    {
        await using var conn = new NpgsqlConnection($"Host={DataDir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM selene.capreq_ledger WHERE stream_id = $1", conn);
        cmd.Parameters.Add(new() { Value = capreqId });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public Task<string> CreateKeyAsync(string tenant, string user) => OneLineAsync("keys", "create", "--tenant", tenant, "--user", user);

    public Task<string> CreateTenantAsync(string tenant, string admin) => OneLineAsync("tenant", "create", "--tenant", tenant, "--admin", admin);

    /// <summary>
    /// A tenant of the calling test's own (administrator "admin"; returns its key): a test that counts or lists rows
    /// must not see its neighbours' (issue 9 item 9), whatever order the suite runs in.
    /// </summary>
    public async Task<(string Tenant, string AdminKey)> OwnTenantAsync(string prefix)
    {
        var tenant = prefix + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        return (tenant, await CreateTenantAsync(tenant, "admin"));
    }

    /// <summary>The administrator behind <paramref name="adminKey"/> gives <paramref name="user"/> an ACTIVE access instance.</summary>
    public async Task GiveInstanceAsync(string adminKey, string user, string role, string mode, params string[] allow)
    {
        var reply = await Api.SimulateAsync(adminKey, "ACCESS_INSTANCE_UPSERT_COMMIT", new JsonObject
        {
            ["target_user_id"] = user,
            ["role_template_id"] = role,
            ["access_mode"] = mode,
            ["allow"] = new JsonArray(allow.Select(a => (JsonNode)a).ToArray()),
        });
        Assert.True(reply.Status == HttpStatusCode.OK, $"instance for {user}: {reply}");
    }

    private async Task<string> OneLineAsync(params string[] args)
    {
        var result = await SeleneAsync(args);
        Assert.True(result.ExitCode == 0, $"selene {string.Join(' ', args)} failed: {result}");
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"selene {string.Join(' ', args)} should print exactly one line: {result}");
        return lines[0];
    }

    /// <summary>Polls GET /healthz until it answers 200 (bounded by a deadline; fails fast if the server exits).</summary>
    public static async Task WaitUntilHealthyAsync(RunningProcess server, Uri baseAddress)
    {
        var deadline = DateTime.UtcNow + StartupDeadline;
        using var probe = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (server.Process.HasExited)
                throw new InvalidOperationException($"selene serve exited with {server.Process.ExitCode} before it became healthy:\n{server.Output}");
            try
            {
                using var response = await probe.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // the probe timed out; try again until the deadline
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"selene serve was not healthy within {StartupDeadline.TotalSeconds} s:\n{server.Output}");
            await Task.Delay(100);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
