using System.Globalization;

namespace Selene.Contracts.Tests;

public sealed class JournalPayloadTests
{
    private static KeyValuePair<string, string>[] Entries(int count, int valueLength = 1) =>
        Enumerable.Range(0, count)
            .Select(i => KeyValuePair.Create("k" + i.ToString("D2", CultureInfo.InvariantCulture), new string('v', valueLength)))
            .ToArray();

    private static string? Validate(params KeyValuePair<string, string>[] entries) => JournalPayload.Validate(entries, out _);

    private static string? Validate(string key, string value) => Validate(KeyValuePair.Create(key, value));

    [Fact]
    public void Validate_SixteenEntries_IsAccepted()
    {
        Assert.Null(JournalPayload.Validate(Entries(JournalPayload.MaxEntries), out var payload));
        Assert.Equal(16, payload!.Entries.Count);
    }

    [Fact]
    public void Validate_SeventeenEntries_IsRejected()
    {
        Assert.NotNull(JournalPayload.Validate(Entries(JournalPayload.MaxEntries + 1), out var payload));
        Assert.Null(payload);
    }

    [Fact]
    public void Validate_NoEntries_IsAccepted()
    {
        Assert.Null(Validate());
        Assert.Empty(JournalPayload.Empty.Entries);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("state_from")]
    [InlineData("k9")]
    [InlineData("a_b_c_1_2")]
    [InlineData("trailing_")]
    public void Validate_LowerSnakeKey_IsAccepted(string key)
    {
        Assert.Null(Validate(key, "v"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("State")]
    [InlineData("STATE")]
    [InlineData("1state")]
    [InlineData("_state")]
    [InlineData("state-from")]
    [InlineData("state from")]
    [InlineData("state.from")]
    [InlineData("étape")]
    public void Validate_KeyThatIsNotLowerSnake_IsRejected(string key)
    {
        Assert.NotNull(Validate(key, "v"));
    }

    [Fact]
    public void Validate_KeyLengthBound_Is64()
    {
        Assert.Null(Validate(new string('k', JournalPayload.MaxKeyLength), "v"));
        Assert.NotNull(Validate(new string('k', JournalPayload.MaxKeyLength + 1), "v"));
    }

    [Fact]
    public void Validate_ValueLengthBound_Is1To256()
    {
        Assert.NotNull(Validate("k", ""));
        Assert.Null(Validate("k", "v"));
        Assert.Null(Validate("k", new string('v', JournalPayload.MaxValueLength)));
        Assert.NotNull(Validate("k", new string('v', JournalPayload.MaxValueLength + 1)));
    }

    [Fact]
    public void Validate_NullValue_IsRejected()
    {
        Assert.NotNull(Validate(KeyValuePair.Create("k", (string)null!)));
    }

    [Fact]
    public void Validate_TotalBytes_AtMost2048()
    {
        // 16 entries of a 3-byte key and a 125-byte value: exactly 2048 bytes.
        var exact = Entries(16, 125);
        Assert.Null(Validate(exact));

        var over = Entries(16, 125);
        over[^1] = KeyValuePair.Create(over[^1].Key, new string('v', 126));
        Assert.Contains("2048", Validate(over), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TotalBytes_CountsUtf8NotChars()
    {
        // 8 entries of a 3-byte key and 128 two-byte characters: 8 * (3 + 256) = 2072 bytes from 1048 chars.
        var entries = Enumerable.Range(0, 8)
            .Select(i => KeyValuePair.Create("k" + i.ToString("D2", CultureInfo.InvariantCulture), new string('é', 128)))
            .ToArray();
        Assert.NotNull(Validate(entries));
        Assert.Null(Validate(entries[..7]));
    }

    [Fact]
    public void Validate_DuplicateKey_IsRejected()
    {
        Assert.NotNull(Validate(KeyValuePair.Create("k", "1"), KeyValuePair.Create("k", "2")));
    }

    [Fact]
    public void Create_SortsEntriesByOrdinalKey()
    {
        var payload = JournalPayload.Create(("state_to", "B"), ("gate", "x"), ("state_from", "A"));
        Assert.Equal(["gate", "state_from", "state_to"], payload.Entries.Keys);
    }

    [Fact]
    public void Create_InvalidPayload_Throws()
    {
        Assert.Throws<ArgumentException>(() => JournalPayload.Create(("Bad", "v")));
    }

    [Fact]
    public void CanonicalPayloadJson_IsOrderIndependent()
    {
        var a = JournalPayload.Create(("b", "2"), ("a", "é"));
        var b = JournalPayload.Create(("a", "é"), ("b", "2"));
        Assert.Equal("""{"a":"é","b":"2"}""", JournalChain.CanonicalPayloadJson(a));
        Assert.Equal(JournalChain.CanonicalPayloadJson(a), JournalChain.CanonicalPayloadJson(b));
        Assert.Equal("{}", JournalChain.CanonicalPayloadJson(JournalPayload.Empty));
    }

    [Fact]
    public void Create_CutsCallerValuesToTheBounds_AndNeverThrows()
    {
        var payload = JournalPayload.Create(
            ("empty", ""),
            ("long", new string('x', 1000)),
            ("nul", "a\u0000b"),
            ("lone_surrogate", "a\ud800b"),
            ("pair_at_the_cut", new string('y', JournalPayload.MaxValueLength - 2) + "\ud83d\ude00"));

        Assert.Equal(JournalPayload.EmptyValue, payload.Entries["empty"]);
        Assert.Equal(JournalPayload.MaxValueLength, payload.Entries["long"].Length);
        Assert.EndsWith("…", payload.Entries["long"], StringComparison.Ordinal);
        Assert.Equal("a\ufffdb", payload.Entries["nul"]);
        Assert.Equal("a\ufffdb", payload.Entries["lone_surrogate"]);
        Assert.True(IdRules.IsWellFormedUtf16(payload.Entries["pair_at_the_cut"]));
        Assert.Null(JournalPayload.Validate(payload.Entries, out _));
    }

    [Fact]
    public void Create_SixteenLongValues_AreCutUnderTheTotalBound()
    {
        var payload = JournalPayload.Create(Enumerable.Range(0, JournalPayload.MaxEntries)
            .Select(i => KeyValuePair.Create("k" + i.ToString("D2", CultureInfo.InvariantCulture), new string('"', 600))));
        Assert.Null(JournalPayload.Validate(payload.Entries, out _));
        Assert.True(JournalChain.CanonicalPayloadJson(payload).Length <= 4096);
    }
}
