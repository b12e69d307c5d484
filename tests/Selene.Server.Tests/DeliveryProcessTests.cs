using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Selene.Contracts;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Testing;
using StandardWebhooks;

namespace Selene.Server.Tests;

/// <summary>
/// PH1.DELIVERY with real <c>selene serve</c> processes (issue 12 Done-when): a webhook receiver on 127.0.0.1 kills the
/// sending server when the POST arrives, before answering — between the send and the proof. The restarted server
/// re-sends the same attempt (the same webhook id, validly signed) once the dead one's claim expired, and the attempt
/// settles once. Channels the configuration does not name go to the file sink under the data directory.
/// </summary>
public sealed class DeliveryProcessTests : IAsyncLifetime
{
    private const int LeaseSeconds = 2;
    private const string B1 = "bcast_00000000000000b1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly string _dir = "/tmp/sdl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private readonly string _secretVariable = "SELENE_TEST_HOOK_SECRET_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4));
    private readonly string _secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
    private readonly List<RunningProcess> _servers = [];
    private WebhookReceiver _receiver = null!;

    public Task InitializeAsync()
    {
        _receiver = WebhookReceiver.Start();
        // The child processes inherit it: the configuration names only the handle env:<variable>.
        Environment.SetEnvironmentVariable(_secretVariable, _secret);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            if (!server.Process.HasExited) await server.StopAsync(TimeSpan.FromSeconds(30));
            server.Dispose();
        }
        await _receiver.DisposeAsync();
        Environment.SetEnvironmentVariable(_secretVariable, null);
        await ChildProcess.SeleneAsync(_dir, "db", "stop");
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ServerKilledBetweenSendAndProof_TheRestartedServerResendsTheSameAttemptId_SettledOnce()
    {
        Assert.Equal(0, (await ChildProcess.SeleneAsync(_dir, "db", "start")).ExitCode);
        var tenant = await ChildProcess.SeleneAsync(_dir, "tenant", "create", "--tenant", "acme", "--admin", "alice");
        Assert.True(tenant.ExitCode == 0, tenant.ToString());
        var alice = tenant.StandardOutput.Trim();
        var config = Path.Combine(_dir, "selene.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["deliveries"] = new JsonObject
            {
                ["providers"] = new JsonObject { ["hooks"] = new JsonObject { ["type"] = "webhook", ["url"] = _receiver.Url.ToString(), ["secret"] = "env:" + _secretVariable } },
                ["channels"] = new JsonObject { ["EMAIL"] = "hooks" },
            },
        }.ToJsonString());

        RunningProcess? first = null;
        _receiver.Answer = async request =>
        {
            // The first POST: the sender dies before it hears the answer (the send happened, the proof did not).
            if (_receiver.Received.Count == 0 && first is { Process.HasExited: false } victim)
            {
                victim.Process.Kill(entireProcessTree: true);
                await victim.Process.WaitForExitAsync();
            }
            return 200;
        };
        var (server, address) = Serve(config);
        first = server;
        await SeleneServerFixture.WaitUntilHealthyAsync(server, address);
        using (var api = new SeleneApi(address))
        {
            var setup = await api.SimulateAsync(alice, "DELIVERY_CHANNEL_SETUP_COMMIT", new JsonObject
            {
                ["user_id"] = "bob", ["setup_source"] = "SETTINGS",
                ["bindings"] = new JsonObject { ["EMAIL"] = "bob@example.com", ["APP_PUSH"] = "device-7" },
            });
            Assert.True(setup.Status == HttpStatusCode.OK, setup.ToString());
        }
        await using var superuser = NpgsqlDataSource.Create($"Host={_dir}/run;Port=5432;Database=selene;Username=postgres;Pooling=false");
        await RequestAsync(superuser, B1, "bob", "EMAIL", "req-mail");

        await UntilAsync(() => Task.FromResult(server.Process.HasExited ? "" : null), "the receiver to kill the server on the first POST");
        var id = Assert.Single(_receiver.Received).Id;
        Assert.StartsWith("delivery_", id, StringComparison.Ordinal);
        Assert.Equal("PENDING", await ScalarAsync<string>(superuser, $"SELECT status FROM selene.delivery_attempt_current WHERE stream_id = '{id}'"));

        var (second, secondAddress) = Serve(config);
        await SeleneServerFixture.WaitUntilHealthyAsync(second, secondAddress);
        await UntilAsync(() => ScalarAsync<string>(superuser, $"SELECT status FROM selene.delivery_attempt_current WHERE stream_id = '{id}' AND status = 'SENT'"),
            "the restarted server to settle the attempt");

        // The same attempt reached the receiver twice under one webhook id, each time validly signed; it processed it once.
        var received = _receiver.Received;
        Assert.Equal(2, received.Count);
        Assert.All(received, r => Assert.Equal(id, r.Id));
        Assert.All(received, r => new StandardWebhook(_secret).Verify(r.Body, new HeaderDictionary
        {
            ["webhook-id"] = r.Id, ["webhook-timestamp"] = r.Timestamp, ["webhook-signature"] = r.Signature,
        }));
        Assert.Equal([id], _receiver.Delivered);
        Assert.Equal(["SEND", "PROOF"], await ListAsync(superuser, $"SELECT event_type FROM selene.delivery_attempt_ledger WHERE stream_id = '{id}' ORDER BY event_id"));
        Assert.Equal(1L, await ScalarAsync<long>(superuser, "SELECT count(*) FROM selene.outbox WHERE event_type = 'DELIVERY_ATTEMPT_SETTLED_BCAST'"));
        Assert.Equal("CONFIRMED", await ScalarAsync<string>(superuser, $"SELECT status FROM selene.outbox WHERE event_type = 'DELIVERY_ATTEMPT_DUE' AND idempotency_key = '{id}'"));
        Assert.False(second.Process.HasExited, second.Output);

        // A channel the configuration does not name goes to the file sink under the data directory.
        await RequestAsync(superuser, B1, "bob", "SELENE_APP", "req-app");
        var appAttempt = await UntilAsync(() => ScalarAsync<string>(superuser,
            "SELECT stream_id FROM selene.delivery_attempt_current WHERE status = 'SENT' AND doc->'send'->>'channel' = 'APP_PUSH'"), "the app delivery");
        var file = Path.Combine(_dir, "deliveries", appAttempt + ".json");
        Assert.True(File.Exists(file), file);
        Assert.Equal("device-7", JsonNode.Parse(await File.ReadAllTextAsync(file))!["address"]!.GetValue<string>());

        // What was sent where, with proofs: the read route, the CLI, and the rebuild.
        using var secondApi = new SeleneApi(secondAddress);
        var detail = await secondApi.GetAsync(alice, $"/v1/deliveries/{id}");
        Assert.Equal(HttpStatusCode.OK, detail.Status);
        Assert.Equal(("SENT", "webhook:hooks"), (detail.Json["delivery"]!["status"]!.GetValue<string>(), detail.Json["delivery"]!["provider_ref"]!.GetValue<string>()));
        // The killed server's attempt counted nothing (its transaction never committed): the settling send is the row's first counted try.
        Assert.Equal(("CONFIRMED", 1), (detail.Json["provider_tries"]!["status"]!.GetValue<string>(), detail.Json["provider_tries"]!["tries"]!.GetValue<int>()));
        var listed = await ChildProcess.SeleneAsync(_dir, "deliveries", "--json", "--tenant", "acme");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var items = JsonNode.Parse(listed.StandardOutput)!["deliveries"]!.AsArray();
        Assert.Equal(new[] { id, appAttempt }.Order(StringComparer.Ordinal), items.Select(i => i!["item_id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(items, i => Assert.StartsWith(i!["channel"]!.GetValue<string>() == "EMAIL" ? "http:200#sha256:" : "file:", i["proof"]!.GetValue<string>(),
            StringComparison.Ordinal));
        var table = await ChildProcess.SeleneAsync(_dir, "deliveries");
        Assert.Contains("bob@example.com", table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("deliveries: 2 delivery(ies)", table.StandardOutput, StringComparison.Ordinal);
        var rebuild = await ChildProcess.SeleneAsync(_dir, "rebuild", "--engine", "delivery");
        Assert.True(rebuild.ExitCode == 0, rebuild.ToString());
        Assert.Contains("identical", rebuild.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("differs", rebuild.StandardOutput, StringComparison.Ordinal);
        // The secret's value went to the receiver only: not into the database's text, nor any process output.
        Assert.All(_servers, s => Assert.DoesNotContain(_secret, s.Output, StringComparison.Ordinal));
        Assert.Equal(0L, await ScalarAsync<long>(superuser, $"SELECT count(*) FROM selene.journal j WHERE j::text LIKE '%{_secret["whsec_".Length..]}%'"));
    }

    [Theory]
    [InlineData("""{"deliveries":{"providers":{"hooks":{"type":"webhook","url":"http://127.0.0.1:9/hook","secret":"whsec_c2VjcmV0"}}}}""", "secret handle")]
    [InlineData("""{"deliveries":{"channels":{"EMAIL":"nobody"}}}""", "names no configured provider")]
    [InlineData("""{"deliveries":{"channels":{"FAX":"hooks"}}}""", "channel 'FAX'")]
    [InlineData("""{"deliveries":""", "cannot be read as JSON")]
    public async Task BadDeliveryConfiguration_StopsTheProcessBeforeItStarts_SayingWhatIsWrong_WithoutEchoingASecret(string json, string says)
    {
        Directory.CreateDirectory(_dir);
        var config = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(config, json);
        var result = await ChildProcess.SeleneAsync(_dir, "worker", "--config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(says, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_c2VjcmV0", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")), "the database was not started");
    }

    private (RunningProcess Server, Uri Address) Serve(string config)
    {
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        var server = RunningProcess.Start(ChildProcess.DotnetHost, [ChildProcess.SeleneDll, "--data-dir", _dir, "serve", "--urls", address.ToString().TrimEnd('/'),
            "--worker-lease", LeaseSeconds.ToString(CultureInfo.InvariantCulture), "--config", config]);
        _servers.Add(server);
        return (server, address);
    }

    /// <summary>Enqueues BCAST's send request as BCAST_DELIVER_COMMIT's decision does (the flow contract), as alice's turn 1.</summary>
    private static async Task RequestAsync(NpgsqlDataSource db, string broadcast, string recipient, string method, string requestRef)
    {
        await using var tx = await TenantTransaction.BeginAsync(db, "acme");
        await OutboxStore.EnqueueAsync(tx, new CorrelationId((UInt128)Random.Shared.NextInt64(1, long.MaxValue)), [new OutboxMessage("SIMULATION_COMMIT", requestRef,
            "BCAST_DELIVERY_SEND_REQUESTED", new Dictionary<string, string>
            {
                ["tenant_id"] = "acme", ["broadcast_id"] = broadcast, ["recipient_id"] = recipient, ["delivery_request_ref"] = requestRef,
                ["delivery_method"] = method, ["recipient_region"] = "GLOBAL", ["delivery_plan_ref"] = "plan-1", ["content_payload_ref"] = "payload:" + broadcast,
                ["content_text"] = "hello " + recipient, ["classification"] = "SIMPLE", ["simulation_context"] = "bcast:" + broadcast,
            })], UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow).Value, default, new OutboxOrigin("alice", new TurnId(1)));
        await tx.CommitAsync();
    }

    /// <summary>Polls <paramref name="probe"/> until it answers (bounded by <see cref="Deadline"/>).</summary>
    private async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string what) where T : class
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {Deadline.TotalSeconds} s for {what}:\n{string.Join("\n---\n", _servers.Select(s => s.Output))}");
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
