using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Selene.Engines.Bcast;
using Selene.Postgres;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Bcast;

/// <summary>BCAST_CREATE_DRAFT body.</summary>
internal sealed record DraftInput(BcastClassification Classification, string AudienceSpec, string ContentPayloadRef, BcastRequiredAck RequiredAck = BcastRequiredAck.None,
    long? ExpiryAt = null, string? PromptDedupeKey = null, string? ContentText = null);
/// <summary>BCAST_DELIVER_COMMIT body.</summary>
internal sealed record DeliverInput(string BroadcastId, string RecipientId, BcastDeliveryMethod DeliveryMethod, BcastRecipientRegion RecipientRegion,
    bool AppUnavailable, string DeliveryPlanRef, string? SimulationContext = null);
/// <summary>BCAST_DEFER_COMMIT body.</summary>
internal sealed record DeferInput(string BroadcastId, string RecipientId, bool HandoffToReminder, long? DeferUntil = null, long? DeferDurationMs = null);
/// <summary>BCAST_REMINDER_FIRED_COMMIT body.</summary>
internal sealed record ReminderFiredInput(string BroadcastId, string RecipientId, string ReminderRef);
/// <summary>BCAST_ACK_COMMIT body.</summary>
internal sealed record AckInput(string BroadcastId, string RecipientId, BcastAckType AckType);
/// <summary>BCAST_ESCALATE_COMMIT body.</summary>
internal sealed record EscalateInput(string BroadcastId, string RecipientId, string EscalationReason);
/// <summary>BCAST_EXPIRE_COMMIT body.</summary>
internal sealed record ExpireInput(string BroadcastId, string ExpiryReason);
/// <summary>BCAST_CANCEL_COMMIT body.</summary>
internal sealed record CancelInput(string BroadcastId, string CancelReason);
/// <summary>BCAST_DELIVERY_PROOF_COMMIT body (handoff only: DELIVERY's settled attempt).</summary>
internal sealed record ProofInput(string BroadcastId, string RecipientId, string DeliveryRequestRef, string DeliveryAttemptId, string Channel,
    BcastDeliveryOutcome DeliveryStatus, string ReasonCode, string? DeliveryProofRef = null);

/// <summary>
/// PH1.BCAST on the engine platform: two aggregates (the envelope, stream = broadcast id; each recipient, stream =
/// <c>&lt;broadcast id&gt;:&lt;recipient id&gt;</c>), the eight simulations of reference §8.3 and the handoff-only
/// BCAST_DELIVERY_PROOF_COMMIT, three handoff routes (DELIVERY's proofs, REM's firings, the follow-up after a firing),
/// and two read routes. Every simulation locks the envelope first, so one broadcast's decisions are serialized by it;
/// recipient rows are then read without a lock of their own.
/// </summary>
public static class BcastModule
{
    /// <summary>The separator of a recipient's stream id (never part of a broadcast id or a recipient id).</summary>
    public const char StreamSeparator = ':';

    public static Aggregate<BcastEnvelope, BcastEnvelopeEvent, BcastEvent> Envelopes { get; } = new(
        BcastReasons.EngineId, storeName: "bcast_envelope", streamField: "broadcast_id", viewName: "broadcast",
        streamOf: e => e.BroadcastId,
        eventTypeOf: e => e is BroadcastDraftCreated ? "DRAFT_CREATED" : "STATUS_CHANGED",
        evolve: (s, e, id) => BcastDecider.EvolveEnvelope(s, e, id),
        statusOf: s => WireNames.Of(s.Status),
        view: EnvelopeView,
        journalFields: e => e is BroadcastStatusChanged c ? [("action", WireNames.Of(c.Action))] : [("classification", WireNames.Of(((BroadcastDraftCreated)e).Classification))],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["DRAFT_CREATED"] = typeof(BroadcastDraftCreated),
            ["STATUS_CHANGED"] = typeof(BroadcastStatusChanged),
        });

    public static Aggregate<BcastRecipient, BcastRecipientTransitioned, BcastEvent> Recipients { get; } = new(
        BcastReasons.EngineId, storeName: "bcast_recipient", streamField: "recipient_stream", viewName: "recipient",
        streamOf: e => RecipientStream(e.BroadcastId, e.RecipientId),
        eventTypeOf: e => WireNames.Of(e.Action),
        evolve: (s, e, id) => BcastDecider.EvolveRecipient(s, e, id),
        statusOf: s => WireNames.Of(s.Status),
        view: RecipientView,
        journalFields: e => e.DeliveryMethod is { } m ? [("delivery_method", WireNames.Of(m))] : []);

    public static EngineModule Module { get; } = new(
        "bcast", BcastReasons.EngineId,
        [
            Simulation<DraftInput>(BcastSimulations.CreateDraft,
                i => new CreateBroadcastDraft(i.Classification, i.AudienceSpec, i.ContentPayloadRef, i.RequiredAck, i.ExpiryAt, i.PromptDedupeKey, i.ContentText)),
            Simulation<DeliverInput>(BcastSimulations.DeliverCommit,
                i => new DeliverToRecipient(i.BroadcastId, i.RecipientId, i.DeliveryMethod, i.RecipientRegion, i.AppUnavailable, i.DeliveryPlanRef, i.SimulationContext)),
            Simulation<DeferInput>(BcastSimulations.DeferCommit,
                i => new DeferRecipient(i.BroadcastId, i.RecipientId, i.DeferUntil, i.DeferDurationMs, i.HandoffToReminder)),
            Simulation<ReminderFiredInput>(BcastSimulations.ReminderFiredCommit, i => new RecordReminderFired(i.BroadcastId, i.RecipientId, i.ReminderRef)),
            Simulation<AckInput>(BcastSimulations.AckCommit, i => new RecordAck(i.BroadcastId, i.RecipientId, i.AckType)),
            Simulation<EscalateInput>(BcastSimulations.EscalateCommit, i => new EscalateRecipient(i.BroadcastId, i.RecipientId, i.EscalationReason)),
            Simulation<ExpireInput>(BcastSimulations.ExpireCommit, i => new ExpireBroadcast(i.BroadcastId, i.ExpiryReason)),
            Simulation<CancelInput>(BcastSimulations.CancelCommit, i => new CancelBroadcast(i.BroadcastId, i.CancelReason)),
            Simulation<ProofInput>(BcastSimulations.DeliveryProofCommit,
                i => new RecordDeliveryProof(i.BroadcastId, i.RecipientId, i.DeliveryRequestRef, i.DeliveryAttemptId, i.Channel, i.DeliveryStatus,
                    string.IsNullOrEmpty(i.DeliveryProofRef) ? null : i.DeliveryProofRef, i.ReasonCode)),
        ],
        [Envelopes, Recipients],
        BcastReasons.All,
        [
            new ReadRoute("ListBroadcasts", "/broadcasts", "The tenant's broadcasts in id order (keyset paging: after, limit ≤ 500; status).",
                NotFound: false, ListAsync, ListPage.Parameters),
            new ReadRoute("GetBroadcast", "/broadcasts/{broadcast_id}", "One broadcast: its envelope and every recipient with its last attempt.",
                NotFound: true, GetAsync),
        ],
        Handoffs:
        [
            new HandoffRoute(BcastHandoffs.DeliveryAttemptSettled, BcastSimulations.DeliveryProofCommit, p => new JsonObject
            {
                ["broadcast_id"] = Text(p, "broadcast_id"),
                ["recipient_id"] = Text(p, "recipient_id"),
                ["delivery_request_ref"] = Text(p, "delivery_request_ref"),
                ["delivery_attempt_id"] = Text(p, "delivery_attempt_id"),
                ["channel"] = Text(p, "channel"),
                ["delivery_status"] = Text(p, "delivery_status"),
                ["reason_code"] = Text(p, "reason_code"),
                ["delivery_proof_ref"] = Text(p, "delivery_proof_ref") is { Length: > 0 } proof ? proof : null,
            }),
            new HandoffRoute(BcastHandoffs.FollowupReminderFired, BcastSimulations.ReminderFiredCommit, p => new JsonObject
            {
                ["broadcast_id"] = Text(p, "broadcast_id"),
                ["recipient_id"] = Text(p, "recipient_id"),
                ["reminder_ref"] = Text(p, "reminder_ref"),
            }),
            // The follow-up after a firing is a delivery like any other (device first), planned by the firing's prompt.
            new HandoffRoute(BcastHandoffs.FollowupPromptDue, BcastSimulations.DeliverCommit, p => new JsonObject
            {
                ["broadcast_id"] = Text(p, "broadcast_id"),
                ["recipient_id"] = Text(p, "recipient_id"),
                ["delivery_method"] = Text(p, "delivery_method"),
                ["recipient_region"] = Text(p, "recipient_region"),
                ["app_unavailable"] = Text(p, "app_unavailable") == "true",
                ["delivery_plan_ref"] = "followup:" + Text(p, "reminder_ref"),
                ["simulation_context"] = "followup:" + Text(p, "prompt_dedupe_key"),
            }),
        ]);

    /// <summary>A recipient's stream id.</summary>
    public static string RecipientStream(string broadcastId, string recipientId) => broadcastId + StreamSeparator + recipientId;

    /// <summary>
    /// A recipient's status as its wire name (e.g. <c>CONCLUDED</c>), or null when the broadcast has no such recipient.
    /// For other engines' decisions that must fail closed on a finished recipient (REM firing a BCAST follow-up).
    /// </summary>
    public static async Task<string?> RecipientStatusAsync(TenantTransaction tx, string broadcastId, string recipientId, CancellationToken ct) =>
        await Recipients.GetAsync(tx, RecipientStream(broadcastId, recipientId), ct) is { } r ? WireNames.Of(r.Status) : null;

    private static EngineSimulation<TInput, BcastCommand, BcastEnvelope, BcastEvent, ImmutableSortedDictionary<string, BcastRecipient>> Simulation<TInput>(
        string simulationId, Func<TInput, BcastCommand> toCommand)
        where TInput : class => new(
        BcastSimulations.All.Single(r => r.SimulationId == simulationId), Envelopes, toCommand,
        validate: c => BcastDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, ctx) => c.TargetBroadcastId(Context(ctx))!,
        decide: (envelope, command, recipients, ctx) => BcastDecider.Decide(new BcastState(envelope, recipients), command, Context(ctx)),
        readFacts: ReadRecipientsAsync,
        others: [Recipients]);

    private static BcastContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, ctx.IdempotencyKey.Value);

    /// <summary>
    /// The recipient rows a command needs: its own for a recipient command, every one for EXPIRE and CANCEL. The
    /// envelope's lock (taken first by every BCAST simulation) keeps them from changing under the decision.
    /// </summary>
    private static async Task<ImmutableSortedDictionary<string, BcastRecipient>> ReadRecipientsAsync(TenantTransaction tx, BcastCommand command,
        BcastEnvelope? envelope, ExecutionContext context, CancellationToken ct)
    {
        var rows = ImmutableSortedDictionary.Create<string, BcastRecipient>(StringComparer.Ordinal);
        if (envelope is null) return rows;
        switch (command)
        {
            case BcastRecipientCommand r when await Recipients.GetAsync(tx, RecipientStream(envelope.BroadcastId, r.RecipientId!), ct) is { } row:
                return rows.Add(row.RecipientId, row);
            case ExpireBroadcast or CancelBroadcast:
                foreach (var (_, row) in await AllRecipientsAsync(tx, envelope.BroadcastId, ct)) rows = rows.Add(row.RecipientId, row);
                return rows;
            default:
                return rows;
        }
    }

    private static async Task<IReadOnlyList<(string StreamId, BcastRecipient State)>> AllRecipientsAsync(TenantTransaction tx, string broadcastId, CancellationToken ct)
    {
        var all = new List<(string, BcastRecipient)>();
        string? after = null;
        while (true)
        {
            var page = await Recipients.ListAsync(tx, null, after, 1000, ct, prefix: broadcastId + StreamSeparator);
            all.AddRange(page);
            if (page.Count < 1000) return all;
            after = page[^1].StreamId;
        }
    }

    private static string Text(JsonObject payload, string name) => payload[name]?.GetValue<string>() ?? "";

    private static string? Time(long? ns) => ns is { } v ? new UnixNanos(v).ToString() : null;

    /// <summary>The public JSON view of an envelope (its content is shown as drafted: it never changes).</summary>
    public static JsonObject EnvelopeView(BcastEnvelope e) => new()
    {
        ["broadcast_id"] = e.BroadcastId,
        ["sender_user_id"] = e.SenderUserId,
        ["status"] = WireNames.Of(e.Status),
        ["classification"] = WireNames.Of(e.Classification),
        ["audience_spec"] = e.AudienceSpec,
        ["content_payload_ref"] = e.ContentPayloadRef,
        ["content_text"] = e.ContentText,
        ["required_ack"] = WireNames.Of(e.RequiredAck),
        ["expiry_at"] = Time(e.ExpiryAt),
        ["prompt_dedupe_key"] = e.PromptDedupeKey,
        ["envelope_hash"] = e.EnvelopeHash,
        ["sent_at"] = Time(e.SentAt),
        ["last_reason_code"] = e.LastReasonCode,
        ["created_at"] = Time(e.CreatedAt),
        ["updated_at"] = Time(e.UpdatedAt),
    };

    /// <summary>The public JSON view of one recipient.</summary>
    public static JsonObject RecipientView(BcastRecipient r) => new()
    {
        ["broadcast_id"] = r.BroadcastId,
        ["recipient_id"] = r.RecipientId,
        ["status"] = WireNames.Of(r.Status),
        ["region"] = WireNames.Of(r.Region),
        ["last_delivery_method"] = WireNames.Of(r.LastDeliveryMethod),
        ["fallback_step"] = r.FallbackStep,
        ["delivery_count"] = r.AttemptCount,
        ["last_delivery_request_ref"] = r.LastDeliveryRequestRef,
        ["last_delivery_attempt_id"] = r.LastDeliveryAttemptId,
        ["last_delivery_outcome"] = r.LastDeliveryOutcome is { } o ? WireNames.Of(o) : null,
        ["last_delivery_proof_ref"] = r.LastDeliveryProofRef,
        ["failed_attempt_count"] = r.FailedAttemptCount,
        ["wait_until"] = Time(r.WaitUntil),
        ["followup_immediate"] = r.FollowupImmediate,
        ["retry_at"] = Time(r.RetryAt),
        ["reminder_due_at"] = Time(r.ReminderDueAt),
        ["reminder_ref"] = r.ReminderRef,
        ["ack_type"] = r.AckType is { } a ? WireNames.Of(a) : null,
        ["ack_record_id"] = r.AckRecordId,
        ["sender_notice_ref"] = r.SenderNoticeRef,
        ["last_action"] = WireNames.Of(r.LastAction),
        ["last_reason_code"] = r.LastReasonCode,
        ["updated_at"] = Time(r.UpdatedAt),
    };

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["broadcast_id"];
        if (!BcastIds.IsWellFormed(id)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "broadcast_id must look like bcast_<16 hex>");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        if (await Envelopes.GetAsync(tx, id, ct) is not { } envelope) return new ReadResult.Refused(BcastReasons.BcastFailNotFound, $"no broadcast {id}");
        var recipients = await AllRecipientsAsync(tx, id, ct);
        return new ReadResult.Ok(new JsonObject
        {
            ["broadcast"] = EnvelopeView(envelope),
            ["recipients"] = new JsonArray(recipients.Select(r => (JsonNode)RecipientView(r.State)).ToArray()),
        });
    }

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        if (ListPage.Read<BcastEnvelopeStatus>(request, BcastIds.IsWellFormed, "a broadcast id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Envelopes.ListAsync(tx, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("broadcasts", rows, r => EnvelopeView(r.State), r => r.StreamId));
    }
}
