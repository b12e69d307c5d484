using System.Text;
using System.Text.Json;

namespace Selene.Contracts.Tests;

public sealed class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("""{"a":1,"b":2,"c":3}""", """{"c":3,"a":1,"b":2}""")]
    [InlineData("""{"a":1,"b":2,"c":3}""", """{"b":2,"c":3,"a":1}""")]
    [InlineData("""{"x":{"a":1,"b":[{"d":1,"c":2}]}}""", """{"x":{"b":[{"c":2,"d":1}],"a":1}}""")]
    public void Canonicalize_PermutedMembers_GiveSameBytes(string left, string right)
    {
        Assert.Equal(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(left)), CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(right)));
    }

    [Fact]
    public void Canonicalize_NestedObjects_AreSortedAtEveryLevel()
    {
        Assert.Equal("""{"a":{"y":[{"m":1,"n":2}],"z":1},"b":0}""", Canon("""{"b":0,"a":{"z":1,"y":[{"n":2,"m":1}]}}"""));
    }

    [Fact]
    public void Canonicalize_Keys_AreSortedByOrdinalCodeUnits()
    {
        // Ordinal: upper case before lower case, ASCII before Latin-1 before CJK.
        Assert.Equal("""{"B":1,"a":2,"b":3,"é":4,"本":5}""", Canon("""{"本":5,"é":4,"b":3,"a":2,"B":1}"""));
    }

    [Fact]
    public void Canonicalize_ArrayOrder_IsPreserved()
    {
        Assert.Equal("[3,1,2]", Canon("[3, 1, 2]"));
    }

    [Fact]
    public void Canonicalize_InsignificantWhitespace_IsRemoved()
    {
        Assert.Equal("""{"a":[1,2],"b":{"c":"x y"}}""", Canon(" {\n \"b\" : { \"c\" : \"x y\" } ,\r\n\t\"a\" : [ 1 , 2 ] } "));
    }

    [Fact]
    public void Canonicalize_NonAsciiText_StaysUtf8()
    {
        var bytes = CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes("""{"s":"é日本ß"}"""));
        Assert.Equal(Encoding.UTF8.GetBytes("""{"s":"é日本ß"}"""), bytes);
    }

    [Fact]
    public void Canonicalize_EscapedAndRawNonAscii_GiveSameBytes()
    {
        Assert.Equal(Canon("""{"s":"é"}"""), Canon("""{"s":"\u00e9"}"""));
        Assert.Equal(Canon("""{"é":1}"""), Canon("""{"\u00E9":1}"""));
    }

    [Fact]
    public void Canonicalize_Strings_AreReEscapedByOneEncoder()
    {
        Assert.Equal("""{"s":"a\"b\\c\nd\u0001"}""", Canon("""{"s":"a\u0022b\\c\u000Ad\u0001"}"""));
    }

    [Theory]
    [InlineData("1.50")]
    [InlineData("1e3")]
    [InlineData("1E+2")]
    [InlineData("-0")]
    [InlineData("12345678901234567890123456789")]
    [InlineData("0.1000")]
    public void Canonicalize_Numbers_AreKeptAsWritten(string number)
    {
        Assert.Equal($$"""{"n":{{number}}}""", Canon($$"""{ "n" : {{number}} }"""));
    }

    [Fact]
    public void Canonicalize_Literals_AreKept()
    {
        Assert.Equal("""[true,false,null,"",{},[]]""", Canon("""[ true , false , null , "" , { } , [ ] ]"""));
    }

    [Theory]
    [InlineData("""{"b":[{"z":null,"a":true}],"a":"é","c":1.0}""")]
    [InlineData("""[{"y":1,"x":{"q":"\u00e9\n","p":[]}}]""")]
    [InlineData("\"just a string\"")]
    public void Canonicalize_IsIdempotent(string json)
    {
        var once = CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json));
        Assert.Equal(once, CanonicalJson.Canonicalize(once));
    }

    [Fact]
    public void Canonicalize_ElementAndBytesOverloads_Agree()
    {
        const string json = """{"b":1,"a":[2,{"d":3,"c":4}]}""";
        using var document = JsonDocument.Parse(json);
        Assert.Equal(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)), CanonicalJson.Canonicalize(document.RootElement));
    }

    [Fact]
    public void Serialize_SortedDictionaryAndPermutedDictionary_GiveSameBytes()
    {
        var a = new Dictionary<string, string>(StringComparer.Ordinal) { ["z"] = "1", ["a"] = "2" };
        var b = new Dictionary<string, string>(StringComparer.Ordinal) { ["a"] = "2", ["z"] = "1" };
        Assert.Equal(CanonicalJson.Serialize(a), CanonicalJson.Serialize(b));
        Assert.Equal("""{"a":"2","z":"1"}""", CanonicalJson.SerializeToString(a));
    }

    [Fact]
    public void ShortHash_LengthPrefix_SeparatesParts()
    {
        Assert.NotEqual(Hashing.ShortHash(16, "ab", "c"), Hashing.ShortHash(16, "a", "bc"));
        Assert.NotEqual(Hashing.ShortHash(16, "a|1:b"), Hashing.ShortHash(16, "a", "b"));
        Assert.NotEqual(Hashing.ShortHash(16, "", "x"), Hashing.ShortHash(16, "x", ""));
        Assert.NotEqual(Hashing.ShortHash(16, "x"), Hashing.ShortHash(16, "x", ""));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(64)]
    public void ShortHash_HasRequestedLengthOfLowercaseHex(int hexChars)
    {
        var hash = Hashing.ShortHash(hexChars, "tenant", "value");
        Assert.Equal(hexChars, hash.Length);
        Assert.All(hash, c => Assert.True(char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c), hash));
    }

    [Fact]
    public void ShortHash_IsAPrefixOfTheFullHashAndDeterministic()
    {
        Assert.Equal(Hashing.ShortHash(16, "a", "b"), Hashing.ShortHash(16, "a", "b"));
        Assert.StartsWith(Hashing.ShortHash(16, "a", "b"), Hashing.ShortHash(64, "a", "b"), StringComparison.Ordinal);
    }

    [Fact]
    public void Sha256Hex_KnownVector()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Hashing.Sha256Hex("abc"));
    }
}
