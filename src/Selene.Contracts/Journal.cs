using System.Globalization;
using System.Text;

namespace Selene.Contracts;

/// <summary>
/// The bounded journal payload of PH1.J (reference §12.1): at most 16 entries, keys lower_snake ASCII of at
/// most 64 characters, values 1..256 characters, keys and values together at most 2048 UTF-8 bytes. Evidence
/// goes in by reference (ids, hashes), never as free text.
/// </summary>
public sealed class JournalPayload
{
    public const int MaxEntries = 16;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 256;
    public const int MaxTotalBytes = 2048;

    private JournalPayload(SortedDictionary<string, string> entries) => Entries = entries;

    public IReadOnlyDictionary<string, string> Entries { get; }

    public static JournalPayload Empty { get; } = new(new SortedDictionary<string, string>(StringComparer.Ordinal));

    /// <summary>
    /// Builds a payload whose values are cut to the journal's bounds, so that recording what a caller sent never
    /// fails: an empty value becomes <see cref="EmptyValue"/>, control characters and unpaired surrogates become
    /// U+FFFD, a value over <see cref="MaxValueLength"/> is cut (ending in "…"), and while the total is over
    /// <see cref="MaxTotalBytes"/> the longest value is halved. Keys and the entry count are the caller's code, not
    /// its input: a key that is not lower_snake, a repeated key or more than <see cref="MaxEntries"/> entries throw.
    /// </summary>
    public static JournalPayload Create(IEnumerable<KeyValuePair<string, string>> entries)
    {
        var cut = entries.Select(e => KeyValuePair.Create(e.Key, Bound(e.Value, MaxValueLength))).ToList();
        // Quotes and backslashes count twice: they are escaped in the stored JSON, which has a bound of its own.
        static int Size(string s) => Encoding.UTF8.GetByteCount(s) + s.Count(c => c is '"' or '\\');
        while (cut.Sum(e => Size(e.Key) + Size(e.Value)) > MaxTotalBytes)
        {
            var longest = cut.Select((e, i) => (e.Value.Length, i)).Max();
            if (longest.Length <= 1) break; // keys alone are over the bound: Validate reports it
            cut[longest.i] = KeyValuePair.Create(cut[longest.i].Key, Bound(cut[longest.i].Value, longest.Length / 2));
        }
        var error = Validate(cut, out var payload);
        return error is null ? payload! : throw new ArgumentException(error, nameof(entries));
    }

    /// <summary>See <see cref="Create(IEnumerable{KeyValuePair{string, string}})"/>.</summary>
    public static JournalPayload Create(params (string Key, string Value)[] entries) =>
        Create(entries.Select(e => KeyValuePair.Create(e.Key, e.Value)));

    /// <summary>What an empty value is recorded as.</summary>
    public const string EmptyValue = "EMPTY";

    private static string Bound(string? value, int max)
    {
        if (string.IsNullOrEmpty(value)) return EmptyValue;
        var chars = value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i]) || char.IsControl(chars[i])) chars[i] = '\uFFFD';
        }
        var clean = new string(chars);
        return clean.Length <= max ? clean : IdRules.Cut(clean, max - 1) + "…";
    }

    /// <summary>Returns null when valid, else why not.</summary>
    public static string? Validate(IEnumerable<KeyValuePair<string, string>> entries, out JournalPayload? payload)
    {
        payload = null;
        var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var total = 0;
        foreach (var (key, value) in entries)
        {
            if (!IsValidKey(key)) return $"payload key '{key}' is not lower_snake ASCII of at most {MaxKeyLength} chars";
            if (string.IsNullOrEmpty(value) || value.Length > MaxValueLength) return $"payload value of '{key}' must be 1..{MaxValueLength} chars";
            if (!sorted.TryAdd(key, value)) return $"payload key '{key}' appears twice";
            total += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
        }
        if (sorted.Count > MaxEntries) return $"payload has more than {MaxEntries} entries";
        if (total > MaxTotalBytes) return $"payload exceeds {MaxTotalBytes} bytes";
        payload = new JournalPayload(sorted);
        return null;
    }

    private static bool IsValidKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength || key[0] < 'a' || key[0] > 'z') return false;
        return key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');
    }
}

/// <summary>
/// A journal entry before it is chained: what happened, to whom, and why. It is recorded with the failure/policy split
/// of what it refused (<see cref="RefusalClassification.Annotate"/>): its own reason code, or <paramref name="Refused"/>
/// when the entry's reason is a success that records a refusal (an outbox attempt put back because a switch said no).
/// </summary>
public sealed record JournalEntry(
    CorrelationId CorrelationId,
    TurnId TurnId,
    string Engine,
    string EventType,
    ReasonCode Reason,
    JournalPayload Payload,
    string? ActorUserId,
    string? IdempotencyKey,
    ReasonCode? Refused = null)
{
    /// <summary>The payload as it is stored and hashed: <see cref="Payload"/> with the refusal's failure or policy field.</summary>
    public JournalPayload RecordedPayload => RefusalClassification.Annotate(Payload, Refused ?? Reason);
}

/// <summary>
/// A stored journal entry with its place in the tenant's hash chain. <paramref name="LedgerRefs"/> and
/// <paramref name="LedgerHash"/> bind the engine ledger rows its transaction wrote (<see cref="LedgerBinding"/>): on the
/// first entry of a transaction that wrote any, null otherwise (and on every entry written before the binding existed).
/// </summary>
public sealed record JournalRecord(
    string TenantId,
    long Seq,
    string CorrelationId,
    long TurnId,
    string Engine,
    string EventType,
    string ReasonCode,
    long ReasonCodeId,
    string PayloadJson,
    string? ActorUserId,
    string? IdempotencyKey,
    long CreatedAt,
    string PrevHash,
    string Hash,
    string? LedgerRefs = null,
    string? LedgerHash = null);

/// <summary>
/// The per-tenant hash chain (PH1.J): each entry's hash is SHA-256 over the canonical JSON of its fields and
/// the previous entry's hash. The first entry of a tenant chains to <see cref="GenesisHash"/>.
/// </summary>
public static class JournalChain
{
    public static readonly string GenesisHash = new('0', 64);

    public static string CanonicalPayloadJson(JournalPayload payload)
    {
        var json = StrictJson.SerializeToUtf8(payload.Entries);
        return Encoding.UTF8.GetString(CanonicalJson.Canonicalize(json));
    }

    /// <summary>
    /// The bytes that are hashed: every field of the record except the hash itself. The ledger binding's two fields are
    /// hashed only when present, so entries written before the binding existed keep the hash they were written with.
    /// </summary>
    public static byte[] HashInput(
        string tenantId, long seq, string correlationId, long turnId, string engine, string eventType,
        string reasonCode, long reasonCodeId, string payloadJson, string? actorUserId, string? idempotencyKey,
        long createdAt, string prevHash, string? ledgerRefs = null, string? ledgerHash = null)
    {
        var fields = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["tenant_id"] = tenantId,
            ["seq"] = seq.ToString(CultureInfo.InvariantCulture),
            ["correlation_id"] = correlationId,
            ["turn_id"] = turnId.ToString(CultureInfo.InvariantCulture),
            ["engine"] = engine,
            ["event_type"] = eventType,
            ["reason_code"] = reasonCode,
            ["reason_code_id"] = reasonCodeId.ToString(CultureInfo.InvariantCulture),
            ["payload"] = payloadJson,
            ["actor_user_id"] = actorUserId,
            ["idempotency_key"] = idempotencyKey,
            ["created_at"] = createdAt.ToString(CultureInfo.InvariantCulture),
            ["prev_hash"] = prevHash,
        };
        if (ledgerRefs is not null || ledgerHash is not null)
        {
            fields["ledger_refs"] = ledgerRefs;
            fields["ledger_hash"] = ledgerHash;
        }
        return CanonicalJson.Serialize(fields);
    }

    public static string ComputeHash(JournalRecord r) => Hashing.Sha256Hex(HashInput(
        r.TenantId, r.Seq, r.CorrelationId, r.TurnId, r.Engine, r.EventType, r.ReasonCode, r.ReasonCodeId,
        r.PayloadJson, r.ActorUserId, r.IdempotencyKey, r.CreatedAt, r.PrevHash, r.LedgerRefs, r.LedgerHash));

    /// <summary>
    /// Walks records of one tenant in seq order and returns the first broken link, or null when the chain holds.
    /// A link is broken when its seq is not the next one, its prev_hash is not the previous hash, or its stored
    /// hash does not match its content.
    /// </summary>
    public static JournalBreak? Verify(IEnumerable<JournalRecord> records)
    {
        var expectedPrev = GenesisHash;
        long expectedSeq = 1;
        foreach (var r in records)
        {
            if (r.Seq != expectedSeq) return new JournalBreak(r.TenantId, r.Seq, $"expected seq {expectedSeq}, found {r.Seq}");
            if (!string.Equals(r.PrevHash, expectedPrev, StringComparison.Ordinal))
                return new JournalBreak(r.TenantId, r.Seq, "prev_hash does not match the previous entry's hash");
            if (!string.Equals(ComputeHash(r), r.Hash, StringComparison.Ordinal))
                return new JournalBreak(r.TenantId, r.Seq, "hash does not match the entry's content");
            expectedPrev = r.Hash;
            expectedSeq++;
        }
        return null;
    }
}

/// <summary>The first place a tenant's journal chain does not hold.</summary>
public sealed record JournalBreak(string TenantId, long Seq, string Why);
