using System.Globalization;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.CapReq;

namespace Selene.Runtime;

/// <summary>The outcome of rebuilding one tenant's CAPREQ projection.</summary>
/// <param name="Identical">The projection folded from the ledger equals the live one, row for row.</param>
/// <param name="Differences">The capreq ids whose live row differed (or was missing or extra).</param>
public sealed record RebuildReport(string TenantId, int LedgerEvents, int Rows, bool Identical, IReadOnlyList<string> Differences, bool Applied);

/// <summary>The outcome of walking one tenant's journal chain.</summary>
/// <param name="HeadHash">The hash of the last entry: record it outside the database to anchor the chain.</param>
public sealed record AuditReport(string TenantId, long Entries, JournalBreak? Break, string HeadHash)
{
    public bool Intact => Break is null;
}

/// <summary>Operator maintenance: projection rebuild and journal verification, tenant by tenant (owner role).</summary>
public sealed class Maintenance(SeleneDatabase db, TimeProvider clock)
{
    /// <summary>Folds the ledger into a fresh projection (pure), in event id order.</summary>
    public static IReadOnlyList<CapreqCurrentRow> FoldCapreqLedger(IEnumerable<CapreqLedgerRow> ledger)
    {
        var states = new SortedDictionary<string, CapreqState>(StringComparer.Ordinal);
        foreach (var row in ledger)
        {
            states.TryGetValue(row.CapreqId, out var state);
            states[row.CapreqId] = CapreqDecider.Evolve(state, CapreqMapping.ToEvent(row), row.EventId);
        }
        return states.Values.Select(CapreqMapping.ToCurrentRow).ToArray();
    }

    /// <summary>
    /// Rebuilds the CAPREQ projection of every tenant (or one) from its ledger, compares it with the live rows,
    /// and, when <paramref name="apply"/>, replaces the live rows and journals the rebuild.
    /// </summary>
    public async Task<IReadOnlyList<RebuildReport>> RebuildCapreqAsync(string? tenant, bool apply, CancellationToken ct = default)
    {
        var reports = new List<RebuildReport>();
        foreach (var t in await TenantsAsync(tenant, ct))
        {
            await using var tx = await TenantTransaction.BeginAsync(db.Owner, t, ct);
            // Writers wait while the ledger is read and, when applying, while the projection is replaced: a
            // transition committing in between would otherwise be overwritten by the older state.
            await using (var hold = tx.Command($"LOCK TABLE selene.capreq_ledger, selene.capreq_current IN {(apply ? "EXCLUSIVE" : "SHARE")} MODE"))
                await hold.ExecuteNonQueryAsync(ct);
            var ledger = await CapreqStore.LedgerAsync(tx, ct);
            var rebuilt = FoldCapreqLedger(ledger);
            var live = await CapreqStore.AllCurrentAsync(tx, ct);
            var rebuiltById = rebuilt.ToDictionary(r => r.CapreqId, StringComparer.Ordinal);
            var liveById = live.ToDictionary(r => r.CapreqId, StringComparer.Ordinal);
            var differences = rebuiltById.Keys.Union(liveById.Keys, StringComparer.Ordinal)
                .Where(id => !Equals(rebuiltById.GetValueOrDefault(id), liveById.GetValueOrDefault(id)))
                .OrderBy(id => id, StringComparer.Ordinal)
                .ToArray();
            if (apply)
            {
                await CapreqStore.ReplaceAllAsync(tx, rebuilt, ct);
                var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
                await JournalStore.AppendAsync(tx, [OperatorEntry(t, "capreq_rebuild", now, JournalEventTypes.ProjectionRebuilt, ReasonCodes.StorageProjectionRebuilt,
                    ("engine", ReasonCodes.EngineCapreq),
                    ("ledger_events", ledger.Count.ToString(CultureInfo.InvariantCulture)),
                    ("rows", rebuilt.Count.ToString(CultureInfo.InvariantCulture)),
                    ("identical_to_live", differences.Length == 0 ? "true" : "false"))], now.Value, ct);
                await tx.CommitAsync(ct);
            }
            reports.Add(new RebuildReport(t, ledger.Count, rebuilt.Count, differences.Length == 0, differences, apply));
        }
        return reports;
    }

    /// <summary>Walks every tenant's (or one tenant's) hash chain and checks its head; reports the first broken link.</summary>
    public async Task<IReadOnlyList<AuditReport>> VerifyJournalAsync(string? tenant, CancellationToken ct = default)
    {
        var reports = new List<AuditReport>();
        foreach (var t in await TenantsAsync(tenant, ct))
        {
            // One snapshot for the chain and its head, so live appends cannot look like a cut tail.
            await using var tx = await TenantTransaction.BeginAsync(db.Owner, t, ct, System.Data.IsolationLevel.RepeatableRead);
            var records = new List<JournalRecord>();
            await foreach (var r in JournalStore.ChainAsync(tx, ct)) records.Add(r);
            var broken = JournalChain.Verify(records);
            if (broken is null)
            {
                // The chain can only be cut at its tail without breaking a link: the head row remembers the tail.
                await using var head = tx.Command("SELECT last_seq, last_hash FROM selene.journal_heads WHERE tenant_id = $1");
                head.Parameters.Add(new() { Value = t });
                await using var reader = await head.ExecuteReaderAsync(ct);
                var (lastSeq, lastHash) = await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetString(1)) : (0L, JournalChain.GenesisHash);
                var tailSeq = records.Count == 0 ? 0 : records[^1].Seq;
                var tailHash = records.Count == 0 ? JournalChain.GenesisHash : records[^1].Hash;
                if (lastSeq != tailSeq || !string.Equals(lastHash, tailHash, StringComparison.Ordinal))
                    broken = new JournalBreak(t, Math.Min(lastSeq, tailSeq) + 1, $"the chain head records seq {lastSeq} but the journal ends at seq {tailSeq}");
            }
            reports.Add(new AuditReport(t, records.Count, broken, records.Count == 0 ? JournalChain.GenesisHash : records[^1].Hash));
        }
        return reports;
    }

    private async Task<IReadOnlyList<string>> TenantsAsync(string? tenant, CancellationToken ct)
    {
        var all = await KeyStore.TenantsAsync(db, ct);
        return tenant is null ? all : all.Where(t => t == tenant).ToArray();
    }

    private static JournalEntry OperatorEntry(string tenant, string operation, UnixNanos now, string eventType, ReasonCode reason, params (string, string)[] payload)
    {
        var correlation = CorrelationId.FromDigest(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"{operation}|{tenant}|{now.Value}")));
        return new JournalEntry(correlation, new TurnId(1), "SELENE.OPERATOR", eventType, reason, JournalPayload.Create(payload), null, null);
    }
}
