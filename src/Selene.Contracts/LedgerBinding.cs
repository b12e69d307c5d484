using System.Globalization;
using System.Text;

namespace Selene.Contracts;

/// <summary>
/// One engine ledger row as it is stored (its payload as the database returns it), named by its store pair and event id:
/// what <see cref="LedgerBinding"/> hashes into the journal.
/// </summary>
public sealed record LedgerRowImage(
    string Store,
    long EventId,
    string TenantId,
    string StreamId,
    string EventType,
    string ActorUserId,
    string ReasonCode,
    string Payload,
    string CorrelationId,
    string? IdempotencyKey,
    long CreatedAt);

/// <summary>
/// Binds engine ledger rows into the tenant's journal chain (issue 15, tamper evidence): the first journal entry a
/// transaction appends names every ledger row the transaction wrote (<see cref="JournalRecord.LedgerRefs"/>:
/// <c>store:event_id:hash16</c>, space-separated, in the order written) and carries <see cref="Digest"/> of their contents
/// (<see cref="JournalRecord.LedgerHash"/>). Both are covered by the entry's hash, so a ledger row rewritten, removed or
/// added after the fact no longer matches a chain that verifies.
/// </summary>
public static class LedgerBinding
{
    /// <summary>The hash of one row: SHA-256 over the canonical JSON of every column it is stored with.</summary>
    public static string RowHash(LedgerRowImage row)
    {
        var fields = new SortedDictionary<string, string?>(StringComparer.Ordinal)
        {
            ["store"] = row.Store,
            ["event_id"] = row.EventId.ToString(CultureInfo.InvariantCulture),
            ["tenant_id"] = row.TenantId,
            ["stream_id"] = row.StreamId,
            ["event_type"] = row.EventType,
            ["actor_user_id"] = row.ActorUserId,
            ["reason_code"] = row.ReasonCode,
            ["payload"] = row.Payload,
            ["correlation_id"] = row.CorrelationId,
            ["idempotency_key"] = row.IdempotencyKey,
            ["created_at"] = row.CreatedAt.ToString(CultureInfo.InvariantCulture),
        };
        return Hashing.Sha256Hex(CanonicalJson.Serialize(fields));
    }

    /// <summary>The digest of a transaction's rows: SHA-256 over their row hashes in the order written, one per line.</summary>
    public static string Digest(IEnumerable<string> rowHashes)
    {
        var text = new StringBuilder();
        foreach (var h in rowHashes) text.Append(h).Append('\n');
        return Hashing.Sha256Hex(text.ToString());
    }

    /// <summary>How many hex digits of a row's hash its ref carries: enough to name the row that changed, while the digest proves.</summary>
    public const int RefHashLength = 16;

    /// <summary>The stored form of the rows' names: <c>store:event_id:hash16</c> (the first <see cref="RefHashLength"/> hex digits of its hash), space-separated.</summary>
    public static string Refs(IEnumerable<LedgerRef> rows) =>
        string.Join(' ', rows.Select(r => $"{r.Store}:{r.EventId.ToString(CultureInfo.InvariantCulture)}:{r.HashPrefix}"));

    /// <summary>Reads <see cref="Refs"/> back; false when the text is not in that form.</summary>
    public static bool TryParseRefs(string refs, out IReadOnlyList<LedgerRef> rows)
    {
        var list = new List<LedgerRef>();
        rows = list;
        foreach (var part in refs.Split(' '))
        {
            var fields = part.Split(':');
            if (fields.Length != 3 || fields[0].Length == 0 || fields[2].Length != RefHashLength ||
                !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return false;
            list.Add(new LedgerRef(fields[0], id, fields[2]));
        }
        return list.Count > 0;
    }
}

/// <summary>One bound ledger row's name in a journal entry: its store pair, event id and the first hex digits of its hash.</summary>
public sealed record LedgerRef(string Store, long EventId, string HashPrefix)
{
    /// <summary>The ref of a row written now, from its full hash.</summary>
    public static LedgerRef Of(string store, long eventId, string rowHash) => new(store, eventId, rowHash[..LedgerBinding.RefHashLength]);

    public override string ToString() => $"{Store}:{EventId.ToString(CultureInfo.InvariantCulture)}";
}
