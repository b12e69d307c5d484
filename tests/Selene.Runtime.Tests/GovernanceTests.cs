using System.Text.Json;
using Selene.Postgres;
using Selene.Runtime.Access;
using Selene.Testing;

namespace Selene.Runtime.Tests;

/// <summary>
/// PH1.GOV against a database of its own (its GLOBAL switches reach every tenant there): a platform operator's kill
/// switch and safe mode, the GLOBAL scope closed to other tenants, and the day's budget exact under concurrency.
/// </summary>
public sealed class GovernanceTests : IAsyncLifetime
{
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private long _correlation = 5000;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, TimeProvider.System));
        var bootstrap = new TenantBootstrap(_db, TimeProvider.System);
        await bootstrap.CreateAsync(new TenantId("ops"), new UserId("root"), platformOperator: true);
        await bootstrap.CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private Task<ExecutionResult> RunAsync(string tenant, string actor, string simulation, object body, string? key = null)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(body));
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId(tenant), new UserId(actor), simulation, key ?? "k-" + Guid.NewGuid().ToString("N"),
            doc.RootElement.Clone(), new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private static object Draft() => new Dictionary<string, string>
    {
        ["requested_capability_id"] = "cap.gov", ["target_scope_ref"] = "scope/" + Guid.NewGuid().ToString("N"), ["justification"] = "governance test",
    };

    private static object Switch(string which, bool enabled, string scope) => new Dictionary<string, object>
    {
        ["switch"] = which, ["enabled"] = enabled, ["scope"] = scope, ["note"] = "platform incident",
    };

    [Fact]
    public async Task GlobalSwitches_FromAPlatformOperator_ReachEveryTenant_AndNoOtherTenantSetsThem()
    {
        Assert.Equal("GOV_OK_SWITCH_SET", (await RunAsync("ops", "root", "GOV_SWITCH_SET_COMMIT", Switch("KILL_SWITCH", true, "GLOBAL"))).Reason.Name);

        var killed = await RunAsync("acme", "alice", "CAPREQ_CREATE_DRAFT", Draft());
        Assert.Equal(ExecutionOutcome.Refused, killed.Outcome);
        Assert.Equal(ReasonCodes.GovKillSwitchActive, killed.Reason);
        Assert.Contains("platform-wide", killed.Detail, StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.GovKillSwitchActive, (await RunAsync("ops", "root", "CAPREQ_CREATE_DRAFT", Draft())).Reason);

        // A tenant may not touch the platform's switch, and the control plane still answers it.
        var forbidden = await RunAsync("acme", "alice", "GOV_SWITCH_SET_COMMIT", Switch("KILL_SWITCH", false, "GLOBAL"));
        Assert.Equal("GOV_GLOBAL_SCOPE_FORBIDDEN", forbidden.Reason.Name);
        Assert.Equal("GOV_OK_SWITCH_SET", (await RunAsync("acme", "alice", "GOV_SWITCH_SET_COMMIT", Switch("SAFE_MODE", true, "TENANT"))).Reason.Name);

        // Lifting the kill switch under a platform-wide safe mode: drafts run, commits do not, in every tenant.
        Assert.Equal("GOV_OK_SWITCH_SET", (await RunAsync("ops", "root", "GOV_SWITCH_SET_COMMIT", Switch("SAFE_MODE", true, "GLOBAL"))).Reason.Name);
        Assert.Equal("GOV_OK_SWITCH_SET", (await RunAsync("ops", "root", "GOV_SWITCH_SET_COMMIT", Switch("KILL_SWITCH", false, "GLOBAL"))).Reason.Name);
        var draft = await RunAsync("ops", "root", "CAPREQ_CREATE_DRAFT", Draft());
        Assert.Equal("CAPREQ_OK_CREATE_DRAFT", draft.Reason.Name);
        var submit = await RunAsync("ops", "root", "CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT", new Dictionary<string, string> { ["capreq_id"] = RuntimeFixture.CapreqIdOf(draft) });
        Assert.Equal(ReasonCodes.GovSafeModeActive, submit.Reason);
        Assert.Contains("platform-wide", submit.Detail, StringComparison.Ordinal);

        Assert.Equal("GOV_OK_SWITCH_SET", (await RunAsync("ops", "root", "GOV_SWITCH_SET_COMMIT", Switch("SAFE_MODE", false, "GLOBAL"))).Reason.Name);
        Assert.Equal("CAPREQ_OK_SUBMIT_FOR_APPROVAL",
            (await RunAsync("ops", "root", "CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT", new Dictionary<string, string> { ["capreq_id"] = RuntimeFixture.CapreqIdOf(draft) })).Reason.Name);
        // acme's own safe mode is still on.
        Assert.Equal(ReasonCodes.GovSafeModeActive, (await RunAsync("acme", "alice", "CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT",
            new Dictionary<string, string> { ["capreq_id"] = RuntimeFixture.CapreqIdOf(await RunAsync("acme", "alice", "CAPREQ_CREATE_DRAFT", Draft())) })).Reason);
    }

    [Fact]
    public async Task Quota_TheLastUnit_UnderConcurrency_IsSpentExactlyOnce()
    {
        Assert.Equal("GOV_OK_QUOTA_SET", (await RunAsync("acme", "alice", "GOV_QUOTA_SET_COMMIT",
            new Dictionary<string, object> { ["user_daily_executions"] = 3, ["note"] = "tight" })).Reason.Name);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RunAsync("acme", "alice", "CAPREQ_CREATE_DRAFT", Draft())));

        Assert.Equal(3, results.Count(r => r.Outcome == ExecutionOutcome.Executed));
        Assert.All(results.Where(r => r.Outcome != ExecutionOutcome.Executed), r => Assert.Equal(ReasonCodes.QuotaUserDailyExceeded, r.Reason));
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command("SELECT executions FROM selene.gov_quota_usage WHERE user_id = 'alice'");
        Assert.Equal(3L, (long)(await cmd.ExecuteScalarAsync())!);
        await using var ledger = tx.Command("SELECT count(*) FROM selene.capreq_ledger");
        Assert.Equal(3L, (long)(await ledger.ExecuteScalarAsync())!);
    }
}
