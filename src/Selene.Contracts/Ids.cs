using System.Globalization;

namespace Selene.Contracts;

/// <summary>Character rules shared by the string identifiers.</summary>
public static class IdRules
{
    /// <summary>Tenant and user ids: 1..64 chars of [A-Za-z0-9_.-], starting with a letter or digit.</summary>
    public static bool IsValidName(string? value, int maxLength = 64)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength) return false;
        if (!char.IsAsciiLetterOrDigit(value[0])) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        }
        return true;
    }

    /// <summary>Free text an engine accepts: 1..<paramref name="max"/> chars, not only white space, no control characters, well-formed.</summary>
    public static bool IsBoundedText(string? text, int max) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= max && !text.Any(char.IsControl) && IsWellFormedUtf16(text);

    /// <summary>Caller-supplied text quoted back in an error message, cut to 64 characters (never inside a surrogate pair).</summary>
    public static string Shorten(string text) => text.Length <= 64 ? text : Cut(text, 64) + "…";

    /// <summary>The first <paramref name="max"/> UTF-16 units of <paramref name="text"/>, one fewer when that would split a surrogate pair.</summary>
    public static string Cut(string text, int max) =>
        text.Length <= max ? text : text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)];

    /// <summary>An id made by <see cref="Hashing.ShortHash"/>: <paramref name="prefix"/> followed by 16 lowercase hex digits.</summary>
    public static bool IsShortHashId(string? id, string prefix) =>
        id is not null && id.Length == prefix.Length + 16 && id.StartsWith(prefix, StringComparison.Ordinal) &&
        !id.AsSpan(prefix.Length).ContainsAnyExcept("0123456789abcdef");

    /// <summary>False when <paramref name="text"/> holds an unpaired surrogate (text that cannot be encoded as UTF-8).</summary>
    public static bool IsWellFormedUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }
        return true;
    }

    /// <summary>Idempotency keys: 1..128 printable ASCII characters, no spaces (reference §13.1).</summary>
    public static bool IsValidIdempotencyKey(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128) return false;
        foreach (var c in value)
        {
            if (c < '!' || c > '~') return false;
        }
        return true;
    }
}

/// <summary>A tenant: every row, key and journal chain belongs to exactly one.</summary>
public readonly record struct TenantId
{
    public TenantId(string value)
    {
        if (!IdRules.IsValidName(value)) throw new ArgumentException($"invalid tenant id '{value}'", nameof(value));
        Value = value;
    }

    public string Value { get; }
    public static bool IsValid(string? value) => IdRules.IsValidName(value);
    public override string ToString() => Value;
}

/// <summary>A user inside a tenant (the acting user of a request comes from its API key).</summary>
public readonly record struct UserId
{
    public UserId(string value)
    {
        if (!IdRules.IsValidName(value)) throw new ArgumentException($"invalid user id '{value}'", nameof(value));
        Value = value;
    }

    public string Value { get; }
    public static bool IsValid(string? value) => IdRules.IsValidName(value);
    public override string ToString() => Value;
}

/// <summary>One end-to-end job; a 128-bit number greater than zero (stored as NUMERIC(39,0)).</summary>
public readonly record struct CorrelationId
{
    public CorrelationId(UInt128 value)
    {
        if (value == UInt128.Zero) throw new ArgumentOutOfRangeException(nameof(value), "correlation id must be > 0");
        Value = value;
    }

    public UInt128 Value { get; }

    public static bool TryParse(string? text, out CorrelationId id)
    {
        id = default;
        if (string.IsNullOrEmpty(text) || text.Length > 39 || !text.All(char.IsAsciiDigit)) return false;
        if (!UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v == UInt128.Zero) return false;
        id = new CorrelationId(v);
        return true;
    }

    /// <summary>Derives a correlation id from bytes (the first 16 bytes of a SHA-256 digest); never zero.</summary>
    public static CorrelationId FromDigest(ReadOnlySpan<byte> digest)
    {
        var v = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(digest[..16]) >> 1;
        return new CorrelationId(v == UInt128.Zero ? UInt128.One : v);
    }

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One user turn inside a correlation; greater than zero.</summary>
public readonly record struct TurnId
{
    public TurnId(ulong value)
    {
        if (value == 0) throw new ArgumentOutOfRangeException(nameof(value), "turn id must be > 0");
        Value = value;
    }

    public ulong Value { get; }
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A caller-chosen idempotency key (1..128 printable ASCII).</summary>
public readonly record struct IdempotencyKey
{
    public IdempotencyKey(string value)
    {
        if (!IdRules.IsValidIdempotencyKey(value)) throw new ArgumentException("invalid idempotency key", nameof(value));
        Value = value;
    }

    public string Value { get; }
    public override string ToString() => Value;
}

/// <summary>A point in time: nanoseconds since the Unix epoch, supplied by the runtime (reference §15.10).</summary>
public readonly record struct UnixNanos(long Value)
{
    public static UnixNanos FromDateTimeOffset(DateTimeOffset at) =>
        new(checked((at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100));

    public DateTimeOffset ToDateTimeOffset() => DateTimeOffset.UnixEpoch.AddTicks(Value / 100);

    public override string ToString() => ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
