using Selene.Engines.CapReq;
using System.Globalization;

namespace Selene.Contracts.Tests;

public sealed class JournalChainTests
{
    private const int Length = 5;

    private static JournalRecord[] Chain(int length)
    {
        var records = new JournalRecord[length];
        var prev = JournalChain.GenesisHash;
        for (var i = 0; i < length; i++)
        {
            long seq = i + 1;
            var payload = JournalPayload.Create(("state_from", "DRAFT"), ("state_to", "PENDING_APPROVAL"), ("n", seq.ToString(CultureInfo.InvariantCulture)));
            var record = new JournalRecord("tenant-a", seq, "340282366920938463463374607431768211455", seq, CapreqReasons.EngineId,
                "STATE_TRANSITION", CapreqReasons.CapreqSubmitted.Name, CapreqReasons.CapreqSubmitted.Id, JournalChain.CanonicalPayloadJson(payload),
                "alice", $"key-{seq}", 1_700_000_000_000_000_000 + seq, prev, "");
            records[i] = record with { Hash = JournalChain.ComputeHash(record) };
            prev = records[i].Hash;
        }
        return records;
    }

    private static JournalRecord Tamper(JournalRecord r, string field) => field switch
    {
        "tenant_id" => r with { TenantId = "tenant-b" },
        "seq" => r with { Seq = r.Seq + 100 },
        "correlation_id" => r with { CorrelationId = "1" },
        "turn_id" => r with { TurnId = r.TurnId + 1 },
        "engine" => r with { Engine = ReasonCodes.EngineJournal },
        "event_type" => r with { EventType = "GATE_PASS" },
        "reason_code" => r with { ReasonCode = CapreqReasons.CapreqApproved.Name },
        "reason_code_id" => r with { ReasonCodeId = r.ReasonCodeId + 1 },
        "payload" => r with { PayloadJson = r.PayloadJson.Replace("PENDING_APPROVAL", "APPROVED", StringComparison.Ordinal) },
        "actor_user_id" => r with { ActorUserId = "mallory" },
        "actor_user_id_null" => r with { ActorUserId = null },
        "idempotency_key" => r with { IdempotencyKey = "other-key" },
        "idempotency_key_null" => r with { IdempotencyKey = null },
        "created_at" => r with { CreatedAt = r.CreatedAt + 1 },
        "prev_hash" => r with { PrevHash = new string('f', 64) },
        "hash" => r with { Hash = new string('a', 64) },
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    private static readonly string[] Fields =
    [
        "tenant_id", "seq", "correlation_id", "turn_id", "engine", "event_type", "reason_code", "reason_code_id", "payload",
        "actor_user_id", "actor_user_id_null", "idempotency_key", "idempotency_key_null", "created_at", "prev_hash", "hash",
    ];

    public static TheoryData<string, int> TamperCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var field in Fields)
        {
            foreach (var k in new[] { 1, 3, Length }) data.Add(field, k);
        }
        return data;
    }

    [Fact]
    public void Verify_ChainBuiltWithComputeHash_Holds()
    {
        var chain = Chain(Length);
        Assert.Equal(JournalChain.GenesisHash, chain[0].PrevHash);
        Assert.Null(JournalChain.Verify(chain));
    }

    [Fact]
    public void Verify_EmptyChain_Holds()
    {
        Assert.Null(JournalChain.Verify([]));
    }

    [Fact]
    public void GenesisHash_Is64Zeros()
    {
        Assert.Equal(new string('0', 64), JournalChain.GenesisHash);
    }

    [Fact]
    public void ComputeHash_IsLowercaseSha256Hex()
    {
        var hash = Chain(1)[0].Hash;
        Assert.Equal(64, hash.Length);
        Assert.All(hash, c => Assert.True(char.IsAsciiDigit(c) || char.IsAsciiHexDigitLower(c), hash));
    }

    [Theory]
    [MemberData(nameof(TamperCases))]
    public void Verify_OneFieldOfRecordKChanged_BreaksAtRecordK(string field, int k)
    {
        var chain = Chain(Length);
        chain[k - 1] = Tamper(chain[k - 1], field);

        var broken = JournalChain.Verify(chain);

        Assert.NotNull(broken);
        Assert.Equal(chain[k - 1].Seq, broken.Seq);
        if (field == "seq") Assert.Contains($"expected seq {k}", broken.Why, StringComparison.Ordinal);
        else Assert.Equal(k, broken.Seq);
    }

    [Fact]
    public void Verify_RecordRewrittenWithRecomputedHash_BreaksAtTheNextRecord()
    {
        var chain = Chain(Length);
        var forged = chain[1] with { ActorUserId = "mallory" };
        chain[1] = forged with { Hash = JournalChain.ComputeHash(forged) };

        var broken = JournalChain.Verify(chain);

        Assert.NotNull(broken);
        Assert.Equal(3, broken.Seq);
        Assert.Contains("prev_hash", broken.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TwoRecordsSwapped_IsDetected()
    {
        var chain = Chain(Length);
        (chain[1], chain[2]) = (chain[2], chain[1]);

        var broken = JournalChain.Verify(chain);

        Assert.NotNull(broken);
        Assert.Equal(3, broken.Seq);
    }

    [Fact]
    public void Verify_RecordRemoved_IsDetected()
    {
        var chain = Chain(Length).ToList();
        chain.RemoveAt(2);
        Assert.NotNull(JournalChain.Verify(chain));
    }

    [Fact]
    public void Verify_RecordDuplicated_IsDetected()
    {
        var chain = Chain(Length).ToList();
        chain.Insert(2, chain[1]);
        Assert.NotNull(JournalChain.Verify(chain));
    }

    [Fact]
    public void Verify_ChainNotStartingAtSeqOne_IsDetected()
    {
        var broken = JournalChain.Verify(Chain(Length)[1..]);
        Assert.NotNull(broken);
        Assert.Equal(2, broken.Seq);
    }

    [Fact]
    public void HashInput_NullAndEmptyActor_Differ()
    {
        var r = Chain(1)[0];
        Assert.NotEqual(JournalChain.ComputeHash(r with { ActorUserId = null }), JournalChain.ComputeHash(r with { ActorUserId = "" }));
        Assert.NotEqual(JournalChain.ComputeHash(r with { IdempotencyKey = null }), JournalChain.ComputeHash(r with { IdempotencyKey = "" }));
    }

    [Fact]
    public void ComputeHash_IgnoresTheStoredHash()
    {
        var r = Chain(1)[0];
        Assert.Equal(JournalChain.ComputeHash(r), JournalChain.ComputeHash(r with { Hash = "anything" }));
    }

    [Fact]
    public void ComputeHash_SameContent_IsDeterministic()
    {
        Assert.Equal(Chain(Length).Select(r => r.Hash), Chain(Length).Select(r => r.Hash));
    }
}
