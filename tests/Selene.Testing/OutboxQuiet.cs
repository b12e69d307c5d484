using Microsoft.Extensions.Time.Testing;
using Selene.Contracts;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Testing;

/// <summary>
/// Brings a tenant's outbox to rest on a fake clock: drain what is due, move the clock to the due time of the next row
/// still waiting (PENDING, SENT under a lease, FAILED awaiting its retry), and again, until none waits. Background work is
/// tested this way, never with sleeps. A dead-lettered row fails the run unless the scenario expects one.
/// </summary>
public static class OutboxQuiet
{
    public static async Task RunAsync(SeleneDatabase db, string tenant, FakeTimeProvider clock, Func<Task> drain,
        int maxSteps = 50, bool deadLettersAllowed = false)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            await drain();
            var rows = await RowsAsync(db, tenant);
            if (!deadLettersAllowed && rows.FirstOrDefault(r => r.Status == OutboxStatus.DeadLetter) is { } dead)
                throw new InvalidOperationException($"outbox row {dead.OutboxId} ({dead.EventType}) was dead-lettered: {dead.LastErrorReasonCode}");
            var waiting = rows.Where(r => r.Status is OutboxStatus.Pending or OutboxStatus.Sent or OutboxStatus.Failed).ToList();
            if (waiting.Count == 0) return;
            var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow()).Value;
            var next = waiting.MinBy(r => r.NextAttemptAt)!;
            // A row due now after a drain means the worker did not take it: that is a bug to see, not a step to wait out.
            if (next.NextAttemptAt <= now)
                throw new InvalidOperationException($"outbox row {next.OutboxId} ({next.EventType}) is {next.Status} and due after a drain");
            clock.Advance(TimeSpan.FromTicks((next.NextAttemptAt - now + 99) / 100));
        }
        throw new InvalidOperationException($"the outbox of {tenant} did not come to rest in {maxSteps} steps");
    }

    /// <summary>Every outbox row of the tenant, oldest first (page by page).</summary>
    private static async Task<List<OutboxRow>> RowsAsync(SeleneDatabase db, string tenant)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant);
        var rows = new List<OutboxRow>();
        for (long after = 0; ;)
        {
            var page = await OutboxStore.ListAsync(tx, default, afterId: after);
            rows.AddRange(page);
            if (page.Count < 1000) return rows;
            after = page[^1].OutboxId;
        }
    }
}
