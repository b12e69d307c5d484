using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>The CLI attaching to the cluster that the running server started (same collection, same data directory).</summary>
[Collection(SeleneServerCollection.Name)]
public class CliTests(SeleneServerFixture f)
{
    [Fact]
    public async Task CapreqRebuild_CheckAfterTraffic_ExitsZeroReportsIdenticalAndChangesNothing()
    {
        await MakeTrafficAsync();
        var before = await f.CountsAsync();

        var result = await f.SeleneAsync("capreq", "rebuild", "--check");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"capreq tenant acme: \d+ rows of capreq_current from \d+ ledger events; identical to the live projection", result.StandardOutput);
        Assert.Contains("tenant globex:", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("differs", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("projection replaced", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, await f.CountsAsync());
    }

    [Fact]
    public async Task Rebuild_RowAlteredByHand_IsReportedAndApplyRestoresIt()
    {
        await MakeTrafficAsync();
        await f.SuperuserExecAsync("""
            UPDATE selene.capreq_current SET status = 'FULFILLED', doc = jsonb_set(doc, '{status}', '"FULFILLED"')
            WHERE tenant_id = 'globex' AND stream_id = (SELECT min(stream_id) FROM selene.capreq_current WHERE tenant_id = 'globex')
            """);

        var check = await f.SeleneAsync("rebuild", "--engine", "capreq", "--tenant", "globex");
        Assert.True(check.ExitCode == 1, check.ToString());
        Assert.Matches(@"capreq tenant globex: \d+ rows of capreq_current from \d+ ledger events; differs from the live projection in capreq_[0-9a-f]{16}", check.StandardOutput);
        Assert.DoesNotContain("projection replaced", check.StandardOutput, StringComparison.Ordinal);

        var apply = await f.SeleneAsync("rebuild", "--tenant", "globex", "--apply");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Contains("projection replaced", apply.StandardOutput, StringComparison.Ordinal);

        var after = await f.SeleneAsync("rebuild");
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.DoesNotContain("differs", after.StandardOutput, StringComparison.Ordinal);

        var unknown = await f.SeleneAsync("rebuild", "--engine", "nosuch");
        Assert.Equal(2, unknown.ExitCode);
    }

    [Fact]
    public async Task AuditVerify_AfterTraffic_ExitsZeroWithEveryChainIntact()
    {
        await MakeTrafficAsync();

        var all = await f.SeleneAsync("audit", "verify");

        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Matches(@"tenant acme: \d+ entries, [1-9]\d* ledger rows bound, chain intact \(J_CHAIN_VERIFIED\)", all.StandardOutput);
        Assert.Matches(@"tenant globex: \d+ entries, [1-9]\d* ledger rows bound, chain intact \(J_CHAIN_VERIFIED\)", all.StandardOutput);
        Assert.Contains("tenant chain(s) intact", all.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("BROKEN", all.StandardOutput, StringComparison.Ordinal);

        var acme = await f.SeleneAsync("audit", "verify", "--tenant", "acme");
        Assert.True(acme.ExitCode == 0, acme.ToString());
        Assert.Contains("tenant acme:", acme.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("globex", acme.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("audit verify: 1 tenant chain(s) intact", acme.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditCheckpoint_SignedHeadsVerify_AndAnAlteredLineOrTheWrongKeyFails()
    {
        await MakeTrafficAsync();
        var dir = Directory.CreateTempSubdirectory("selene-keys-").FullName;
        var (privateKey, publicKey, checkpoints) = (Path.Combine(dir, "audit.key"), Path.Combine(dir, "audit.pub"), Path.Combine(dir, "heads.jsonl"));

        var keygen = await f.SeleneAsync("audit", "keygen", "--private-key", privateKey, "--public-key", publicKey);
        Assert.True(keygen.ExitCode == 0, keygen.ToString());
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privateKey));
        Assert.Equal(2, (await f.SeleneAsync("audit", "keygen", "--private-key", privateKey, "--public-key", publicKey)).ExitCode); // never overwrites

        var checkpoint = await f.SeleneAsync("audit", "checkpoint", "--private-key", privateKey, "--out", checkpoints);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        Assert.Matches(@"tenant acme: head seq [1-9]\d* [0-9a-f]{64} signed", checkpoint.StandardOutput);
        var lines = await File.ReadAllLinesAsync(checkpoints);
        Assert.Contains(lines, l => l.Contains("\"tenant_id\":\"acme\"", StringComparison.Ordinal));
        Assert.Equal(2, (await f.SeleneAsync("audit", "checkpoint", "--private-key", publicKey, "--out", checkpoints)).ExitCode); // a public key cannot sign

        var held = await f.SeleneAsync("audit", "verify", "--checkpoints", checkpoints, "--public-key", publicKey);
        Assert.True(held.ExitCode == 0, held.ToString());
        Assert.Matches(@"tenant acme: \d+ entries, \d+ ledger rows bound, held against 1 checkpoint\(s\), chain intact", held.StandardOutput);

        await File.WriteAllLinesAsync(checkpoints, lines.Select(l => l.Replace("\"tenant_id\":\"acme\"", "\"tenant_id\":\"globex\"", StringComparison.Ordinal)));
        var altered = await f.SeleneAsync("audit", "verify", "--checkpoints", checkpoints, "--public-key", publicKey);
        Assert.Equal(1, altered.ExitCode);
        Assert.Contains("the signature does not verify", altered.StandardOutput, StringComparison.Ordinal);

        var otherKey = Path.Combine(dir, "other.pub");
        Assert.Equal(0, (await f.SeleneAsync("audit", "keygen", "--private-key", Path.Combine(dir, "other.key"), "--public-key", otherKey)).ExitCode);
        await File.WriteAllLinesAsync(checkpoints, lines);
        var wrongKey = await f.SeleneAsync("audit", "verify", "--checkpoints", checkpoints, "--public-key", otherKey);
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("not by the given public key", wrongKey.StandardOutput, StringComparison.Ordinal);

        var half = await f.SeleneAsync("audit", "verify", "--checkpoints", checkpoints);
        Assert.Equal(2, half.ExitCode);
        Assert.Contains("--checkpoints and --public-key come together", half.StandardError, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [PsqlFact]
    public async Task DbUrl_ReaderRole_ConnectsWithPsql()
    {
        var url = await f.SeleneAsync("db", "url", "--role", "reader");
        Assert.True(url.ExitCode == 0, url.ToString());
        var connection = url.StandardOutput.Trim();
        Assert.DoesNotContain('\n', connection);
        Assert.Contains("user=selene_reader", connection, StringComparison.Ordinal);

        var select = await ChildProcess.RunAsync(PsqlFactAttribute.Psql, [connection, "-c", "select 1"], TimeSpan.FromSeconds(30));
        Assert.True(select.ExitCode == 0, select.ToString());
        Assert.Contains("(1 row)", select.StandardOutput, StringComparison.Ordinal);

        var who = await ChildProcess.RunAsync(PsqlFactAttribute.Psql, [connection, "-tAc", "select current_user"], TimeSpan.FromSeconds(30));
        Assert.True(who.ExitCode == 0, who.ToString());
        Assert.Equal("selene_reader", who.StandardOutput.Trim());

        // `db url` leaves the cluster running; the server still answers.
        AssertSuccess(await f.Api.GetAsync(null, "/healthz"), "HEALTH_OK");
    }

    [Fact]
    public async Task DbStatus_WhileServing_ReportsRunningClusterAndMigrations()
    {
        var status = await f.SeleneAsync("db", "status");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("cluster: running", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"data directory: {f.DataDir}", status.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"migration 0001 ", status.StandardOutput);
    }

    [Fact]
    public async Task KeysCreate_InvalidTenant_ExitsTwoWithInputFieldInvalid()
    {
        var result = await f.SeleneAsync("keys", "create", "--tenant", "no spaces allowed", "--user", "alice");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Serve_SecondServerOnSameCluster_StopsOnSigtermAndLeavesClusterToTheFirst()
    {
        var id = await f.DraftAsync();
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        using var second = RunningProcess.Start(ChildProcess.DotnetHost,
            [ChildProcess.SeleneDll, "--data-dir", f.DataDir, "serve", "--urls", address.ToString().TrimEnd('/')]);
        try
        {
            await SeleneServerFixture.WaitUntilHealthyAsync(second, address);
            using var api = new SeleneApi(address);
            var row = await api.GetCapreqAsync(f.AliceKey, id);
            AssertSuccess(row, "QUERY_OK");
            Assert.True(JsonNode.DeepEquals((await f.RowAsync(id)), row.Capreq));
        }
        finally
        {
            Assert.True(await second.StopAsync(TimeSpan.FromSeconds(30)), $"the second server ignored SIGTERM:\n{second.Output}");
        }
        Assert.True(second.Process.ExitCode == 0, $"exit {second.Process.ExitCode}:\n{second.Output}");

        // The cluster belongs to the first server, which keeps working.
        AssertSuccess(await f.Api.GetAsync(null, "/healthz"), "HEALTH_OK");
        Assert.Equal(HttpStatusCode.OK, (await f.Api.GetCapreqAsync(f.AliceKey, id)).Status);
    }

    [Fact]
    public async Task Serve_OsDisabled_AnswersEveryDirectCallAndEveryRetry503NotInvoked_AndRecordsNothing()
    {
        // A request that committed while the gate was on: its retry must pass the gate too.
        var committedKey = SeleneApi.NewIdempotencyKey();
        var committed = new JsonObject { ["requested_capability_id"] = "cap.os.retry", ["target_scope_ref"] = "scope/" + committedKey, ["justification"] = "j" };
        AssertSuccess(await f.Api.SimulateAsync(f.AliceKey, Create, committed, committedKey), "CAPREQ_OK_CREATE_DRAFT");
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        using var off = RunningProcess.Start(ChildProcess.DotnetHost,
            [ChildProcess.SeleneDll, "--data-dir", f.DataDir, "serve", "--urls", address.ToString().TrimEnd('/'), "--os-disabled"]);
        try
        {
            await SeleneServerFixture.WaitUntilHealthyAsync(off, address);
            using var api = new SeleneApi(address);
            var before = await f.CountsAsync();
            var reply = await api.SimulateAsync(f.AliceKey, Create, new JsonObject
            {
                ["requested_capability_id"] = "cap.os.off", ["target_scope_ref"] = "scope", ["justification"] = "gate switched off",
            });
            AssertProblem(reply, HttpStatusCode.ServiceUnavailable, "PH1_OS_NOT_INVOKED_DISABLED");
            var retry = await api.SimulateAsync(f.AliceKey, Create, committed, committedKey);
            AssertProblem(retry, HttpStatusCode.ServiceUnavailable, "PH1_OS_NOT_INVOKED_DISABLED");
            Assert.False(retry.Replayed);
            Assert.Equal(before, await f.CountsAsync());
        }
        finally
        {
            Assert.True(await off.StopAsync(TimeSpan.FromSeconds(30)), $"the server ignored SIGTERM:\n{off.Output}");
        }
    }

    [Fact]
    public async Task ReviewUtility_SevenFailingDays_DegradesOnDaySixAndIsDisableCandidateOnDaySeven()
    {
        // Two tenants of its own, so the reviews it reads are exactly the rows it wrote, whatever else the suite did.
        // failing: PH1.SEARCH fails U4 on 2026-01-01..07 (no decision delta); passing: PH1.LANG passes on 2026-01-07.
        var (failing, _) = await f.OwnTenantAsync("review-fail");
        var (passing, _) = await f.OwnTenantAsync("review-pass");
        await f.SuperuserExecAsync($"""
            INSERT INTO selene.os_outcome_utilization (tenant_id, correlation_id, turn_id, entry_index, day, engine_id, outcome_type, action_class,
                consumed_by, latency_cost_ms, decision_delta, reason_code, recorded_at)
            SELECT '{failing}', 424242, d, i, date '2026-01-01' + (d - 1), 'PH1.SEARCH', 'RESULT', 'ACT_NOW', 'PH1.X', 5, false, 'PH1_OS_OK_POLICY_EVALUATE', 1
            FROM generate_series(1, 7) d, generate_series(0, 9) i;
            INSERT INTO selene.os_outcome_utilization (tenant_id, correlation_id, turn_id, entry_index, day, engine_id, outcome_type, action_class,
                consumed_by, latency_cost_ms, decision_delta, reason_code, recorded_at)
            SELECT '{passing}', 424242, 7, i, date '2026-01-07', 'PH1.LANG', 'RESULT', 'ACT_NOW', 'PH1.X', 3, i = 0, 'PH1_OS_OK_POLICY_EVALUATE', 1
            FROM generate_series(0, 9) i;
            """);

        var day6 = await f.SeleneAsync("review", "utility", "--day", "2026-01-06", "--tenant", failing);
        Assert.True(day6.ExitCode == 0, day6.ToString());
        Assert.Matches(@"TENANT\s+ENGINE\s+ENTRIES\s+DECISION_DELTA_BPS\s+QUEUE_LEARN_CONV_BPS\s+NO_VALUE_BPS\s+P95_MS\s+P99_MS\s+U4\s+ACTION\s+FAIL_STREAK",
            day6.StandardOutput);
        Assert.Matches(Regex.Escape(failing) + @"\s+PH1\.SEARCH\s+10\s+0\s+0\s+0\s+5\s+5\s+FAIL\s+DEGRADE\s+6\n", day6.StandardOutput);
        Assert.Contains("review utility 2026-01-06: 1 engine review(s) in 1 tenant(s); 5 earlier day review(s) run first", day6.StandardOutput, StringComparison.Ordinal);

        var day7 = await f.SeleneAsync("review", "utility", "--day", "2026-01-07", "--json");
        Assert.True(day7.ExitCode == 0, day7.ToString());
        var json = JsonNode.Parse(day7.StandardOutput)!;
        Assert.Equal("2026-01-07", (string)json["day"]!);
        var reviews = json["reviews"]!.AsArray()
            .Select(r => ((string)r!["tenant_id"]!, (string)r["engine_id"]!, (string)r["action"]!, (int)r["fail_streak_days"]!, (bool)r["gate_u4_pass"]!))
            .Where(r => r.Item1 == failing || r.Item1 == passing)
            .OrderBy(r => r.Item1 == failing ? 0 : 1);
        Assert.Equal([(failing, "PH1.SEARCH", "DISABLE_CANDIDATE", 7, false), (passing, "PH1.LANG", "KEEP", 0, true)], reviews);
    }

    [Theory]
    [InlineData("2026-02-30")]
    [InlineData("07.01.2026")]
    [InlineData("yesterday")]
    public async Task ReviewUtility_InvalidDay_ExitsTwoWithInputFieldInvalid(string day)
    {
        var result = await f.SeleneAsync("review", "utility", "--day", day);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput.Trim());
    }

    /// <summary>A full lifecycle, a rejection, a refusal and a globex request, so that both tenants have history.</summary>
    private async Task MakeTrafficAsync()
    {
        await f.FulfilledAsync();
        var pending = await f.PendingAsync();
        await f.RunAsync(f.BobKey, Reject, On(pending), "CAPREQ_OK_REJECT");
        AssertProblem(await f.Api.SimulateAsync(f.BobKey, Approve, On(pending)), HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID");
        await f.RunAsync(f.CarolKey, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
    }
}

/// <summary>A fact that is skipped, with a reason, when psql is not installed.</summary>
public sealed class PsqlFactAttribute : FactAttribute
{
    public const string Psql = "/usr/bin/psql";

    public PsqlFactAttribute()
    {
        if (!File.Exists(Psql)) Skip = $"psql is not installed at {Psql}; install postgresql-client to run this test";
    }
}
