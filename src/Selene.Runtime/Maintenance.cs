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
/// <param name="LedgerRows">The engine ledger rows its entries bind, each checked against its stored content.</param>
/// <param name="HeadHash">The hash of the last entry: record it outside the database to anchor the chain (<see cref="HeadCheckpoint"/>).</param>
/// <param name="Checkpoints">The signed checkpoints of this tenant the chain was held against.</param>
/// <param name="BreakGlassRows">Bound ledger rows that differ from what was written (or are gone) because an audited break-glass
/// window changed them (<c>store:event_id</c> and the window): explained, not a break.</param>
public sealed record AuditReport(string TenantId, long Entries, JournalBreak? Break, string HeadHash, long LedgerRows = 0, int Checkpoints = 0,
    IReadOnlyList<string>? BreakGlassRows = null)
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

    /// <summary>
    /// Walks every tenant's (or one tenant's) hash chain, and the GLOBAL key's, and checks its head; then the engine
    /// ledger rows its entries bind (<see cref="LedgerBinding"/>: each row's content, and every row above the binding's
    /// floor bound by exactly one entry); then the chain against the signed <paramref name="checkpoints"/> of it (a head
    /// moved back below a checkpoint, or an entry that differs from it). Reports the first break of each tenant.
    /// </summary>
    public async Task<IReadOnlyList<AuditReport>> VerifyJournalAsync(string? tenant, CancellationToken ct = default,
        IReadOnlyList<HeadCheckpoint>? checkpoints = null)
    {
        checkpoints ??= [];
        var reports = new List<AuditReport>();
        var bound = new HashSet<(string Store, long EventId)>();
        var changedUnderBreakGlass = await BreakGlassChangesAsync(ct);
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
            var boundBefore = bound.Count;
            // The GLOBAL key's rows are bound by the entries of the operators who wrote them, in their own tenants' chains:
            // whether each is bound is known only once every chain was walked.
            var coverage = t != EngineStore.GlobalTenantKey || tenant is null;
            var explained = new List<string>();
            broken ??= await VerifyLedgerBindingAsync(tx, t, records, bound, coverage ? await EngineStore.BindingFloorsAsync(tx, ct) : null,
                changedUnderBreakGlass, explained, ct);
            var mine = checkpoints.Where(c => c.TenantId == t).ToArray();
            broken ??= HeldAgainst(t, records, mine);
            // The GLOBAL key's chain exists only once a rebuild of GLOBAL rows was applied; until then there is nothing to report.
            if (t == EngineStore.GlobalTenantKey && tenant is null && records.Count == 0 && broken is null) continue;
            reports.Add(new AuditReport(t, records.Count, broken, records.Count == 0 ? JournalChain.GenesisHash : records[^1].Hash,
                bound.Count - boundBefore, mine.Length, explained));
        }
        // A checkpoint of a tenant the database no longer knows: its whole chain is gone.
        foreach (var gone in checkpoints.Where(c => (tenant is null || c.TenantId == tenant) && reports.All(r => r.TenantId != c.TenantId))
                     .GroupBy(c => c.TenantId, StringComparer.Ordinal))
        {
            var last = gone.MaxBy(c => c.Seq)!;
            reports.Add(new AuditReport(gone.Key, 0, new JournalBreak(gone.Key, last.Seq,
                $"a checkpoint signed at {new UnixNanos(last.At)} saw this tenant's chain at seq {last.Seq}; the database has no such tenant"),
                JournalChain.GenesisHash, 0, gone.Count()));
        }
        return reports;
    }

    /// <summary>
    /// Verifies the chains (<see cref="VerifyJournalAsync"/>) and returns a checkpoint of each intact one's head, taken now;
    /// a broken chain gets none (a signature must never vouch for a break) and its report says why.
    /// </summary>
    public async Task<(IReadOnlyList<HeadCheckpoint> Checkpoints, IReadOnlyList<AuditReport> Reports)> CheckpointAsync(string? tenant, CancellationToken ct = default)
    {
        var reports = await VerifyJournalAsync(tenant, ct);
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow()).Value;
        return (reports.Where(r => r.Intact).Select(r => new HeadCheckpoint(r.TenantId, r.Entries, r.HeadHash, now)).ToArray(), reports);
    }

    /// <summary>
    /// Checks the ledger rows the tenant's entries bind: each entry's rows exist and hash to its digest, and no row is
    /// bound twice (<paramref name="bound"/> collects them across tenants). With <paramref name="floors"/>, also that
    /// every one of the tenant's rows above its ledger's floor is bound.
    /// </summary>
    private static async Task<JournalBreak?> VerifyLedgerBindingAsync(TenantTransaction tx, string tenant, IReadOnlyList<JournalRecord> records,
        HashSet<(string Store, long EventId)> bound, IReadOnlyDictionary<string, long>? floors,
        IReadOnlyDictionary<(string Table, string Tenant, long EventId), long> breakGlass, List<string> explained, CancellationToken ct)
    {
        var stores = LedgerStores();
        var bindings = new List<(JournalRecord Record, IReadOnlyList<LedgerRef> Rows)>();
        foreach (var r in records.Where(r => r.LedgerRefs is not null))
        {
            if (!LedgerBinding.TryParseRefs(r.LedgerRefs!, out var rows) || rows.Any(x => !stores.ContainsKey(x.Store)))
                return new JournalBreak(tenant, r.Seq, "the entry binds ledger rows in a form or of a store Selene does not know");
            bindings.Add((r, rows));
        }
        var images = new Dictionary<(string, long), LedgerRowImage>();
        foreach (var store in bindings.SelectMany(b => b.Rows).GroupBy(x => x.Store, StringComparer.Ordinal))
        foreach (var chunk in store.Select(x => x.EventId).Distinct().Chunk(5000))
        foreach (var image in await stores[store.Key].RowImagesAsync(tx, chunk, ct))
            images[(image.Store, image.EventId)] = image;
        foreach (var (record, rows) in bindings)
        {
            var hashes = new List<string>(rows.Count);
            var changed = false;
            foreach (var row in rows)
            {
                if (!bound.Add((row.Store, row.EventId)))
                    return new JournalBreak(tenant, record.Seq, $"ledger row {row} is bound by two entries");
                images.TryGetValue((row.Store, row.EventId), out var image);
                var hash = image is null ? null : LedgerBinding.RowHash(image);
                if (hash is not null && hash.StartsWith(row.HashPrefix, StringComparison.Ordinal))
                {
                    hashes.Add(hash);
                    continue;
                }
                // A change an audited break-glass window recorded is explained; any other is tampering.
                var rowTenant = image?.TenantId ?? tenant;
                if (breakGlass.TryGetValue(($"selene.{row.Store}_ledger", rowTenant, row.EventId), out var window) ||
                    breakGlass.TryGetValue(($"selene.{row.Store}_ledger", EngineStore.GlobalTenantKey, row.EventId), out window))
                {
                    explained.Add($"{row} (break-glass window {window})");
                    changed = true;
                    continue;
                }
                return image is null
                    ? new JournalBreak(tenant, record.Seq, $"ledger row {row} the entry binds is gone")
                    : new JournalBreak(tenant, record.Seq, $"ledger row {row} differs from what was written (stream {IdRules.Shorten(image.StreamId)}, {image.EventType})");
            }
            if (!changed && !string.Equals(LedgerBinding.Digest(hashes), record.LedgerHash, StringComparison.Ordinal))
                return new JournalBreak(tenant, record.Seq, $"the ledger rows the entry binds ({IdRules.Shorten(record.LedgerRefs!)}) differ from what was written");
        }
        if (floors is null) return null;
        foreach (var (name, store) in stores)
        foreach (var eventId in await store.EventIdsAsync(tx, floors.GetValueOrDefault(name), ct))
        {
            if (!bound.Contains((name, eventId)))
                return new JournalBreak(tenant, 0, $"ledger row {name}:{eventId} is bound by no journal entry: it was written outside Selene's transactions");
        }
        return null;
    }

    /// <summary>The first way the tenant's chain contradicts a checkpoint signed of it: a checkpointed entry gone (the head moved back) or changed.</summary>
    private static JournalBreak? HeldAgainst(string tenant, IReadOnlyList<JournalRecord> records, IReadOnlyList<HeadCheckpoint> checkpoints)
    {
        foreach (var c in checkpoints.OrderBy(c => c.Seq))
        {
            if (c.Seq > records.Count)
                return new JournalBreak(tenant, c.Seq, $"a checkpoint signed at {new UnixNanos(c.At)} saw the chain at seq {c.Seq}; " +
                    $"the journal ends at seq {records.Count}: entries were removed and the head moved back");
            if (c.Seq > 0 && !string.Equals(records[(int)c.Seq - 1].Hash, c.HeadHash, StringComparison.Ordinal))
                return new JournalBreak(tenant, c.Seq, $"the entry differs from the one a checkpoint signed at {new UnixNanos(c.At)} saw: the chain was rewritten");
        }
        return null;
    }

    /// <summary>
    /// The ledger rows an audited break-glass window changed or deleted — (table, tenant, event id) to the window — read
    /// only from a break-glass chain that verifies (an altered audit explains nothing).
    /// </summary>
    private async Task<IReadOnlyDictionary<(string Table, string Tenant, long EventId), long>> BreakGlassChangesAsync(CancellationToken ct)
    {
        var changes = new Dictionary<(string, string, long), long>();
        var report = await new BreakGlass(db).VerifyAsync(ct);
        if (!report.Intact) return changes;
        foreach (var e in report.Windows.SelectMany(w => w.Statements))
        {
            if (e.Table is not { } table || !table.EndsWith("_ledger", StringComparison.Ordinal) || e.RowKey is null) continue;
            var key = JsonNode.Parse(e.RowKey)!.AsObject();
            if (key["tenant_id"] is JsonValue t && key["event_id"] is JsonValue id && t.TryGetValue<string>(out var tenant) && id.TryGetValue<long>(out var eventId))
                changes.TryAdd((table, tenant, eventId), e.WindowId);
        }
        return changes;
    }

    /// <summary>Every engine store pair by name (a pair several aggregates share counts once).</summary>
    private static IReadOnlyDictionary<string, EngineStore> LedgerStores() =>
        EngineModules.All.SelectMany(m => m.Aggregates).Select(a => a.Store)
            .DistinctBy(s => s.Pair.Name).ToDictionary(s => s.Pair.Name, StringComparer.Ordinal);


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
