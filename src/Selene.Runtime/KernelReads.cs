using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime;

/// <summary>
/// The reads the HTTP edge needs that belong to no engine: who an API key is, whether the database serves, and the
/// journal of one correlation id. They live here so that Selene.Server reaches storage only through Selene.Runtime
/// (issue 9 item 4); the journal is a <see cref="ReadRoute"/>, mapped by the server like every engine's read route.
/// </summary>
public static class KernelReads
{
    /// <summary>The most journal entries one correlation id answers.</summary>
    public const int JournalLimit = 1000;

    /// <summary>Completes when the database answers a round trip; throws what the database throws otherwise.</summary>
    public static Task CheckDatabaseAsync(SeleneDatabase db, CancellationToken ct) => db.PingAsync(ct);

    /// <summary>GET /v1/journal?correlation_id=N: the tenant's journal entries of one correlation id, in chain order.</summary>
    public static ReadRoute Journal { get; } = new("GetJournal", "/journal", "Journal entries of one correlation id, in chain order.", NotFound: false, JournalAsync,
        QueryParameters: ["correlation_id"]);

    private static async Task<ReadResult> JournalAsync(ReadRequest request, CancellationToken ct)
    {
        if (!CorrelationId.TryParse(request.QueryValues.GetValueOrDefault("correlation_id") ?? "", out var correlation))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "correlation_id is required: a decimal number between 1 and 2^128-1");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var records = await JournalStore.ByCorrelationAsync(tx, correlation, JournalLimit, ct);
        var entries = new JsonArray(records.Select(r => Entry(r, JsonNode.Parse(r.PayloadJson)!.AsObject())).ToArray());
        return new ReadResult.Ok(new JsonObject { ["correlation_id"] = correlation.ToString(), ["entries"] = entries });
    }

    /// <summary>
    /// One entry as the journal read shows it. A refusal's failure/policy split (<see cref="RefusalClassification"/>) is
    /// lifted beside <c>reason_code</c> from the payload it is recorded in; entries written before the split was
    /// recorded (and successes) show null for both.
    /// </summary>
    private static JsonNode Entry(JournalRecord r, JsonObject payload) => new JsonObject
    {
        ["seq"] = r.Seq,
        ["correlation_id"] = r.CorrelationId,
        ["turn_id"] = r.TurnId,
        ["engine"] = r.Engine,
        ["event_type"] = r.EventType,
        ["reason_code"] = r.ReasonCode,
        ["reason_code_id"] = r.ReasonCodeId,
        [RefusalClassification.FailureField] = payload[RefusalClassification.FailureField]?.GetValue<string>(),
        [RefusalClassification.PolicyField] = payload[RefusalClassification.PolicyField]?.GetValue<string>(),
        ["payload"] = payload,
        ["actor_user_id"] = r.ActorUserId,
        ["idempotency_key"] = r.IdempotencyKey,
        ["created_at"] = new UnixNanos(r.CreatedAt).ToString(),
        ["prev_hash"] = r.PrevHash,
        ["hash"] = r.Hash,
    };
}
