using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime;

/// <summary>One request to run a simulation, with identity already established by the edge.</summary>
public sealed record ExecutionRequest(
    TenantId Tenant,
    UserId Actor,
    string SimulationId,
    string? IdempotencyKey,
    JsonElement Body,
    CorrelationId Correlation,
    TurnId Turn);

/// <summary>How an execution ended.</summary>
public enum ExecutionOutcome
{
    /// <summary>The simulation ran and committed now.</summary>
    Executed,
    /// <summary>The same request ran before with this key; its stored result is returned and nothing changed.</summary>
    Replayed,
    /// <summary>The engine refused; the refusal is journaled and nothing else changed.</summary>
    Refused,
    /// <summary>The request was not acceptable (input, key, tenant); nothing was stored.</summary>
    Invalid,
}

/// <summary>The executor's answer. <see cref="Body"/> is the canonical JSON result for Executed and Replayed.</summary>
/// <param name="Problem">For refusals: what the caller is told beyond the reason code (e.g. the gate's answer and the escalation case).</param>
public sealed record ExecutionResult(ExecutionOutcome Outcome, ReasonCode Reason, string? Detail, byte[]? Body, CorrelationId Correlation,
    JsonObject? Problem = null)
{
    public bool Succeeded => Outcome is ExecutionOutcome.Executed or ExecutionOutcome.Replayed;
}

/// <summary>
/// The executor (ARCHITECTURE.md §3): ONE database transaction per execution. It claims the idempotency key
/// first (INSERT … ON CONFLICT), so a retry of a committed request returns the stored result before any
/// transition is validated; then it runs the ACCESS gate for the acting user and the simulation's
/// requested_action at its declared mode (<see cref="Access.ExecutorGate"/>): anything but ALLOW is refused
/// (DENY ⇒ ACCESS_SCOPE_VIOLATION, ESCALATE ⇒ ACCESS_AP_REQUIRED, opening an escalation case when an approver
/// or board can resolve it); then the handler locks and loads state, runs the pure decider with <c>now</c>,
/// and writes ledger and projection; then the executor appends the journal, enqueues the outbox, stores the
/// result under the key, and commits. A refusal rolls all of that back and is journaled on its own.
/// </summary>
public sealed class SimulationExecutor(SeleneDatabase db, SimulationRegistry registry, TimeProvider clock)
{
    private const int MaxAttempts = 3;

    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request, CancellationToken ct = default)
    {
        if (!registry.TryGet(request.SimulationId, out var handler))
            return Invalid(request, ReasonCodes.SimulationUnknown, $"no simulation '{IdRules.Shorten(request.SimulationId)}' is registered");
        if (handler.Record.Status != SimulationStatus.Active)
            return Invalid(request, ReasonCodes.SimulationNotActive, $"simulation {handler.Record.SimulationId} is not ACTIVE");
        if (request.IdempotencyKey is null)
            return Invalid(request, ReasonCodes.IdempotencyKeyMissing, "an Idempotency-Key is required for every simulation");
        if (!IdRules.IsValidIdempotencyKey(request.IdempotencyKey))
            return Invalid(request, ReasonCodes.IdempotencyKeyInvalid, "an Idempotency-Key is 1..128 printable ASCII characters without spaces");
        if (request.Body.ValueKind != JsonValueKind.Object)
            return Invalid(request, ReasonCodes.InputSchemaInvalid, "the body must be a JSON object");
        if (!StrictJson.HasWellFormedText(request.Body))
            return Invalid(request, ReasonCodes.InputSchemaInvalid, "the body holds text that is not well-formed Unicode");

        // The tenant comes from the key; a body that names another tenant is refused, one that names the same is
        // accepted and the member dropped (the body is rebuilt only then).
        var body = request.Body;
        using var stripped = request.Body.TryGetProperty("tenant_id", out var bodyTenant) ? WithoutTenant(request.Body) : null;
        if (stripped is not null)
        {
            if (bodyTenant.ValueKind != JsonValueKind.String)
                return Invalid(request, ReasonCodes.InputSchemaInvalid, "field 'tenant_id' must be a string");
            if (!string.Equals(bodyTenant.GetString(), request.Tenant.Value, StringComparison.Ordinal))
                return Invalid(request, ReasonCodes.TenantScopeViolation, "tenant_id does not match the tenant of the API key");
            body = stripped.RootElement;
        }
        if (!handler.TryPrepare(body, out var input, out var error))
            return Invalid(request, error!.Reason, error.Detail);

        var key = new IdempotencyKey(request.IdempotencyKey);
        var requestHash = Hashing.Sha256Hex(CanonicalJson.Serialize(new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["simulation_id"] = handler.Record.SimulationId,
            ["actor_user_id"] = request.Actor.Value,
            ["body"] = body,
        }));

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ExecuteOnceAsync(request, handler, input!, key, requestHash, ct);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected && attempt < MaxAttempts)
            {
                // A serialization failure or deadlock rolled everything back: the same request may run again.
            }
        }
    }

    private async Task<ExecutionResult> ExecuteOnceAsync(ExecutionRequest request, ISimulationHandler handler, object input,
        IdempotencyKey key, string requestHash, CancellationToken ct)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        var scope = "sim:" + handler.Record.SimulationId;
        var context = new ExecutionContext(request.Tenant, request.Actor, request.Correlation, request.Turn, key, now);

        HandlerOutcome.Rejected rejected;
        Access.GateVerdict verdict;
        await using (var tx = await TenantTransaction.BeginAsync(db.App, request.Tenant.Value, ct))
        {
            var claim = await IdempotencyStore.ClaimAsync(tx, scope, key.Value, requestHash, now.Value, ct);
            if (claim is IdempotencyClaim.Existing existing)
            {
                if (!string.Equals(existing.RequestHash, requestHash, StringComparison.Ordinal))
                    return new ExecutionResult(ExecutionOutcome.Invalid, ReasonCodes.IdempotencyKeyReused,
                        "this Idempotency-Key was already used for a different request", null, request.Correlation);
                var stored = Encoding.UTF8.GetBytes(existing.Body);
                return new ExecutionResult(ExecutionOutcome.Replayed, ReasonCodeOf(stored), null, stored, request.Correlation);
            }

            var decided = await Access.ExecutorGate.DecideAsync(tx, handler.Record, context, requestHash, ct);
            if (decided is null)
                return new ExecutionResult(ExecutionOutcome.Invalid, ReasonCodes.IdempotencyKeyReused,
                    "this Idempotency-Key was already used for a different request (its escalation case is bound to that request)", null, request.Correlation);
            verdict = decided;
            var outcome = verdict.Allowed
                ? await handler.ExecuteAsync(tx, input, context, ct)
                : new HandlerOutcome.Rejected(verdict.RefusalReason, Access.ExecutorGate.RefusalDetail(verdict, handler.Record),
                    Access.ExecutorGate.Journal(verdict, verdict.RefusalReason, handler.Record.SimulationId));
            if (outcome is HandlerOutcome.Accepted accepted)
            {
                var entries = accepted.Journal.Prepend(Access.ExecutorGate.Journal(verdict, ReasonCodes.AccessAllowed, handler.Record.SimulationId));
                var journal = await JournalStore.AppendAsync(tx, entries.Select(d => ToEntry(d, context)).ToArray(), now.Value, ct);
                await OutboxStore.EnqueueAsync(tx, request.Correlation, accepted.Outbox, now.Value, ct);

                var result = accepted.Result;
                result["simulation_id"] = handler.Record.SimulationId;
                result["reason_code"] = accepted.Reason.Name;
                result["reason_code_id"] = accepted.Reason.Id;
                result["correlation_id"] = request.Correlation.ToString();
                result["turn_id"] = request.Turn.Value;
                result["journal_seq"] = new JsonArray(journal.Select(j => (JsonNode)j.Seq).ToArray());
                var bytes = CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(result.ToJsonString()));
                await IdempotencyStore.CompleteAsync(tx, scope, key.Value, 200, Encoding.UTF8.GetString(bytes), accepted.Reason.Name, now.Value, ct);
                await tx.CommitAsync(ct);
                return new ExecutionResult(ExecutionOutcome.Executed, accepted.Reason, null, bytes, request.Correlation);
            }
            rejected = (HandlerOutcome.Rejected)outcome;
            // Leaving the block disposes the transaction uncommitted: the claim and every write roll back.
        }

        // The refusal is journaled on its own; a refusal by the gate that an approver can resolve opens (once) the
        // escalation case of this request in the same transaction.
        await using (var refusal = await TenantTransaction.BeginAsync(db.App, request.Tenant.Value, ct))
        {
            // An engine refusal after the gate allowed keeps the gate's decision on record too.
            var entries = verdict.Allowed
                ? new List<JournalDraft> { Access.ExecutorGate.Journal(verdict, ReasonCodes.AccessAllowed, handler.Record.SimulationId), rejected.Journal }
                : new List<JournalDraft> { rejected.Journal };
            if (!verdict.Allowed && verdict.OpensCase &&
                await Access.ExecutorGate.OpenCaseAsync(refusal, verdict, handler.Record.SimulationId, context, requestHash, ct) is { } opened)
                entries.Add(opened);
            await JournalStore.AppendAsync(refusal, entries.Select(e => ToEntry(e, context)).ToArray(), now.Value, ct);
            await refusal.CommitAsync(ct);
        }
        return new ExecutionResult(ExecutionOutcome.Refused, rejected.Reason, rejected.Detail, null, request.Correlation,
            verdict.Allowed ? null : Access.ExecutorGate.Problem(verdict));
    }

    private static JsonDocument WithoutTenant(JsonElement body)
    {
        var copy = JsonObject.Create(body)!;
        copy.Remove("tenant_id");
        return JsonDocument.Parse(copy.ToJsonString());
    }

    private static JournalEntry ToEntry(JournalDraft d, ExecutionContext c) =>
        new(c.Correlation, c.Turn, d.Engine, d.EventType, d.Reason, d.Payload, c.Actor.Value, c.IdempotencyKey.Value);

    private static ReasonCode ReasonCodeOf(byte[] storedBody)
    {
        using var doc = JsonDocument.Parse(storedBody);
        var name = doc.RootElement.GetProperty("reason_code").GetString()!;
        return ReasonCodes.TryGet(name, out var code) ? code : throw new InvalidOperationException($"stored result carries unregistered reason code {name}");
    }

    private static ExecutionResult Invalid(ExecutionRequest request, ReasonCode reason, string detail) =>
        new(ExecutionOutcome.Invalid, reason, detail, null, request.Correlation);

}
