using System.Globalization;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime;

namespace Selene.Cli.Chaos;

/// <summary>
/// The invariants a chaos run checks after the fault (docs/reliability.md). Each reads the database as it is (owner role,
/// tenant by tenant under row-level security) and returns a <see cref="Check"/> with its figures; none writes anything.
/// The journal chain and the projections are checked by the same code as <c>selene audit verify</c> and <c>selene rebuild</c>
/// (<see cref="Maintenance"/>).
/// </summary>
public static class ChaosInvariants
{
    /// <summary>What one tenant's database holds for the checks: its completed idempotency keys and its ledger rows that carry a key.</summary>
    public sealed record TenantFacts(string TenantId, IReadOnlyDictionary<(string Scope, string Key), int> StoredResults,
        IReadOnlyList<LedgerEffect> LedgerRows);

    /// <summary>Reads the facts of <paramref name="tenants"/>, each in one REPEATABLE READ snapshot.</summary>
    public static async Task<IReadOnlyList<TenantFacts>> ReadFactsAsync(SeleneDatabase db, IEnumerable<string> tenants, CancellationToken ct)
    {
        var facts = new List<TenantFacts>();
        foreach (var tenant in tenants)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.Owner, tenant, ct, System.Data.IsolationLevel.RepeatableRead);
            facts.Add(new TenantFacts(tenant, await IdempotencyStore.CompletedAsync(tx, ct), await LedgerEffects.ListAsync(tx, ct)));
        }
        return facts;
    }

    /// <summary>
    /// No acknowledged execution lost: every 2xx the load recorded has its stored result (the idempotency key, completed) and at
    /// least one ledger row carrying its key in its tenant.
    /// </summary>
    public static Check AcknowledgedKept(IReadOnlyList<Acknowledged> acknowledged, IReadOnlyList<TenantFacts> facts)
    {
        var byTenant = facts.ToDictionary(f => f.TenantId, StringComparer.Ordinal);
        var keysWithEffects = facts.ToDictionary(f => f.TenantId, f => f.LedgerRows.Select(r => r.IdempotencyKey).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var lost = new List<string>();
        foreach (var a in acknowledged.DistinctBy(a => (a.TenantId, a.SimulationId, a.IdempotencyKey)))
        {
            var why = !byTenant.TryGetValue(a.TenantId, out var tenant) ? "its tenant is gone"
                : !tenant.StoredResults.ContainsKey(("sim:" + a.SimulationId, a.IdempotencyKey)) ? "no stored result"
                : !keysWithEffects[a.TenantId].Contains(a.IdempotencyKey) ? "no ledger row"
                : null;
            if (why is not null) lost.Add($"{a.SimulationId} {a.IdempotencyKey}: {why}");
        }
        var distinct = acknowledged.Select(a => (a.TenantId, a.SimulationId, a.IdempotencyKey)).Distinct().Count();
        return new Check("no acknowledged execution lost", lost.Count == 0,
            $"{distinct} acknowledged key(s), {distinct - lost.Count} with their stored result and ledger effect, {lost.Count} lost" +
            (lost.Count > 0 ? $" (first: {lost[0]})" : ""), ReasonCodes.ChaosAcknowledgedLost);
    }

    /// <summary>
    /// No effect twice: the ledger rows carrying one idempotency key (a request's, or a handoff's) were all written by one execution —
    /// one execution reads its time once, and every row it writes carries it (docs/decisions.md, "The engine platform").
    /// </summary>
    public static Check NoEffectTwice(IReadOnlyList<TenantFacts> facts)
    {
        var keys = 0;
        var rows = 0;
        var twice = new List<string>();
        foreach (var tenant in facts)
        foreach (var key in tenant.LedgerRows.GroupBy(r => r.IdempotencyKey, StringComparer.Ordinal))
        {
            keys++;
            rows += key.Count();
            var executions = key.Select(r => r.CreatedAt).Distinct().Count();
            if (executions > 1)
                twice.Add($"{tenant.TenantId} {key.Key}: {executions} executions ({string.Join(", ", key.Select(r => $"{r.Table}#{r.EventId.ToString(CultureInfo.InvariantCulture)}"))})");
        }
        return new Check("no effect twice", twice.Count == 0,
            $"{keys} idempotency key(s) with {rows} ledger row(s), {twice.Count} with the effects of more than one execution" +
            (twice.Count > 0 ? $" (first: {twice[0]})" : ""), ReasonCodes.ChaosEffectDuplicated);
    }

    /// <summary>
    /// Every idempotency key answered identically: each acknowledged request sent again after the run is answered with the same
    /// status and bytes, marked <c>Idempotent-Replayed</c>; every copy of a duplicate storm answered 2xx with the same bytes.
    /// </summary>
    public static Check SameAnswer(IReadOnlyList<(Acknowledged Original, ChaosLoad.Answer? Again)> resent, IReadOnlyList<ChaosLoad.StormAnswers> storms)
    {
        var differ = new List<string>();
        foreach (var (original, again) in resent)
        {
            var why = again is null ? "not answered again"
                : again.Attempt.Outcome != AttemptOutcome.Success ? "answered " + again.Attempt.Describe()
                : again.Attempt.Status != original.Status ? $"status {again.Attempt.Status} after {original.Status}"
                : !again.Bytes!.AsSpan().SequenceEqual(original.Answer) ? $"other bytes ({again.Bytes!.Length} after {original.Answer.Length}, first difference at byte {FirstDifference(original.Answer, again.Bytes!)})"
                : !again.Replayed ? "not marked Idempotent-Replayed (executed again)"
                : null;
            if (why is not null) differ.Add($"{original.SimulationId} {original.IdempotencyKey}: {why}");
        }
        var copies = 0;
        foreach (var storm in storms)
        {
            copies += storm.Copies.Count;
            var first = storm.Copies.FirstOrDefault(c => c.Attempt.Outcome == AttemptOutcome.Success);
            foreach (var copy in storm.Copies)
            {
                var why = copy.Attempt.Outcome != AttemptOutcome.Success ? "a copy answered " + copy.Attempt.Describe()
                    : !copy.Bytes!.AsSpan().SequenceEqual(first!.Bytes) ? $"copies answered other bytes (first difference at byte {FirstDifference(first.Bytes!, copy.Bytes!)})"
                    : null;
                if (why is null) continue;
                differ.Add($"storm {storm.Request.IdempotencyKey}: {why}");
                break;
            }
        }
        return new Check("every key answered identically", differ.Count == 0 && resent.Count > 0,
            $"{resent.Count} acknowledged request(s) sent again: {resent.Count - differ.Count(d => !d.StartsWith("storm ", StringComparison.Ordinal))} identical and replayed" +
            (storms.Count > 0 ? $"; {storms.Count} duplicate storm(s), {copies} copies" : "") +
            (differ.Count > 0 ? $"; {differ.Count} differ (first: {differ[0]})" : ""), ReasonCodes.ChaosReplayDiffers);
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
            if (a[i] != b[i]) return i;
        return n;
    }

    /// <summary>The journal chain verifies: <see cref="Maintenance.VerifyJournalAsync"/> over every tenant, as <c>selene audit verify</c>.</summary>
    public static async Task<Check> JournalVerifiesAsync(SeleneDatabase db, CancellationToken ct)
    {
        var reports = await new Maintenance(db, TimeProvider.System).VerifyJournalAsync(null, ct);
        var broken = reports.Where(r => !r.Intact).ToList();
        return new Check("journal chain verifies", broken.Count == 0,
            $"{reports.Count} tenant chain(s), {reports.Sum(r => r.Entries)} entries, {reports.Sum(r => r.LedgerRows)} ledger rows bound; " +
            (broken.Count == 0 ? $"intact ({ReasonCodes.JournalChainVerified.Name})"
                : $"{broken.Count} broken (first: tenant {broken[0].TenantId} at seq {broken[0].Break!.Seq}: {broken[0].Break!.Why})"),
            ReasonCodes.JournalChainBroken);
    }

    /// <summary>Every projection rebuilds identical: <see cref="Maintenance.RebuildAsync"/> compare-only, as <c>selene rebuild</c>.</summary>
    public static async Task<Check> ProjectionsRebuildAsync(SeleneDatabase db, CancellationToken ct)
    {
        var reports = await new Maintenance(db, TimeProvider.System).RebuildAsync(null, null, apply: false, ct);
        var differ = reports.Where(r => !r.Identical).ToList();
        return new Check("every projection rebuilds identical", differ.Count == 0,
            $"{reports.Count} projection(s) rebuilt from {reports.Sum(r => r.LedgerEvents)} ledger event(s), {reports.Sum(r => r.Rows)} row(s); " +
            (differ.Count == 0 ? "all identical to the live ones"
                : $"{differ.Count} differ (first: {differ[0].Store} of tenant {differ[0].TenantId} in {string.Join(", ", differ[0].Differences.Take(3))})"),
            ReasonCodes.StorageProjectionMismatch);
    }

    /// <summary>
    /// The outbox drains: waits (bounded by <paramref name="bound"/>) until no handoff of <paramref name="tenants"/> is due, in
    /// flight (SENT), failed or dead-lettered. A PENDING row never attempted and due later (a timed handoff, such as a reminder) is
    /// scheduled, not stuck; a DEAD_LETTER row fails at once (nothing will move it).
    /// </summary>
    public static async Task<Check> OutboxDrainsAsync(SeleneDatabase db, IReadOnlyList<string> tenants, TimeSpan bound, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            var now = UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow).Value;
            var rows = new List<(string Status, int Attempts, long NextAttemptAt, string? LastError)>();
            foreach (var tenant in tenants)
            {
                await using var tx = await TenantTransaction.BeginAsync(db.Owner, tenant, ct);
                for (long after = 0; ;)
                {
                    var page = await OutboxStore.ListAsync(tx, ct, afterId: after);
                    rows.AddRange(page.Select(r => (r.Status, r.AttemptCount, r.NextAttemptAt, r.LastErrorReasonCode)));
                    if (page.Count < 1000) break;
                    after = page[^1].OutboxId;
                }
            }
            var scheduled = rows.Count(r => r.Status == "PENDING" && r.Attempts == 0 && r.NextAttemptAt > now);
            var confirmed = rows.Count(r => r.Status == "CONFIRMED");
            var waiting = rows.Where(r => r.Status != "CONFIRMED" && !(r.Status == "PENDING" && r.Attempts == 0 && r.NextAttemptAt > now)).ToList();
            var dead = waiting.Where(r => r.Status == "DEAD_LETTER").ToList();
            var waited = DateTime.UtcNow - started;
            if (waiting.Count == 0)
                return new Check("the outbox drains", true,
                    $"{rows.Count} handoff(s): {confirmed} confirmed, {scheduled} scheduled for later; drained {ChaosSlo.Seconds(waited.TotalSeconds)} after the load stopped",
                    ReasonCodes.ChaosOutboxNotDrained);
            if (dead.Count > 0 || waited > bound)
                return new Check("the outbox drains", false,
                    $"{rows.Count} handoff(s), {confirmed} confirmed; after {ChaosSlo.Seconds(waited.TotalSeconds)} still " +
                    string.Join(", ", waiting.GroupBy(r => r.Status + (r.LastError is null ? "" : " " + r.LastError)).Select(g => $"{g.Key} × {g.Count()}")),
                    ReasonCodes.ChaosOutboxNotDrained);
            await Task.Delay(250, ct);
        }
    }
}
