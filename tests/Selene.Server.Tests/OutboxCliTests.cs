using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Operators' view of the outbox (issue 10 item 1) on the running server: a handoff no module consumes stays
/// PENDING and visible (GET /v1/outbox, <c>selene outbox list</c>), and bad operator input gets its reason code.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class OutboxCliTests(SeleneServerFixture f)
{
    /// <summary>An event type no engine module routes (<c>EngineModules.Handoffs</c> has no route for it), made for this test.</summary>
    private const string UnroutedEvent = "OUTBOX_CLI_TEST_UNROUTED";

    [Fact]
    public async Task UnconsumedHandoff_StaysPendingAndVisible_RetryRefusesWhatIsNotDeadLettered_AndReDrivesADeadLetterOnce()
    {
        var (tenant, key) = await f.OwnTenantAsync("outbox");
        // Every handoff an engine enqueues has a consumer now, so the test makes one no module routes, through the
        // outbox's own enqueue (as an engine's accepted decision does), in its tenant and with its actor.
        Assert.DoesNotContain(Selene.Runtime.Platform.EngineModules.Handoffs, h => h.EventType == UnroutedEvent);
        var marker = "ob-" + Guid.NewGuid().ToString("N")[..8];
        await f.EnqueueAsync(tenant, "admin", new Selene.Contracts.OutboxMessage("SIMULATION_COMMIT", "unrouted:" + marker, UnroutedEvent,
            new Dictionary<string, string> { ["marker"] = marker }));

        // The server's worker runs, but no module consumes this event type: it stays PENDING, named with its actor.
        var read = await f.Api.GetAsync(key, "/v1/outbox?state=PENDING");
        AssertSuccess(read, "QUERY_OK");
        var row = Assert.Single(read.Json["outbox"]!.AsArray())!;
        Assert.Equal((UnroutedEvent, "PENDING", "admin", 0), (row["event_type"]!.GetValue<string>(), row["status"]!.GetValue<string>(),
            row["actor_user_id"]!.GetValue<string>(), row["attempt_count"]!.GetValue<int>()));
        Assert.Empty((await f.Api.GetAsync(key, "/v1/outbox?state=DEAD_LETTER")).Json["outbox"]!.AsArray());
        Assert.DoesNotContain((await f.Api.GetAsync(f.CarolKey, "/v1/outbox")).Json["outbox"]!.AsArray(),
            r => r!["payload"]!["marker"]?.GetValue<string>() == marker);
        AssertProblem(await f.Api.GetAsync(key, "/v1/outbox?state=STUCK"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");

        var list = await f.SeleneAsync("outbox", "list", "--tenant", tenant, "--state", "PENDING", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var listed = Assert.Single(JsonNode.Parse(list.StandardOutput)!["outbox"]!.AsArray())!;
        Assert.Equal(row["outbox_id"]!.GetValue<long>(), listed["outbox_id"]!.GetValue<long>());
        var table = await f.SeleneAsync("outbox", "list", "--tenant", tenant);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(UnroutedEvent + "  PENDING", table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("outbox list: 1 row(s)", table.StandardOutput, StringComparison.Ordinal);

        // Bad operator input: exit 2 with its reason code, nothing changes.
        var outboxId = row["outbox_id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var pending = await f.SeleneAsync("outbox", "retry", outboxId, "--tenant", tenant);
        Assert.Equal(2, pending.ExitCode);
        Assert.Contains("OUTBOX_REDRIVE_STATE_INVALID", pending.StandardError, StringComparison.Ordinal);
        var unknown = await f.SeleneAsync("outbox", "retry", "999999999", "--tenant", tenant);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("OUTBOX_ROW_NOT_FOUND", unknown.StandardError, StringComparison.Ordinal);
        var notAnId = await f.SeleneAsync("outbox", "retry", "forty-two", "--tenant", tenant);
        Assert.Equal(2, notAnId.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", notAnId.StandardError, StringComparison.Ordinal);
        var badState = await f.SeleneAsync("outbox", "list", "--state", "STUCK");
        Assert.Equal(2, badState.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", badState.StandardError, StringComparison.Ordinal);
        Assert.Equal("PENDING", Assert.Single((await f.Api.GetAsync(key, "/v1/outbox")).Json["outbox"]!.AsArray())!["status"]!.GetValue<string>());

        // A DEAD_LETTER row (set by hand: no module consumes this event type, so no worker ever fails it) is re-driven
        // once: PENDING again, its attempts kept, OUTBOX_REDRIVEN in its correlation's journal.
        await f.SuperuserExecAsync($"UPDATE selene.outbox SET status = 'DEAD_LETTER', attempt_count = 5, last_error_reason_code = 'STORAGE_UNAVAILABLE' " +
            $"WHERE tenant_id = '{tenant}' AND outbox_id = {outboxId}");
        var dead = Assert.Single((await f.Api.GetAsync(key, "/v1/outbox?state=DEAD_LETTER")).Json["outbox"]!.AsArray())!;
        Assert.Equal("STORAGE_UNAVAILABLE", dead["last_error_reason_code"]!.GetValue<string>());
        Assert.Equal("FAILURE", dead["last_error_class"]!.GetValue<string>()); // storage went wrong: a failure, not a policy (issue 15 item 2)
        var deadTable = await f.SeleneAsync("outbox", "list", "--tenant", tenant, "--state", "DEAD_LETTER");
        Assert.Contains("STORAGE_UNAVAILABLE  FAILURE", deadTable.StandardOutput, StringComparison.Ordinal);
        var redriven = await f.SeleneAsync("outbox", "retry", outboxId, "--tenant", tenant);
        Assert.True(redriven.ExitCode == 0, redriven.ToString());
        Assert.StartsWith("OUTBOX_REDRIVEN:", redriven.StandardOutput, StringComparison.Ordinal);
        var after = Assert.Single((await f.Api.GetAsync(key, "/v1/outbox")).Json["outbox"]!.AsArray())!;
        Assert.Equal(("PENDING", 5), (after["status"]!.GetValue<string>(), after["attempt_count"]!.GetValue<int>()));
        var journal = await f.Api.JournalAsync(key, after["correlation_id"]!.GetValue<string>());
        var entry = Assert.Single(journal, e => e!["event_type"]!.GetValue<string>() == "OUTBOX_REDRIVEN")!;
        Assert.Equal(("OUTBOX_REDRIVEN", "STORAGE_UNAVAILABLE"), (entry["reason_code"]!.GetValue<string>(),
            entry["payload"]!["last_error_reason_code"]!.GetValue<string>()));
        var again = await f.SeleneAsync("outbox", "retry", outboxId, "--tenant", tenant);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("OUTBOX_REDRIVE_STATE_INVALID", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_RunsOnlyTheWorkersAgainstTheServersDatabase_AndStopsOnSigterm()
    {
        using var worker = RunningProcess.Start(ChildProcess.DotnetHost, [ChildProcess.SeleneDll, "--data-dir", f.DataDir, "worker"]);
        try
        {
            await worker.WaitForOutputAsync("Selene worker running", TimeSpan.FromSeconds(60));
        }
        finally
        {
            Assert.True(await worker.StopAsync(TimeSpan.FromSeconds(30)), $"the worker ignored SIGTERM:\n{worker.Output}");
        }
        Assert.True(worker.Process.ExitCode == 0, $"exit {worker.Process.ExitCode}:\n{worker.Output}");
        Assert.Contains("outbox event types consumed: " + string.Join(", ", Selene.Runtime.Platform.EngineModules.Handoffs.Select(h => h.EventType)),
            worker.Output, StringComparison.Ordinal);
        Assert.Contains("WORK_STEP_DUE", worker.Output, StringComparison.Ordinal);
        Assert.Contains("Selene worker stopped.", worker.Output, StringComparison.Ordinal);
        // The cluster belongs to the server, which keeps serving.
        AssertSuccess(await f.Api.GetAsync(null, "/healthz"), "HEALTH_OK");
    }
}
