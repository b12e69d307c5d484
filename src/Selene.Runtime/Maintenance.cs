using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime;

/// <summary>The outcome of rebuilding one store pair's projection for one tenant.</summary>
/// <param name="Engine">The module's short name (capreq).</param>
/// <param name="Store">The store pair's name (capreq: capreq_ledger / capreq_current).</param>
/// <param name="Identical">The projection folded from the ledger equals the live one, row for row.</param>
/// <param name="Differences">The stream ids whose live row differed (or was missing or extra).</param>
public sealed record RebuildReport(string Engine, string Store, string TenantId, int LedgerEvents, int Rows, bool Identical, IReadOnlyList<string> Differences, bool Applied);

/// <summary>The outcome of walking one tenant's journal chain.</summary>
/// <param name="HeadHash">The hash of the last entry: record it outside the database to anchor the chain.</param>
public sealed record AuditReport(string TenantId, long Entries, JournalBreak? Break, string HeadHash)
{
    public bool Intact => Break is null;
}

/// <summary>Operator maintenance: projection rebuild and journal verification, tenant by tenant (owner role).</summary>
public sealed class Maintenance(SeleneDatabase db, TimeProvider clock)
{
    /// <summary>
    /// Rebuilds the projection of every store pair of every engine module (or of <paramref name="engine"/>) for
    /// every tenant (or <paramref name="tenant"/>), and the GLOBAL rows of the pairs that hold them (tenant key
    /// <see cref="EngineStore.GlobalTenantKey"/>; the entry of an applied rebuild goes to that key's chain): folds the ledger through the engine's Evolve, compares the
    /// result with the live rows and, when <paramref name="apply"/>, replaces the live rows and journals the rebuild.
    /// </summary>
    public async Task<IReadOnlyList<RebuildReport>> RebuildAsync(string? engine, string? tenant, bool apply, CancellationToken ct = default)
    {
        var modules = EngineModules.All.Where(m => engine is null || m.IsNamed(engine)).ToArray();
        var reports = new List<RebuildReport>();
        foreach (var t in await TenantsAsync(tenant, ct))
        foreach (var module in modules)
        foreach (var aggregate in module.Aggregates.Where(a => t != EngineStore.GlobalTenantKey || a.HasGlobalStreams))
        {
            var store = aggregate.Store;
            await using var tx = await TenantTransaction.BeginAsync(db.Owner, t, ct);
            await store.LockForRebuildAsync(tx, exclusive: apply, ct);
            var ledger = await store.LedgerAsync(tx, ct);
            var rebuilt = aggregate.Fold(ledger);
            var live = await store.AllCurrentAsync(tx, ct);
            var differences = Differences(rebuilt, live);
            if (apply)
            {
                await store.ReplaceAllAsync(tx, rebuilt, ct);
                var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
                await JournalStore.AppendAsync(tx, [OperatorEntry(t, $"{store.Pair.Name}_rebuild", now, JournalEventTypes.ProjectionRebuilt, ReasonCodes.StorageProjectionRebuilt,
                    ("engine", aggregate.EngineId),
                    ("store", store.Pair.Name),
                    ("ledger_events", ledger.Count.ToString(CultureInfo.InvariantCulture)),
                    ("rows", rebuilt.Count.ToString(CultureInfo.InvariantCulture)),
                    ("identical_to_live", differences.Count == 0 ? "true" : "false"))], now.Value, ct);
                await tx.CommitAsync(ct);
            }
            reports.Add(new RebuildReport(module.Name, store.Pair.Name, t, ledger.Count, rebuilt.Count, differences.Count == 0, differences, apply));
        }
        return reports;
    }

    /// <summary>
    /// The stream ids whose rebuilt and live rows differ: status, source event, update time, or the document
    /// compared as JSON (the live one comes back in jsonb's normal form, so text would differ in spacing and order).
    /// </summary>
    public static IReadOnlyList<string> Differences(IReadOnlyList<ProjectionRow> rebuilt, IReadOnlyList<ProjectionRow> live)
    {
        var rebuiltById = rebuilt.ToDictionary(r => r.StreamId, StringComparer.Ordinal);
        var liveById = live.ToDictionary(r => r.StreamId, StringComparer.Ordinal);
        return rebuiltById.Keys.Union(liveById.Keys, StringComparer.Ordinal)
            .Where(id => !Same(rebuiltById.GetValueOrDefault(id), liveById.GetValueOrDefault(id)))
            .OrderBy(id => id, StringComparer.Ordinal)
            .ToArray();
    }

    private static bool Same(ProjectionRow? a, ProjectionRow? b) =>
        a is not null && b is not null && a.Status == b.Status && a.SourceEventId == b.SourceEventId && a.UpdatedAt == b.UpdatedAt &&
        JsonNode.DeepEquals(JsonNode.Parse(a.Doc), JsonNode.Parse(b.Doc));

    /// <summary>Walks every tenant's (or one tenant's) hash chain, and the GLOBAL key's, and checks its head; reports the first broken link.</summary>
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
                var (lastSeq, lastHash) = await JournalStore.HeadAsync(tx, ct);
                var tailSeq = records.Count == 0 ? 0 : records[^1].Seq;
                var tailHash = records.Count == 0 ? JournalChain.GenesisHash : records[^1].Hash;
                if (lastSeq != tailSeq || !string.Equals(lastHash, tailHash, StringComparison.Ordinal))
                    broken = new JournalBreak(t, Math.Min(lastSeq, tailSeq) + 1, $"the chain head records seq {lastSeq} but the journal ends at seq {tailSeq}");
            }
            // The GLOBAL key's chain exists only once a rebuild of GLOBAL rows was applied; until then there is nothing to report.
            if (t == EngineStore.GlobalTenantKey && tenant is null && records.Count == 0 && broken is null) continue;
            reports.Add(new AuditReport(t, records.Count, broken, records.Count == 0 ? JournalChain.GenesisHash : records[^1].Hash));
        }
        return reports;
    }

    /// <summary>
    /// The tenants (or the one named), then the reserved key of GLOBAL rows: its pairs' GLOBAL rows are rebuilt
    /// under it, and its chain holds the entries of those rebuilds.
    /// </summary>
    private async Task<IReadOnlyList<string>> TenantsAsync(string? tenant, CancellationToken ct)
    {
        string[] all = [.. await KeyStore.TenantsAsync(db, ct), EngineStore.GlobalTenantKey];
        return tenant is null ? all : all.Where(t => t == tenant).ToArray();
    }

    private static JournalEntry OperatorEntry(string tenant, string operation, UnixNanos now, string eventType, ReasonCode reason, params (string, string)[] payload)
    {
        var correlation = CorrelationId.FromDigest(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"{operation}|{tenant}|{now.Value}")));
        return new JournalEntry(correlation, new TurnId(1), "SELENE.OPERATOR", eventType, reason, JournalPayload.Create(payload), null, null);
    }
}
