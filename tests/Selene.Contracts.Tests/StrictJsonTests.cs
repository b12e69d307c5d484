using System.Text;
using System.Text.Json;

namespace Selene.Contracts.Tests;

public sealed class StrictJsonTests
{
    private sealed record Sample(string Name, int Count, string? DisplayName = null);

    private sealed record Node(Node? Child, int Level = 0);

    private sealed record Colored(Shade Shade);

    private enum Shade
    {
        Light,
        DarkBlue,
    }

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    private static JsonInputError Fails<T>(byte[] utf8) where T : class
    {
        Assert.False(StrictJson.TryRead<T>(utf8, out var value, out var error));
        Assert.Null(value);
        Assert.NotNull(error);
        return error;
    }

    private static JsonInputError Fails(string json) => Fails<Sample>(Utf8(json));

    private static string Nested(int depth)
    {
        // depth objects: {"child":{"child":...{"child":null}...}}
        var json = new StringBuilder();
        for (var i = 0; i < depth; i++) json.Append("{\"child\":");
        json.Append("null");
        json.Append('}', depth);
        return json.ToString();
    }

    [Fact]
    public void TryRead_WellFormedSnakeCase_MapsMembers()
    {
        Assert.True(StrictJson.TryRead<Sample>(Utf8("""{"name":"n","count":3,"display_name":"Shown"}"""), out var value, out var error));
        Assert.Null(error);
        Assert.Equal(new Sample("n", 3, "Shown"), value);
    }

    [Fact]
    public void TryRead_OptionalMemberAbsent_UsesDefault()
    {
        Assert.True(StrictJson.TryRead<Sample>(Utf8("""{"count":1,"name":"n"}"""), out var value, out _));
        Assert.Equal(new Sample("n", 1), value);
    }

    [Fact]
    public void TryRead_NullForNullableMember_IsAccepted()
    {
        Assert.True(StrictJson.TryRead<Sample>(Utf8("""{"name":"n","count":1,"display_name":null}"""), out var value, out _));
        Assert.Null(value!.DisplayName);
    }

    [Fact]
    public void TryRead_UnknownMember_IsUnknownFieldNamingTheField()
    {
        var error = Fails("""{"name":"n","count":1,"colour":"red"}""");
        Assert.Equal(ReasonCodes.InputUnknownField, error.Reason);
        Assert.Contains("'colour'", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_PascalCaseMember_IsUnknownField()
    {
        var error = Fails("""{"Name":"n","count":1}""");
        Assert.Equal(ReasonCodes.InputUnknownField, error.Reason);
        Assert.Contains("'Name'", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_LongUnknownMember_IsTruncatedInDetail()
    {
        var name = new string('x', 500);
        var error = Fails($$"""{"{{name}}":1}""");
        Assert.Equal(ReasonCodes.InputUnknownField, error.Reason);
        Assert.DoesNotContain(name, error.Detail, StringComparison.Ordinal);
        Assert.True(error.Detail.Length < 100, error.Detail);
    }

    [Theory]
    [InlineData("malformed", """{"name":"n","count":""")]
    [InlineData("empty body", "")]
    [InlineData("array root", """[{"name":"n","count":1}]""")]
    [InlineData("string root", "\"text\"")]
    [InlineData("null root", "null")]
    [InlineData("number root", "1")]
    [InlineData("wrong type: number for string", """{"name":1,"count":1}""")]
    [InlineData("wrong type: string for number", """{"name":"n","count":"1"}""")]
    [InlineData("wrong type: fraction for int", """{"name":"n","count":1.5}""")]
    [InlineData("wrong type: overflow", """{"name":"n","count":99999999999}""")]
    [InlineData("wrong type: object for string", """{"name":{},"count":1}""")]
    [InlineData("null for non-nullable", """{"name":null,"count":1}""")]
    [InlineData("null for value type", """{"name":"n","count":null}""")]
    [InlineData("missing required parameter", """{"count":1}""")]
    [InlineData("duplicate member", """{"name":"a","name":"b","count":1}""")]
    [InlineData("duplicate member via escape", """{"name":"a","n\u0061me":"b","count":1}""")]
    [InlineData("block comment", """{"name":"n" /* c */,"count":1}""")]
    [InlineData("line comment", "{\"name\":\"n\", // c\n\"count\":1}")]
    [InlineData("trailing comma", """{"name":"n","count":1,}""")]
    [InlineData("trailing content", """{"name":"n","count":1} {}""")]
    [InlineData("single quotes", """{'name':'n','count':1}""")]
    public void TryRead_InvalidShape_IsSchemaInvalid(string scenario, string json)
    {
        var error = Fails(json);
        Assert.True(error.Reason == ReasonCodes.InputSchemaInvalid, $"{scenario}: {error.Reason.Name} {error.Detail}");
    }

    [Fact]
    public void TryRead_InvalidUtf8InValue_IsSchemaInvalid()
    {
        byte[] body = [.. Utf8("{\"name\":\""), 0xFF, .. Utf8("\",\"count\":1}")];
        Assert.Equal(ReasonCodes.InputSchemaInvalid, Fails<Sample>(body).Reason);
    }

    [Fact]
    public void TryRead_LoneSurrogateInValue_IsSchemaInvalid()
    {
        Assert.Equal(ReasonCodes.InputSchemaInvalid, Fails("""{"name":"\uD800","count":1}""").Reason);
    }

    [Fact]
    public void TryRead_InvalidUtf8InMemberName_IsSchemaInvalid()
    {
        byte[] body = [.. Utf8("{\""), 0xFF, .. Utf8("\":1}")];
        Assert.Equal(ReasonCodes.InputSchemaInvalid, Fails<Sample>(body).Reason);
    }

    [Fact]
    public void TryRead_LoneSurrogateInMemberName_IsSchemaInvalid()
    {
        Assert.Equal(ReasonCodes.InputSchemaInvalid, Fails("""{"\uD800":1}""").Reason);
    }

    [Fact]
    public void TryRead_DepthAtLimit_IsAccepted()
    {
        Assert.True(StrictJson.TryRead<Node>(Utf8(Nested(StrictJson.MaxDepth)), out var value, out var error), error?.Detail);
        Assert.NotNull(value);
    }

    [Theory]
    [InlineData(StrictJson.MaxDepth + 1)]
    [InlineData(64)]
    public void TryRead_DepthOverLimit_IsSchemaInvalid(int depth)
    {
        Assert.Equal(ReasonCodes.InputSchemaInvalid, Fails<Node>(Utf8(Nested(depth))).Reason);
    }

    [Fact]
    public void TryRead_EnumAsUpperSnake_IsAccepted()
    {
        Assert.True(StrictJson.TryRead<Colored>(Utf8("""{"shade":"DARK_BLUE"}"""), out var value, out _));
        Assert.Equal(Shade.DarkBlue, value!.Shade);
    }

    [Theory]
    [InlineData("""{"shade":1}""")]
    [InlineData("""{"shade":"dark_blue"}""")]
    [InlineData("""{"shade":"PURPLE"}""")]
    [InlineData("""{"shade":"darkblue"}""")]
    [InlineData("""{"shade":"DarkBlue"}""")]
    [InlineData("""{"shade":"DARK_BLUE "}""")]
    [InlineData("""{"shade":" DARK_BLUE"}""")]
    [InlineData("""{"shade":"1"}""")]
    [InlineData("""{"shade":"DARK_BLUE,LIGHT"}""")]
    public void TryRead_EnumAsIntegerOrUnknownName_IsSchemaInvalid(string json)
    {
        Assert.Equal(ReasonCodes.InputSchemaInvalid, Fails<Colored>(Utf8(json)).Reason);
    }

    [Theory]
    [InlineData("NUL", "\\u0000")]
    [InlineData("line feed", "\\n")]
    [InlineData("escape", "\\u001b")]
    [InlineData("zero-width space", "\\u200b")]
    [InlineData("right-to-left override", "\\u202e")]
    [InlineData("left-to-right isolate", "\\u2066")]
    [InlineData("byte-order mark", "\\ufeff")]
    public void TryRead_TextWithAControlOrInvisibleCharacter_IsFieldInvalid(string what, string escape)
    {
        var error = Fails<Sample>(Utf8($$"""{"name":"a{{escape}}b","count":1}"""));
        Assert.True(error.Reason == ReasonCodes.InputFieldInvalid, what);
        Assert.Contains("'name'", error.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645")] // Persian with a zero-width non-joiner
    [InlineData("\u05e9\u05dc\u05d5\u05dd \u200f!")]             // Hebrew with a right-to-left mark
    [InlineData("\ud83d\udc69\u200d\ud83d\udcbb")]              // an emoji sequence with a zero-width joiner
    public void TryRead_TextOfRealScripts_IsAccepted(string escaped)
    {
        Assert.True(StrictJson.TryRead<Sample>(Utf8($$"""{"name":"{{escaped}}","count":1}"""), out var value, out var error), error?.Detail);
        Assert.NotEmpty(value!.Name);
    }

    [Fact]
    public void TryRead_FromElementThatIsNotAnObject_IsSchemaInvalid()
    {
        using var document = JsonDocument.Parse("[1,2]");
        Assert.False(StrictJson.TryRead<Sample>(document.RootElement, out _, out var error));
        Assert.Equal(ReasonCodes.InputSchemaInvalid, error!.Reason);
    }

    [Fact]
    public void SerializeToUtf8_UsesSnakeCaseAndOmitsNulls()
    {
        var json = Encoding.UTF8.GetString(StrictJson.SerializeToUtf8(new Sample("n", 2)));
        Assert.Equal("""{"name":"n","count":2}""", json);
        Assert.Equal("""{"name":"n","count":2,"display_name":"d"}""", Encoding.UTF8.GetString(StrictJson.SerializeToUtf8(new Sample("n", 2, "d"))));
    }

    [Fact]
    public void SerializeThenTryRead_RoundTrips()
    {
        var original = new Sample("név ✓", -7, "x");
        Assert.True(StrictJson.TryRead<Sample>(StrictJson.SerializeToUtf8(original), out var back, out _));
        Assert.Equal(original, back);
    }
}
