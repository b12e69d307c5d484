using Selene.Engines.CapReq;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

public sealed class MaintenanceTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    /// <summary>Drives a seeded mix of lifecycles (legal and illegal moves) across two tenants.</summary>
    private async Task DriveAsync(int seed, int requests)
    {
        var random = new Random(seed);
        string[] sims = [CapreqSimulations.SubmitForApproval, CapreqSimulations.Approve, CapreqSimulations.Reject, CapreqSimulations.Fulfill, CapreqSimulations.CancelRevoke];
        for (var i = 0; i < requests; i++)
        {
            var (tenant, requester, approver) = i % 3 == 0 ? ("globex", "carol", "dave") : ("acme", "alice", "bob");
            var created = await f.RunAsync(requester, CapreqSimulations.CreateDraft, Key("d"), CreateBody($"cap{seed}.{i}"), tenant: tenant);
            var id = CapreqIdOf(created);
            for (var step = random.Next(0, 5); step > 0; step--)
            {
                var sim = sims[random.Next(sims.Length)];
                var actor = sim is CapreqSimulations.SubmitForApproval or CapreqSimulations.CancelRevoke ? requester : approver;
                await f.RunAsync(actor, sim, Key("m"), IdBody(id), tenant: tenant);
            }
        }
    }

    [Fact]
    public async Task RebuildCapreq_AfterManyLifecycles_ReproducesTheLiveProjection()
    {
        await DriveAsync(seed: 7, requests: 24);
        var reports = await f.Maintenance.RebuildAsync("capreq", null, apply: false);
        Assert.Contains(reports, r => r.TenantId == "acme" && r.Rows > 0);
        Assert.Contains(reports, r => r.TenantId == "globex" && r.Rows > 0);
        Assert.All(reports, r => Assert.True(r.Identical, $"{r.TenantId}: {string.Join(",", r.Differences)}"));
        Assert.All(reports, r => Assert.Equal(r.Rows, (int)f.CountAsync(r.TenantId, "capreq_current").GetAwaiter().GetResult()));
    }

    [Fact]
    public async Task RebuildCapreq_ProjectionDrift_IsFoundAndRepaired()
    {
        await DriveAsync(seed: 11, requests: 6);
        await f.OwnerExecAsync("acme", "UPDATE selene.capreq_current SET status = 'FULFILLED' WHERE stream_id = (SELECT min(stream_id) FROM selene.capreq_current)");

        var check = Assert.Single(await f.Maintenance.RebuildAsync("capreq", "acme", apply: false));
        Assert.False(check.Identical);
        Assert.Single(check.Differences);

        var repaired = Assert.Single(await f.Maintenance.RebuildAsync("capreq", "acme", apply: true));
        Assert.True(repaired.Applied);
        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("capreq", "acme", apply: false)).Identical);
        Assert.Equal(1, await f.CountAsync("acme", "journal", "event_type = 'PROJECTION_REBUILT'"));
    }

    [Fact]
    public async Task Rebuild_DocumentAlteredByHand_IsFoundAndRestored()
    {
        await DriveAsync(seed: 13, requests: 3);
        // Its own tenant (the drift test counts acme's rebuild entries). Only the document changes (status, source event and time stay): the comparison must read the JSON.
        await f.OwnerExecAsync("globex", """
            UPDATE selene.capreq_current SET doc = jsonb_set(doc, '{justification}', '"forged"')
            WHERE stream_id = (SELECT max(stream_id) FROM selene.capreq_current)
            """);
        var altered = Assert.Single(await f.Maintenance.RebuildAsync("PH1.CAPREQ", "globex", apply: false));
        Assert.False(altered.Identical);
        var id = Assert.Single(altered.Differences);

        Assert.True(Assert.Single(await f.Maintenance.RebuildAsync("capreq", "globex", apply: true)).Applied);
        Assert.All(await f.Maintenance.RebuildAsync(null, "globex", apply: false), r => Assert.True(r.Identical, $"{r.Store}: {string.Join(",", r.Differences)}"));
        await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "globex");
        Assert.NotEqual("forged", (await Selene.Runtime.CapReq.CapreqModule.Requests.GetAsync(tx, id, default))!.Justification);
    }

    [Fact]
    public async Task Rebuild_UnknownEngine_RebuildsNothing() =>
        Assert.Empty(await f.Maintenance.RebuildAsync("nosuch", null, apply: false));

    [Fact]
    public async Task VerifyJournal_UntouchedChains_AreIntact()
    {
        await DriveAsync(seed: 3, requests: 6);
        var reports = await f.Maintenance.VerifyJournalAsync(null);
        Assert.All(reports, r => Assert.True(r.Intact, r.Break?.Why));
        Assert.Contains(reports, r => r.TenantId == "acme" && r.Entries > 0);
    }
}

/// <summary>Tampering needs its own database: it breaks the chain for good.</summary>
public sealed class TamperTests : IAsyncLifetime
{
    private readonly RuntimeFixture _f = new();

    public Task InitializeAsync() => _f.InitializeAsync();

    public Task DisposeAsync() => _f.DisposeAsync();

    private async Task<long> JournalSomeAsync()
    {
        var id = CapreqIdOf(await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("tamper.cap")));
        await _f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id));
        await _f.RunAsync("alice", CapreqSimulations.Fulfill, Key("f"), IdBody(id)); // refused: journaled too
        await _f.RunAsync("bob", CapreqSimulations.Approve, Key("a"), IdBody(id));
        await _f.RunAsync("bob", CapreqSimulations.Fulfill, Key("f"), IdBody(id));
        Assert.True(Assert.Single(await _f.Maintenance.VerifyJournalAsync("acme")).Intact);
        return await _f.CountAsync("acme", "journal");
    }

    [Theory]
    [InlineData("payload = '{\"state_to\":\"APPROVED\"}'")]
    [InlineData("reason_code = 'CAPREQ_OK_REJECT'")]
    [InlineData("actor_user_id = 'mallory'")]
    [InlineData("created_at = created_at + 1")]
    public async Task VerifyJournal_RowAlteredThroughTheOwnerRole_FailsAtThatEntry(string change)
    {
        var entries = await JournalSomeAsync();
        Assert.True(entries >= 5);
        // The owner can switch the append-only trigger off: the hash chain still tells.
        await _f.OwnerExecAsync("acme", $"""
            ALTER TABLE selene.journal DISABLE TRIGGER append_only_row;
            UPDATE selene.journal SET {change} WHERE seq = 3;
            ALTER TABLE selene.journal ENABLE TRIGGER append_only_row;
            """);
        var report = Assert.Single(await _f.Maintenance.VerifyJournalAsync("acme"));
        Assert.False(report.Intact);
        Assert.Equal(3, report.Break!.Seq);
        Assert.True(Assert.Single(await _f.Maintenance.VerifyJournalAsync("globex")).Intact);
    }

    [Fact]
    public async Task VerifyJournal_TailDeletedThroughTheOwnerRole_IsDetected()
    {
        var entries = await JournalSomeAsync();
        await _f.OwnerExecAsync("acme", $"""
            ALTER TABLE selene.journal DISABLE TRIGGER append_only_row;
            DELETE FROM selene.journal WHERE seq = {entries};
            ALTER TABLE selene.journal ENABLE TRIGGER append_only_row;
            """);
        var report = Assert.Single(await _f.Maintenance.VerifyJournalAsync("acme"));
        Assert.False(report.Intact);
        Assert.Equal(entries, report.Break!.Seq);
    }
}

/// <summary>Maintenance while the runtime is writing.</summary>
public sealed class LiveMaintenanceTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    [Fact]
    public async Task RebuildCapreq_WhileATransitionIsInFlight_WaitsAndKeepsIt()
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("live.cap")));

        // A writer holds an uncommitted SUBMIT (ledger row + projection update), as the executor would.
        await using var writer = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "acme");
        await using (var cmd = writer.Command($"""
            INSERT INTO selene.capreq_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
            SELECT 'acme', '{id}', 'SUBMIT_FOR_APPROVAL', 'alice', 'CAPREQ_OK_SUBMIT_FOR_APPROVAL',
                   payload || jsonb_build_object('action', 'SUBMIT_FOR_APPROVAL', 'status', 'PENDING_APPROVAL', 'reason_code', 'CAPREQ_OK_SUBMIT_FOR_APPROVAL',
                       'payload_hash', 'h', 'requested_capability_id', null, 'target_scope_ref', null, 'justification', null, 'created_at', 2), 5, 2
            FROM selene.capreq_ledger WHERE stream_id = '{id}';
            UPDATE selene.capreq_current SET status = 'PENDING_APPROVAL', updated_at = 2,
                source_event_id = (SELECT max(event_id) FROM selene.capreq_ledger WHERE stream_id = '{id}'),
                doc = doc || jsonb_build_object('status', 'PENDING_APPROVAL', 'last_action', 'SUBMIT_FOR_APPROVAL', 'last_reason_code', 'CAPREQ_OK_SUBMIT_FOR_APPROVAL',
                    'payload_hash', 'h', 'updated_at', 2, 'source_event_id', (SELECT max(event_id) FROM selene.capreq_ledger WHERE stream_id = '{id}'))
            WHERE stream_id = '{id}';
            """)) await cmd.ExecuteNonQueryAsync();

        var rebuild = f.Maintenance.RebuildAsync("capreq", "acme", apply: true);
        await WaitUntilBlockedOnALockAsync();
        Assert.False(rebuild.IsCompleted);
        await writer.CommitAsync();

        var report = Assert.Single(await rebuild);
        Assert.True(report.Identical, string.Join(",", report.Differences));
        await using var read = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "acme");
        await using var status = read.Command($"SELECT status FROM selene.capreq_current WHERE stream_id = '{id}'");
        Assert.Equal("PENDING_APPROVAL", (string)(await status.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task VerifyJournal_DuringLiveAppends_NeverReportsABreak()
    {
        // globex: the in-flight test of this class writes an acme ledger row by hand, which no journal entry binds.
        var traffic = Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var id = CapreqIdOf(await f.RunAsync("carol", CapreqSimulations.CreateDraft, Key("v"), CreateBody($"verify.{i}"), tenant: "globex"));
            await f.RunAsync("dave", CapreqSimulations.Approve, Key("x"), IdBody(id), tenant: "globex"); // refused: journaled on its own
        })));
        var verifications = new List<AuditReport>();
        while (!traffic.IsCompleted) verifications.AddRange(await f.Maintenance.VerifyJournalAsync("globex"));
        await traffic;
        verifications.AddRange(await f.Maintenance.VerifyJournalAsync("globex"));
        Assert.True(verifications.Count > 1);
        Assert.All(verifications, r => Assert.True(r.Intact, r.Break?.Why));
    }

    [Fact]
    public async Task SameKey_ForTwoDifferentActionsOnOneRequest_ExecutesBoth()
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("shared.key")));
        var key = Key("shared");
        Assert.Equal(ExecutionOutcome.Executed, (await f.RunAsync("alice", CapreqSimulations.SubmitForApproval, key, IdBody(id))).Outcome);
        Assert.Equal(ExecutionOutcome.Executed, (await f.RunAsync("bob", CapreqSimulations.Approve, key, IdBody(id))).Outcome);
    }

    private async Task WaitUntilBlockedOnALockAsync()
    {
        await using var super = Superuser(f.Db.Database);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var cmd = super.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE selene.capreq_ledger%'");
            if ((long)(await cmd.ExecuteScalarAsync())! > 0) return;
            await Task.Delay(20);
        }
        Assert.Fail("the rebuild never waited for the in-flight writer");
    }
}
