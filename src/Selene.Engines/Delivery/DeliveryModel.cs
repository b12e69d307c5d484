namespace Selene.Engines.Delivery;

/// <summary>The channels a provider delivers on (reference §9 DeliveryChannel).</summary>
public enum DeliveryChannel
{
    /// <summary>Text message; gated by the user's SMS app setup (§11.1).</summary>
    Sms,
    /// <summary>E-mail (SMTP).</summary>
    Email,
    /// <summary>WhatsApp, through a configured gateway.</summary>
    Whatsapp,
    /// <summary>WeChat, through a configured gateway; its sends cannot be canceled.</summary>
    Wechat,
    /// <summary>The Selene App (BCAST's SELENE_APP).</summary>
    AppPush,
}

/// <summary>
/// Where one attempt stands. PENDING is recorded by the send (no provider I/O yet); the worker's proof moves it to
/// SENT or FAILED; a PENDING attempt may be CANCELED. SENT, FAILED and CANCELED are final.
/// </summary>
public enum DeliveryStatus
{
    /// <summary>Recorded; the outbox worker has not settled the provider's answer yet.</summary>
    Pending,
    /// <summary>The provider accepted it; the proof is recorded.</summary>
    Sent,
    /// <summary>It failed for good (no binding, a provider rejection, retries used up).</summary>
    Failed,
    /// <summary>Canceled before its send.</summary>
    Canceled,
}

/// <summary>What changed an attempt: one ledger event type each.</summary>
public enum DeliveryAction
{
    /// <summary>The send was recorded PENDING (DELIVERY_SEND_COMMIT).</summary>
    Send,
    /// <summary>The send found no binding for the channel and settled FAILED at once (DELIVERY_SEND_COMMIT).</summary>
    ChannelUnavailable,
    /// <summary>The provider accepted it (DELIVERY_PROOF_COMMIT).</summary>
    Proof,
    /// <summary>The provider's failure was final (DELIVERY_PROOF_COMMIT).</summary>
    Fail,
    /// <summary>Canceled before the send (DELIVERY_CANCEL_COMMIT).</summary>
    Cancel,
}

/// <summary>Where a user's channel setup came from (§11.1 setup_source).</summary>
public enum ChannelSetupSource
{
    Onboarding,
    FirstSendRequest,
    Settings,
}

/// <summary>Whether a user's SMS setup is done (§11.1 setup_state; BLOCKED is not modelled: an operator clears the flag instead).</summary>
public enum ChannelSetupState
{
    /// <summary>SMS is not set up: an SMS send is refused.</summary>
    InProgress,
    /// <summary>sms_app_setup_complete is true.</summary>
    Complete,
}

/// <summary>A provider's health (§9).</summary>
public enum ProviderHealth
{
    Healthy,
    Degraded,
    Unavailable,
}

/// <summary>A provider's latency bucket (§9).</summary>
public enum LatencyBucket
{
    Low,
    Medium,
    High,
}

/// <summary>How a provider's answer to a send is classified (AT-DELIVERY-02: deterministic status mapping).</summary>
public enum ProviderVerdict
{
    /// <summary>Taken: the attempt is SENT with its proof.</summary>
    Accepted,
    /// <summary>Not now: the same attempt is tried again while attempts remain.</summary>
    Retryable,
    /// <summary>Never: the attempt is FAILED.</summary>
    Rejected,
}

/// <summary>Every PH1.DELIVERY ledger event (two aggregates: attempts, and users' channel setups).</summary>
public abstract record DeliveryEvent;

/// <summary>
/// One change of an attempt. The send fills the attempt's facts (message, recipient, channel, address, content, who
/// asked and where it came from); the proof fills the provider's references; every event carries the status after it
/// and the attempt's reason code. Stored whole, so the fold needs nothing else.
/// </summary>
public sealed record DeliveryAttemptEvent(
    string DeliveryAttemptId,
    DeliveryAction Action,
    DeliveryStatus Status,
    string ActorUserId,
    string ReasonCode,
    long At,
    DeliverySendFacts? Send,
    string? ProviderRef,
    string? ProviderMessageRef,
    string? DeliveryProofRef) : DeliveryEvent;

/// <summary>What a send recorded: the request, and the address the recipient's binding named at that time (null when none).</summary>
/// <param name="Source">Who asked: BCAST (the settlement goes back to it) or another engine's handoff.</param>
public sealed record DeliverySendFacts(
    string TenantId,
    string MessageId,
    string RecipientId,
    DeliveryChannel Channel,
    string? Address,
    string PayloadRef,
    string ContentText,
    string Classification,
    string SimulationContext,
    string IdempotencyKey,
    string Source,
    string DeliveryRequestRef);

/// <summary>One user's channel setup after a change: every binding (channel wire name → address) and the SMS flags.</summary>
public sealed record ChannelSetupEvent(
    string UserId,
    IReadOnlyDictionary<string, string> Bindings,
    bool SmsAppSetupComplete,
    bool SmsReadPermissionOk,
    bool SmsSendPermissionOk,
    ChannelSetupSource SetupSource,
    string ActorUserId,
    long At) : DeliveryEvent;

/// <summary>The projection of one attempt (<c>delivery_attempt_current</c>).</summary>
public sealed record DeliveryAttempt(
    string DeliveryAttemptId,
    DeliverySendFacts Send,
    DeliveryStatus Status,
    string ReasonCode,
    string? ProviderRef,
    string? ProviderMessageRef,
    string? DeliveryProofRef,
    string CreatedBy,
    long CreatedAt,
    long UpdatedAt,
    long? SettledAt,
    long SourceEventId);

/// <summary>The projection of one user's channel setup (<c>delivery_channel_setup_current</c>), read before any send.</summary>
public sealed record ChannelSetup(
    string UserId,
    IReadOnlyDictionary<string, string> Bindings,
    bool SmsAppSetupComplete,
    bool SmsReadPermissionOk,
    bool SmsSendPermissionOk,
    ChannelSetupSource SetupSource,
    string UpdatedBy,
    long CreatedAt,
    long UpdatedAt)
{
    /// <summary>§11.1 setup_state.</summary>
    public ChannelSetupState State => SmsAppSetupComplete ? ChannelSetupState.Complete : ChannelSetupState.InProgress;

    /// <summary>The recipient's address on <paramref name="channel"/>, or null when it has none.</summary>
    public string? AddressOf(DeliveryChannel channel) => Bindings.GetValueOrDefault(WireNames.Of(channel));
}

/// <summary>A PH1.DELIVERY command (one per simulation that changes state).</summary>
public abstract record DeliveryCommand;

/// <summary>DELIVERY_SEND_COMMIT: record an attempt (reference §9 send request). Runs only as a handoff.</summary>
public sealed record SendDelivery(
    string MessageId,
    string RecipientId,
    string Channel,
    string PayloadRef,
    string ContentText,
    string Classification,
    string? SimulationContext,
    string IdempotencyKey,
    string Source,
    string DeliveryRequestRef) : DeliveryCommand;

/// <summary>DELIVERY_PROOF_COMMIT: the worker's report of the provider's answer. Runs only as a handoff.</summary>
/// <param name="Outcome">SENT or FAILED.</param>
/// <param name="FailureReason">For FAILED: DELIVERY_PROVIDER_SEND_FAILED (retries used up) or DELIVERY_PROVIDER_REJECTED.</param>
public sealed record RecordDeliveryProof(
    string DeliveryAttemptId,
    string Outcome,
    string ProviderRef,
    string? ProviderMessageRef,
    string? DeliveryProofRef,
    string? FailureReason) : DeliveryCommand;

/// <summary>DELIVERY_CANCEL_COMMIT: cancel a PENDING attempt.</summary>
public sealed record CancelDelivery(string DeliveryAttemptId) : DeliveryCommand;

/// <summary>
/// DELIVERY_CHANNEL_SETUP_COMMIT: change one user's setup. <paramref name="Bindings"/> names only the channels that
/// change (an empty address removes a binding); a flag left null keeps its value.
/// </summary>
public sealed record SetupChannels(
    string UserId,
    IReadOnlyDictionary<string, string>? Bindings,
    bool? SmsAppSetupComplete,
    bool? SmsReadPermissionOk,
    bool? SmsSendPermissionOk,
    string SetupSource) : DeliveryCommand;

/// <summary>What a decision needs of its surroundings: the tenant, the acting user and now (ns).</summary>
public sealed record DeliveryContext(string TenantId, string ActorUserId, long Now);
