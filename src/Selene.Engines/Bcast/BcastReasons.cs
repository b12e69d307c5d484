namespace Selene.Engines.Bcast;

/// <summary>
/// PH1.BCAST's engine id and reason codes (block 14xxx: 140xx successes, 141xx refusals and failures), with the
/// names of reference §8.3. Ids are stable once allocated and names are never reused. A refusal that the same
/// request can pass later (the WAITING window elapses) is retryable; every other refusal fails the same way again.
/// </summary>
public static class BcastReasons
{
    /// <summary>The journal's engine id for broadcasts (implementation PH1.BCAST.001).</summary>
    public const string EngineId = "PH1.BCAST";

    /// <summary>A broadcast envelope was drafted (DRAFT_CREATED).</summary>
    public static readonly ReasonCode BcastDraftCreated = new("BCAST_DRAFT_CREATED", 14001, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A non-urgent delivery was handed to DELIVERY; the recipient WAITs for the window.</summary>
    public static readonly ReasonCode BcastDelivered = new("BCAST_DELIVERED", 14002, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The recipient was DEFERRED until a retry time, without a reminder.</summary>
    public static readonly ReasonCode BcastDeferred = new("BCAST_DEFERRED", 14003, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The recipient acknowledged and is CONCLUDED.</summary>
    public static readonly ReasonCode BcastAckRecorded = new("BCAST_ACK_RECORDED", 14004, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The recipient moved to FOLLOWUP and the sender is told (sender_notice_ref).</summary>
    public static readonly ReasonCode BcastEscalated = new("BCAST_ESCALATED", 14005, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The envelope and its open recipients EXPIRED.</summary>
    public static readonly ReasonCode BcastExpired = new("BCAST_EXPIRED", 14006, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The envelope and its open recipients were CANCELED.</summary>
    public static readonly ReasonCode BcastCanceled = new("BCAST_CANCELED", 14007, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>The recipient was deferred with a reminder handoff (REMINDER_SET); REM schedules it.</summary>
    public static readonly ReasonCode BcastReminderSet = new("BCAST_REMINDER_SET", 14008, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>REM's reminder fired (REMINDER_FIRED); the follow-up is handed on.</summary>
    public static readonly ReasonCode BcastReminderFired = new("BCAST_REMINDER_FIRED", 14009, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An EMERGENCY delivery was handed to DELIVERY and the recipient went straight to FOLLOWUP.</summary>
    public static readonly ReasonCode BcastFollowupImmediateUrgent = new("BCAST_FOLLOWUP_IMMEDIATE_URGENT", 14010, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>DELIVERY's outcome of an attempt was recorded on the recipient; nothing else followed.</summary>
    public static readonly ReasonCode BcastDeliveryProofRecorded = new("BCAST_DELIVERY_PROOF_RECORDED", 14011, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>An attempt failed and the recipient's delivery moved one fallback step on (app → SMS → WhatsApp/WeChat → Email).</summary>
    public static readonly ReasonCode BcastFallbackAdvanced = new("BCAST_FALLBACK_ADVANCED", 14012, EngineId, Severity.Info, ReasonKind.Success, false);

    /// <summary>A request's shape or bounds are wrong (an id, a text, a time, an enum value).</summary>
    public static readonly ReasonCode BcastFailSchemaInvalid = new("BCAST_FAIL_SCHEMA_INVALID", 14101, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>The broadcast, or the recipient on it, does not exist.</summary>
    public static readonly ReasonCode BcastFailNotFound = new("BCAST_FAIL_NOT_FOUND", 14102, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    /// <summary>The action is not allowed from the current recipient or envelope state (§8.2).</summary>
    public static readonly ReasonCode BcastFailStateTransitionInvalid = new("BCAST_FAIL_STATE_TRANSITION_INVALID", 14103, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A delivery came without its simulation_context.</summary>
    public static readonly ReasonCode BcastFailSimulationContextMissing = new("BCAST_FAIL_SIMULATION_CONTEXT_MISSING", 14104, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>Escalating a WAITING recipient before its window ends; the same request succeeds once it has.</summary>
    public static readonly ReasonCode BcastFailWaitingWindowNotElapsed = new("BCAST_FAIL_WAITING_WINDOW_NOT_ELAPSED", 14105, EngineId, Severity.Warn, ReasonKind.Conflict, true);
    /// <summary>The delivery method breaks the fallback policy (app first, one step at a time, region stable).</summary>
    public static readonly ReasonCode BcastFailFallbackPolicy = new("BCAST_FAIL_FALLBACK_POLICY", 14106, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A broken invariant inside PH1.BCAST (never the caller's input).</summary>
    public static readonly ReasonCode BcastFailInternal = new("BCAST_FAIL_INTERNAL", 14107, EngineId, Severity.Error, ReasonKind.Internal, false);
    /// <summary>The acknowledgement does not satisfy the envelope's required_ack (KC.18); the recipient stays open.</summary>
    public static readonly ReasonCode BcastFailAckRequirementNotMet = new("BCAST_FAIL_ACK_REQUIREMENT_NOT_MET", 14108, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>An acknowledgement is the recipient's own: another user cannot acknowledge for them.</summary>
    public static readonly ReasonCode BcastFailAckNotRecipient = new("BCAST_FAIL_ACK_NOT_RECIPIENT", 14109, EngineId, Severity.Warn, ReasonKind.Forbidden, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(BcastReasons));
}
