using System.Text.RegularExpressions;

namespace Selene.Engines.Delivery;

/// <summary>The outbox event types PH1.DELIVERY emits and consumes (the issue-12 flow contract).</summary>
public static class DeliveryHandoffs
{
    /// <summary>Outbox operation type of every handoff: another simulation's commit.</summary>
    public const string OperationType = "SIMULATION_COMMIT";

    /// <summary>BCAST's request to deliver to one recipient (consumed: DELIVERY_SEND_COMMIT).</summary>
    public const string BcastDeliverySendRequested = "BCAST_DELIVERY_SEND_REQUESTED";

    /// <summary>An attempt's own send, keyed by the attempt id (consumed by DELIVERY's stage, which calls the provider).</summary>
    public const string AttemptDue = "DELIVERY_ATTEMPT_DUE";

    /// <summary>A settled attempt of a BCAST delivery, for BCAST_DELIVERY_PROOF_COMMIT; keyed by attempt id + ":settled".</summary>
    public const string AttemptSettledBcast = "DELIVERY_ATTEMPT_SETTLED_BCAST";

    /// <summary>The source of a send that BCAST asked for: its settlement goes back to BCAST.</summary>
    public const string SourceBcast = "BCAST";
}

/// <summary>The deterministic mapping tables of PH1.DELIVERY (AT-DELIVERY-02).</summary>
public static class DeliveryMapping
{
    /// <summary>BCAST's delivery method (wire name) → the channel: SELENE_APP is the app push; the others keep their name.</summary>
    public static DeliveryChannel? ChannelOfBcastMethod(string? method) => method switch
    {
        "SELENE_APP" => DeliveryChannel.AppPush,
        "SMS" => DeliveryChannel.Sms,
        "WHATSAPP" => DeliveryChannel.Whatsapp,
        "WECHAT" => DeliveryChannel.Wechat,
        "EMAIL" => DeliveryChannel.Email,
        _ => null,
    };

    /// <summary>An HTTP answer of a webhook or gateway: 2xx taken; 408, 425, 429 and 5xx not now; anything else (3xx, 4xx) never.</summary>
    public static ProviderVerdict OfHttpStatus(int status) =>
        status is >= 200 and <= 299 ? ProviderVerdict.Accepted
        : status is 408 or 425 or 429 or (>= 500 and <= 599) ? ProviderVerdict.Retryable
        : ProviderVerdict.Rejected;

    /// <summary>An SMTP reply code (RFC 5321 §4.2.1): 2yz taken, 4yz transient, anything else permanent.</summary>
    public static ProviderVerdict OfSmtpReply(int code) =>
        code is >= 200 and <= 299 ? ProviderVerdict.Accepted
        : code is >= 400 and <= 499 ? ProviderVerdict.Retryable
        : ProviderVerdict.Rejected;

    /// <summary>The catalog's normalized status bucket (§9: QUEUED | SENT | FAILED) of an attempt's status.</summary>
    public static string NormalizedStatus(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => "QUEUED",
        DeliveryStatus.Sent => "SENT",
        _ => "FAILED",
    };
}

/// <summary>
/// PH1.DELIVERY's pure decisions: the attempt state machine (<see cref="Next"/>), the deterministic attempt id, the
/// send (SMS pre-send gate, channel binding), the proof, the cancel and the channel setup, and the folds.
/// </summary>
public static partial class DeliveryDecider
{
    /// <summary>Longest content text a send carries (characters).</summary>
    public const int MaxContentText = 4000;

    /// <summary>
    /// The attempt state machine: the status after <paramref name="action"/> from <paramref name="from"/> (null: the
    /// attempt does not exist yet), or null when the action is illegal there. The one table every decision checks.
    /// </summary>
    public static DeliveryStatus? Next(DeliveryStatus? from, DeliveryAction action) => (from, action) switch
    {
        (null, DeliveryAction.Send) => DeliveryStatus.Pending,
        (null, DeliveryAction.ChannelUnavailable) => DeliveryStatus.Failed,
        (DeliveryStatus.Pending, DeliveryAction.Proof) => DeliveryStatus.Sent,
        (DeliveryStatus.Pending, DeliveryAction.Fail) => DeliveryStatus.Failed,
        (DeliveryStatus.Pending, DeliveryAction.Cancel) => DeliveryStatus.Canceled,
        _ => null,
    };

    /// <summary>
    /// The attempt id (reference §9): <c>delivery_</c> + 16 hex of the length-prefixed SHA-256 of tenant, message,
    /// recipient, channel and idempotency key. The same request always names the same attempt, so a re-sent attempt
    /// reaches the provider under the same id.
    /// </summary>
    public static string AttemptId(string tenantId, string messageId, string recipientId, DeliveryChannel channel, string idempotencyKey) =>
        "delivery_" + Hashing.ShortHash(16, tenantId, messageId, recipientId, WireNames.Of(channel), idempotencyKey);

    /// <summary>An attempt id's shape.</summary>
    public static bool IsAttemptId(string? id) => IdRules.IsShortHashId(id, "delivery_");

    /// <summary>A reference or id field: 1..128 printable characters.</summary>
    public static bool IsRef(string? text) => IdRules.IsBoundedText(text, 128);

    /// <summary>Whether <paramref name="address"/> is a well-formed address on <paramref name="channel"/>.</summary>
    public static bool IsAddress(DeliveryChannel channel, string address) => channel switch
    {
        DeliveryChannel.Email => address.Length <= 254 && EmailShape().IsMatch(address),
        DeliveryChannel.Sms or DeliveryChannel.Whatsapp => PhoneShape().IsMatch(address),
        _ => IsRef(address),
    };

    [GeneratedRegex("^[^@\\s<>\",;]+@[A-Za-z0-9.-]+$")]
    private static partial Regex EmailShape();

    [GeneratedRegex("^\\+?[0-9]{6,20}$")]
    private static partial Regex PhoneShape();

    /// <summary>Bounds and shapes of a command, before any storage (null when valid).</summary>
    public static Decision<DeliveryEvent>.Rejected? Validate(DeliveryCommand command) => command switch
    {
        SendDelivery s =>
            !IdRules.IsValidName(s.RecipientId) ? Schema("recipient_id is a user id: 1..64 characters of [A-Za-z0-9_.-]")
            : !IsRef(s.MessageId) || !IsRef(s.IdempotencyKey) || !IsRef(s.DeliveryRequestRef) || !IsRef(s.Source)
                ? Schema("message_id, idempotency_key, source and delivery_request_ref are 1..128 printable characters")
            : !WireNames.TryParse<DeliveryChannel>(s.Channel, out _) ? Schema("channel must be SMS, EMAIL, WHATSAPP, WECHAT or APP_PUSH")
            : !IsRef(s.PayloadRef) || !IsRef(s.Classification) ? Schema("payload_ref and classification are 1..128 printable characters")
            : s.ContentText.Length > MaxContentText || !IdRules.IsWellFormedUtf16(s.ContentText) ? Schema($"content_text is at most {MaxContentText} characters")
            : s.SimulationContext is { Length: > 0 } && !IsRef(s.SimulationContext) ? Schema("simulation_context is 1..128 printable characters")
            : null,
        RecordDeliveryProof p =>
            !IsAttemptId(p.DeliveryAttemptId) ? Schema("delivery_attempt_id must look like delivery_<16 hex>")
            : p.Outcome is not ("SENT" or "FAILED") ? Schema("outcome must be SENT or FAILED")
            : !IsRef(p.ProviderRef) ? Schema("provider_ref is 1..128 printable characters")
            : p.ProviderMessageRef is { } m && !IdRules.IsBoundedText(m, 256) ? Schema("provider_message_ref is 1..256 printable characters")
            : p.DeliveryProofRef is { } r && !IdRules.IsBoundedText(r, 256) ? Schema("delivery_proof_ref is 1..256 printable characters")
            : p.Outcome == "SENT" && p.DeliveryProofRef is null ? Schema("a SENT outcome carries its delivery_proof_ref")
            : p.Outcome == "FAILED" && FailureReasonOf(p.FailureReason) is null
                ? Schema("a FAILED outcome names failure_reason DELIVERY_PROVIDER_SEND_FAILED or DELIVERY_PROVIDER_REJECTED")
            : null,
        CancelDelivery c => IsAttemptId(c.DeliveryAttemptId) ? null : Schema("delivery_attempt_id must look like delivery_<16 hex>"),
        SetupChannels u =>
            !IdRules.IsValidName(u.UserId) ? Schema("user_id is 1..64 characters of [A-Za-z0-9_.-]")
            : !WireNames.TryParse<ChannelSetupSource>(u.SetupSource, out _) ? Schema("setup_source must be ONBOARDING, FIRST_SEND_REQUEST or SETTINGS")
            : (u.Bindings ?? new Dictionary<string, string>()).FirstOrDefault(b => !WireNames.TryParse<DeliveryChannel>(b.Key, out _)) is { Key: { } badChannel }
                ? Schema($"bindings: '{IdRules.Shorten(badChannel)}' is not a channel (SMS, EMAIL, WHATSAPP, WECHAT, APP_PUSH)")
            : (u.Bindings ?? new Dictionary<string, string>()).FirstOrDefault(b => b.Value.Length > 0 && !IsAddress(WireNames.Parse<DeliveryChannel>(b.Key), b.Value)) is { Key: { } badAddress }
                ? Schema($"bindings: the {badAddress} address is not well-formed (empty removes the binding)")
            : null,
        _ => Schema("unknown command"),
    };

    /// <summary>The final failure reasons a proof may name.</summary>
    public static ReasonCode? FailureReasonOf(string? name) =>
        name == DeliveryReasons.DeliveryProviderSendFailed.Name ? DeliveryReasons.DeliveryProviderSendFailed
        : name == DeliveryReasons.DeliveryProviderRejected.Name ? DeliveryReasons.DeliveryProviderRejected
        : null;

    /// <summary>
    /// DELIVERY_SEND_COMMIT. Order: simulation context; the attempt is new; SMS needs the recipient's completed SMS
    /// setup (refused otherwise, nothing recorded); a channel the recipient has no binding for settles FAILED at once
    /// (DELIVERY_CHANNEL_UNAVAILABLE, handed back to BCAST); otherwise PENDING, and the attempt's own send is due now.
    /// </summary>
    public static Decision<DeliveryEvent> DecideSend(DeliveryAttempt? existing, SendDelivery s, ChannelSetup? setup, DeliveryContext ctx)
    {
        if (Validate(s) is { } invalid) return invalid;
        if (string.IsNullOrEmpty(s.SimulationContext))
            return new Decision<DeliveryEvent>.Rejected(DeliveryReasons.DeliverySimulationContextMissing, "a send needs its simulation_context");
        var channel = WireNames.Parse<DeliveryChannel>(s.Channel);
        var id = AttemptId(ctx.TenantId, s.MessageId, s.RecipientId, channel, s.IdempotencyKey);
        if (existing is not null)
            return new Decision<DeliveryEvent>.Rejected(DeliveryReasons.DeliveryAttemptStateInvalid, $"attempt {id} exists ({WireNames.Of(existing.Status)})");
        if (channel == DeliveryChannel.Sms && setup is not { SmsAppSetupComplete: true })
            return new Decision<DeliveryEvent>.Rejected(DeliveryReasons.DeliverySmsSetupRequired,
                $"user {s.RecipientId} has not completed the SMS app setup (sms_app_setup_complete): no SMS is sent");
        var address = setup?.AddressOf(channel);
        var facts = new DeliverySendFacts(ctx.TenantId, s.MessageId, s.RecipientId, channel, address, s.PayloadRef, s.ContentText, s.Classification,
            s.SimulationContext, s.IdempotencyKey, s.Source, s.DeliveryRequestRef);
        if (address is null)
        {
            var failed = new DeliveryAttemptEvent(id, DeliveryAction.ChannelUnavailable, Next(null, DeliveryAction.ChannelUnavailable)!.Value, ctx.ActorUserId,
                DeliveryReasons.DeliveryChannelUnavailable.Name, ctx.Now, facts, null, null, null);
            var attempt = Evolve(null, failed, 0);
            return new Decision<DeliveryEvent>.Accepted([failed], DeliveryReasons.DeliveryOkFailureRecorded, Settlement(attempt));
        }
        var pending = new DeliveryAttemptEvent(id, DeliveryAction.Send, Next(null, DeliveryAction.Send)!.Value, ctx.ActorUserId,
            DeliveryReasons.DeliveryOkSend.Name, ctx.Now, facts, null, null, null);
        return new Decision<DeliveryEvent>.Accepted([pending], DeliveryReasons.DeliveryOkSend,
            [new OutboxMessage(DeliveryHandoffs.OperationType, id, DeliveryHandoffs.AttemptDue, new Dictionary<string, string>
            {
                ["tenant_id"] = ctx.TenantId,
                ["delivery_attempt_id"] = id,
            })]);
    }

    /// <summary>DELIVERY_PROOF_COMMIT: a PENDING attempt becomes SENT with its proof, or FAILED with the provider's final reason.</summary>
    public static Decision<DeliveryEvent> DecideProof(DeliveryAttempt? attempt, RecordDeliveryProof p, DeliveryContext ctx)
    {
        if (Validate(p) is { } invalid) return invalid;
        if (attempt is null) return NotFound(p.DeliveryAttemptId);
        var action = p.Outcome == "SENT" ? DeliveryAction.Proof : DeliveryAction.Fail;
        if (Next(attempt.Status, action) is not { } to) return StateInvalid(attempt, action);
        var reason = action == DeliveryAction.Proof ? DeliveryReasons.DeliveryOkProof : FailureReasonOf(p.FailureReason)!;
        var e = new DeliveryAttemptEvent(attempt.DeliveryAttemptId, action, to, ctx.ActorUserId, reason.Name, ctx.Now, null, p.ProviderRef,
            p.ProviderMessageRef, action == DeliveryAction.Proof ? p.DeliveryProofRef : null);
        var after = Evolve(attempt, e, attempt.SourceEventId);
        return new Decision<DeliveryEvent>.Accepted([e], action == DeliveryAction.Proof ? DeliveryReasons.DeliveryOkProof : DeliveryReasons.DeliveryOkFailureRecorded,
            Settlement(after));
    }

    /// <summary>DELIVERY_CANCEL_COMMIT: a PENDING attempt on a channel that can cancel becomes CANCELED; its send then never happens.</summary>
    public static Decision<DeliveryEvent> DecideCancel(DeliveryAttempt? attempt, CancelDelivery c, DeliveryContext ctx)
    {
        if (Validate(c) is { } invalid) return invalid;
        if (attempt is null) return NotFound(c.DeliveryAttemptId);
        if (attempt.Send.Channel == DeliveryChannel.Wechat)
            return new Decision<DeliveryEvent>.Rejected(DeliveryReasons.DeliveryCancelNotSupported, "WeChat sends cannot be canceled");
        if (Next(attempt.Status, DeliveryAction.Cancel) is not { } to) return StateInvalid(attempt, DeliveryAction.Cancel);
        return new Decision<DeliveryEvent>.Accepted(new DeliveryAttemptEvent(attempt.DeliveryAttemptId, DeliveryAction.Cancel, to, ctx.ActorUserId,
            DeliveryReasons.DeliveryOkCancel.Name, ctx.Now, null, null, null, null), DeliveryReasons.DeliveryOkCancel);
    }

    /// <summary>DELIVERY_CHANNEL_SETUP_COMMIT: merges the changed bindings and flags into the user's setup.</summary>
    public static Decision<DeliveryEvent> DecideSetup(ChannelSetup? setup, SetupChannels u, DeliveryContext ctx)
    {
        if (Validate(u) is { } invalid) return invalid;
        var bindings = new SortedDictionary<string, string>(setup?.Bindings.ToDictionary() ?? [], StringComparer.Ordinal);
        foreach (var (channel, address) in u.Bindings ?? new Dictionary<string, string>())
        {
            if (address.Length == 0) bindings.Remove(channel);
            else bindings[channel] = address;
        }
        return new Decision<DeliveryEvent>.Accepted(new ChannelSetupEvent(u.UserId, bindings,
            u.SmsAppSetupComplete ?? setup?.SmsAppSetupComplete ?? false,
            u.SmsReadPermissionOk ?? setup?.SmsReadPermissionOk ?? false,
            u.SmsSendPermissionOk ?? setup?.SmsSendPermissionOk ?? false,
            WireNames.Parse<ChannelSetupSource>(u.SetupSource), ctx.ActorUserId, ctx.Now), DeliveryReasons.DeliveryOkChannelSetup);
    }

    /// <summary>Folds one attempt event (pure; rebuild is this over the ledger).</summary>
    public static DeliveryAttempt Evolve(DeliveryAttempt? state, DeliveryAttemptEvent e, long eventId)
    {
        var settled = e.Status is DeliveryStatus.Pending ? (long?)null : e.At;
        if (state is null)
            return new DeliveryAttempt(e.DeliveryAttemptId, e.Send ?? throw new InvalidOperationException($"attempt {e.DeliveryAttemptId} starts without its send facts"),
                e.Status, e.ReasonCode, e.ProviderRef, e.ProviderMessageRef, e.DeliveryProofRef, e.ActorUserId, e.At, e.At, settled, eventId);
        return state with
        {
            Status = e.Status,
            ReasonCode = e.ReasonCode,
            ProviderRef = e.ProviderRef ?? state.ProviderRef,
            ProviderMessageRef = e.ProviderMessageRef ?? state.ProviderMessageRef,
            DeliveryProofRef = e.DeliveryProofRef ?? state.DeliveryProofRef,
            UpdatedAt = e.At,
            SettledAt = settled,
            SourceEventId = eventId,
        };
    }

    /// <summary>Folds one channel-setup event: the event is the whole setup after the change.</summary>
    public static ChannelSetup Evolve(ChannelSetup? state, ChannelSetupEvent e) => new(e.UserId,
        new SortedDictionary<string, string>(e.Bindings.ToDictionary(), StringComparer.Ordinal), e.SmsAppSetupComplete, e.SmsReadPermissionOk,
        e.SmsSendPermissionOk, e.SetupSource, e.ActorUserId, state?.CreatedAt ?? e.At, e.At);

    /// <summary>
    /// The settlement BCAST hears for a settled attempt it asked for (the flow contract's payload), or nothing for an
    /// attempt of another source or one still PENDING.
    /// </summary>
    public static IReadOnlyList<OutboxMessage> Settlement(DeliveryAttempt attempt)
    {
        if (attempt.Send.Source != DeliveryHandoffs.SourceBcast || attempt.Status is not (DeliveryStatus.Sent or DeliveryStatus.Failed)) return [];
        return [new OutboxMessage(DeliveryHandoffs.OperationType, attempt.DeliveryAttemptId + ":settled", DeliveryHandoffs.AttemptSettledBcast,
            new Dictionary<string, string>
            {
                ["tenant_id"] = attempt.Send.TenantId,
                ["broadcast_id"] = attempt.Send.MessageId,
                ["recipient_id"] = attempt.Send.RecipientId,
                ["delivery_request_ref"] = attempt.Send.DeliveryRequestRef,
                ["delivery_attempt_id"] = attempt.DeliveryAttemptId,
                ["channel"] = WireNames.Of(attempt.Send.Channel),
                ["delivery_status"] = WireNames.Of(attempt.Status),
                ["delivery_proof_ref"] = attempt.Status == DeliveryStatus.Sent ? attempt.DeliveryProofRef ?? "" : "",
                ["provider_message_ref"] = attempt.ProviderMessageRef ?? "",
                ["reason_code"] = attempt.ReasonCode,
                ["retryable"] = "false",
            })];
    }

    private static Decision<DeliveryEvent>.Rejected Schema(string detail) => new(DeliveryReasons.DeliveryInputSchemaInvalid, detail);

    private static Decision<DeliveryEvent>.Rejected NotFound(string id) => new(DeliveryReasons.DeliveryAttemptNotFound, $"no delivery attempt {id} in this tenant");

    private static Decision<DeliveryEvent>.Rejected StateInvalid(DeliveryAttempt attempt, DeliveryAction action) =>
        new(DeliveryReasons.DeliveryAttemptStateInvalid, $"{WireNames.Of(action)} is not allowed: attempt {attempt.DeliveryAttemptId} is {WireNames.Of(attempt.Status)}");
}
