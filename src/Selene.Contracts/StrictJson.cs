using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Selene.Contracts;

/// <summary>Why a body could not be read, as a registered reason code with a short, caller-safe detail.</summary>
public sealed record JsonInputError(ReasonCode Reason, string Detail);

/// <summary>
/// Strict JSON for every boundary (ARCHITECTURE.md §8): snake_case names, unknown members rejected, duplicate
/// members rejected, nulls only where the type allows them, bounded depth, no comments or trailing commas, enum
/// tokens exactly as <see cref="WireNames"/> spells them, and plain text only (<see cref="CheckText"/>).
/// </summary>
public static class StrictJson
{
    /// <summary>Maximum nesting of any accepted document.</summary>
    public const int MaxDepth = 16;

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            NumberHandling = JsonNumberHandling.Strict,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = MaxDepth,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new ExactEnumConverterFactory());
        options.MakeReadOnly();
        return options;
    }

    /// <summary>
    /// Reads <typeparamref name="T"/> from UTF-8 bytes. The root must be an object; members the type does not
    /// declare are reported by name as <c>INPUT_UNKNOWN_FIELD</c>; anything else that does not fit the type is
    /// <c>INPUT_SCHEMA_INVALID</c>.
    /// </summary>
    public static bool TryRead<T>(ReadOnlySpan<byte> utf8, out T? value, out JsonInputError? error) where T : class
    {
        value = null;
        if (!TryParse(utf8, out var document, out error)) return false;
        using (document)
        {
            return TryRead(document!.RootElement, out value, out error);
        }
    }

    /// <summary>
    /// Parses a strict JSON document: well-formed, depth ≤ <see cref="MaxDepth"/>, no duplicate members, no
    /// comments or trailing commas, and only well-formed Unicode text. The caller disposes the document.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out JsonDocument? document, out JsonInputError? error)
    {
        document = null;
        error = null;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions
            {
                MaxDepth = MaxDepth,
                AllowTrailingCommas = false,
                CommentHandling = JsonCommentHandling.Disallow,
                AllowDuplicateProperties = false,
            });
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the duplicate-member check met text it cannot transcode.
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, "the body is not well-formed JSON (or nests too deep, or repeats a member)");
            return false;
        }

        if (CheckText(document.RootElement) is { } textError)
        {
            document.Dispose();
            document = null;
            error = textError;
            return false;
        }
        return true;
    }

    /// <summary>Reads <typeparamref name="T"/> from an already parsed element (see the byte overload).</summary>
    public static bool TryRead<T>(JsonElement element, out T? value, out JsonInputError? error) where T : class
    {
        value = null;
        error = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, "the body must be a JSON object");
            return false;
        }

        if (CheckText(element) is { } textError)
        {
            error = textError;
            return false;
        }

        var info = Options.GetTypeInfo(typeof(T));
        var known = new HashSet<string>(info.Properties.Select(p => p.Name), StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                error = new JsonInputError(ReasonCodes.InputUnknownField, $"unknown field '{IdRules.Shorten(property.Name)}'");
                return false;
            }
        }

        try
        {
            value = element.Deserialize<T>(Options);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "the body" : $"field '{IdRules.Shorten(ex.Path.TrimStart('$', '.'))}'";
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, $"{path} does not match the expected shape");
            return false;
        }

        if (value is null)
        {
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, "the body must be a JSON object");
            return false;
        }
        return true;
    }

    /// <summary>
    /// Null when every member name and string value is plain text; otherwise why not. Plain text is well-formed
    /// UTF-16 (no lone surrogates, no invalid UTF-8: INPUT_SCHEMA_INVALID) and holds no control character (NUL,
    /// line breaks, tabs …) and no invisible character that hides or reorders text — zero-width space, word joiner,
    /// byte-order mark, bidirectional embeddings, overrides and isolates (INPUT_FIELD_INVALID, docs/decisions.md).
    /// JsonDocument checks text lazily, so a body must pass this before anything reads its text.
    /// </summary>
    public static JsonInputError? CheckText(JsonElement element)
    {
        try
        {
            return Walk(element, "the body");
        }
        catch (InvalidOperationException)
        {
            return Malformed; // the reader could not transcode the text
        }

        static JsonInputError? Walk(JsonElement e, string where)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if ((Plain(p.Name, "a member name") ?? Walk(p.Value, $"field '{IdRules.Shorten(p.Name)}'")) is { } error) return error;
                    }
                    return null;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        if (Walk(item, where) is { } error) return error;
                    }
                    return null;
                case JsonValueKind.String:
                    return Plain(e.GetString()!, where);
                default:
                    return null;
            }
        }

        static JsonInputError? Plain(string text, string where)
        {
            if (!IdRules.IsWellFormedUtf16(text)) return Malformed;
            return text.AsSpan().IndexOfAny(Invisible) >= 0 || text.Any(char.IsControl)
                ? new JsonInputError(ReasonCodes.InputFieldInvalid, $"{where} holds a control or invisible formatting character")
                : null;
        }
    }

    private static readonly JsonInputError Malformed = new(ReasonCodes.InputSchemaInvalid, "the body holds text that is not well-formed Unicode");

    /// <summary>Characters that change how text reads without being visible (Trojan-source style); ZWJ/ZWNJ and LRM/RLM shape real scripts and stay.</summary>
    private static readonly System.Buffers.SearchValues<char> Invisible = System.Buffers.SearchValues.Create(
        "\u200B\u2060\uFEFF\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    public static byte[] SerializeToUtf8<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>
    /// Enums as exactly their <see cref="WireNames"/> token: no case folding, no surrounding white space, no numbers
    /// (the framework's converter accepts <c>w</c>, <c>"W "</c> and <c>fulltime</c>).
    /// </summary>
    private sealed class ExactEnumConverterFactory : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(ExactEnumConverter<>).MakeGenericType(typeToConvert))!;
    }

    private sealed class ExactEnumConverter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && WireNames.TryParse<T>(reader.GetString(), out var value)
                ? value
                : throw new JsonException($"not a {typeof(T).Name} token");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(WireNames.Of(value));

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            WireNames.TryParse<T>(reader.GetString(), out var value) ? value : throw new JsonException($"not a {typeof(T).Name} token");

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WritePropertyName(WireNames.Of(value));
    }
}
