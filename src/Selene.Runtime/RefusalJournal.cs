using System.Globalization;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime;

/// <summary>What an authenticated caller asked for and why it was refused, as the edge saw it.</summary>
/// <param name="Request">The method and path (e.g. <c>POST /v1/simulations/TENANT_COMPANY_UPSERT_COMMIT</c>).</param>
/// <param name="Status">The HTTP status of the answer.</param>
/// <param name="IdempotencyKey">The request's key, when it sent a well-formed one.</param>
public sealed record Refusal(ReasonCode Reason, string Detail, string Request, int Status, string? IdempotencyKey);

/// <summary>
/// Every refusal leaves a trace (docs/decisions.md): a request of an authenticated caller that is refused without
/// any other record — invalid input, idempotency misuse, a foreign tenant, a turn that is not a turn — is journaled
/// as exactly one REQUEST_REFUSED entry in the caller's tenant, in a transaction of its own and with no other
/// effect. Its values come from the caller, so they are cut to the journal's bounds (<see cref="JournalPayload.Create(IEnumerable{KeyValuePair{string, string}})"/>);
/// building the entry never throws.
/// </summary>
public sealed class RefusalJournal(SeleneDatabase db, TimeProvider clock)
{
    public async Task RecordAsync(TenantId tenant, UserId actor, CorrelationId correlation, TurnId turn, Refusal refusal, CancellationToken ct = default)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        var payload = JournalPayload.Create(
            ("request", refusal.Request),
            ("http_status", refusal.Status.ToString(CultureInfo.InvariantCulture)),
            ("detail", refusal.Detail));
        var key = IdRules.IsValidIdempotencyKey(refusal.IdempotencyKey) ? refusal.IdempotencyKey : null;
        var entry = new JournalEntry(correlation, turn, refusal.Reason.Engine, JournalEventTypes.RequestRefused, refusal.Reason, payload, actor.Value, key);
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        await JournalStore.AppendAsync(tx, [entry], now.Value, ct);
        await tx.CommitAsync(ct);
    }
}
