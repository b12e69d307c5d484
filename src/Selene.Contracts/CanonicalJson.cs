using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Selene.Contracts;

/// <summary>
/// Canonical JSON bytes: object members sorted by ordinal (UTF-16 code unit) order, UTF-8, no insignificant
/// whitespace, numbers as written, strings re-escaped by one fixed encoder. Equal values give equal bytes, so
/// hashes over these bytes are stable across processes and releases.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static byte[] Canonicalize(JsonElement element)
    {
        // An in-memory buffer writer, not a stream: the pure assemblies use nothing from System.IO (ArchitectureTests).
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, element);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json)
    {
        using var document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        return Canonicalize(document.RootElement);
    }

    /// <summary>Serializes with <see cref="StrictJson.Options"/> and canonicalizes the result.</summary>
    public static byte[] Serialize<T>(T value) => Canonicalize(StrictJson.SerializeToUtf8(value));

    public static string SerializeToString<T>(T value) => Encoding.UTF8.GetString(Serialize(value));

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray()) Write(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: false);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            case JsonValueKind.Null:
                writer.WriteNullValue();
                break;
            default:
                throw new ArgumentException($"cannot canonicalize a JSON {element.ValueKind}", nameof(element));
        }
    }
}

/// <summary>SHA-256 over canonical bytes, rendered as lowercase hex.</summary>
public static class Hashing
{
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static byte[] Sha256(ReadOnlySpan<byte> bytes) => SHA256.HashData(bytes);

    public static string Sha256Hex(string text) => Sha256Hex(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A short, stable digest of several parts: each part is length-prefixed so that ("ab","c") and ("a","bc")
    /// differ. Returns the first <paramref name="hexChars"/> hex characters of the SHA-256.
    /// </summary>
    public static string ShortHash(int hexChars, params string[] parts)
    {
        var builder = new StringBuilder();
        foreach (var part in parts)
        {
            builder.Append(part.Length).Append(':').Append(part).Append('|');
        }
        return Sha256Hex(builder.ToString())[..hexChars];
    }
}
