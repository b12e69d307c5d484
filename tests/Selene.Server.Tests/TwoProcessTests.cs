using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Npgsql;
using Selene.Engines.CapReq;
using Selene.Postgres;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Many processes, one database (issue 10 item 6): two real <c>selene serve</c> processes on one embedded cluster share
/// the outbox. The one that takes a work order's step is killed (SIGKILL) while it holds the step's row and the work
/// order's lease, its step stuck on a row lock the test holds; the other takes the work over once the lease expired,
/// and every step's effect exists exactly once. Waiting on real processes is a bounded poll, as for a server's health.
/// </summary>
public sealed class TwoProcessTests : IAsyncLifetime
{
    private const int LeaseSeconds = 5;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly string _dir = "/tmp/s2p-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private readonly List<(RunningProcess Process, Uri Address)> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (server, _) in _servers)
        {
            if (!server.Process.HasExited) await server.StopAsync(TimeSpan.FromSeconds(30));
            server.Dispose();
        }
        await ChildProcess.SeleneAsync(_dir, "db", "stop");
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ServerKilledHoldingAStepsLease_TheOtherTakesTheWorkOverAfterExpiry_EveryEffectOnce()
    {
        Assert.Equal(0, (await ChildProcess.SeleneAsync(_dir, "db", "start")).ExitCode);
        var tenant = await ChildProcess.SeleneAsync(_dir, "tenant", "create", "--tenant", "acme", "--admin", "alice");
        Assert.True(tenant.ExitCode == 0, tenant.ToString());
        var alice = tenant.StandardOutput.Trim();
        Serve();
        Serve();
        foreach (var (server, address) in _servers) await SeleneServerFixture.WaitUntilHealthyAsync(server, address);
        using var api = new SeleneApi(_servers[0].Address);

        // The step's effect will wait on this lock: the first step drafts exactly this capability request.
        var fields = new JsonObject { ["requested_capability_id"] = "cap.two", ["target_scope_ref"] = "scope/two", ["justification"] = "two processes" };
        var capreqId = CapreqIds.Derive("acme", "cap.two", "scope/two", "two processes");
        await using var superuser = NpgsqlDataSource.Create($"Host={_dir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        var blocker = await TenantTransaction.BeginAsync(superuser, "acme");
        await blocker.LockEntityAsync("capreq", capreqId, default);

        AssertSuccess(await api.SimulateAsync(alice, "WORK_ORDER_START_COMMIT",
            new JsonObject { ["work_order_id"] = "wo-two", ["blueprint_id"] = "CAPREQ_REQUEST", ["fields"] = fields }), "WORK_OK_CREATED");
        AssertSuccess(await api.SimulateAsync(alice, "WORK_ORDER_CONFIRM_COMMIT", new JsonObject { ["work_order_id"] = "wo-two" }), "WORK_OK_CONFIRMED");

        // Whichever server took the step holds its lease now; its owner id names its process.
        var holder = await UntilAsync(async () => await ScalarAsync<string>(superuser,
            "SELECT doc->'lease'->>'owner_id' FROM selene.work_order_current WHERE stream_id = 'wo-two'"), "a server to take the first step's lease");
        var pid = int.Parse(holder.Split('/')[1], CultureInfo.InvariantCulture);
        var (killed, _) = _servers.Single(s => s.Process.Process.Id == pid);
        var (survivor, survivorAddress) = _servers.Single(s => s.Process != killed);
        Assert.Equal(1L, await ScalarAsync<long>(superuser, "SELECT count(*) FROM selene.work_order_ledger WHERE stream_id = 'wo-two' AND event_type = 'STEP_STARTED'"));
        killed.Process.Kill(entireProcessTree: true);
        await killed.Process.WaitForExitAsync();
        await blocker.DisposeAsync(); // rolls back: the dead server's step may take the lock, but its client is gone

        // The survivor claims the row once the dead one's claim expired, takes the expired lease over and finishes.
        await UntilAsync(async () => await ScalarAsync<string>(superuser,
            "SELECT status FROM selene.work_order_current WHERE stream_id = 'wo-two' AND status = 'DONE'"), "the survivor to finish the work order");
        Assert.False(survivor.Process.HasExited, survivor.Output);

        Assert.Equal(1L, await ScalarAsync<long>(superuser, $"SELECT count(*) FROM selene.capreq_ledger WHERE stream_id = '{capreqId}' AND event_type = 'CREATE_DRAFT'"));
        Assert.Equal(1L, await ScalarAsync<long>(superuser, $"SELECT count(*) FROM selene.capreq_ledger WHERE stream_id = '{capreqId}' AND event_type = 'SUBMIT_FOR_APPROVAL'"));
        Assert.Equal("PENDING_APPROVAL", await ScalarAsync<string>(superuser, $"SELECT status FROM selene.capreq_current WHERE stream_id = '{capreqId}'"));
        Assert.Equal(2L, await ScalarAsync<long>(superuser, "SELECT count(*) FROM selene.outbox WHERE event_type = 'WORK_STEP_DUE' AND status = 'CONFIRMED'"));
        // The lease went from the dead server to the survivor, which resumed from the ledger: the first step started twice,
        // finished once. Between its two steps the survivor renews its own lease, or — on a machine slow enough that it
        // expired in between — acquires it again; either way every lease event after the takeover is the survivor's.
        var leases = await ListAsync(superuser, "SELECT event_type || ' ' || coalesce(payload->'lease'->>'owner_id', '-') FROM selene.work_order_ledger " +
            "WHERE stream_id = 'wo-two' AND event_type LIKE 'LEASE_%' ORDER BY event_id");
        Assert.Equal("LEASE_ACQUIRED " + holder, leases[0]);
        Assert.StartsWith("LEASE_ACQUIRED ", leases[1], StringComparison.Ordinal);
        var successor = leases[1]["LEASE_ACQUIRED ".Length..];
        Assert.NotEqual(holder, successor);
        Assert.All(leases[2..^1], l => Assert.Contains(l, new[] { "LEASE_RENEWED " + successor, "LEASE_ACQUIRED " + successor }));
        Assert.Equal("LEASE_RELEASED -", leases[^1]);
        // Each step finished exactly once; the first was started by the dead server and again by the survivor.
        var steps = await ListAsync(superuser, "SELECT event_type FROM selene.work_order_ledger WHERE stream_id = 'wo-two' AND event_type LIKE 'STEP_%' ORDER BY event_id");
        Assert.Equal(2, steps.Count(e => e == "STEP_FINISHED"));
        Assert.True(steps.IndexOf("STEP_FINISHED") >= 2 && steps.Take(steps.IndexOf("STEP_FINISHED")).All(e => e == "STEP_STARTED"), string.Join(",", steps));
        using var survivorApi = new SeleneApi(survivorAddress);
        var order = await survivorApi.GetAsync(alice, "/v1/work-orders/wo-two");
        Assert.Equal(HttpStatusCode.OK, order.Status);
        Assert.Equal("DONE", order.Json["work_order"]!["status"]!.GetValue<string>());
    }

    private void Serve()
    {
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        _servers.Add((RunningProcess.Start(ChildProcess.DotnetHost,
            [ChildProcess.SeleneDll, "--data-dir", _dir, "serve", "--urls", address.ToString().TrimEnd('/'), "--worker-lease", LeaseSeconds.ToString(CultureInfo.InvariantCulture)]),
            address));
    }

    /// <summary>Polls <paramref name="probe"/> until it answers (bounded by <see cref="Deadline"/>).</summary>
    private async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string what) where T : class
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {Deadline.TotalSeconds} s for {what}:\n{string.Join("\n---\n", _servers.Select(s => s.Process.Output))}");
            await Task.Delay(100);
        }
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        return await cmd.ExecuteScalarAsync() is T value ? value : default;
    }

    private static async Task<List<string>> ListAsync(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        await using var r = await cmd.ExecuteReaderAsync();
        var list = new List<string>();
        while (await r.ReadAsync()) list.Add(r.GetString(0));
        return list;
    }
}
