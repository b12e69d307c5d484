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
        error = null;
        JsonDocument document;
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
        catch (JsonException)
        {
            error = new JsonInputError(ReasonCodes.InputSchemaInvalid, "the body is not well-formed JSON");
            return false;
        }

        using (document)
        {
            return TryRead(document.RootElement, out value, out error);
        }
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

        var info = Options.GetTypeInfo(typeof(T));
        var known = new HashSet<string>(info.Properties.Select(p => p.Name), StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                error = new JsonInputError(ReasonCodes.InputUnknownField, $"unknown field '{Truncate(property.Name)}'");
                return false;
            }
        }

        try
        {
            value = element.Deserialize<T>(Options);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "the body" : $"field '{Truncate(ex.Path.TrimStart('$', '.'))}'";
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

    public static byte[] SerializeToUtf8<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
