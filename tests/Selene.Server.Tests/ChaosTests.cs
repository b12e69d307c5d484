using System.Text;
using Selene.Cli.Chaos;
using Selene.Contracts;
using Xunit.Abstractions;

namespace Selene.Server.Tests;

/// <summary>One data directory for the four short profiles: the cluster is made and migrated once, each run brings its own tenants.</summary>
public sealed class ChaosClusterFixture : IAsyncLifetime
{
    /// <summary>Short on purpose: the cluster's unix socket path must stay under 100 characters.</summary>
    public string DataDir { get; } = "/tmp/sch-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Each run stops the cluster it started when it leaves; a run that failed half-way may not have.
        if (File.Exists(Path.Combine(DataDir, "pg", "PG_VERSION"))) await ChildProcess.SeleneAsync(DataDir, "db", "stop");
        if (Directory.Exists(DataDir)) Directory.Delete(DataDir, recursive: true);
    }
}

/// <summary>
/// The short profiles of <c>selene chaos</c> in CI (issue 15 item 7): the real harness (<see cref="ChaosRunner"/>, what the
/// command runs) against a real <c>selene serve</c> child process, each profile for a few seconds with two clients, on one
/// cluster made for this class; every invariant and SLO must hold.
/// </summary>
public class ChaosProfileTests(ChaosClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ChaosClusterFixture>
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(3);

    [Fact]
    public Task KillServer_EveryInvariantAndSloHolds() => RunAsync(ChaosProfile.KillServer, report =>
    {
        // The harness SIGKILLed serve at least once and started it again.
        Assert.NotEmpty(report.Injections);
        Assert.Equal(report.Injections.Count + 1, report.ServeStarts);
    });

    [Fact]
    public Task RestartPostgres_EveryInvariantAndSloHolds() => RunAsync(ChaosProfile.RestartPostgres, report =>
    {
        // Serve was never restarted: its own supervisor brought the killed postmaster back, once per injection.
        Assert.Equal(1, report.ServeStarts);
        Assert.NotEmpty(report.Injections);
        Assert.Equal(report.Injections.Count, report.SupervisorRestarts);
        Assert.Contains(report.Attempts, a => a.Outcome == AttemptOutcome.Retryable503 && a.Reason == "STORAGE_UNAVAILABLE");
    });

    [Fact]
    public Task ClientDisconnects_EveryInvariantAndSloHolds() => RunAsync(ChaosProfile.ClientDisconnects, report =>
        Assert.Contains(report.Attempts, a => a.Outcome == AttemptOutcome.Abandoned));

    [Fact]
    public Task DuplicateStorm_EveryInvariantAndSloHolds() => RunAsync(ChaosProfile.DuplicateStorm, report =>
        Assert.Contains("duplicate storm(s)", report.Invariants.Single(c => c.Name == "every key answered identically").Figures, StringComparison.Ordinal));

    private async Task RunAsync(ChaosProfile profile, Action<ChaosReport> more)
    {
        var log = new StringWriter();
        var report = await ChaosRunner.RunAsync(new ChaosOptions(profile, Short, Clients: 2, DataDir: cluster.DataDir), log, CancellationToken.None);
        var printed = new StringWriter();
        ChaosCommand.Print(report, printed);
        output.WriteLine(log.ToString());
        output.WriteLine(printed.ToString());

        Assert.True(report.HarnessFailure is null, printed.ToString());
        Assert.Equal(6, report.Invariants.Count);
        Assert.All(report.Invariants.Concat(report.Slos), c => Assert.True(c.Passed, $"{c.Name}: {c.Figures}\n{printed}"));
        Assert.True(report.Passed);
        Assert.Equal(ReasonCodes.ChaosPassed, report.Reason);
        Assert.True(report.Acknowledged > 0, printed.ToString());
        Assert.Contains($"selene chaos: F_CHAOS_PASSED: every invariant and SLO held under {ChaosProfiles.Name(profile)}", printed.ToString(), StringComparison.Ordinal);
        var json = ChaosCommand.ToJson(report);
        Assert.True(json["passed"]!.GetValue<bool>());
        Assert.Equal("F_CHAOS_PASSED", json["reason_code"]!.GetValue<string>());
        Assert.Equal(report.Slos.Count, json["slos"]!.AsArray().Count);
        Assert.False(report.Throwaway);
        Assert.True(File.Exists(Path.Combine(cluster.DataDir, "pg", "PG_VERSION")), "a data directory that was given is kept");
        more(report);
    }
}

/// <summary>
/// The checks fail when they should. A real component cannot lose an acknowledged execution, run one twice or answer a key
/// differently (that is what the profiles above show), so these feed the checkers a tampered run: facts and answers made by hand.
/// </summary>
public class ChaosCheckTests
{
    private static readonly ChaosTenant Tenant = new("t1", "admin", "key");

    private static Acknowledged Ack(string key, string answer = "{\"ok\":true}") =>
        new("t1", "", "CAPREQ_CREATE_DRAFT", key, Encoding.UTF8.GetBytes("{}"), 200, Encoding.UTF8.GetBytes(answer));

    private static ChaosInvariants.TenantFacts Facts(params (string Key, long At)[] rows) => new("t1",
        rows.Select(r => r.Key).Distinct().ToDictionary(k => ("sim:CAPREQ_CREATE_DRAFT", k), _ => 200),
        rows.Select((r, i) => new Selene.Postgres.Stores.LedgerEffect("capreq_ledger", r.Key, r.At, i + 1)).ToList());

    [Fact]
    public void AcknowledgedKept_AKeyWithoutStoredResultOrLedgerRow_IsLost()
    {
        Assert.True(ChaosInvariants.AcknowledgedKept([Ack("k1")], [Facts(("k1", 10))]).Passed);

        var lost = ChaosInvariants.AcknowledgedKept([Ack("k1"), Ack("k2")], [Facts(("k1", 10))]);
        Assert.False(lost.Passed);
        Assert.Equal(ReasonCodes.ChaosAcknowledgedLost, lost.Reason);
        Assert.Contains("1 lost (first: CAPREQ_CREATE_DRAFT k2: no stored result)", lost.Figures, StringComparison.Ordinal);

        // A stored result without the ledger row is lost too (the effect is what was acknowledged).
        var facts = new ChaosInvariants.TenantFacts("t1", new Dictionary<(string, string), int> { [("sim:CAPREQ_CREATE_DRAFT", "k1")] = 200 }, []);
        Assert.Contains("k1: no ledger row", ChaosInvariants.AcknowledgedKept([Ack("k1")], [facts]).Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void NoEffectTwice_RowsOfOneKeyFromTwoExecutions_Fails()
    {
        Assert.True(ChaosInvariants.NoEffectTwice([Facts(("k1", 10), ("k1", 10), ("k2", 11))]).Passed);

        var twice = ChaosInvariants.NoEffectTwice([Facts(("k1", 10), ("k1", 12))]);
        Assert.False(twice.Passed);
        Assert.Equal(ReasonCodes.ChaosEffectDuplicated, twice.Reason);
        Assert.Contains("t1 k1: 2 executions", twice.Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void SameAnswer_OtherBytesAnUnreplayedRetryOrARefusedCopy_Fails()
    {
        var original = Ack("k1", "{\"a\":1}");
        ChaosLoad.Answer Again(string body, bool replayed = true) => new(new Attempt(1, 2, AttemptOutcome.Success, 200), Encoding.UTF8.GetBytes(body), replayed);

        Assert.True(ChaosInvariants.SameAnswer([(original, Again("{\"a\":1}"))], []).Passed);
        Assert.Contains("first difference at byte 5", ChaosInvariants.SameAnswer([(original, Again("{\"a\":2}"))], []).Figures, StringComparison.Ordinal);
        Assert.Contains("not marked Idempotent-Replayed", ChaosInvariants.SameAnswer([(original, Again("{\"a\":1}", replayed: false))], []).Figures,
            StringComparison.Ordinal);
        Assert.False(ChaosInvariants.SameAnswer([(original, null)], []).Passed);

        var request = new ChaosLoad.Request(Tenant, "CAPREQ_CREATE_DRAFT", [], "k2");
        var storm = new ChaosLoad.StormAnswers(request, [Again("{\"a\":1}"), new(new Attempt(1, 2, AttemptOutcome.Other, 409, "IDEMPOTENCY_KEY_REUSED"), [], false)]);
        var check = ChaosInvariants.SameAnswer([(original, Again("{\"a\":1}"))], [storm]);
        Assert.False(check.Passed);
        Assert.Equal(ReasonCodes.ChaosReplayDiffers, check.Reason);
        Assert.Contains("storm k2: a copy answered 409 IDEMPOTENCY_KEY_REUSED", check.Figures, StringComparison.Ordinal);
    }

    private static readonly ChaosThresholds Thresholds = ChaosThresholds.For(ChaosProfile.KillServer);

    private static LoadRecord Run(IReadOnlyList<Attempt> attempts, IReadOnlyList<Injection>? injections = null, IReadOnlyList<(double, double)>? down = null) =>
        new(attempts, injections ?? [new Injection(1, 2, "kill")], down ?? [], FaultEnded: 10);

    private static Check Slo(LoadRecord run, string name) => ChaosSlo.Evaluate(run, Thresholds).Single(c => c.Name == name);

    [Fact]
    public void Slo_A500DuringTheFault_MissesAvailability_ButARetryable503DoesNot()
    {
        Attempt[] good = [new(1, 1.1, AttemptOutcome.Success, 200), new(2, 2.1, AttemptOutcome.Retryable503, 503, "STORAGE_UNAVAILABLE"), new(11, 11.1, AttemptOutcome.Success, 200)];
        Assert.All(ChaosSlo.Evaluate(Run(good), Thresholds), c => Assert.True(c.Passed, c.Name + ": " + c.Figures));

        var bad = Slo(Run([.. good, new(3, 3.1, AttemptOutcome.Other, 500, "INTERNAL_ERROR")]), "availability during the fault");
        Assert.False(bad.Passed);
        Assert.Equal(ReasonCodes.ChaosSloMissed, bad.Reason);
        Assert.Contains("500 INTERNAL_ERROR × 1", bad.Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void Slo_TransportErrorsCountOnlyOutsideTheHarnessesDownWindows()
    {
        Attempt[] attempts = [new(1, 1.1, AttemptOutcome.Success, 200), new(3, 3.01, AttemptOutcome.Transport, 0, "ConnectionError"), new(11, 11.1, AttemptOutcome.Success, 200)];
        Assert.True(Slo(Run(attempts, down: [(2.5, 4)]), "availability during the fault").Passed);
        Assert.False(Slo(Run(attempts, down: [(5, 6)]), "availability during the fault").Passed);
    }

    [Fact]
    public void Slo_AFailureAfterRecoveryAHangOrAnInjectionNeverRecovered_Fails()
    {
        Attempt[] fine = [new(1, 1.1, AttemptOutcome.Success, 200), new(11, 11.1, AttemptOutcome.Success, 200)];
        Assert.False(Slo(Run([.. fine, new(12, 12.1, AttemptOutcome.Retryable503, 503, "STORAGE_UNAVAILABLE")]), "availability after recovery").Passed);
        Assert.False(Slo(Run([.. fine, new(2, 32, AttemptOutcome.Hang)]), "no request hangs").Passed);
        Assert.False(Slo(Run(fine, [new Injection(1, 2, "kill"), new Injection(5, null, "kill")]), "recovery time max").Passed);
        Assert.False(Slo(Run(fine, [new Injection(1, 40, "kill")]), "recovery time max").Passed);
        Assert.False(Slo(Run(fine, []), "recovery time p50").Passed); // a run that injected nothing proves nothing
    }
}

/// <summary>The command's own refusals: bad options are refused before anything is made or started.</summary>
public class ChaosCliTests
{
    [Theory]
    [InlineData("--seconds", "0", "--seconds is 1..3600")]
    [InlineData("--clients", "65", "--clients is 1..64")]
    public async Task Chaos_OptionOutOfRange_IsRefusedReasonCoded(string option, string value, string message)
    {
        var dir = "/tmp/scc-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var result = await ChildProcess.SeleneAsync(dir, "chaos", "--profile", "kill-server", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"INPUT_FIELD_INVALID: {message}", result.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir), "nothing was made");
    }

    [Fact]
    public async Task Chaos_UnknownProfile_IsRefusedNamingTheProfiles()
    {
        var result = await ChildProcess.SeleneAsync("/tmp/scc-none", "chaos", "--profile", "kill-everything");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("kill-server", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("duplicate-storm", result.StandardError, StringComparison.Ordinal);
    }
}
