namespace Selene.Engines.Onb;

/// <summary>
/// PH1.ONB's engine id and reason codes (block 9xxx: 90xx successes, 91xx refusals), with the names of reference §4.3
/// (runtime codes and the ONB_INVITED blueprint's refusals). Ids are stable once allocated and names never reused.
/// </summary>
public static class OnbReasons
{
    /// <summary>The journal's engine id for onboarding (aliases PH1.ONB.CORE.001, ONB.ORCH, ONB.BIZ are the same engine).</summary>
    public const string EngineId = "PH1.ONB";

    public static readonly ReasonCode OnbOkSessionStart = new("ONB_OK_SESSION_START_DRAFT", 9001, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkDraftUpdate = new("ONB_OK_DRAFT_UPDATE_COMMIT", 9002, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkTermsAccept = new("ONB_OK_TERMS_ACCEPT_COMMIT", 9003, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkEmployeePhoto = new("ONB_OK_EMPLOYEE_PHOTO_COMMIT", 9004, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkEmployeeSenderVerify = new("ONB_OK_EMPLOYEE_SENDER_VERIFY_COMMIT", 9005, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkPrimaryDeviceConfirm = new("ONB_OK_PRIMARY_DEVICE_CONFIRM_COMMIT", 9006, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkAccessInstanceCreate = new("ONB_OK_ACCESS_INSTANCE_CREATE_COMMIT", 9007, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkComplete = new("ONB_OK_COMPLETE_COMMIT", 9008, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkBizStart = new("ONB_OK_BIZ_START_DRAFT", 9009, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkBizValidateCompany = new("ONB_OK_BIZ_VALIDATE_COMPANY_COMMIT", 9010, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkBizComplete = new("ONB_OK_BIZ_COMPLETE_COMMIT", 9011, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkBackfillStart = new("ONB_OK_REQUIREMENT_BACKFILL_START_DRAFT", 9012, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkBackfillNotify = new("ONB_OK_REQUIREMENT_BACKFILL_NOTIFY_COMMIT", 9013, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OnbOkBackfillComplete = new("ONB_OK_REQUIREMENT_BACKFILL_COMPLETE_COMMIT", 9014, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A backfill target's answer to one missing field was recorded.</summary>
    public static readonly ReasonCode OnbOkBackfillAnswer = new("ONB_OK_REQUIREMENT_BACKFILL_ANSWER_COMMIT", 9015, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A backfill target was recorded FAILED (its reminders are exhausted).</summary>
    public static readonly ReasonCode OnbOkBackfillTargetFail = new("ONB_OK_REQUIREMENT_BACKFILL_TARGET_FAIL_COMMIT", 9016, EngineId, Severity.Info, ReasonKind.Success, false);
    /// <summary>A step of a target's loop found nothing to do (the target ended, or the campaign still has open targets): its handoff is settled, nothing ran.</summary>
    public static readonly ReasonCode OnbBackfillStepSkipped = new("ONB_BACKFILL_STEP_SKIPPED", 9017, EngineId, Severity.Info, ReasonKind.Success, false);

    /// <summary>A request's shape or bounds are wrong (§4.3 ONB_REFUSE_INVALID).</summary>
    public static readonly ReasonCode OnbRefuseInvalid = new("ONB_REFUSE_INVALID", 9101, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>No such session (or the link it starts from).</summary>
    public static readonly ReasonCode OnbRefuseNotFound = new("ONB_REFUSE_NOT_FOUND", 9102, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    /// <summary>The session's state forbids the step (§4.2 guards).</summary>
    public static readonly ReasonCode OnbRefuseStateInvalid = new("ONB_REFUSE_STATE_INVALID", 9103, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The invitee declined the terms: onboarding ended.</summary>
    public static readonly ReasonCode OnbTermsDeclined = new("ONB_TERMS_DECLINED", 9104, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The sender rejected the invitee's evidence.</summary>
    public static readonly ReasonCode OnbSenderRejected = new("ONB_SENDER_REJECTED", 9105, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The primary device's proof failed.</summary>
    public static readonly ReasonCode OnbPrimaryDeviceProofFailed = new("ONB_PRIMARY_DEVICE_PROOF_FAILED", 9106, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A step's gate is not met (a required field, verification, device proof, access instance or receipt is missing).</summary>
    public static readonly ReasonCode OnbRequiredGateNotMet = new("ONB_REQUIRED_GATE_NOT_MET", 9107, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The device or app-open context differs from the link's activation, or the actor is not who the step needs.</summary>
    public static readonly ReasonCode OnbContextMismatch = new("ONB_CONTEXT_MISMATCH", 9108, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>An answer does not fit its field (type or bounds); nothing is stored.</summary>
    public static readonly ReasonCode OnbAnswerInvalid = new("ONB_ANSWER_INVALID", 9109, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>ACCESS refused the invitee's access instance (the detail names ACCESS's code); nothing was written.</summary>
    public static readonly ReasonCode OnbAccessInstanceRefused = new("ONB_ACCESS_INSTANCE_REFUSED", 9110, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>LINK refused to consume the session's link at completion (revoked, expired, …; the detail names LINK's code); nothing was written.</summary>
    public static readonly ReasonCode OnbLinkConsumeRefused = new("ONB_LINK_CONSUME_REFUSED", 9111, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The company a business onboarding step needs is not in the state it needs (reference §4.3 blueprint refusal).</summary>
    public static readonly ReasonCode OnbBizCompanyInvalid = new("ONB_BIZ_COMPANY_INVALID", 9112, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A backfill starts for CURRENT_AND_NEW activations only (reference §4.5: NewHiresOnly never enters).</summary>
    public static readonly ReasonCode OnbBackfillScopeInvalid = new("ONB_BACKFILL_SCOPE_INVALID", 9113, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>The recipient is not a target of the campaign.</summary>
    public static readonly ReasonCode OnbBackfillNotifyBlocked = new("ONB_BACKFILL_NOTIFY_BLOCKED", 9114, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A campaign completes only when every target is terminal.</summary>
    public static readonly ReasonCode OnbBackfillTargetsOpen = new("ONB_BACKFILL_TARGETS_OPEN", 9115, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A target's reason when FAILED: its reminders were exhausted without an answer.</summary>
    public static readonly ReasonCode OnbBackfillRemindersExhausted = new("ONB_BACKFILL_REMINDERS_EXHAUSTED", 9116, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A backfill link whose target has ended (answered everything, or failed): the link is used up.</summary>
    public static readonly ReasonCode OnbBackfillLinkUsed = new("ONB_BACKFILL_LINK_USED", 9117, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The launcher of a campaign may not run every step of its loop (the loop's steps run as the launcher): no campaign starts.</summary>
    public static readonly ReasonCode OnbBackfillLauncherAccessMissing = new("ONB_BACKFILL_LAUNCHER_ACCESS_MISSING", 9118, EngineId, Severity.Warn, ReasonKind.Forbidden, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(OnbReasons));
}
