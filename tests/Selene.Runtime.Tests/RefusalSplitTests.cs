using System.Text.Json.Nodes;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// Failure vs policy in the journal (issue 15 item 2) on real PostgreSQL: refusals written now carry the split, and a
/// chain that holds entries written before the split (no such field) still verifies, rebuilds and reads. Own database:
/// the legacy entry is written by hand.
/// </summary>
public sealed class RefusalSplitTests : IAsyncLifetime
{
    private readonly RuntimeFixture _f = new();

    public Task InitializeAsync() => _f.InitializeAsync();

    public Task DisposeAsync() => _f.DisposeAsync();

    [Fact]
    public async Task Journal_WithEntriesWrittenBeforeTheSplit_StillVerifiesAndRebuilds_AndNewRefusalsCarryIt()
    {
        var id = CapreqIdOf(await _f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("split.cap")));

        // An engine refusal as this version writes it, before the legacy entry, and its correlation's reads.
        var early = _f.NextCorrelation();
        Assert.Equal(ExecutionOutcome.Refused, (await _f.RunAsync("alice", CapreqSimulations.Fulfill, Key("f"), IdBody(id), early)).Outcome);

        // A SIMULATION_REFUSED entry exactly as the writer before this change stored it: no failure/policy field, hashed the same way.
        var legacy = _f.NextCorrelation();
        await AppendLegacyRefusalAsync(legacy);

        // Writing goes on after it, and another refusal carries the split again.
        var late = _f.NextCorrelation();
        Assert.Equal(ExecutionOutcome.Refused, (await _f.RunAsync("alice", CapreqSimulations.Fulfill, Key("f2"), IdBody(id), late)).Outcome);

        Assert.True(Assert.Single(await _f.Maintenance.VerifyJournalAsync("acme")).Intact);
        Assert.All(await _f.Maintenance.RebuildAsync(null, "acme", apply: false), r => Assert.True(r.Identical, string.Join("; ", r.Differences)));

        var old = Assert.Single(await ReadAsync(legacy));
        Assert.Equal(("CAPREQ_TRANSITION_INVALID", null, null),
            (old!["reason_code"]!.GetValue<string>(), old["policy_reason_code"]?.GetValue<string>(), old["failure_reason_code"]?.GetValue<string>()));
        foreach (var correlation in new[] { early, late })
        {
            var refused = Assert.Single(await ReadAsync(correlation), e => e!["event_type"]!.GetValue<string>() == "SIMULATION_REFUSED")!;
            Assert.Equal(("CAPREQ_TRANSITION_INVALID", null), (refused["policy_reason_code"]?.GetValue<string>(), refused["failure_reason_code"]?.GetValue<string>()));
            var turn = Assert.Single(await ReadAsync(correlation), e => e!["event_type"]!.GetValue<string>() == "TURN_DECISION")!;
            Assert.Equal((null, null), (turn["policy_reason_code"]?.GetValue<string>(), turn["failure_reason_code"]?.GetValue<string>()));
        }
    }

    private async Task AppendLegacyRefusalAsync(CorrelationId correlation)
    {
        await using var tx = await TenantTransaction.BeginAsync(_f.Db.Owner, "acme");
        var (lastSeq, lastHash) = await JournalStore.HeadAsync(tx, default);
        var payload = JournalChain.CanonicalPayloadJson(JournalPayload.Create(("simulation_id", CapreqSimulations.Fulfill), ("state", "DRAFT")));
        var partial = new JournalRecord("acme", lastSeq + 1, correlation.ToString(), 1, CapreqReasons.EngineId, "SIMULATION_REFUSED",
            CapreqReasons.CapreqTransitionInvalid.Name, CapreqReasons.CapreqTransitionInvalid.Id, payload, "alice", "legacy-1", 1_700_000_000_000_000_000, lastHash, "");
        var record = partial with { Hash = JournalChain.ComputeHash(partial) };
        await using (var insert = tx.Command("""
            INSERT INTO selene.journal (tenant_id, seq, correlation_id, turn_id, engine, event_type, reason_code, reason_code_id,
                payload, actor_user_id, idempotency_key, created_at, prev_hash, hash)
            VALUES ($1, $2, $3::numeric, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);
            """))
        {
            foreach (var value in new object?[] { record.TenantId, record.Seq, record.CorrelationId, record.TurnId, record.Engine, record.EventType,
                record.ReasonCode, record.ReasonCodeId, record.PayloadJson, record.ActorUserId, record.IdempotencyKey, record.CreatedAt, record.PrevHash, record.Hash })
                insert.Parameters.Add(new() { Value = value });
            await insert.ExecuteNonQueryAsync();
        }
        await using (var head = tx.Command("UPDATE selene.journal_heads SET last_seq = $2, last_hash = $3 WHERE tenant_id = $1"))
        {
            foreach (var value in new object[] { "acme", record.Seq, record.Hash }) head.Parameters.Add(new() { Value = value });
            await head.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private async Task<JsonArray> ReadAsync(CorrelationId correlation)
    {
        var query = new Dictionary<string, string> { ["correlation_id"] = correlation.ToString() };
        var result = await KernelReads.Journal.Query(new ReadRequest(_f.Db, new TenantId("acme"), new Dictionary<string, string>(), query,
            new UnixNanos(0)), default);
        return Assert.IsType<ReadResult.Ok>(result).Body["entries"]!.AsArray();
    }
}
