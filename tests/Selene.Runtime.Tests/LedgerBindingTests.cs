using System.Security.Cryptography;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Postgres.Stores;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// Tamper evidence that reaches the ledgers and the tail (issue 15 item 4), tried as an attacker with the owner's role:
/// each test breaks its own database for good.
/// </summary>
public sealed class LedgerBindingTests : IAsyncLifetime
{
    private readonly RuntimeFixture _f = new();

    public Task InitializeAsync() => _f.InitializeAsync();

    public Task DisposeAsync() => _f.DisposeAsync();

    /// <summary>A request's life (four transitions, one refusal) in acme; returns its id.</summary>
    private async Task<string> LifecycleAsync(string capability = "binding.cap")
    {
        var id = CapreqIdOf(await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody(capability)));
        await _f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id));
        await _f.RunAsync("alice", CapreqSimulations.Fulfill, Key("f"), IdBody(id)); // refused: journaled, no ledger row
        await _f.RunAsync("bob", CapreqSimulations.Approve, Key("a"), IdBody(id));
        await _f.RunAsync("bob", CapreqSimulations.Fulfill, Key("f"), IdBody(id));
        return id;
    }

    private async Task<AuditReport> VerifyAcmeAsync(IReadOnlyList<HeadCheckpoint>? checkpoints = null) =>
        Assert.Single(await _f.Maintenance.VerifyJournalAsync("acme", default, checkpoints));

    /// <summary>The seq of the entry whose binding names <paramref name="store"/>:<paramref name="eventId"/>.</summary>
    private async Task<long> BindingSeqAsync(string store, long eventId)
    {
        await using var tx = await TenantTransaction.BeginAsync(_f.Db.Owner, "acme");
        await using var cmd = tx.Command("SELECT seq FROM selene.journal WHERE ledger_refs ~ $1");
        cmd.Parameters.AddWithValue($"(^| ){store}:{Invariant(eventId)}:");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private Task<long> LastEventIdAsync(string capreqId) => ScalarAsync($"SELECT max(event_id) FROM selene.capreq_ledger WHERE stream_id = '{capreqId}'");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var tx = await TenantTransaction.BeginAsync(_f.Db.Owner, "acme");
        await using var cmd = tx.Command(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task VerifyJournal_AfterExecutions_BindsEveryLedgerRowOnceAtTheEntryOfItsTransaction()
    {
        var id = await LifecycleAsync();
        var report = await VerifyAcmeAsync();
        Assert.True(report.Intact, report.Break?.Why);
        // Every row of every ledger of the tenant (the fixture's bootstrap wrote access instances) is bound, once.
        Assert.Equal(await ScalarAsync("SELECT sum(array_length(string_to_array(ledger_refs, ' '), 1)) FROM selene.journal"), report.LedgerRows);
        Assert.Equal(4 + await _f.CountAsync("acme", "access_instance_ledger"), report.LedgerRows);
        // One binding per accepted execution, on the first entry its transaction appended (the turn's decision);
        // the refusal's transaction wrote no ledger row and binds none.
        Assert.Equal(4, await _f.CountAsync("acme", "journal", "ledger_refs ~ '^capreq:[0-9]+:[0-9a-f]{16}$'"));
        var seq = await BindingSeqAsync("capreq", await LastEventIdAsync(id));
        Assert.Equal(1, await _f.CountAsync("acme", "journal", $"seq = {seq} AND event_type = 'TURN_DECISION' AND ledger_hash ~ '^[0-9a-f]{{64}}$'"));
        Assert.Equal(0, await _f.CountAsync("acme", "journal", $"seq = {seq - 1} AND correlation_id = (SELECT correlation_id FROM selene.journal WHERE seq = {seq})"));
    }

    [Fact]
    public async Task VerifyJournal_LedgerRowRewrittenWithItsProjection_FailsAtTheEntryThatBindsIt_WhereRebuildSeesNothing()
    {
        var id = await LifecycleAsync();
        var created = await ScalarAsync($"SELECT min(event_id) FROM selene.capreq_ledger WHERE stream_id = '{id}'");
        // The attacker rewrites the request's justification in its first event and in the projection alike.
        await _f.OwnerExecAsync("acme", $$"""
            ALTER TABLE selene.capreq_ledger DISABLE TRIGGER append_only_row;
            UPDATE selene.capreq_ledger SET payload = jsonb_set(payload, '{justification}', '"forged"') WHERE event_id = {{created}};
            ALTER TABLE selene.capreq_ledger ENABLE TRIGGER append_only_row;
            UPDATE selene.capreq_current SET doc = jsonb_set(doc, '{justification}', '"forged"') WHERE stream_id = '{{id}}';
            """);
        Assert.All(await _f.Maintenance.RebuildAsync("capreq", "acme", apply: false), r => Assert.True(r.Identical)); // consistent with itself

        var report = await VerifyAcmeAsync();
        Assert.False(report.Intact);
        Assert.Equal(await BindingSeqAsync("capreq", created), report.Break!.Seq);
        Assert.StartsWith($"ledger row capreq:{created} differs from what was written (stream {id}, CREATE_DRAFT)", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyJournal_LastLedgerRowRemovedAndTheProjectionMovedBack_IsFound()
    {
        var id = await LifecycleAsync();
        var last = await LastEventIdAsync(id);
        await _f.OwnerExecAsync("acme", $"""
            UPDATE selene.capreq_current SET status = 'APPROVED',
                source_event_id = (SELECT max(event_id) FROM selene.capreq_ledger WHERE stream_id = '{id}' AND event_id < {last})
            WHERE stream_id = '{id}';
            ALTER TABLE selene.capreq_ledger DISABLE TRIGGER append_only_row;
            DELETE FROM selene.capreq_ledger WHERE event_id = {last};
            ALTER TABLE selene.capreq_ledger ENABLE TRIGGER append_only_row;
            """);
        var report = await VerifyAcmeAsync();
        Assert.False(report.Intact);
        Assert.Equal(await BindingSeqAsync("capreq", last), report.Break!.Seq);
        Assert.Contains($"ledger row capreq:{last} the entry binds is gone", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyJournal_ForgedLedgerRow_IsBoundByNoEntry()
    {
        var id = await LifecycleAsync();
        await _f.OwnerExecAsync("acme", $"""
            INSERT INTO selene.capreq_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, idempotency_key, created_at)
            SELECT tenant_id, stream_id, 'CANCEL_REVOKE', actor_user_id, 'CAPREQ_OK_CANCEL_REVOKE', payload, correlation_id, 'forged', created_at + 1
            FROM selene.capreq_ledger WHERE event_id = {await LastEventIdAsync(id)};
            """);
        var forged = await LastEventIdAsync(id);
        var report = await VerifyAcmeAsync();
        Assert.False(report.Intact);
        Assert.Equal(0, report.Break!.Seq);
        Assert.Contains($"ledger row capreq:{forged} is bound by no journal entry", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyJournal_TailRemovedAndHeadMovedBack_IsCaughtByASignedCheckpoint()
    {
        await LifecycleAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (signed, _) = await _f.Maintenance.CheckpointAsync("acme");
        var checkpoint = AuditCheckpoints.Read(AuditCheckpoints.Sign(Assert.Single(signed), key), key, out var error);
        Assert.Null(error);
        // Two refusals at the tail: entries that bind no ledger row, so removing them leaves every row bound.
        var id = CapreqIdOf(await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("rewind.cap")));
        await _f.RunAsync("bob", CapreqSimulations.Approve, Key("x"), IdBody(id));
        var (signedLater, _) = await _f.Maintenance.CheckpointAsync("acme");
        var later = AuditCheckpoints.Read(AuditCheckpoints.Sign(Assert.Single(signedLater), key), key, out _)!;
        var entries = await _f.CountAsync("acme", "journal");
        var refusal = await ScalarAsync("SELECT min(seq) FROM selene.journal WHERE correlation_id = (SELECT correlation_id FROM selene.journal ORDER BY seq DESC LIMIT 1)");
        Assert.Equal(entries, later.Seq);

        await _f.OwnerExecAsync("acme", $"""
            ALTER TABLE selene.journal DISABLE TRIGGER append_only_row;
            DELETE FROM selene.journal WHERE seq >= {refusal};
            ALTER TABLE selene.journal ENABLE TRIGGER append_only_row;
            ALTER TABLE selene.journal_heads DISABLE TRIGGER USER;
            UPDATE selene.journal_heads SET last_seq = {refusal - 1}, last_hash = (SELECT hash FROM selene.journal WHERE seq = {refusal - 1});
            ALTER TABLE selene.journal_heads ENABLE TRIGGER USER;
            """);
        Assert.True((await VerifyAcmeAsync()).Intact); // the database alone cannot tell
        Assert.True((await VerifyAcmeAsync([checkpoint!])).Intact); // nor the checkpoint taken before the removed entries

        var report = await VerifyAcmeAsync([checkpoint!, later]);
        Assert.False(report.Intact);
        Assert.Equal(later.Seq, report.Break!.Seq);
        Assert.Contains($"the journal ends at seq {refusal - 1}: entries were removed and the head moved back", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyJournal_ChainRewrittenWithEveryHashRecomputed_IsCaughtByASignedCheckpoint()
    {
        await LifecycleAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var checkpoint = AuditCheckpoints.Read(AuditCheckpoints.Sign(Assert.Single((await _f.Maintenance.CheckpointAsync("acme")).Checkpoints), key), key, out _)!;

        // The attacker rewrites entry 2's reason and recomputes every hash after it, and the head: the chain holds again.
        var records = new List<JournalRecord>();
        await using (var tx = await TenantTransaction.BeginAsync(_f.Db.Owner, "acme"))
            await foreach (var r in JournalStore.ChainAsync(tx, default)) records.Add(r);
        var prev = records[0].Hash;
        var sql = new System.Text.StringBuilder("ALTER TABLE selene.journal DISABLE TRIGGER append_only_row;\n");
        for (var i = 1; i < records.Count; i++)
        {
            var r = records[i] with { PrevHash = prev, ReasonCode = i == 1 ? "CAPREQ_OK_REJECT" : records[i].ReasonCode };
            r = r with { Hash = JournalChain.ComputeHash(r) };
            sql.Append($"UPDATE selene.journal SET reason_code = '{r.ReasonCode}', prev_hash = '{r.PrevHash}', hash = '{r.Hash}' WHERE seq = {r.Seq};\n");
            prev = r.Hash;
        }
        sql.Append($"""
            ALTER TABLE selene.journal ENABLE TRIGGER append_only_row;
            ALTER TABLE selene.journal_heads DISABLE TRIGGER USER;
            UPDATE selene.journal_heads SET last_hash = '{prev}';
            ALTER TABLE selene.journal_heads ENABLE TRIGGER USER;
            """);
        await _f.OwnerExecAsync("acme", sql.ToString());
        Assert.True((await VerifyAcmeAsync()).Intact);

        var report = await VerifyAcmeAsync([checkpoint]);
        Assert.False(report.Intact);
        Assert.Equal(checkpoint.Seq, report.Break!.Seq);
        Assert.Contains("the chain was rewritten", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyJournal_CheckpointOfATenantTheDatabaseNoLongerHas_IsABreak()
    {
        await LifecycleAsync();
        var report = Assert.Single(await _f.Maintenance.VerifyJournalAsync(null, default, [new HeadCheckpoint("initech", 7, new string('a', 64), 1)]),
            r => r.TenantId == "initech");
        Assert.False(report.Intact);
        Assert.Contains("the database has no such tenant", report.Break!.Why, StringComparison.Ordinal);
    }
}
