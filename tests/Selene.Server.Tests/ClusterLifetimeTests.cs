using System.Security.Cryptography;

namespace Selene.Server.Tests;

/// <summary>The embedded cluster's lifetime across processes, each test on a data directory of its own.</summary>
public sealed class ClusterLifetimeTests : IAsyncLifetime
{
    private readonly string _dir = "/tmp/scl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await ChildProcess.SeleneAsync(_dir, "db", "stop");
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> ClusterStateAsync()
    {
        var status = await ChildProcess.SeleneAsync(_dir, "db", "status");
        Assert.True(status.ExitCode == 0, status.ToString());
        return status.StandardOutput.Split('\n').Single(l => l.StartsWith("cluster: ", StringComparison.Ordinal))["cluster: ".Length..].Trim();
    }

    private RunningProcess Serve(out Uri address)
    {
        address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        return RunningProcess.Start(ChildProcess.DotnetHost, [ChildProcess.SeleneDll, "--data-dir", _dir, "serve", "--urls", address.ToString().TrimEnd('/')]);
    }

    [Fact]
    public async Task OneShotCommand_StartsAndStopsTheCluster()
    {
        var keys = await ChildProcess.SeleneAsync(_dir, "tenant", "create", "--tenant", "acme", "--admin", "alice");
        Assert.True(keys.ExitCode == 0, keys.ToString());
        Assert.Equal("stopped", await ClusterStateAsync());
    }

    [Fact]
    public async Task DbStart_LeavesTheClusterRunningUntilDbStop()
    {
        var start = await ChildProcess.SeleneAsync(_dir, "db", "start");
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Equal("running", await ClusterStateAsync());
        var keys = await ChildProcess.SeleneAsync(_dir, "tenant", "create", "--tenant", "acme", "--admin", "alice");
        Assert.True(keys.ExitCode == 0, keys.ToString());
        Assert.Equal("running", await ClusterStateAsync()); // a later user does not stop what db start started
        var stop = await ChildProcess.SeleneAsync(_dir, "db", "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("stopped", await ClusterStateAsync());
    }

    [Fact]
    public async Task OverlappingServers_TheLastToLeaveStopsTheCluster()
    {
        using var first = Serve(out var firstAddress);
        await SeleneServerFixture.WaitUntilHealthyAsync(first, firstAddress);
        using var second = Serve(out var secondAddress);
        await SeleneServerFixture.WaitUntilHealthyAsync(second, secondAddress);

        Assert.True(await first.StopAsync(TimeSpan.FromSeconds(30)), first.Output); // the one that started it leaves first
        Assert.Equal("running", await ClusterStateAsync());
        using (var api = new SeleneApi(secondAddress)) Assert.Equal(System.Net.HttpStatusCode.OK, (await api.GetAsync(null, "/healthz")).Status);

        Assert.True(await second.StopAsync(TimeSpan.FromSeconds(30)), second.Output);
        Assert.Equal("stopped", await ClusterStateAsync());
    }

    [Fact]
    public async Task ConcurrentFirstStarts_OnAFreshDirectory_AllSucceed()
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            ChildProcess.SeleneAsync(_dir, "tenant", "create", "--tenant", $"tenant{i}", "--admin", "alice")));
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Equal(4, runs.Select(r => r.StandardOutput.Trim()).Distinct().Count());
        Assert.Equal("stopped", await ClusterStateAsync());
    }
}
