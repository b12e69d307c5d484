using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Selene.Contracts;

/// <summary>Why a body could not be read, as a registered reason code with a short, caller-safe detail.</summary>
public sealed record JsonInputError(ReasonCode Reason, string Detail);

/// <summary>
/// Strict JSON for every boundary (ARCHITECTURE.md §8): snake_case names, unknown members rejected, duplicate
/// members rejected, nulls only where the type allows them, bounded depth, no comments or trailing commas.
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
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper, allowIntegerValues: false));
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

        if (!HasWellFormedText(document.RootElement))
        {
            document.Dispose();
            document = null;
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, "the body holds text that is not well-formed Unicode");
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

        if (!HasWellFormedText(element))
        {
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, "the body holds text that is not well-formed Unicode");
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
    /// True when every member name and string value decodes to well-formed UTF-16 (no lone surrogates, no invalid
    /// UTF-8). JsonDocument checks these lazily, so a body must pass this before anything reads its text.
    /// </summary>
    public static bool HasWellFormedText(JsonElement element)
    {
        try
        {
            return Walk(element);
        }
        catch (InvalidOperationException)
        {
            return false; // the reader could not transcode the text
        }

        static bool Walk(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if (!IdRules.IsWellFormedUtf16(p.Name) || !Walk(p.Value)) return false;
                    }
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        if (!Walk(item)) return false;
                    }
                    return true;
                case JsonValueKind.String:
                    return IdRules.IsWellFormedUtf16(e.GetString()!);
                default:
                    return true;
            }
        }
    }

    public static byte[] SerializeToUtf8<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

}
