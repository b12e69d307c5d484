using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Selene.Contracts;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime;
using Selene.Runtime.Access;
using Selene.Runtime.Delivery;
using Selene.Runtime.Link;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Testing;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The server the cross-engine scenarios drive: a real Selene application on 127.0.0.1 on a database of its own (its
/// outbox worker claims every due row of the database, so no other test's rows may be in it), a fake clock the test
/// moves, the file sink as everyone's app, one outbox worker with every engine's routes run by the test, and a tenant
/// (<see cref="Tenant"/>) whose administrator alice has full authority.
/// </summary>
public sealed class WorkforceServer : IAsyncDisposable
{
    public const string Tenant = "acme";

    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 5)).ToArray());
    private WebApplication? _app;

    private WorkforceServer(DateTimeOffset start) => Clock = new FakeTimeProvider(start);

    public FakeTimeProvider Clock { get; }

    public SeleneDatabase Db { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    public SeleneApi Api { get; private set; } = null!;

    /// <summary>alice's key: the tenant's first administrator.</summary>
    public string AdminKey { get; private set; } = "";

    /// <summary>The file sink's directory: one JSON file per delivery attempt.</summary>
    public string Sink { get; } = Path.Combine(Path.GetTempPath(), "selene-wf-" + Guid.NewGuid().ToString("N")[..8]);

    public OutboxWorker Worker { get; private set; } = null!;

    public static async Task<WorkforceServer> StartAsync(DateTimeOffset start)
    {
        var server = new WorkforceServer(start);
        try
        {
            server.Db = await TestCluster.CreateDatabaseAsync();
            server.AdminKey = (await new TenantBootstrap(server.Db, server.Clock).CreateAsync(new TenantId(Tenant), new UserId("alice"))).AdminKey!;
            server.Address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
            server._app = SeleneApp.Build(server.Db, new ServerOptions(server.Address.ToString().TrimEnd('/'), Workers: false, Metrics: false,
                Deliveries: new DeliveryProviders(new FileSinkProvider(server.Sink)), LinkKey: Key), logging: _ => { }, clock: server.Clock);
            await server._app.StartAsync();
            server.Api = new SeleneApi(server.Address);
            server.Worker = new OutboxWorker(server.Db, server._app.Services.GetRequiredService<SimulationExecutor>(), server.Clock,
                new OutboxWorkerOptions("w1", 64, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), server._app.Services.GetRequiredService<HandoffServices>()));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Api?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (Db is not null) await Db.DisposeAsync();
        if (Directory.Exists(Sink)) Directory.Delete(Sink, recursive: true);
    }

    /// <summary>Runs <paramref name="simulation"/> over HTTP (as alice unless <paramref name="key"/>) and asserts 200.</summary>
    public async Task<JsonNode> RunAsync(string simulation, string body, string? key = null)
    {
        var reply = await Api.SimulateAsync(key ?? AdminKey, simulation, JsonNode.Parse(body)!.AsObject());
        Assert.True(reply.Status == HttpStatusCode.OK, $"{simulation}: {reply}");
        return reply.Json;
    }

    /// <summary>GET <paramref name="path"/> as alice, asserting QUERY_OK.</summary>
    public async Task<JsonNode> ReadAsync(string path)
    {
        var reply = await Api.GetAsync(AdminKey, path);
        AssertSuccess(reply, "QUERY_OK");
        return reply.Json;
    }

    /// <summary>Every envelope the file sink wrote, in the order they were sent.</summary>
    public List<JsonNode> Deliveries() => !Directory.Exists(Sink) ? [] :
        Directory.GetFiles(Sink, "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .OrderBy(j => j["timestamp"]!.GetValue<string>(), StringComparer.Ordinal).ToList();

    /// <summary>The texts the file sink delivered to <paramref name="user"/>, in the order they were sent.</summary>
    public List<string> Messages(string user) =>
        Deliveries().Where(j => j["recipient_id"]!.GetValue<string>() == user).Select(j => j["content_text"]!.GetValue<string>()).ToList();

    /// <summary>The tenant's outbox rows, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxRow>> OutboxAsync()
    {
        await using var tx = await TenantTransaction.BeginAsync(Db.App, Tenant);
        return await OutboxStore.ListAsync(tx, default);
    }

    /// <summary>Runs the worker until a pass claims nothing.</summary>
    public async Task DrainAsync() => Assert.True(await Worker.DrainAsync(100), "the outbox did not drain in 100 passes");

    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await DrainAsync();
    }

    /// <summary>Drains, then moves the clock to the next waiting row's due time, until none waits; a dead-lettered row fails.</summary>
    public Task RunToQuietAsync() => OutboxQuiet.RunAsync(Db, Tenant, Clock, DrainAsync, maxSteps: 30);
}
