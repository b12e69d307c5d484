using System.Net;
using System.Security.Cryptography;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The database stopped under a running server: every request is answered 503 with a retryable reason code, and
/// the server logs one short line per refused request — no stack trace (a server of its own, on its own cluster).
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class StorageOutageTests
{
    [Fact]
    public async Task DatabaseStopped_EveryRequestIs503StorageUnavailable_AndTheLogHasOneShortLinePerRequest()
    {
        var dataDir = "/tmp/sso-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        var server = RunningProcess.Start(ChildProcess.DotnetHost, [ChildProcess.SeleneDll, "--data-dir", dataDir, "serve", "--urls", address.ToString().TrimEnd('/')]);
        try
        {
            await SeleneServerFixture.WaitUntilHealthyAsync(server, address);
            var tenant = await ChildProcess.SeleneAsync(dataDir, "tenant", "create", "--tenant", "outage", "--admin", "olga");
            Assert.True(tenant.ExitCode == 0, tenant.ToString());
            var key = tenant.StandardOutput.Trim();
            using var api = new SeleneApi(address);
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(key, "/v1/capreqs")).Status);

            var stop = await ChildProcess.SeleneAsync(dataDir, "db", "stop");
            Assert.True(stop.ExitCode == 0, stop.ToString());

            var replies = new List<Reply>
            {
                await api.GetAsync(key, "/v1/capreqs"),
                await api.SimulateAsync(key, Create, NewDraft()),
                await api.GetAsync(key, "/v1/journal?correlation_id=1"),
                await api.GetAsync(null, "/healthz"),
                await api.SimulateAsync(key, Create, NewDraft()),
            };
            foreach (var reply in replies)
            {
                AssertProblem(reply, HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
                Assert.True(reply.Json["retryable"]!.GetValue<bool>());
            }
        }
        finally
        {
            Assert.True(await server.StopAsync(TimeSpan.FromSeconds(30)), $"the server ignored SIGTERM:\n{server.Output}");
            server.Dispose();
            if (File.Exists(Path.Combine(dataDir, "pg", "PG_VERSION"))) await ChildProcess.SeleneAsync(dataDir, "db", "stop");
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }

        // Read after the process exited, so every line it wrote is here.
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var refusals = lines.Where(l => l.Contains("STORAGE_UNAVAILABLE", StringComparison.Ordinal)).ToArray();
        Assert.True(refusals.Length == 5, $"one line per refused request expected:\n{server.Output}");
        Assert.All(refusals, l => Assert.True(l.Length < 300, l));
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
    }
}
