namespace Selene.Engines.Onb;

/// <summary>
/// PH1.ONB's simulations: the session's (reference §4.3 up to ONB_COMPLETE_COMMIT), bound to the ACTIVE ONB_INVITED
/// blueprint (requested action ONB_INVITED, mode W), and business onboarding's (ONB_BIZ_*, ONB_BIZ_SETUP at mode A). The start is also the handoff of a link's activation
/// (LINK_INVITE_ACTIVATED) and stays callable, so the invitee's page can start or resume before the handoff ran.
/// </summary>
public static class OnbSimulations
{
    public const string SessionStartDraft = "ONB_SESSION_START_DRAFT";
    public const string DraftUpdateCommit = "ONB_DRAFT_UPDATE_COMMIT";
    public const string TermsAcceptCommit = "ONB_TERMS_ACCEPT_COMMIT";
    public const string EmployeePhotoCaptureSendCommit = "ONB_EMPLOYEE_PHOTO_CAPTURE_SEND_COMMIT";
    public const string EmployeeSenderVerifyCommit = "ONB_EMPLOYEE_SENDER_VERIFY_COMMIT";
    public const string PrimaryDeviceConfirmCommit = "ONB_PRIMARY_DEVICE_CONFIRM_COMMIT";
    public const string AccessInstanceCreateCommit = "ONB_ACCESS_INSTANCE_CREATE_COMMIT";
    public const string CompleteCommit = "ONB_COMPLETE_COMMIT";
    public const string BizStartDraft = "ONB_BIZ_START_DRAFT";
    public const string BizValidateCompanyCommit = "ONB_BIZ_VALIDATE_COMPANY_COMMIT";
    public const string BizCompleteCommit = "ONB_BIZ_COMPLETE_COMMIT";
    public const string BackfillStartDraft = "ONB_REQUIREMENT_BACKFILL_START_DRAFT";
    public const string BackfillNotifyCommit = "ONB_REQUIREMENT_BACKFILL_NOTIFY_COMMIT";
    public const string BackfillCompleteCommit = "ONB_REQUIREMENT_BACKFILL_COMPLETE_COMMIT";
    /// <summary>A target's answer to the one field asked now (the holder's page).</summary>
    public const string BackfillAnswerCommit = "ONB_REQUIREMENT_BACKFILL_ANSWER_COMMIT";
    /// <summary>A target's reminders are exhausted: FAILED.</summary>
    public const string BackfillTargetFailCommit = "ONB_REQUIREMENT_BACKFILL_TARGET_FAIL_COMMIT";

    /// <summary>Requirement backfill for current staff (reference §4.5 ONB_REQUIREMENT_BACKFILL), at mode A like the schema activation it follows.</summary>
    public const string BackfillAction = "ONB_REQUIREMENT_BACKFILL";

    /// <summary>The invitee's onboarding process (reference §0.4, §4.5).</summary>
    public const string InvitedAction = "ONB_INVITED";

    /// <summary>Business onboarding (reference §4.5 ONB_BIZ_SETUP), at mode A like POSITION's company upsert it runs through.</summary>
    public const string BizSetupAction = "ONB_BIZ_SETUP";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        Record(SessionStartDraft, SimulationType.Draft, "token_id (one session per token)",
            OnbReasons.OnbOkSessionStart, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid, OnbReasons.OnbContextMismatch),
        Record(DraftUpdateCommit, SimulationType.Commit, "session_id+key",
            OnbReasons.OnbOkDraftUpdate, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid, OnbReasons.OnbAnswerInvalid,
            OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Record(TermsAcceptCommit, SimulationType.Commit, "session_id+key",
            OnbReasons.OnbOkTermsAccept, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid, OnbReasons.OnbRequiredGateNotMet,
            OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Record(EmployeePhotoCaptureSendCommit, SimulationType.Commit, "session_id+key",
            OnbReasons.OnbOkEmployeePhoto, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid,
            OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Record(EmployeeSenderVerifyCommit, SimulationType.Commit, "session_id+key",
            OnbReasons.OnbOkEmployeeSenderVerify, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid,
            OnbReasons.OnbContextMismatch, OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Record(PrimaryDeviceConfirmCommit, SimulationType.Commit, "session_id+key",
            OnbReasons.OnbOkPrimaryDeviceConfirm, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid,
            OnbReasons.OnbPrimaryDeviceProofFailed, OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Record(AccessInstanceCreateCommit, SimulationType.Commit, "user_id+role_id+key",
            OnbReasons.OnbOkAccessInstanceCreate, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid,
            OnbReasons.OnbRequiredGateNotMet, OnbReasons.OnbContextMismatch, OnbReasons.OnbAccessInstanceRefused, OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Record(CompleteCommit, SimulationType.Commit, "session_id+key",
            OnbReasons.OnbOkComplete, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid, OnbReasons.OnbRequiredGateNotMet,
            OnbReasons.OnbLinkConsumeRefused, OnbReasons.OnbTermsDeclined, OnbReasons.OnbSenderRejected),
        Biz(BizStartDraft, SimulationType.Draft, OnbReasons.OnbOkBizStart),
        Biz(BizValidateCompanyCommit, SimulationType.Commit, OnbReasons.OnbOkBizValidateCompany),
        Biz(BizCompleteCommit, SimulationType.Commit, OnbReasons.OnbOkBizComplete),
        new(BackfillStartDraft, OnbReasons.EngineId, SimulationType.Draft, SimulationStatus.Active, BackfillAction, AccessMode.A, "tenant+position+schema_version+key",
            [OnbReasons.OnbOkBackfillStart, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbBackfillScopeInvalid]),
        // The loop's steps run only from ONB's own handoffs (the outbox worker): no caller can notify or fail a target.
        new(BackfillNotifyCommit, OnbReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, BackfillAction, AccessMode.A, "campaign+recipient+key",
            [OnbReasons.OnbOkBackfillNotify, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbBackfillNotifyBlocked], HandoffOnly: true),
        new(BackfillTargetFailCommit, OnbReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, BackfillAction, AccessMode.A, "campaign+recipient+key",
            [OnbReasons.OnbOkBackfillTargetFail, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbBackfillNotifyBlocked], HandoffOnly: true),
        new(BackfillAnswerCommit, OnbReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, BackfillAction, AccessMode.A, "campaign+recipient+key",
            [OnbReasons.OnbOkBackfillAnswer, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid,
                OnbReasons.OnbAnswerInvalid, OnbReasons.OnbBackfillNotifyBlocked]),
        new(BackfillCompleteCommit, OnbReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, BackfillAction, AccessMode.A, "campaign+key",
            [OnbReasons.OnbOkBackfillComplete, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid,
                OnbReasons.OnbBackfillTargetsOpen]),
    ];

    /// <summary>The record of a simulation id.</summary>
    public static SimulationRecord Of(string simulationId) => All.Single(r => r.SimulationId == simulationId);

    private static SimulationRecord Biz(string id, SimulationType type, ReasonCode ok) =>
        new(id, OnbReasons.EngineId, type, SimulationStatus.Active, BizSetupAction, AccessMode.A, "company_id",
            [ok, OnbReasons.OnbRefuseInvalid, OnbReasons.OnbRefuseNotFound, OnbReasons.OnbRefuseStateInvalid, OnbReasons.OnbBizCompanyInvalid]);

    private static SimulationRecord Record(string id, SimulationType type, string scope, params ReasonCode[] reasons) =>
        new(id, OnbReasons.EngineId, type, SimulationStatus.Active, InvitedAction, AccessMode.W, scope, reasons);
}
