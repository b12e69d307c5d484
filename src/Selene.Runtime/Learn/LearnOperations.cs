using System.Globalization;
using Selene.Learning;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Learn;

/// <summary>What an ingest pass did: the journal seqs it read, and how many facts and quarantined entries were new.</summary>
public sealed record IngestReport(long FromSeq, long ToSeq, int Read, int Facts, int Quarantined, int Skipped, int FactsStored, int QuarantinedStored);

/// <summary>What a binder pass did: facts bound, and what each binding did.</summary>
public sealed record BindReport(int Bound, int Minted, int Supported, int Contradicted, int FactOnly, int CapsulesChanged);

/// <summary>
/// The learning loop's operations over a tenant's journal (<c>selene learn ingest|bind|priors</c>): ingest reads the journal
/// after the watermark, in pages, and stores what <see cref="Wrappers.FromJournal"/> makes of each entry (idempotent: the same
/// snapshot stores the same facts once); bind folds the facts not bound yet into capsules (<see cref="Binder.Bind"/>) under the
/// tenant's binder lock. Each pass is journaled (LEARN_INGESTED, LEARN_BOUND) under the caller's correlation.
/// </summary>
public sealed class LearnOperations(SeleneDatabase db, TimeProvider clock)
{
    private const int Page = 1000;

    /// <summary>Reads the tenant's journal after the watermark (from the start with <paramref name="fromStart"/>) as facts ingested under <paramref name="policy"/>.</summary>
    public async Task<IngestReport> IngestAsync(TenantId tenant, WrapperPolicy policy, bool fromStart, CorrelationId correlation, CancellationToken ct)
    {
        long from, after;
        await using (var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct))
            from = after = fromStart ? 0 : await LearningStore.CursorAsync(tx, ct);
        int read = 0, facts = 0, quarantined = 0, skipped = 0, factsStored = 0, quarantinedStored = 0;
        while (true)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
            var page = await JournalStore.PageAsync(tx, after, Page, ct);
            if (page.Count == 0) break;
            var pageFacts = new List<LearnFact>();
            var pageQuarantined = new List<(long, ReasonCode, string, string)>();
            foreach (var entry in page)
            {
                switch (Wrappers.FromJournal(entry, policy, EngineModules.Reasons))
                {
                    case WrapperResult.Fact f: pageFacts.Add(f.Value); break;
                    case WrapperResult.Quarantined q: pageQuarantined.Add((q.Sequence, q.Reason, q.Detail, entry.Hash)); break;
                    default: skipped++; break;
                }
            }
            after = page[^1].Seq;
            var (stored, kept) = await LearningStore.StoreIngestAsync(tx, pageFacts, pageQuarantined, after, ct);
            await tx.CommitAsync(ct);
            (read, facts, quarantined, factsStored, quarantinedStored) =
                (read + page.Count, facts + pageFacts.Count, quarantined + pageQuarantined.Count, factsStored + stored, quarantinedStored + kept);
            if (page.Count < Page) break;
        }
        var report = new IngestReport(from, after, read, facts, quarantined, skipped, factsStored, quarantinedStored);
        await JournalAsync(tenant, correlation, JournalEventTypes.LearnIngested, LearnReasons.LearnIngested,
            [("wrapper_policy", WireNames.Of(policy)), ("from_seq", Text(from)), ("to_seq", Text(after)), ("entries_read", Text(read)),
             ("facts_stored", Text(factsStored)), ("quarantined_stored", Text(quarantinedStored))], ct);
        return report;
    }

    /// <summary>Binds every fact not bound yet, in journal order, a page per transaction under the tenant's binder lock.</summary>
    public async Task<BindReport> BindAsync(TenantId tenant, CorrelationId correlation, CancellationToken ct)
    {
        int bound = 0, minted = 0, supported = 0, contradicted = 0, factOnly = 0, changed = 0;
        while (true)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
            // One binder at a time per tenant: two passes over the same facts would both count them.
            await tx.LockEntityAsync("learn_bind", LearnModeDecider.Stream, ct);
            var inputs = await LearningStore.UnboundAsync(tx, Page, ct);
            if (inputs.Count == 0) break;
            var subjects = inputs.Select(i => (i.Fact.Key.TargetKind, i.Fact.Key.TargetId, i.Fact.Key.ActionKind)).Distinct().ToArray();
            var result = Binder.Bind(await LearningStore.CapsulesOfAsync(tx, subjects, ct), inputs);
            await LearningStore.SaveBindAsync(tx, result.Changed, result.Bindings, ct);
            await tx.CommitAsync(ct);
            bound += result.Bindings.Count;
            minted += result.Bindings.Count(b => b.Outcome == BindingOutcome.Minted);
            supported += result.Bindings.Count(b => b.Outcome == BindingOutcome.Supported);
            contradicted += result.Bindings.Count(b => b.Outcome == BindingOutcome.Contradicted);
            factOnly += result.Bindings.Count(b => b.Outcome == BindingOutcome.FactOnly);
            changed += result.Changed.Count;
            if (inputs.Count < Page) break;
        }
        await JournalAsync(tenant, correlation, JournalEventTypes.LearnBound, LearnReasons.LearnBound,
            [("binder_version", Binder.Version), ("facts_bound", Text(bound)), ("minted", Text(minted)), ("supported", Text(supported)),
             ("contradicted", Text(contradicted)), ("fact_only", Text(factOnly)), ("anomaly_triggers", AnomalyTriggers.Version)], ct);
        return new BindReport(bound, minted, supported, contradicted, factOnly, changed);
    }

    /// <summary>Opens a tenant transaction for the named read queries of <see cref="LearningStore"/>.</summary>
    public Task<TenantTransaction> ReadAsync(TenantId tenant, CancellationToken ct) => TenantTransaction.BeginAsync(db.App, tenant.Value, ct);

    private async Task JournalAsync(TenantId tenant, CorrelationId correlation, string eventType, ReasonCode reason, (string, string)[] payload, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        await JournalStore.AppendAsync(tx, [new JournalEntry(correlation, new TurnId(1), LearnReasons.EngineId, eventType, reason, JournalPayload.Create(payload), null, null)],
            UnixNanos.FromDateTimeOffset(clock.GetUtcNow()).Value, ct);
        await tx.CommitAsync(ct);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
