namespace Selene.Engines.Delivery;

/// <summary>
/// PH1.DELIVERY's engine id and reason codes (block 15xxx: 150xx successes, 151xx refusals and failures), with the
/// names of reference §9 and the few this build adds (the SMS pre-send gate, a terminal provider rejection, attempt
/// states). Ids are stable once allocated and names are never reused. A provider failure that the same attempt may
/// pass later is retryable: the outbox tries the same attempt again (same attempt id); everything else is final.
/// </summary>
public static class DeliveryReasons
{
    /// <summary>The journal's engine id for delivery attempts.</summary>
    public const string EngineId = "PH1.DELIVERY";

    /// <summary>The attempt was recorded PENDING; the outbox worker performs the send.</summary>
    public static readonly ReasonCode DeliveryOkSend = new("DELIVERY_OK_SEND", 15001, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An attempt's normalized status was read.</summary>
    public static readonly ReasonCode DeliveryOkStatus = new("DELIVERY_OK_STATUS", 15002, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A PENDING attempt was CANCELED before its send.</summary>
    public static readonly ReasonCode DeliveryOkCancel = new("DELIVERY_OK_CANCEL", 15003, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A provider's health was read.</summary>
    public static readonly ReasonCode DeliveryOkHealth = new("DELIVERY_OK_HEALTH", 15004, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The provider accepted the attempt: SENT with its proof.</summary>
    public static readonly ReasonCode DeliveryOkProof = new("DELIVERY_OK_PROOF", 15005, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The attempt settled FAILED (the failure's own code is the attempt's reason_code).</summary>
    public static readonly ReasonCode DeliveryOkFailureRecorded = new("DELIVERY_OK_FAILURE_RECORDED", 15006, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A user's channel setup (addresses, SMS setup) was recorded.</summary>
    public static readonly ReasonCode DeliveryOkChannelSetup = new("DELIVERY_OK_CHANNEL_SETUP", 15007, EngineId, Severity.Info, ReasonKind.Success, false);

    /// <summary>A request's shape or bounds are wrong (an id, a channel, an address, a text).</summary>
    public static readonly ReasonCode DeliveryInputSchemaInvalid = new("DELIVERY_INPUT_SCHEMA_INVALID", 15101, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>A send came without its simulation_context.</summary>
    public static readonly ReasonCode DeliverySimulationContextMissing = new("DELIVERY_SIMULATION_CONTEXT_MISSING", 15102, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>The recipient has no binding for the channel: the attempt settles FAILED with this code, so BCAST can fall back.</summary>
    public static readonly ReasonCode DeliveryChannelUnavailable = new("DELIVERY_CHANNEL_UNAVAILABLE", 15103, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The provider could not take the attempt now (network, 5xx, 429, a transient SMTP reply): retried with the same attempt id.</summary>
    public static readonly ReasonCode DeliveryProviderSendFailed = new("DELIVERY_PROVIDER_SEND_FAILED", 15104, EngineId, Severity.Warn, ReasonKind.Unavailable, true);
    /// <summary>No attempt with that id in this tenant.</summary>
    public static readonly ReasonCode DeliveryAttemptNotFound = new("DELIVERY_ATTEMPT_NOT_FOUND", 15105, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    /// <summary>The channel cannot cancel (WeChat), or the attempt is no longer PENDING.</summary>
    public static readonly ReasonCode DeliveryCancelNotSupported = new("DELIVERY_CANCEL_NOT_SUPPORTED", 15107, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The named provider is not configured in this process.</summary>
    public static readonly ReasonCode DeliveryProviderHealthUnavailable = new("DELIVERY_PROVIDER_HEALTH_UNAVAILABLE", 15109, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    /// <summary>The worker cannot run the delivery pipeline (no providers were composed into it).</summary>
    public static readonly ReasonCode DeliveryInternalPipelineError = new("DELIVERY_INTERNAL_PIPELINE_ERROR", 15110, EngineId, Severity.Error, ReasonKind.Unavailable, true);
    /// <summary>SMS before the user's SMS app setup is complete (§11.1 sms_app_setup_complete): the send is refused.</summary>
    public static readonly ReasonCode DeliverySmsSetupRequired = new("DELIVERY_SMS_SETUP_REQUIRED", 15111, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The provider refused the attempt for good (4xx, a permanent SMTP reply, a bad address): settled FAILED.</summary>
    public static readonly ReasonCode DeliveryProviderRejected = new("DELIVERY_PROVIDER_REJECTED", 15112, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The attempt's state does not allow this (a proof for a settled attempt, the same send twice).</summary>
    public static readonly ReasonCode DeliveryAttemptStateInvalid = new("DELIVERY_ATTEMPT_STATE_INVALID", 15113, EngineId, Severity.Warn, ReasonKind.Conflict, false);

    /// <summary>The user has no channel setup in this tenant (a read).</summary>
    public static readonly ReasonCode DeliveryChannelSetupNotFound = new("DELIVERY_CHANNEL_SETUP_NOT_FOUND", 15114, EngineId, Severity.Warn, ReasonKind.NotFound, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(DeliveryReasons));
}
