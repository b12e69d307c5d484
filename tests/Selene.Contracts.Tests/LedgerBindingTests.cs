namespace Selene.Contracts.Tests;

public sealed class LedgerBindingTests
{
    private static readonly LedgerRowImage Row = new("capreq", 17, "acme", "capreq_00000000000000a1", "CREATE_DRAFT", "alice", "CAPREQ_OK_CREATE_DRAFT",
        """{"capreq_id": "capreq_00000000000000a1"}""", "42", "k1", 1_700_000_000_000_000_000);

    private static JournalRecord Entry(string? refs, string? hash) =>
        new("acme", 1, "42", 1, "PH1.OS", "TURN_DECISION", "OS_OK", 4001, "{}", "alice", "k1", 1, JournalChain.GenesisHash, "", refs, hash);

    [Fact]
    public void Refs_RoundTripWithTheRowsHashPrefix()
    {
        var refs = LedgerBinding.Refs([LedgerRef.Of("capreq", 17, LedgerBinding.RowHash(Row)), LedgerRef.Of("link_token", 4, new string('c', 64))]);
        Assert.Equal($"capreq:17:{LedgerBinding.RowHash(Row)[..16]} link_token:4:cccccccccccccccc", refs);
        Assert.True(LedgerBinding.TryParseRefs(refs, out var rows));
        Assert.Equal([new LedgerRef("capreq", 17, LedgerBinding.RowHash(Row)[..16]), new LedgerRef("link_token", 4, "cccccccccccccccc")], rows);
    }

    [Theory]
    [InlineData("")]
    [InlineData("capreq:17")]
    [InlineData("capreq:-1:cccccccccccccccc")]
    [InlineData(":17:cccccccccccccccc")]
    [InlineData("capreq:17:ccc")]
    [InlineData("capreq:17:cccccccccccccccc  link:1:cccccccccccccccc")]
    public void MalformedRefs_DoNotParse(string refs) => Assert.False(LedgerBinding.TryParseRefs(refs, out _));

    [Fact]
    public void RowHash_CoversEveryColumn()
    {
        LedgerRowImage[] changed =
        [
            Row with { Store = "position" }, Row with { EventId = 18 }, Row with { TenantId = "globex" }, Row with { StreamId = "x" },
            Row with { EventType = "CANCEL" }, Row with { ActorUserId = "bob" }, Row with { ReasonCode = "R" }, Row with { Payload = "{}" },
            Row with { CorrelationId = "43" }, Row with { IdempotencyKey = null }, Row with { CreatedAt = 1 },
        ];
        Assert.Equal(changed.Length + 1, changed.Select(LedgerBinding.RowHash).Append(LedgerBinding.RowHash(Row)).Distinct().Count());
    }

    [Fact]
    public void EntryHash_CoversTheBinding_AndIsUnchangedWithoutOne()
    {
        var digest = LedgerBinding.Digest([LedgerBinding.RowHash(Row)]);
        var refs = LedgerBinding.Refs([LedgerRef.Of("capreq", 17, LedgerBinding.RowHash(Row))]);
        var bound = JournalChain.ComputeHash(Entry(refs, digest));
        Assert.NotEqual(bound, JournalChain.ComputeHash(Entry(refs, LedgerBinding.Digest([new string('0', 64)]))));
        Assert.NotEqual(bound, JournalChain.ComputeHash(Entry(refs.Replace("17", "18", StringComparison.Ordinal), digest)));
        Assert.NotEqual(bound, JournalChain.ComputeHash(Entry(null, null)));
        // An entry without a binding hashes exactly as entries did before bindings existed.
        var r = Entry(null, null);
        Assert.DoesNotContain("ledger", System.Text.Encoding.UTF8.GetString(JournalChain.HashInput(r.TenantId, r.Seq, r.CorrelationId, r.TurnId, r.Engine,
            r.EventType, r.ReasonCode, r.ReasonCodeId, r.PayloadJson, r.ActorUserId, r.IdempotencyKey, r.CreatedAt, r.PrevHash)), StringComparison.Ordinal);
    }
}
