using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Delivery;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Delivery;

/// <summary>DELIVERY_SEND_COMMIT body (reference §9 send request; the handoff route builds it from BCAST's payload).</summary>
internal sealed record SendInput(string MessageId, string RecipientId, string Channel, string PayloadRef, string Classification, string IdempotencyKey,
    string Source, string DeliveryRequestRef, string? ContentText = null, string? SimulationContext = null);
/// <summary>DELIVERY_PROOF_COMMIT body (the stage builds it from the provider's answer).</summary>
internal sealed record ProofInput(string DeliveryAttemptId, string Outcome, string ProviderRef, string? ProviderMessageRef = null, string? DeliveryProofRef = null,
    string? FailureReason = null);
/// <summary>DELIVERY_CANCEL_COMMIT and DELIVERY_STATUS_DRAFT body.</summary>
internal sealed record AttemptInput(string DeliveryAttemptId);
/// <summary>DELIVERY_PROVIDER_HEALTH_CHECK_DRAFT body.</summary>
internal sealed record HealthInput(string ProviderRef, string? RegionHint = null);
/// <summary>DELIVERY_CHANNEL_SETUP_COMMIT body.</summary>
internal sealed record SetupInput(string UserId, string SetupSource, Dictionary<string, string>? Bindings = null, bool? SmsAppSetupComplete = null,
    bool? SmsReadPermissionOk = null, bool? SmsSendPermissionOk = null);

/// <summary>
/// PH1.DELIVERY on the engine platform (issue 12 item 2): delivery attempts and users' channel setups (two store pairs),
/// the simulations of reference §9 plus the channel setup and the handoff-only proof, two handoff routes and the reads.
/// BCAST's <c>BCAST_DELIVERY_SEND_REQUESTED</c> runs DELIVERY_SEND_COMMIT, which records the attempt PENDING (no
/// provider I/O) and makes the attempt's own send due (<c>DELIVERY_ATTEMPT_DUE</c>, keyed by the attempt id). That
/// row's stage calls the channel's provider outside any transaction, with the attempt id as the provider's
/// idempotency id, and returns DELIVERY_PROOF_COMMIT (SENT with the proof, or FAILED) — or, for a retryable failure
/// while attempts remain, a retryable refusal, so the outbox tries the same row (the same attempt id) again. A settled
/// attempt of BCAST's is handed back as <c>DELIVERY_ATTEMPT_SETTLED_BCAST</c>.
/// </summary>
public static class DeliveryModule
{
    public const string Send = "DELIVERY_SEND_COMMIT";
    public const string Proof = "DELIVERY_PROOF_COMMIT";
    public const string Cancel = "DELIVERY_CANCEL_COMMIT";
    public const string Status = "DELIVERY_STATUS_DRAFT";
    public const string HealthCheck = "DELIVERY_PROVIDER_HEALTH_CHECK_DRAFT";
    public const string ChannelSetupCommit = "DELIVERY_CHANNEL_SETUP_COMMIT";
    private const string Scope = "tenant+simulation_id+key";

    /// <summary>Attempts: <c>delivery_attempt_ledger</c> / <c>delivery_attempt_current</c>, stream id = delivery attempt id.</summary>
    public static Aggregate<DeliveryAttempt, DeliveryAttemptEvent, DeliveryEvent> Attempts { get; } = new(
        DeliveryReasons.EngineId, storeName: "delivery_attempt", streamField: "delivery_attempt_id", viewName: "delivery",
        streamOf: e => e.DeliveryAttemptId,
        eventTypeOf: e => WireNames.Of(e.Action),
        evolve: DeliveryDecider.Evolve,
        statusOf: s => WireNames.Of(s.Status),
        view: View,
        journalFields: e => [("delivery_reason_code", e.ReasonCode)]);

    /// <summary>Channel setups: <c>delivery_channel_setup_ledger</c> / <c>_current</c>, stream id = user id (§11.1 user_channel_setup).</summary>
    public static Aggregate<ChannelSetup, ChannelSetupEvent, DeliveryEvent> Setups { get; } = new(
        DeliveryReasons.EngineId, storeName: "delivery_channel_setup", streamField: "user_id", viewName: "channel_setup",
        streamOf: e => e.UserId,
        eventTypeOf: _ => "CHANNEL_SETUP_SET",
        evolve: (state, e, _) => DeliveryDecider.Evolve(state, e),
        statusOf: s => WireNames.Of(s.State),
        view: SetupView);

    /// <summary>
    /// A send is tried five times, 30 seconds apart, within a day: a retryable provider failure before the last attempt
    /// is retried; at the last attempt it is recorded FAILED.
    /// </summary>
    /// <remarks>Declared before <see cref="Module"/>: static members initialize in declaration order.</remarks>
    public static HandoffPolicy AttemptPolicy { get; } = new(5, TimeSpan.FromSeconds(30), TimeSpan.FromDays(1));

    private static readonly ReasonCode[] AttemptRefusals =
    [
        DeliveryReasons.DeliveryInputSchemaInvalid, DeliveryReasons.DeliveryAttemptNotFound, DeliveryReasons.DeliveryAttemptStateInvalid,
    ];

    public static EngineModule Module { get; } = new(
        "delivery", DeliveryReasons.EngineId,
        [
            Simulation<SendInput, ChannelSetup?>(Record(Send, SimulationType.Commit, "DELIVERY_SEND", AccessMode.W,
                    [DeliveryReasons.DeliveryOkSend, DeliveryReasons.DeliveryOkFailureRecorded, DeliveryReasons.DeliveryChannelUnavailable,
                        DeliveryReasons.DeliverySmsSetupRequired, DeliveryReasons.DeliverySimulationContextMissing, .. AttemptRefusals], handoffOnly: true),
                i => new SendDelivery(i.MessageId, i.RecipientId, i.Channel, i.PayloadRef, i.ContentText ?? "", i.Classification, i.SimulationContext,
                    i.IdempotencyKey, i.Source, i.DeliveryRequestRef),
                (c, ctx) => AttemptIdOf((SendDelivery)c, ctx.Tenant.Value),
                (state, c, setup, ctx) => DeliveryDecider.DecideSend(state, (SendDelivery)c, setup, Context(ctx)),
                readFacts: (tx, c, _, _, ct) => Setups.GetAsync(tx, ((SendDelivery)c).RecipientId, ct)),
            Simulation<ProofInput, bool>(Record(Proof, SimulationType.Commit, "DELIVERY_SEND", AccessMode.W,
                    [DeliveryReasons.DeliveryOkProof, DeliveryReasons.DeliveryOkFailureRecorded, DeliveryReasons.DeliveryProviderSendFailed,
                        DeliveryReasons.DeliveryProviderRejected, .. AttemptRefusals], handoffOnly: true),
                i => new RecordDeliveryProof(i.DeliveryAttemptId, i.Outcome, i.ProviderRef, i.ProviderMessageRef, i.DeliveryProofRef, i.FailureReason),
                (c, _) => ((RecordDeliveryProof)c).DeliveryAttemptId,
                (state, c, _, ctx) => DeliveryDecider.DecideProof(state, (RecordDeliveryProof)c, Context(ctx))),
            Simulation<AttemptInput, bool>(Record(Cancel, SimulationType.Commit, "DELIVERY_CANCEL", AccessMode.W,
                    [DeliveryReasons.DeliveryOkCancel, DeliveryReasons.DeliveryCancelNotSupported, .. AttemptRefusals]),
                i => new CancelDelivery(i.DeliveryAttemptId),
                (c, _) => ((CancelDelivery)c).DeliveryAttemptId,
                (state, c, _, ctx) => DeliveryDecider.DecideCancel(state, (CancelDelivery)c, Context(ctx))),
            new EngineSimulation<SetupInput, DeliveryCommand, ChannelSetup, DeliveryEvent, bool>(
                Record(ChannelSetupCommit, SimulationType.Commit, "DELIVERY_CHANNEL_SETUP", AccessMode.W,
                    [DeliveryReasons.DeliveryOkChannelSetup, DeliveryReasons.DeliveryInputSchemaInvalid]),
                Setups,
                i => new SetupChannels(i.UserId, i.Bindings, i.SmsAppSetupComplete, i.SmsReadPermissionOk, i.SmsSendPermissionOk, i.SetupSource),
                validate: Invalid,
                targetOf: (c, _) => ((SetupChannels)c).UserId,
                decide: (state, c, _, ctx) => DeliveryDecider.DecideSetup(state, (SetupChannels)c, Context(ctx))),
            new DelegateHandler<AttemptInput, AttemptInput>(
                Record(Status, SimulationType.Draft, "DELIVERY_STATUS", AccessMode.R,
                    [DeliveryReasons.DeliveryOkStatus, DeliveryReasons.DeliveryAttemptNotFound, DeliveryReasons.DeliveryInputSchemaInvalid]),
                i => DeliveryDecider.IsAttemptId(i.DeliveryAttemptId) ? (i, null)
                    : (null, new JsonInputError(DeliveryReasons.DeliveryInputSchemaInvalid, "delivery_attempt_id must look like delivery_<16 hex>")),
                StatusAsync),
            new DelegateHandler<HealthInput, HealthInput>(
                Record(HealthCheck, SimulationType.Draft, "DELIVERY_STATUS", AccessMode.R,
                    [DeliveryReasons.DeliveryOkHealth, DeliveryReasons.DeliveryProviderHealthUnavailable, DeliveryReasons.DeliveryInputSchemaInvalid]),
                i => DeliveryDecider.IsRef(i.ProviderRef) && (i.RegionHint is null || DeliveryDecider.IsRef(i.RegionHint)) ? (i, null)
                    : (null, new JsonInputError(DeliveryReasons.DeliveryInputSchemaInvalid, "provider_ref (and region_hint) are 1..128 printable characters")),
                HealthAsync),
        ],
        [Attempts, Setups],
        DeliveryReasons.All,
        [
            new ReadRoute("ListDeliveries", "/deliveries",
                "Delivery attempts in id order; optional broadcast_id, status=PENDING|SENT|FAILED|CANCELED, after, limit (1..500).",
                NotFound: false, ListAsync, QueryParameters: ["broadcast_id", .. ListPage.Parameters]),
            new ReadRoute("GetDelivery", "/deliveries/{delivery_attempt_id}",
                "One delivery attempt: what was sent where, its history (send, proof or failure) and its provider tries.", NotFound: true, GetAsync),
            new ReadRoute("GetChannelSetup", "/delivery-channel-setups/{user_id}", "One user's channel setup: addresses per channel and the SMS setup.",
                NotFound: true, GetSetupAsync),
        ],
        Handoffs:
        [
            new HandoffRoute(DeliveryHandoffs.BcastDeliverySendRequested, Send, SendInputsOfBcast),
            new HandoffRoute(DeliveryHandoffs.AttemptDue, Proof, _ => [], AttemptPolicy, AttemptDueAsync),
        ]);

    private static SimulationRecord Record(string id, SimulationType type, string action, AccessMode mode, IReadOnlyList<ReasonCode> codes, bool handoffOnly = false) =>
        new(id, DeliveryReasons.EngineId, type, SimulationStatus.Active, action, mode, Scope, codes, HandoffOnly: handoffOnly);

    private static EngineSimulation<TInput, DeliveryCommand, DeliveryAttempt, DeliveryEvent, TFacts> Simulation<TInput, TFacts>(SimulationRecord record,
        Func<TInput, DeliveryCommand> toCommand, Func<DeliveryCommand, ExecutionContext, string> targetOf,
        Func<DeliveryAttempt?, DeliveryCommand, TFacts, ExecutionContext, Decision<DeliveryEvent>> decide,
        EngineSimulation<TInput, DeliveryCommand, DeliveryAttempt, DeliveryEvent, TFacts>.ReadFacts? readFacts = null) where TInput : class => new(
        record, Attempts, toCommand, Invalid, targetOf, decide, readFacts);

    private static JsonInputError? Invalid(DeliveryCommand c) => DeliveryDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null;

    private static string AttemptIdOf(SendDelivery s, string tenant) =>
        DeliveryDecider.AttemptId(tenant, s.MessageId, s.RecipientId, WireNames.Parse<DeliveryChannel>(s.Channel), s.IdempotencyKey);

    private static DeliveryContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now.Value);

    /// <summary>
    /// BCAST's send request as DELIVERY_SEND_COMMIT's input: the broadcast is the message, the delivery method maps to
    /// the channel (an unknown one is passed on as it is, so the send refuses it), and delivery_request_ref is the
    /// idempotency key, so each request of BCAST's is one attempt.
    /// </summary>
    private static JsonObject SendInputsOfBcast(JsonObject payload)
    {
        string Field(string name) => payload[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var method = Field("delivery_method");
        return new JsonObject
        {
            ["message_id"] = Field("broadcast_id"),
            ["recipient_id"] = Field("recipient_id"),
            ["channel"] = DeliveryMapping.ChannelOfBcastMethod(method) is { } channel ? WireNames.Of(channel) : method,
            ["payload_ref"] = Field("content_payload_ref"),
            ["content_text"] = Field("content_text"),
            ["classification"] = Field("classification"),
            ["simulation_context"] = Field("simulation_context"),
            ["idempotency_key"] = Field("delivery_request_ref"),
            ["source"] = DeliveryHandoffs.SourceBcast,
            ["delivery_request_ref"] = Field("delivery_request_ref"),
        };
    }

    /// <summary>
    /// The attempt's send: reads the attempt, calls its channel's provider outside any transaction (the attempt id is
    /// the provider's idempotency id), and hands the answer to DELIVERY_PROOF_COMMIT. A retryable failure while attempts
    /// (and time) remain is a retryable refusal instead: the outbox runs the same row again after the backoff. A worker
    /// that dies after the send and before the proof leaves the row SENT; whoever claims it after the lease re-sends the
    /// same attempt id, and the receiver dedupes.
    /// </summary>
    private static async Task<HandoffAttempt> AttemptDueAsync(SeleneDatabase db, OutboxRow row, JsonObject payload, HandoffWorker worker, UnixNanos now, CancellationToken ct)
    {
        var id = payload["delivery_attempt_id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        if (worker.Services.Get<DeliveryProviders>() is not { } providers)
            return new HandoffAttempt.Refused(DeliveryReasons.DeliveryInternalPipelineError, "this worker was started without delivery providers");
        DeliveryAttempt? attempt;
        await using (var tx = await TenantTransaction.BeginAsync(db.App, row.TenantId, ct)) attempt = await Attempts.GetAsync(tx, id, ct);
        if (attempt is null) return new HandoffAttempt.Refused(DeliveryReasons.DeliveryAttemptNotFound, $"no delivery attempt {id}");
        if (attempt.Status != DeliveryStatus.Pending)
            return new HandoffAttempt.Refused(DeliveryReasons.DeliveryAttemptStateInvalid, $"attempt {id} is {WireNames.Of(attempt.Status)}: nothing to send");

        // A personal link travels as a placeholder and becomes the recipient's link only here, on its way to the provider:
        // the secret is stored nowhere (Link.PersonalLinks).
        var text = attempt.Send.ContentText;
        if (Link.PersonalLinks.HasPlaceholder(text))
        {
            if (worker.Services.Get<Link.LinkKey>() is not { } key)
                return new HandoffAttempt.Refused(Engines.Link.LinkReasons.LinkSecretKeyUnavailable, "this worker has no link key to show the message's personal link");
            text = Link.PersonalLinks.Expand(text, attempt.Send.TenantId, attempt.Send.RecipientId, key);
        }
        var provider = providers.For(attempt.Send.Channel);
        var answer = await provider.SendAsync(new DeliveryEnvelope(attempt.Send.TenantId, id, attempt.Send.Channel, attempt.Send.Address!, attempt.Send.MessageId,
            attempt.Send.RecipientId, attempt.Send.PayloadRef, text, attempt.Send.Classification, now.Value), ct);
        var inputs = new JsonObject { ["delivery_attempt_id"] = id, ["provider_ref"] = provider.ProviderRef };
        switch (answer)
        {
            case ProviderAnswer.Sent sent:
                inputs["outcome"] = "SENT";
                if (sent.ProviderMessageRef.Length > 0) inputs["provider_message_ref"] = sent.ProviderMessageRef;
                inputs["delivery_proof_ref"] = sent.DeliveryProofRef;
                break;
            case ProviderAnswer.Failed { Verdict: ProviderVerdict.Retryable } failed when MayRetry(row, now):
                return new HandoffAttempt.Refused(DeliveryReasons.DeliveryProviderSendFailed, failed.Detail);
            case ProviderAnswer.Failed failed:
                inputs["outcome"] = "FAILED";
                inputs["failure_reason"] = (failed.Verdict == ProviderVerdict.Retryable ? DeliveryReasons.DeliveryProviderSendFailed : DeliveryReasons.DeliveryProviderRejected).Name;
                break;
        }
        return new HandoffAttempt.Run(Proof, inputs, null, null);
    }

    /// <summary>Whether the outbox will run this row again after a retryable failure now: attempts left, and the next one within the timeout.</summary>
    private static bool MayRetry(OutboxRow row, UnixNanos now) =>
        row.AttemptCount + 1 < AttemptPolicy.MaxAttempts && now.Value + AttemptPolicy.Backoff.Ticks * 100 - row.CreatedAt < AttemptPolicy.Timeout.Ticks * 100;

    private static async Task<HandlerOutcome> StatusAsync(TenantTransaction tx, AttemptInput i, ExecutionContext ctx, CancellationToken ct)
    {
        var attempt = await Attempts.GetAsync(tx, i.DeliveryAttemptId, ct);
        if (attempt is null)
            return new HandlerOutcome.Rejected(DeliveryReasons.DeliveryAttemptNotFound, $"no delivery attempt {i.DeliveryAttemptId} in this tenant",
                new JournalDraft(DeliveryReasons.EngineId, JournalEventTypes.SimulationRefused, DeliveryReasons.DeliveryAttemptNotFound,
                    JournalPayload.Create(("simulation_id", Status), ("delivery_attempt_id", i.DeliveryAttemptId))));
        var normalized = DeliveryMapping.NormalizedStatus(attempt.Status);
        return new HandlerOutcome.Accepted(DeliveryReasons.DeliveryOkStatus, new JsonObject
        {
            ["delivery_attempt_id"] = attempt.DeliveryAttemptId,
            ["normalized_status"] = normalized,
            ["provider_status_raw"] = $"{WireNames.Of(attempt.Status)}:{attempt.ReasonCode}",
            ["delivery_status"] = WireNames.Of(attempt.Status),
            ["provider_ref"] = attempt.ProviderRef,
            ["provider_message_ref"] = attempt.ProviderMessageRef,
            ["delivery_proof_ref"] = attempt.DeliveryProofRef,
        }, [new JournalDraft(DeliveryReasons.EngineId, JournalEventTypes.CheckAnswered, DeliveryReasons.DeliveryOkStatus,
            JournalPayload.Create(("simulation_id", Status), ("delivery_attempt_id", attempt.DeliveryAttemptId), ("normalized_status", normalized)))], []);
    }

    /// <summary>How many of a provider's latest settled attempts the health check weighs.</summary>
    private const int HealthWindow = 20;

    /// <summary>
    /// §9 provider health, from what the provider did (no provider I/O in a transaction): over its latest settled
    /// attempts, none failed ⇒ HEALTHY, some ⇒ DEGRADED, all ⇒ UNAVAILABLE; the latency bucket is the median time from
    /// the send's record to its settlement (under 5 s LOW, under a minute MEDIUM, else HIGH). A provider with no settled
    /// attempt in the tenant is DELIVERY_PROVIDER_HEALTH_UNAVAILABLE.
    /// </summary>
    private static async Task<HandlerOutcome> HealthAsync(TenantTransaction tx, HealthInput i, ExecutionContext ctx, CancellationToken ct)
    {
        var settled = (await AllAttemptsAsync(tx, ct))
            .Where(a => a.ProviderRef == i.ProviderRef && a.SettledAt is not null && a.Status is DeliveryStatus.Sent or DeliveryStatus.Failed)
            .OrderByDescending(a => a.SettledAt).ThenBy(a => a.DeliveryAttemptId, StringComparer.Ordinal).Take(HealthWindow).ToArray();
        if (settled.Length == 0)
            return new HandlerOutcome.Rejected(DeliveryReasons.DeliveryProviderHealthUnavailable, $"provider {i.ProviderRef} has no settled attempt in this tenant",
                new JournalDraft(DeliveryReasons.EngineId, JournalEventTypes.SimulationRefused, DeliveryReasons.DeliveryProviderHealthUnavailable,
                    JournalPayload.Create(("simulation_id", HealthCheck), ("provider_ref", i.ProviderRef))));
        var failed = settled.Count(a => a.Status == DeliveryStatus.Failed);
        var health = failed == 0 ? ProviderHealth.Healthy : failed == settled.Length ? ProviderHealth.Unavailable : ProviderHealth.Degraded;
        var latencies = settled.Select(a => a.SettledAt!.Value - a.CreatedAt).Order().ToArray();
        var median = latencies[latencies.Length / 2];
        var bucket = median < 5_000_000_000L ? LatencyBucket.Low : median < 60_000_000_000L ? LatencyBucket.Medium : LatencyBucket.High;
        return new HandlerOutcome.Accepted(DeliveryReasons.DeliveryOkHealth, new JsonObject
        {
            ["provider_ref"] = i.ProviderRef,
            ["health_state"] = WireNames.Of(health),
            ["latency_bucket"] = WireNames.Of(bucket),
            ["attempts_weighed"] = settled.Length,
            ["attempts_failed"] = failed,
        }, [new JournalDraft(DeliveryReasons.EngineId, JournalEventTypes.CheckAnswered, DeliveryReasons.DeliveryOkHealth,
            JournalPayload.Create(("simulation_id", HealthCheck), ("provider_ref", i.ProviderRef), ("health_state", WireNames.Of(health))))], []);
    }

    /// <summary>Every attempt of the tenant, in id order (read in pages).</summary>
    private static async Task<IReadOnlyList<DeliveryAttempt>> AllAttemptsAsync(TenantTransaction tx, CancellationToken ct)
    {
        var all = new List<DeliveryAttempt>();
        string? after = null;
        while (true)
        {
            var page = await Attempts.ListAsync(tx, null, after, 1000, ct);
            all.AddRange(page.Select(p => p.State));
            if (page.Count < 1000) return all;
            after = page[^1].StreamId;
        }
    }

    /// <summary>The public JSON view of an attempt; <c>source_engine</c> and <c>kind</c> let other engines' deliveries (REM's firings) join a listing.</summary>
    public static JsonObject View(DeliveryAttempt a) => new()
    {
        ["delivery_attempt_id"] = a.DeliveryAttemptId,
        ["source_engine"] = DeliveryReasons.EngineId,
        ["kind"] = "DELIVERY_ATTEMPT",
        ["message_id"] = a.Send.MessageId,
        ["broadcast_id"] = a.Send.Source == DeliveryHandoffs.SourceBcast ? a.Send.MessageId : null,
        ["recipient_id"] = a.Send.RecipientId,
        ["channel"] = WireNames.Of(a.Send.Channel),
        ["address"] = a.Send.Address,
        ["payload_ref"] = a.Send.PayloadRef,
        ["content_text"] = a.Send.ContentText,
        ["classification"] = a.Send.Classification,
        ["source"] = a.Send.Source,
        ["delivery_request_ref"] = a.Send.DeliveryRequestRef,
        ["status"] = WireNames.Of(a.Status),
        ["normalized_status"] = DeliveryMapping.NormalizedStatus(a.Status),
        ["reason_code"] = a.ReasonCode,
        ["provider_ref"] = a.ProviderRef,
        ["provider_message_ref"] = a.ProviderMessageRef,
        ["delivery_proof_ref"] = a.DeliveryProofRef,
        ["created_by"] = a.CreatedBy,
        ["created_at"] = new UnixNanos(a.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(a.UpdatedAt).ToString(),
        ["settled_at"] = a.SettledAt is { } at ? new UnixNanos(at).ToString() : null,
    };

    /// <summary>The public JSON view of a user's channel setup.</summary>
    public static JsonObject SetupView(ChannelSetup s) => new()
    {
        ["user_id"] = s.UserId,
        ["bindings"] = new JsonObject(s.Bindings.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => KeyValuePair.Create(b.Key, (JsonNode?)b.Value))),
        ["sms_app_setup_complete"] = s.SmsAppSetupComplete,
        ["sms_read_permission_ok"] = s.SmsReadPermissionOk,
        ["sms_send_permission_ok"] = s.SmsSendPermissionOk,
        ["setup_state"] = WireNames.Of(s.State),
        ["setup_source"] = WireNames.Of(s.SetupSource),
        ["updated_by"] = s.UpdatedBy,
        ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    /// <summary>
    /// The tenant's attempts in id order after <paramref name="after"/>, filtered (message, recipient, status), at most
    /// <paramref name="limit"/>: keyset pages are read until the filter has found enough.
    /// </summary>
    public static async Task<IReadOnlyList<DeliveryAttempt>> ListAttemptsAsync(TenantTransaction tx, string? messageId, string? recipientId, string? status, string? after,
        int limit, CancellationToken ct)
    {
        var found = new List<DeliveryAttempt>();
        while (found.Count < limit)
        {
            var page = await Attempts.ListAsync(tx, status, after, 500, ct);
            foreach (var (_, a) in page)
            {
                if ((messageId is null || a.Send.MessageId == messageId) && (recipientId is null || a.Send.RecipientId == recipientId)) found.Add(a);
                if (found.Count == limit) break;
            }
            if (page.Count < 500) break;
            after = page[^1].StreamId;
        }
        return found;
    }

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        var broadcast = request.QueryValues.GetValueOrDefault("broadcast_id");
        if (broadcast is not null && !Selene.Engines.Bcast.BcastIds.IsWellFormed(broadcast))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "broadcast_id must look like bcast_<16 hex>");
        if (ListPage.Read<DeliveryStatus>(request, DeliveryDecider.IsAttemptId, "a delivery attempt id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await ListAttemptsAsync(tx, broadcast, null, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("deliveries", rows, r => View(r), r => r.DeliveryAttemptId));
    }

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["delivery_attempt_id"];
        if (!DeliveryDecider.IsAttemptId(id)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "delivery_attempt_id must look like delivery_<16 hex>");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return await DetailAsync(tx, id, ct) is { } detail
            ? new ReadResult.Ok(detail)
            : new ReadResult.Refused(DeliveryReasons.DeliveryAttemptNotFound, $"no delivery attempt {id} in this tenant");
    }

    /// <summary>
    /// One attempt with its history (each ledger event: the send, then the proof, failure or cancel) and its provider
    /// tries (the attempt's own outbox row: how often the provider was tried, the last error, when the next try is due).
    /// </summary>
    public static async Task<JsonObject?> DetailAsync(TenantTransaction tx, string id, CancellationToken ct)
    {
        var attempt = await Attempts.GetAsync(tx, id, ct);
        if (attempt is null) return null;
        var history = new JsonArray();
        foreach (var e in await Attempts.Store.LedgerAsync(tx, ct, id))
        {
            var payload = JsonSerializer.Deserialize<DeliveryAttemptEvent>(e.Payload, EngineJson.Options)!;
            history.Add(new JsonObject
            {
                ["event_id"] = e.EventId,
                ["event_type"] = e.EventType,
                ["status"] = WireNames.Of(payload.Status),
                ["reason_code"] = payload.ReasonCode,
                ["actor_user_id"] = e.ActorUserId,
                ["provider_ref"] = payload.ProviderRef,
                ["provider_message_ref"] = payload.ProviderMessageRef,
                ["delivery_proof_ref"] = payload.DeliveryProofRef,
                ["at"] = new UnixNanos(payload.At).ToString(),
            });
        }
        var row = await OutboxStore.FindAsync(tx, DeliveryHandoffs.AttemptDue, id, ct);
        return new JsonObject
        {
            ["delivery"] = View(attempt),
            ["history"] = history,
            ["provider_tries"] = row is null ? null : new JsonObject
            {
                ["outbox_id"] = row.OutboxId,
                ["status"] = row.Status,
                ["tries"] = row.AttemptCount,
                ["last_error_reason_code"] = row.LastErrorReasonCode,
                ["next_attempt_at"] = new UnixNanos(row.NextAttemptAt).ToString(),
            },
        };
    }

    private static async Task<ReadResult> GetSetupAsync(ReadRequest request, CancellationToken ct)
    {
        var user = request.RouteValues["user_id"];
        if (!IdRules.IsValidName(user)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "user_id is 1..64 characters of [A-Za-z0-9_.-]");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return await Setups.GetAsync(tx, user, ct) is { } setup
            ? new ReadResult.Ok(new JsonObject { ["channel_setup"] = SetupView(setup) })
            : new ReadResult.Refused(DeliveryReasons.DeliveryChannelSetupNotFound, $"user {user} has no channel setup in this tenant");
    }
}
