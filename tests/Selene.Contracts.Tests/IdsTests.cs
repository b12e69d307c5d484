namespace Selene.Contracts.Tests;

public sealed class IdsTests
{
    private const string MaxCorrelation = "340282366920938463463374607431768211455"; // 2^128 - 1
    private const string OverMaxCorrelation = "340282366920938463463374607431768211456"; // 2^128

    [Theory]
    [InlineData("1")]
    [InlineData("42")]
    [InlineData("0001")]
    [InlineData(MaxCorrelation)]
    public void CorrelationIdTryParse_DecimalInRange_IsAccepted(string text)
    {
        Assert.True(CorrelationId.TryParse(text, out var id));
        Assert.Equal(UInt128.Parse(text, System.Globalization.CultureInfo.InvariantCulture), id.Value);
    }

    [Fact]
    public void CorrelationIdTryParse_Max_RoundTripsToString()
    {
        Assert.True(CorrelationId.TryParse(MaxCorrelation, out var id));
        Assert.Equal(UInt128.MaxValue, id.Value);
        Assert.Equal(MaxCorrelation, id.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("000")]
    [InlineData(OverMaxCorrelation)]
    [InlineData("999999999999999999999999999999999999999")]
    [InlineData("1000000000000000000000000000000000000000")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1a")]
    [InlineData("0x10")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("1,000")]
    [InlineData("\u0661")] // ARABIC-INDIC DIGIT ONE
    [InlineData("\uFF11")] // FULLWIDTH DIGIT ONE
    public void CorrelationIdTryParse_OutOfRangeOrNotDigits_IsRejected(string? text)
    {
        Assert.False(CorrelationId.TryParse(text, out var id));
        Assert.Equal(default, id);
    }

    [Fact]
    public void CorrelationIdConstructor_Zero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CorrelationId(UInt128.Zero));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x01)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void CorrelationIdFromDigest_IsNeverZero(byte fill)
    {
        var digest = Enumerable.Repeat(fill, 32).ToArray();
        Assert.NotEqual(UInt128.Zero, CorrelationId.FromDigest(digest).Value);
    }

    [Fact]
    public void CorrelationIdFromDigest_DigestThatShiftsToZero_IsOne()
    {
        var digest = new byte[32];
        digest[15] = 1; // the first 16 bytes read 1, which shifts to 0
        Assert.Equal(UInt128.One, CorrelationId.FromDigest(digest).Value);
        Assert.Equal(UInt128.One, CorrelationId.FromDigest(new byte[32]).Value);
    }

    [Fact]
    public void CorrelationIdFromDigest_UsesOnlyTheFirst16Bytes()
    {
        var a = Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes("x"));
        var b = a.ToArray();
        b[20] ^= 0xFF;
        Assert.Equal(CorrelationId.FromDigest(a), CorrelationId.FromDigest(b));
        Assert.True(CorrelationId.FromDigest(a).Value < UInt128.One << 127);
    }

    [Theory]
    [InlineData("k")]
    [InlineData("!")]
    [InlineData("~")]
    [InlineData("req-2024-01-01T00:00:00Z#1")]
    public void IsValidIdempotencyKey_PrintableAscii_IsAccepted(string key)
    {
        Assert.True(IdRules.IsValidIdempotencyKey(key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("a\nb")]
    [InlineData("a\u0000")]
    [InlineData("a\u007F")]
    [InlineData("clé")]
    [InlineData("\u00A0")]
    public void IsValidIdempotencyKey_EmptySpaceControlOrNonAscii_IsRejected(string? key)
    {
        Assert.False(IdRules.IsValidIdempotencyKey(key));
    }

    [Fact]
    public void IsValidIdempotencyKey_LengthBound_Is128()
    {
        Assert.True(IdRules.IsValidIdempotencyKey(new string('k', 128)));
        Assert.False(IdRules.IsValidIdempotencyKey(new string('k', 129)));
    }

    [Fact]
    public void IdempotencyKeyConstructor_InvalidKey_Throws()
    {
        Assert.Throws<ArgumentException>(() => new IdempotencyKey("has space"));
        Assert.Equal("ok", new IdempotencyKey("ok").Value);
    }

    [Theory]
    [InlineData("t", true)]
    [InlineData("tenant-a.b_c", true)]
    [InlineData("9lives", true)]
    [InlineData("", false)]
    [InlineData("-tenant", false)]
    [InlineData("_tenant", false)]
    [InlineData("ten ant", false)]
    [InlineData("ténant", false)]
    public void IsValidName_FollowsTheIdCharset(string value, bool valid)
    {
        Assert.Equal(valid, IdRules.IsValidName(value));
        Assert.Equal(valid, TenantId.IsValid(value));
        Assert.Equal(valid, UserId.IsValid(value));
    }

    [Fact]
    public void IsValidName_LengthBound_Is64ByDefault()
    {
        Assert.True(IdRules.IsValidName(new string('a', 64)));
        Assert.False(IdRules.IsValidName(new string('a', 65)));
        Assert.True(IdRules.IsValidName(new string('a', 65), maxLength: 128));
    }

    [Fact]
    public void TurnIdConstructor_Zero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TurnId(0));
    }

    [Fact]
    public void UnixNanos_RoundTripsThroughDateTimeOffset()
    {
        var at = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567);
        var nanos = UnixNanos.FromDateTimeOffset(at);
        Assert.Equal(at, nanos.ToDateTimeOffset());
        Assert.Equal("2025-01-02T03:04:05.1234567Z", nanos.ToString());
    }

    [Theory]
    [InlineData("esc_0123456789abcdef", "esc_", true)]
    [InlineData("esc_0123456789ABCDEF", "esc_", false)]
    [InlineData("esc_0123456789abcde", "esc_", false)]
    [InlineData("esc_0123456789abcdef0", "esc_", false)]
    [InlineData("ovr_0123456789abcdef", "esc_", false)]
    [InlineData("esc_0123456789abcdeg", "esc_", false)]
    [InlineData(null, "esc_", false)]
    public void IsShortHashId_IsThePrefixAndSixteenLowercaseHexDigits(string? id, string prefix, bool expected) =>
        Assert.Equal(expected, IdRules.IsShortHashId(id, prefix));

    [Fact]
    public void IsShortHashId_AcceptsWhatShortHashMakes() =>
        Assert.True(IdRules.IsShortHashId("pos_" + Hashing.ShortHash(16, "a", "b"), "pos_"));
}
