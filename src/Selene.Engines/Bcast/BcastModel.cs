namespace Selene.Engines.Bcast;

/// <summary>The actions of the PH1.BCAST lifecycle, one per simulation of reference §8.3.</summary>
public enum BcastAction
{
    /// <summary>Draft the envelope (BCAST_CREATE_DRAFT).</summary>
    DraftCreate,
    /// <summary>Hand one recipient's delivery to DELIVERY (BCAST_DELIVER_COMMIT).</summary>
    DeliverCommit,
    /// <summary>Defer a recipient, with or without a reminder handoff (BCAST_DEFER_COMMIT).</summary>
    DeferCommit,
    /// <summary>Record that REM's reminder fired (BCAST_REMINDER_FIRED_COMMIT).</summary>
    ReminderFiredCommit,
    /// <summary>Record a recipient's acknowledgement (BCAST_ACK_COMMIT).</summary>
    AckCommit,
    /// <summary>Escalate a recipient to FOLLOWUP and tell the sender (BCAST_ESCALATE_COMMIT).</summary>
    EscalateCommit,
    /// <summary>Expire the envelope and its open recipients (BCAST_EXPIRE_COMMIT).</summary>
    ExpireCommit,
    /// <summary>Cancel the envelope and its open recipients (BCAST_CANCEL_COMMIT).</summary>
    CancelCommit,
    /// <summary>Record DELIVERY's outcome of one attempt, and on a failure walk the fallback one step (BCAST_DELIVERY_PROOF_COMMIT, handoff only).</summary>
    DeliveryProofCommit,
}

/// <summary>What DELIVERY reports for one attempt (reference §9 buckets, settled ones only).</summary>
public enum BcastDeliveryOutcome
{
    /// <summary>The provider accepted the message; the attempt carries a proof.</summary>
    Sent,
    /// <summary>The attempt failed terminally (retries are DELIVERY's, before it reports).</summary>
    Failed,
}

/// <summary>How a broadcast is classified (reference §8.1, runtime set); the classification decides its urgency.</summary>
public enum BcastClassification
{
    /// <summary>Non-urgent: the recipient WAITs for the window.</summary>
    Simple,
    /// <summary>Non-urgent, ranked above SIMPLE for reminders.</summary>
    Priority,
    /// <summary>Urgent: the recipient goes to FOLLOWUP immediately.</summary>
    Emergency,
}

/// <summary>How a recipient is reached (reference §8.1). The Selene App is always first; the others are fallbacks.</summary>
public enum BcastDeliveryMethod
{
    /// <summary>The Selene App inbox (phone vibration + desktop sound).</summary>
    SeleneApp,
    /// <summary>Fallback step 1 in every region.</summary>
    Sms,
    /// <summary>Fallback step 2 in region GLOBAL.</summary>
    Whatsapp,
    /// <summary>Fallback step 2 in region CHINA.</summary>
    Wechat,
    /// <summary>Fallback step 3 in every region.</summary>
    Email,
}

/// <summary>The recipient's region, which fixes the fallback order; it never changes for a recipient.</summary>
public enum BcastRecipientRegion
{
    /// <summary>SMS → WHATSAPP → EMAIL.</summary>
    Global,
    /// <summary>SMS → WECHAT → EMAIL.</summary>
    China,
}

/// <summary>
/// Where one recipient stands (reference §8.2). A recipient row exists from its first delivery; before that the
/// recipient is "new" (the envelope is DRAFT_CREATED or SENT). CONCLUDED, CANCELED and EXPIRED are terminal for
/// deliveries.
/// </summary>
public enum BcastRecipientStatus
{
    /// <summary>Delivered non-urgently; waiting for the window (wait_until) before escalation is allowed.</summary>
    Waiting,
    /// <summary>Being followed up (EMERGENCY at once, or after escalation).</summary>
    Followup,
    /// <summary>Deferred with a reminder handoff; REM schedules the follow-up.</summary>
    ReminderSet,
    /// <summary>The reminder fired; the follow-up is under way.</summary>
    ReminderFired,
    /// <summary>Deferred until retry_at, without a reminder.</summary>
    Deferred,
    /// <summary>Acknowledged (terminal for deliveries; a later acknowledgement is still recorded).</summary>
    Concluded,
    /// <summary>The broadcast was canceled (terminal).</summary>
    Canceled,
    /// <summary>The broadcast expired (terminal).</summary>
    Expired,
}

/// <summary>Where the envelope stands (KC.18 envelope status). Its content is immutable once drafted.</summary>
public enum BcastEnvelopeStatus
{
    /// <summary>Drafted; nothing delivered yet.</summary>
    DraftCreated,
    /// <summary>At least one recipient's delivery was handed on.</summary>
    Sent,
    /// <summary>Expired (terminal).</summary>
    Expired,
    /// <summary>Canceled (terminal).</summary>
    Canceled,
}

/// <summary>The acknowledgement the envelope requires (KC.18), ranked NONE &lt; READ &lt; CONFIRM &lt; ACTION_CONFIRM.</summary>
public enum BcastRequiredAck
{
    /// <summary>Any acknowledgement concludes.</summary>
    None,
    /// <summary>At least a read receipt.</summary>
    Read,
    /// <summary>At least an explicit confirmation.</summary>
    Confirm,
    /// <summary>A confirmation that the requested action was done.</summary>
    ActionConfirm,
}

/// <summary>An acknowledgement (catalog ack_type READ | CONFIRM | ACTION_CONFIRM, and the runtime's DECLINED).</summary>
public enum BcastAckType
{
    /// <summary>The recipient read the message (runtime RECEIVED).</summary>
    Read,
    /// <summary>The recipient confirmed.</summary>
    Confirm,
    /// <summary>The recipient confirmed doing the action (runtime ACTION_CONFIRMED).</summary>
    ActionConfirm,
    /// <summary>The recipient answered no; an answer, so it concludes whatever was required.</summary>
    Declined,
}
