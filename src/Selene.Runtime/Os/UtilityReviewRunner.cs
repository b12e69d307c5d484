using System.Globalization;
using Selene.Kernel.Os;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Os;

/// <summary>One engine reviewed for one day by a run.</summary>
/// <param name="Appended">False when the review in force already said exactly this (an unchanged re-run).</param>
public sealed record UtilityDayReview(DateOnly Day, UtilityReviewResult Result, bool Appended);

/// <summary>What one run did for one tenant and one day.</summary>
/// <param name="Reviews">The day's reviews, one per TURN_OPTIONAL engine with rows that day, in canonical engine order.</param>
/// <param name="Backfilled">Earlier days reviewed first because they had rows but no stored review (oldest first).</param>
/// <param name="SkippedEngines">Engines with rows that day that are not TURN_OPTIONAL (never reviewed).</param>
/// <param name="Correlation">The run's correlation id: on its journal entry and on every review row it appended.</param>
/// <param name="JournalSeq">The run's journal entry; null when nothing was reviewed.</param>
public sealed record UtilityReviewRun(
    string TenantId,
    DateOnly Day,
    IReadOnlyList<UtilityDayReview> Reviews,
    IReadOnlyList<UtilityDayReview> Backfilled,
    IReadOnlyList<string> SkippedEngines,
    CorrelationId Correlation,
    long? JournalSeq);

/// <summary>
/// Runs the daily GATE-U4/GATE-U5 utility review (reference §1.7) for a tenant and a UTC day D: every TURN_OPTIONAL
/// engine with outcome rows on D is reviewed over those rows, with the previous fail streak taken from the stored
/// review of D−1. When D−1 had rows but no stored review, D−1 is reviewed (and stored) first, recursively, at most
/// <see cref="LookBackDays"/> days back; a day without rows has no review and restarts the streak. One tenant
/// transaction per run (serialized per tenant), one journal entry per run. docs/decisions.md "PH1.OS utility review".
/// </summary>
public sealed class UtilityReviewRunner(SeleneDatabase db, TimeProvider clock, UtilityThresholds? thresholds = null)
{
    /// <summary>How many earlier days one run reviews at most to find the previous streak.</summary>
    public const int LookBackDays = 7;

    private readonly UtilityThresholds _thresholds = thresholds ?? UtilityThresholds.MvpV1;

    /// <summary>Reviews <paramref name="day"/> for one tenant, or (null) for every tenant in tenant-id order.</summary>
    public async Task<IReadOnlyList<UtilityReviewRun>> RunAsync(string? tenant, DateOnly day, CancellationToken ct = default)
    {
        var all = await KeyStore.TenantsAsync(db, ct);
        var runs = new List<UtilityReviewRun>();
        foreach (var t in tenant is null ? all : all.Where(t => t == tenant))
            runs.Add(await RunTenantAsync(new TenantId(t), day, ct));
        return runs;
    }

    /// <summary>Reviews <paramref name="day"/> for <paramref name="tenant"/>, persists the reviews and journals the run.</summary>
    public async Task<UtilityReviewRun> RunTenantAsync(TenantId tenant, DateOnly day, CancellationToken ct = default)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        var correlation = CorrelationId.FromDigest(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(
            $"os_utility_review|{tenant.Value}|{day:yyyy-MM-dd}|{now.Value}")));
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        // Two runs for one tenant would read each other's half-written chains; one at a time.
        await tx.LockEntityAsync("os_utility_review", "runs", ct);

        var run = new Run(tx, _thresholds, correlation, now.Value);
        var engines = await OsOutcomeStore.EnginesOfDayAsync(tx, day, ct);
        var skipped = engines.Where(e => !UtilityReview.IsTurnOptional(e)).ToArray();
        var reviews = new List<UtilityDayReview>();
        // Canonical TURN_OPTIONAL order (reference §0.5), so every run lists engines the same way.
        foreach (var engine in OsEngineIds.TurnOptional.Where(e => engines.Contains(e, StringComparer.Ordinal)))
        {
            var rows = await OsOutcomeStore.ReadDayAsync(tx, day, engine, ct);
            reviews.Add(await run.ReviewAsync(engine, day, rows, depth: 0, ct));
        }

        long? journalSeq = null;
        if (reviews.Count > 0)
        {
            var entry = JournalEntryOf(run, day, reviews, skipped.Length);
            journalSeq = (await JournalStore.AppendAsync(tx, [entry], now.Value, ct))[0].Seq;
        }
        await tx.CommitAsync(ct);
        var backfilled = run.Backfilled.OrderBy(b => b.Day).ThenBy(b => CanonicalRank(b.Result.EngineId)).ToArray();
        return new UtilityReviewRun(tenant.Value, day, reviews, backfilled, skipped, correlation, journalSeq);
    }

    private static int CanonicalRank(string engine)
    {
        for (var i = 0; i < OsEngineIds.TurnOptional.Count; i++)
        {
            if (string.Equals(OsEngineIds.TurnOptional[i], engine, StringComparison.Ordinal)) return i;
        }
        return int.MaxValue;
    }

    private JournalEntry JournalEntryOf(Run run, DateOnly day, List<UtilityDayReview> reviews, int skipped)
    {
        static string N(int v) => v.ToString(CultureInfo.InvariantCulture);
        int Count(OsUtilityAction a) => reviews.Count(r => r.Result.Action == a);
        var payload = JournalPayload.Create(
            ("day", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("thresholds_version", _thresholds.Version),
            ("engines_reviewed", N(reviews.Count)),
            ("rows_reviewed", N(reviews.Sum(r => r.Result.Metrics.Entries))),
            ("keep", N(Count(OsUtilityAction.Keep))),
            ("degrade", N(Count(OsUtilityAction.Degrade))),
            ("disable_candidate", N(Count(OsUtilityAction.DisableCandidate))),
            ("backfilled_reviews", N(run.Backfilled.Count)),
            ("reviews_appended", N(reviews.Count(r => r.Appended) + run.Backfilled.Count(r => r.Appended))),
            ("skipped_engines", N(skipped)));
        return new JournalEntry(run.Correlation, new TurnId(1), ReasonCodes.EngineOs, JournalEventTypes.OsUtilityReviewed,
            ReasonCodes.OsUtilityReviewOk, payload, null, null);
    }

    /// <summary>The state of one run inside its transaction.</summary>
    private sealed class Run(TenantTransaction tx, UtilityThresholds thresholds, CorrelationId correlation, long now)
    {
        public CorrelationId Correlation => correlation;
        public List<UtilityDayReview> Backfilled { get; } = [];

        public async Task<UtilityDayReview> ReviewAsync(string engine, DateOnly day, IReadOnlyList<OsOutcomeRow> rows, int depth, CancellationToken ct)
        {
            var previous = await PreviousStreakAsync(engine, day, depth, ct);
            var outcome = UtilityReview.Review(engine, rows.Select(r => r.Entry).ToArray(), previous, thresholds);
            // Only engines that are TURN_OPTIONAL and have rows get here: a refusal would be a bug of this class.
            var result = outcome is UtilityReviewOutcome.Reviewed reviewed
                ? reviewed.Result
                : throw new InvalidOperationException($"utility review of {engine} on {day}: {((UtilityReviewOutcome.Refused)outcome).Detail}");
            var id = await OsOutcomeStore.AppendReviewAsync(tx, day, result, correlation, now, ct);
            return new UtilityDayReview(day, result, id is not null);
        }

        private async Task<int> PreviousStreakAsync(string engine, DateOnly day, int depth, CancellationToken ct)
        {
            if (day == DateOnly.MinValue) return 0;
            var before = day.AddDays(-1);
            if (await OsOutcomeStore.CurrentReviewAsync(tx, before, engine, ct) is { } stored) return stored.Result.FailStreakDays;
            if (depth >= LookBackDays) return 0; // the look-back bound: older history is not reconstructed in one run
            var rows = await OsOutcomeStore.ReadDayAsync(tx, before, engine, ct);
            if (rows.Count == 0) return 0;       // no rows, no review: consecutive days are broken, the streak restarts
            var review = await ReviewAsync(engine, before, rows, depth + 1, ct);
            Backfilled.Add(review);
            return review.Result.FailStreakDays;
        }
    }
}
