using System.Collections.Immutable;
using System.Globalization;

namespace Selene.Engines.Bcast;

/// <summary>What the runtime hands the decider besides state and command: who, the request's key, and when.</summary>
public sealed record BcastContext(string TenantId, string ActorUserId, UnixNanos Now, string IdempotencyKey);

/// <summary>
/// PH1.BCAST, pure (reference §8.2): the recipient state machine, the envelope lifecycle and the fallback policy.
/// <see cref="Decide"/> turns (state, command, context) into events and outbox handoffs or a refusal;
/// <see cref="Evolve"/> folds an event into the state. BCAST owns each recipient's lifecycle and grants no authority;
/// delivery and reminder timing are handed to DELIVERY and REM through the outbox, never called.
/// </summary>
public static class BcastDecider
{
    /// <summary>The non-urgent WAITING window: 5 minutes (§8.1).</summary>
    public const long WaitingWindowNs = 300_000_000_000;

    /// <summary>The furthest a defer may reach (the reference gives no bound; see docs/decisions.md).</summary>
    public const long MaxDeferNs = 30L * 24 * 3600 * 1_000_000_000;

    public const int MaxAudienceSpecLength = 1024;
    public const int MaxRefLength = 256;
    public const int MaxReasonLength = 256;
    public const int MaxPromptDedupeKeyLength = 128;
    public const int MaxContentTextLength = 4000;

    /// <summary>CONCLUDED, CANCELED and EXPIRED refuse new deliveries (§8.2, AT-BCAST-15).</summary>
    public static bool IsTerminal(BcastRecipientStatus status) =>
        status is BcastRecipientStatus.Concluded or BcastRecipientStatus.Canceled or BcastRecipientStatus.Expired;

    /// <summary>EXPIRED and CANCELED end the envelope: no delivery, expiry or cancel after them.</summary>
    public static bool IsTerminal(BcastEnvelopeStatus status) => status is BcastEnvelopeStatus.Expired or BcastEnvelopeStatus.Canceled;

    /// <summary>EMERGENCY is urgent (FOLLOWUP at once); SIMPLE and PRIORITY wait for the window (§8.1).</summary>
    public static bool IsUrgent(BcastClassification classification) => classification == BcastClassification.Emergency;

    /// <summary>The statuses a recipient action is allowed from (§8.2); a null entry means "a new recipient".</summary>
    public static IReadOnlyList<BcastRecipientStatus?> AllowedFrom(BcastAction action, bool handoffToReminder = false) => action switch
    {
        BcastAction.DeliverCommit => [null, BcastRecipientStatus.Waiting, BcastRecipientStatus.Followup, BcastRecipientStatus.ReminderSet,
            BcastRecipientStatus.ReminderFired, BcastRecipientStatus.Deferred],
        BcastAction.DeferCommit when handoffToReminder => [BcastRecipientStatus.Followup, BcastRecipientStatus.ReminderFired],
        BcastAction.DeferCommit => [BcastRecipientStatus.Waiting, BcastRecipientStatus.Followup, BcastRecipientStatus.ReminderFired],
        // REMINDER_FIRED again is the idempotent repeat of the same firing.
        BcastAction.ReminderFiredCommit => [BcastRecipientStatus.ReminderSet, BcastRecipientStatus.ReminderFired],
        BcastAction.EscalateCommit => [BcastRecipientStatus.Waiting, BcastRecipientStatus.Deferred],
        BcastAction.AckCommit => [BcastRecipientStatus.Waiting, BcastRecipientStatus.Followup, BcastRecipientStatus.ReminderSet,
            BcastRecipientStatus.ReminderFired, BcastRecipientStatus.Deferred, BcastRecipientStatus.Concluded],
        // A proof is a fact about an attempt already made: it is recorded whatever the recipient has become since.
        BcastAction.DeliveryProofCommit => [.. Enum.GetValues<BcastRecipientStatus>().Cast<BcastRecipientStatus?>()],
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "not a recipient action"),
    };

    /// <summary>Bounds and shapes of a command, checked before any state is read; null when valid.</summary>
    public static Decision<BcastEvent>.Rejected? Validate(BcastCommand command)
    {
        switch (command)
        {
            case CreateBroadcastDraft d:
                if (!Enum.IsDefined(d.Classification)) return Schema("classification must be SIMPLE, PRIORITY or EMERGENCY");
                if (!Enum.IsDefined(d.RequiredAck)) return Schema("required_ack must be NONE, READ, CONFIRM or ACTION_CONFIRM");
                if (!IdRules.IsBoundedText(d.AudienceSpec, MaxAudienceSpecLength)) return Schema($"audience_spec must be 1..{MaxAudienceSpecLength} printable chars");
                if (!IdRules.IsBoundedText(d.ContentPayloadRef, MaxRefLength)) return Schema($"content_payload_ref must be 1..{MaxRefLength} printable chars");
                if (d.ExpiryAt is <= 0) return Schema("expiry_at must be a positive time in ns");
                if (d.PromptDedupeKey is not null && !IdRules.IsValidName(d.PromptDedupeKey, MaxPromptDedupeKeyLength))
                    return Schema($"prompt_dedupe_key must be 1..{MaxPromptDedupeKeyLength} of [A-Za-z0-9_.-]");
                if (d.ContentText is not null && !IsMessageText(d.ContentText))
                    return Schema($"content_text must be 1..{MaxContentTextLength} characters of text (line breaks and tabs allowed, no other control characters)");
                return null;
            case BcastRecipientCommand r:
                if (!BcastIds.IsWellFormed(r.BroadcastId)) return Schema("broadcast_id must look like bcast_<16 hex>");
                if (!IdRules.IsValidName(r.RecipientId)) return Schema("recipient_id must be 1..64 of [A-Za-z0-9_.-]");
                return r switch
                {
                    DeliverToRecipient x when !Enum.IsDefined(x.DeliveryMethod) => Schema("delivery_method must be SELENE_APP, SMS, WHATSAPP, WECHAT or EMAIL"),
                    DeliverToRecipient x when !Enum.IsDefined(x.RecipientRegion) => Schema("recipient_region must be GLOBAL or CHINA"),
                    DeliverToRecipient x when !IdRules.IsBoundedText(x.DeliveryPlanRef, MaxRefLength) => Schema($"delivery_plan_ref must be 1..{MaxRefLength} printable chars"),
                    DeliverToRecipient x when string.IsNullOrWhiteSpace(x.SimulationContext) =>
                        new(BcastReasons.BcastFailSimulationContextMissing, "a delivery runs inside an OS simulation: simulation_context is required"),
                    DeliverToRecipient x when !IdRules.IsBoundedText(x.SimulationContext, MaxRefLength) => Schema($"simulation_context must be 1..{MaxRefLength} printable chars"),
                    DeferRecipient x when (x.DeferUntil is null) == (x.DeferDurationMs is null) => Schema("exactly one of defer_until and defer_duration_ms is required"),
                    DeferRecipient x when x.DeferDurationMs is { } ms && (ms < 1 || ms > MaxDeferNs / 1_000_000) =>
                        Schema($"defer_duration_ms must be 1..{MaxDeferNs / 1_000_000}"),
                    RecordReminderFired x when !IdRules.IsBoundedText(x.ReminderRef, MaxRefLength) => Schema($"reminder_ref must be 1..{MaxRefLength} printable chars"),
                    RecordAck x when !Enum.IsDefined(x.AckType) => Schema("ack_type must be READ, CONFIRM, ACTION_CONFIRM or DECLINED"),
                    EscalateRecipient x when !IdRules.IsBoundedText(x.EscalationReason, MaxReasonLength) => Schema($"escalation_reason must be 1..{MaxReasonLength} printable chars"),
                    RecordDeliveryProof x when !Enum.IsDefined(x.Outcome) => Schema("outcome must be SENT or FAILED"),
                    RecordDeliveryProof x when !IdRules.IsValidName(x.DeliveryRequestRef, MaxRefLength) || !IdRules.IsValidName(x.DeliveryAttemptId, MaxRefLength)
                        || !IdRules.IsValidName(x.Channel) || !IdRules.IsValidName(x.ProviderReasonCode, 128) =>
                        Schema("delivery_request_ref, delivery_attempt_id, channel and reason_code must be names of [A-Za-z0-9_.-]"),
                    RecordDeliveryProof x when x.Outcome == BcastDeliveryOutcome.Sent != (x.ProofRef is not null) || x.ProofRef is { } p && !IdRules.IsBoundedText(p, MaxRefLength) =>
                        Schema($"a SENT attempt carries its delivery_proof_ref (1..{MaxRefLength} printable chars); a FAILED one none"),
                    _ => null,
                };
            case ExpireBroadcast e:
                if (!BcastIds.IsWellFormed(e.BroadcastId)) return Schema("broadcast_id must look like bcast_<16 hex>");
                return IdRules.IsBoundedText(e.ExpiryReason, MaxReasonLength) ? null : Schema($"expiry_reason must be 1..{MaxReasonLength} printable chars");
            case CancelBroadcast c:
                if (!BcastIds.IsWellFormed(c.BroadcastId)) return Schema("broadcast_id must look like bcast_<16 hex>");
                return IdRules.IsBoundedText(c.CancelReason, MaxReasonLength) ? null : Schema($"cancel_reason must be 1..{MaxReasonLength} printable chars");
            default:
                return Schema("unknown command");
        }
    }

    /// <summary>
    /// Decides one command against the broadcast's state (<see cref="BcastState.Empty"/> when it does not exist yet).
    /// Throws when the state loaded is another broadcast's: that is a runtime bug, not an outcome.
    /// </summary>
    public static Decision<BcastEvent> Decide(BcastState state, BcastCommand command, BcastContext context)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (Validate(command) is { } invalid) return invalid;

        if (command is CreateBroadcastDraft draft) return DecideDraft(state, draft, context);

        var broadcastId = command.TargetBroadcastId(context)!;
        if (state.Envelope is not { } envelope) return NotFound($"broadcast {broadcastId} does not exist");
        if (!string.Equals(envelope.BroadcastId, broadcastId, StringComparison.Ordinal))
            throw new InvalidOperationException($"state of {envelope.BroadcastId} was loaded for a command on {broadcastId}");

        return command switch
        {
            DeliverToRecipient d => DecideDeliver(envelope, state.Recipient(d.RecipientId), d, context),
            DeferRecipient d => DecideDefer(envelope, state.Recipient(d.RecipientId), d, context),
            RecordReminderFired f => DecideReminderFired(envelope, state.Recipient(f.RecipientId), f, context),
            RecordAck a => DecideAck(envelope, state.Recipient(a.RecipientId), a, context),
            EscalateRecipient e => DecideEscalate(envelope, state.Recipient(e.RecipientId), e, context),
            RecordDeliveryProof p => DecideProof(envelope, state.Recipient(p.RecipientId), p, context),
            ExpireBroadcast e => DecideEnd(state, envelope, BcastAction.ExpireCommit, e.ExpiryReason, context),
            CancelBroadcast c => DecideEnd(state, envelope, BcastAction.CancelCommit, c.CancelReason, context),
            _ => Schema("unknown command"),
        };
    }

    private static Decision<BcastEvent> DecideDraft(BcastState state, CreateBroadcastDraft d, BcastContext ctx)
    {
        var id = d.TargetBroadcastId(ctx)!;
        // The id is derived from the envelope and the key: an existing row is this same draft, and a draft is made once.
        if (state.Envelope is not null)
            return Transition($"broadcast {id} exists already ({WireNames.Of(state.Envelope.Status)})");
        if (d.ExpiryAt is { } expiry && expiry <= ctx.Now.Value) return Schema("expiry_at must be in the future");
        var e = new BroadcastDraftCreated(ctx.TenantId, id, ctx.ActorUserId, BcastReasons.BcastDraftCreated.Name, ctx.Now.Value,
            d.Classification, d.AudienceSpec, d.ContentPayloadRef, d.RequiredAck, d.ExpiryAt,
            d.PromptDedupeKey ?? BcastIds.DefaultPromptDedupeKey(id), BcastIds.EnvelopeHash(d), d.ContentText);
        return new Decision<BcastEvent>.Accepted([e], BcastReasons.BcastDraftCreated, []);
    }

    private static Decision<BcastEvent> DecideDeliver(BcastEnvelope envelope, BcastRecipient? recipient, DeliverToRecipient d, BcastContext ctx)
    {
        if (IsTerminal(envelope.Status)) return Transition($"the broadcast is {WireNames.Of(envelope.Status)}: no new delivery");
        if (envelope.ExpiryAt is { } expiry && ctx.Now.Value >= expiry) return Transition("the broadcast's expiry_at has passed: no new delivery");
        if (recipient is not null && IsTerminal(recipient.Status)) return Transition($"recipient {recipient.RecipientId} is {WireNames.Of(recipient.Status)}: no new delivery");

        var position = recipient is null ? null : new BcastFallbackPosition(recipient.Region, recipient.FallbackStep);
        var verdict = BcastFallback.Check(position, d.DeliveryMethod, d.RecipientRegion, d.AppUnavailable);
        if (!verdict.Allowed) return new Decision<BcastEvent>.Rejected(BcastReasons.BcastFailFallbackPolicy, verdict.Refusal!);

        var urgent = IsUrgent(envelope.Classification);
        var reason = urgent ? BcastReasons.BcastFollowupImmediateUrgent : BcastReasons.BcastDelivered;
        var requestRef = BcastIds.DeliveryRequestRef(envelope.BroadcastId, d.RecipientId!, d.DeliveryPlanRef, ctx.IdempotencyKey);
        var events = new List<BcastEvent>();
        if (envelope.Status == BcastEnvelopeStatus.DraftCreated)
            events.Add(new BroadcastStatusChanged(ctx.TenantId, envelope.BroadcastId, ctx.ActorUserId, reason.Name, ctx.Now.Value,
                BcastAction.DeliverCommit, BcastEnvelopeStatus.DraftCreated, BcastEnvelopeStatus.Sent, null));
        events.Add(new BcastRecipientTransitioned(ctx.TenantId, envelope.BroadcastId, d.RecipientId!, ctx.ActorUserId, reason.Name, ctx.Now.Value,
            BcastAction.DeliverCommit, recipient?.Status, urgent ? BcastRecipientStatus.Followup : BcastRecipientStatus.Waiting,
            DeliveryMethod: d.DeliveryMethod, Region: d.RecipientRegion,
            // The policy allows only a repeat or one step on, so the verdict's step is the furthest step used.
            FallbackStep: verdict.Step!.Value,
            DeliveryRequestRef: requestRef,
            WaitUntil: urgent ? null : checked(ctx.Now.Value + WaitingWindowNs),
            FollowupImmediate: urgent));
        OutboxMessage send = new(BcastHandoffs.OperationType, requestRef, BcastHandoffs.DeliverySendRequested, new Dictionary<string, string>
        {
            ["tenant_id"] = ctx.TenantId,
            ["broadcast_id"] = envelope.BroadcastId,
            ["recipient_id"] = d.RecipientId!,
            ["delivery_request_ref"] = requestRef,
            ["delivery_method"] = WireNames.Of(d.DeliveryMethod),
            ["recipient_region"] = WireNames.Of(d.RecipientRegion),
            ["delivery_plan_ref"] = d.DeliveryPlanRef,
            ["content_payload_ref"] = envelope.ContentPayloadRef,
            ["content_text"] = envelope.ContentText ?? "",
            ["classification"] = WireNames.Of(envelope.Classification),
            ["simulation_context"] = d.SimulationContext!,
        });
        return new Decision<BcastEvent>.Accepted(events, reason, [send]);
    }

    private static Decision<BcastEvent> DecideDefer(BcastEnvelope envelope, BcastRecipient? recipient, DeferRecipient d, BcastContext ctx)
    {
        if (recipient is null) return NoRecipient(envelope, d.RecipientId!);
        if (!AllowedFrom(BcastAction.DeferCommit, d.HandoffToReminder).Contains(recipient.Status))
            return Transition($"DEFER_COMMIT{(d.HandoffToReminder ? " with a reminder handoff" : "")} needs " +
                $"{string.Join(" or ", AllowedFrom(BcastAction.DeferCommit, d.HandoffToReminder).Select(s => WireNames.Of(s!.Value)))}; the recipient is {WireNames.Of(recipient.Status)}");
        var until = d.DeferUntil ?? checked(ctx.Now.Value + d.DeferDurationMs!.Value * 1_000_000);
        if (until <= ctx.Now.Value || until - ctx.Now.Value > MaxDeferNs)
            return Schema($"the defer must end after now and at most {MaxDeferNs / 1_000_000_000} s from now");

        if (!d.HandoffToReminder)
        {
            return new Decision<BcastEvent>.Accepted([Recipient(ctx, recipient, BcastAction.DeferCommit, BcastRecipientStatus.Deferred,
                BcastReasons.BcastDeferred) with { RetryAt = until }], BcastReasons.BcastDeferred, []);
        }

        var due = until.ToString(CultureInfo.InvariantCulture);
        OutboxMessage schedule = new(BcastHandoffs.OperationType,
            "bcast_rem_" + Hashing.ShortHash(32, ctx.TenantId, envelope.BroadcastId, recipient.RecipientId, due, PromptKey(envelope, recipient.RecipientId)),
            BcastHandoffs.ReminderScheduleRequested, new Dictionary<string, string>
            {
                ["tenant_id"] = ctx.TenantId,
                ["broadcast_id"] = envelope.BroadcastId,
                ["recipient_id"] = recipient.RecipientId,
                ["reminder_type"] = BcastHandoffs.ReminderType,
                // REM ranks SIMPLE < PRIORITY < EMERGENCY (§8.5).
                ["priority"] = WireNames.Of(envelope.Classification),
                ["due_at"] = due,
                ["prompt_dedupe_key"] = PromptKey(envelope, recipient.RecipientId),
            });
        return new Decision<BcastEvent>.Accepted([Recipient(ctx, recipient, BcastAction.DeferCommit, BcastRecipientStatus.ReminderSet,
            BcastReasons.BcastReminderSet) with { ReminderDueAt = until }], BcastReasons.BcastReminderSet, [schedule]);
    }

    private static Decision<BcastEvent> DecideReminderFired(BcastEnvelope envelope, BcastRecipient? recipient, RecordReminderFired f, BcastContext ctx)
    {
        if (recipient is null) return NoRecipient(envelope, f.RecipientId!);
        if (recipient.Status == BcastRecipientStatus.ReminderFired)
        {
            // The same firing again changes nothing and prompts nothing (§8.2: REMINDER_FIRED is idempotent).
            return string.Equals(recipient.ReminderRef, f.ReminderRef, StringComparison.Ordinal)
                ? new Decision<BcastEvent>.Accepted([], BcastReasons.BcastReminderFired, [])
                : Transition($"reminder {recipient.ReminderRef} fired already; {IdRules.Shorten(f.ReminderRef)} needs a new REMINDER_SET");
        }
        if (recipient.Status != BcastRecipientStatus.ReminderSet)
            return Transition($"REMINDER_FIRED_COMMIT needs REMINDER_SET; the recipient is {WireNames.Of(recipient.Status)}");

        var key = PromptKey(envelope, recipient.RecipientId);
        var version = recipient.Version + 1;
        OutboxMessage prompt = new(BcastHandoffs.OperationType, PromptIdempotencyKey(ctx.TenantId, envelope.BroadcastId, recipient.RecipientId, key, version),
            BcastHandoffs.FollowupPromptDue, new Dictionary<string, string>
            {
                ["tenant_id"] = ctx.TenantId,
                ["broadcast_id"] = envelope.BroadcastId,
                ["recipient_id"] = recipient.RecipientId,
                ["reminder_ref"] = f.ReminderRef,
                ["prompt_dedupe_key"] = key,
                ["classification"] = WireNames.Of(envelope.Classification),
                // The follow-up goes device first: the app while it is the recipient's channel; once a fallback started, the
                // step reached (repeating a step is allowed, going back to the app is not).
                ["delivery_method"] = WireNames.Of(recipient.FallbackStep == 0 ? BcastDeliveryMethod.SeleneApp : BcastFallback.Order(recipient.Region)[recipient.FallbackStep - 1]),
                ["recipient_region"] = WireNames.Of(recipient.Region),
                ["app_unavailable"] = recipient.FallbackStep == 0 ? "false" : "true",
            });
        return new Decision<BcastEvent>.Accepted([Recipient(ctx, recipient, BcastAction.ReminderFiredCommit, BcastRecipientStatus.ReminderFired,
            BcastReasons.BcastReminderFired) with { ReminderRef = f.ReminderRef, PromptDedupeKey = key }], BcastReasons.BcastReminderFired, [prompt]);
    }

    private static Decision<BcastEvent> DecideAck(BcastEnvelope envelope, BcastRecipient? recipient, RecordAck a, BcastContext ctx)
    {
        if (!string.Equals(a.RecipientId, ctx.ActorUserId, StringComparison.Ordinal))
            return new Decision<BcastEvent>.Rejected(BcastReasons.BcastFailAckNotRecipient, $"only {a.RecipientId} can acknowledge their own message");
        if (recipient is null) return NoRecipient(envelope, a.RecipientId!);
        if (!AllowedFrom(BcastAction.AckCommit).Contains(recipient.Status))
            return Transition($"ACK_COMMIT is refused once the recipient is {WireNames.Of(recipient.Status)}");
        if (!Satisfies(a.AckType, envelope.RequiredAck))
            return new Decision<BcastEvent>.Rejected(BcastReasons.BcastFailAckRequirementNotMet,
                $"the broadcast requires {WireNames.Of(envelope.RequiredAck)}; {WireNames.Of(a.AckType)} does not satisfy it");
        var ackId = BcastIds.AckRecordPrefix + Hashing.ShortHash(16, ctx.TenantId, envelope.BroadcastId, recipient.RecipientId, ctx.IdempotencyKey);
        return new Decision<BcastEvent>.Accepted([Recipient(ctx, recipient, BcastAction.AckCommit, BcastRecipientStatus.Concluded,
            BcastReasons.BcastAckRecorded) with { AckType = a.AckType, AckRecordId = ackId }], BcastReasons.BcastAckRecorded, []);
    }

    private static Decision<BcastEvent> DecideEscalate(BcastEnvelope envelope, BcastRecipient? recipient, EscalateRecipient e, BcastContext ctx)
    {
        if (recipient is null) return NoRecipient(envelope, e.RecipientId!);
        if (!AllowedFrom(BcastAction.EscalateCommit).Contains(recipient.Status))
            return Transition($"ESCALATE_COMMIT needs WAITING (after its window) or DEFERRED; the recipient is {WireNames.Of(recipient.Status)}");
        if (recipient.Status == BcastRecipientStatus.Waiting && recipient.WaitUntil is { } waitUntil && ctx.Now.Value < waitUntil)
            return new Decision<BcastEvent>.Rejected(BcastReasons.BcastFailWaitingWindowNotElapsed,
                $"the WAITING window ends at {waitUntil}; it is {ctx.Now.Value}");
        var notice = BcastIds.SenderNoticePrefix + Hashing.ShortHash(16, ctx.TenantId, envelope.BroadcastId, recipient.RecipientId, e.EscalationReason, ctx.IdempotencyKey);
        return new Decision<BcastEvent>.Accepted([Recipient(ctx, recipient, BcastAction.EscalateCommit, BcastRecipientStatus.Followup,
            BcastReasons.BcastEscalated) with { SenderNoticeRef = notice, Reference = e.EscalationReason }], BcastReasons.BcastEscalated, []);
    }

    /// <summary>
    /// Records DELIVERY's outcome of an attempt. A failure of the recipient's latest delivery, while the recipient is still
    /// WAITING or FOLLOWUP from it and the envelope is open, walks the fallback one step in the same decision (the app failing means it is unavailable):
    /// a new delivery with the next method of the region, through the same rules as BCAST_DELIVER_COMMIT. After the last
    /// step, or for an older attempt, the outcome is only recorded.
    /// </summary>
    private static Decision<BcastEvent> DecideProof(BcastEnvelope envelope, BcastRecipient? recipient, RecordDeliveryProof p, BcastContext ctx)
    {
        if (recipient is null) return NoRecipient(envelope, p.RecipientId!);
        var proof = Recipient(ctx, recipient, BcastAction.DeliveryProofCommit, recipient.Status, BcastReasons.BcastDeliveryProofRecorded) with
        {
            DeliveryRequestRef = p.DeliveryRequestRef,
            DeliveryAttemptId = p.DeliveryAttemptId,
            DeliveryOutcome = p.Outcome,
            DeliveryProofRef = p.ProofRef,
            DeliveryMethod = recipient.LastDeliveryMethod,
            Reference = p.ProviderReasonCode,
        };
        var next = recipient.FallbackStep + 1;
        // Only while the recipient still stands where that delivery put it (WAITING or FOLLOWUP): one that was deferred,
        // reminded or acknowledged since has moved on, and a walk would pull it back.
        var walk = p.Outcome == BcastDeliveryOutcome.Failed
            && string.Equals(p.DeliveryRequestRef, recipient.LastDeliveryRequestRef, StringComparison.Ordinal)
            && recipient.Status is BcastRecipientStatus.Waiting or BcastRecipientStatus.Followup
            && next <= BcastFallback.Order(recipient.Region).Count;
        if (walk)
        {
            var after = EvolveRecipient(recipient, proof, 0);
            var fallback = new DeliverToRecipient(envelope.BroadcastId, recipient.RecipientId, BcastFallback.Order(recipient.Region)[next - 1], recipient.Region,
                AppUnavailable: true, DeliveryPlanRef: "fallback:" + next.ToString(CultureInfo.InvariantCulture), SimulationContext: "fallback:" + p.DeliveryAttemptId);
            // A closed envelope or recipient refuses the delivery: then the failure is only recorded.
            if (DecideDeliver(envelope, after, fallback, ctx) is Decision<BcastEvent>.Accepted delivered)
            {
                return new Decision<BcastEvent>.Accepted([proof with { ReasonCode = BcastReasons.BcastFallbackAdvanced.Name },
                    .. delivered.Events.Select(e => e with { ReasonCode = BcastReasons.BcastFallbackAdvanced.Name })], BcastReasons.BcastFallbackAdvanced, delivered.Outbox);
            }
        }
        return new Decision<BcastEvent>.Accepted([proof], BcastReasons.BcastDeliveryProofRecorded, []);
    }

    /// <summary>Message text: 1..<see cref="MaxContentTextLength"/> characters, line breaks and tabs but no other control characters.</summary>
    public static bool IsMessageText(string text) =>
        text.Length is > 0 and <= MaxContentTextLength && IdRules.IsWellFormedUtf16(text)
        && text.All(c => !char.IsControl(c) || c is '\n' or '\r' or '\t') && !string.IsNullOrWhiteSpace(text);

    private static Decision<BcastEvent> DecideEnd(BcastState state, BcastEnvelope envelope, BcastAction action, string why, BcastContext ctx)
    {
        var expire = action == BcastAction.ExpireCommit;
        if (IsTerminal(envelope.Status)) return Transition($"the broadcast is {WireNames.Of(envelope.Status)} already");
        if (expire && envelope.ExpiryAt is { } expiry && ctx.Now.Value < expiry)
            return Transition($"the broadcast's expiry_at {expiry} has not been reached; it is {ctx.Now.Value}");
        var (to, recipientTo, reason) = expire
            ? (BcastEnvelopeStatus.Expired, BcastRecipientStatus.Expired, BcastReasons.BcastExpired)
            : (BcastEnvelopeStatus.Canceled, BcastRecipientStatus.Canceled, BcastReasons.BcastCanceled);
        var events = new List<BcastEvent>
        {
            new BroadcastStatusChanged(ctx.TenantId, envelope.BroadcastId, ctx.ActorUserId, reason.Name, ctx.Now.Value, action, envelope.Status, to, why),
        };
        // Recipients in id order, so the same state gives the same events. A CONCLUDED recipient keeps its acknowledgement.
        foreach (var recipient in state.Recipients.Values.Where(r => r.Status != BcastRecipientStatus.Concluded))
            events.Add(Recipient(ctx, recipient, action, recipientTo, reason) with { Reference = why });
        return new Decision<BcastEvent>.Accepted(events, reason, []);
    }

    /// <summary>Whether <paramref name="ack"/> satisfies <paramref name="required"/>: READ &lt; CONFIRM &lt; ACTION_CONFIRM; DECLINED answers anything.</summary>
    public static bool Satisfies(BcastAckType ack, BcastRequiredAck required) => ack switch
    {
        BcastAckType.Declined => true,
        BcastAckType.Read => required <= BcastRequiredAck.Read,
        BcastAckType.Confirm => required <= BcastRequiredAck.Confirm,
        BcastAckType.ActionConfirm => true,
        _ => false,
    };

    /// <summary>The key a recipient's follow-up prompts are deduplicated by: the envelope's, per recipient.</summary>
    public static string PromptKey(BcastEnvelope envelope, string recipientId) => envelope.PromptDedupeKey + ":" + recipientId;

    /// <summary>
    /// The outbox key of a follow-up prompt: equal for the same prompt key and recipient version, so a repeat is
    /// suppressed by the outbox unless the recipient's state changed in between (§8.2 MHP: prompt_dedupe_key).
    /// </summary>
    public static string PromptIdempotencyKey(string tenantId, string broadcastId, string recipientId, string promptKey, int version) =>
        "bcast_prompt_" + Hashing.ShortHash(32, tenantId, broadcastId, recipientId, promptKey, version.ToString(CultureInfo.InvariantCulture));

    /// <summary>True when a prompt with <paramref name="promptKey"/> now would repeat the recipient's last one: same key, no state change since.</summary>
    public static bool IsRepeatPrompt(BcastRecipient recipient, string promptKey) =>
        string.Equals(recipient.LastPromptDedupeKey, promptKey, StringComparison.Ordinal) && recipient.LastPromptVersion == recipient.Version;

    /// <summary>Folds one event into the broadcast's state (envelope or recipient). Rebuild = fold in event id order.</summary>
    public static BcastState Evolve(BcastState state, BcastEvent e, long eventId)
    {
        ArgumentNullException.ThrowIfNull(state);
        return e switch
        {
            BcastEnvelopeEvent envelopeEvent => state with { Envelope = EvolveEnvelope(state.Envelope, envelopeEvent, eventId) },
            BcastRecipientTransitioned t => state with { Recipients = state.Recipients.SetItem(t.RecipientId, EvolveRecipient(state.Recipient(t.RecipientId), t, eventId)) },
            _ => throw new InvalidOperationException($"ledger event {eventId}: unknown BCAST event {e.GetType().Name}"),
        };
    }

    /// <summary>Folds an envelope event. Only the draft sets content; a status change must start from the current status.</summary>
    public static BcastEnvelope EvolveEnvelope(BcastEnvelope? envelope, BcastEnvelopeEvent e, long eventId) => (envelope, e) switch
    {
        (null, BroadcastDraftCreated d) => new BcastEnvelope(d.TenantId, d.BroadcastId, d.ActorUserId, d.Classification, d.AudienceSpec,
            d.ContentPayloadRef, d.RequiredAck, d.ExpiryAt, d.PromptDedupeKey, d.EnvelopeHash, BcastEnvelopeStatus.DraftCreated, null,
            d.ReasonCode, eventId, d.At, d.At, d.ContentText),
        ({ } s, BroadcastDraftCreated) => throw new InvalidOperationException($"ledger event {eventId} drafts {s.BroadcastId}, which exists: the envelope is immutable"),
        ({ } s, BroadcastStatusChanged c) when c.From == s.Status => s with
        {
            Status = c.To,
            SentAt = c.To == BcastEnvelopeStatus.Sent ? c.At : s.SentAt,
            LastReasonCode = c.ReasonCode,
            SourceEventId = eventId,
            UpdatedAt = c.At,
        },
        _ => throw new InvalidOperationException($"ledger event {eventId} ({e.GetType().Name}) does not apply to broadcast {envelope?.BroadcastId ?? "(none)"} ({(envelope is null ? "missing" : WireNames.Of(envelope.Status))})"),
    };

    /// <summary>Folds a recipient event. A new recipient starts with a delivery; every other event must start from the current status.</summary>
    public static BcastRecipient EvolveRecipient(BcastRecipient? recipient, BcastRecipientTransitioned e, long eventId)
    {
        if (recipient is null)
        {
            if (e.Action != BcastAction.DeliverCommit || e.From is not null)
                throw new InvalidOperationException($"ledger event {eventId} ({WireNames.Of(e.Action)}) precedes recipient {e.RecipientId}'s first delivery");
            return new BcastRecipient(e.TenantId, e.BroadcastId, e.RecipientId, e.To, e.Region!.Value, e.DeliveryMethod!.Value, e.FallbackStep!.Value, 1,
                e.DeliveryRequestRef!, e.WaitUntil, e.FollowupImmediate, null, null, null, null, null, null, null, null, 1,
                e.Action, e.ReasonCode, eventId, e.At, e.At);
        }
        if (e.From != recipient.Status)
            throw new InvalidOperationException($"ledger event {eventId} moves recipient {e.RecipientId} from {(e.From is { } f ? WireNames.Of(f) : "new")}, but it is {WireNames.Of(recipient.Status)}");
        var next = recipient with
        {
            Status = e.To,
            Version = recipient.Version + 1,
            LastAction = e.Action,
            LastReasonCode = e.ReasonCode,
            SourceEventId = eventId,
            UpdatedAt = e.At,
        };
        return e.Action switch
        {
            BcastAction.DeliverCommit => next with
            {
                LastDeliveryMethod = e.DeliveryMethod!.Value,
                FallbackStep = e.FallbackStep!.Value,
                AttemptCount = recipient.AttemptCount + 1,
                LastDeliveryRequestRef = e.DeliveryRequestRef!,
                WaitUntil = e.WaitUntil,
                FollowupImmediate = e.FollowupImmediate,
                RetryAt = null,
                ReminderDueAt = null,
            },
            BcastAction.DeferCommit => next with { RetryAt = e.RetryAt, ReminderDueAt = e.ReminderDueAt },
            BcastAction.ReminderFiredCommit => next with { ReminderRef = e.ReminderRef, LastPromptDedupeKey = e.PromptDedupeKey, LastPromptVersion = next.Version },
            BcastAction.AckCommit => next with { AckType = e.AckType, AckRecordId = e.AckRecordId },
            BcastAction.EscalateCommit => next with { SenderNoticeRef = e.SenderNoticeRef },
            BcastAction.DeliveryProofCommit => next with
            {
                LastDeliveryAttemptId = e.DeliveryAttemptId,
                LastDeliveryOutcome = e.DeliveryOutcome,
                LastDeliveryProofRef = e.DeliveryProofRef,
                FailedAttemptCount = recipient.FailedAttemptCount + (e.DeliveryOutcome == BcastDeliveryOutcome.Failed ? 1 : 0),
            },
            _ => next,
        };
    }

    /// <summary>A recipient event from the recipient's current status, with the action's fields left for the caller.</summary>
    private static BcastRecipientTransitioned Recipient(BcastContext ctx, BcastRecipient r, BcastAction action, BcastRecipientStatus to, ReasonCode reason) =>
        new(ctx.TenantId, r.BroadcastId, r.RecipientId, ctx.ActorUserId, reason.Name, ctx.Now.Value, action, r.Status, to);

    private static Decision<BcastEvent>.Rejected NoRecipient(BcastEnvelope envelope, string recipientId) =>
        NotFound($"recipient {recipientId} has had no delivery of broadcast {envelope.BroadcastId}");

    private static Decision<BcastEvent>.Rejected Schema(string detail) => new(BcastReasons.BcastFailSchemaInvalid, detail);

    private static Decision<BcastEvent>.Rejected NotFound(string detail) => new(BcastReasons.BcastFailNotFound, detail);

    private static Decision<BcastEvent>.Rejected Transition(string detail) => new(BcastReasons.BcastFailStateTransitionInvalid, detail);
}
