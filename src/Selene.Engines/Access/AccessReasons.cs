namespace Selene.Engines.Access;

/// <summary>
/// PH1.ACCESS's own reason codes (block 7xxx, shared with the access gate's codes, which the kernel declares in
/// <see cref="ReasonCodes"/> because Kernel's AccessGate decides them): governance (instances, overrides, board
/// policies, votes, escalation cases) at 7002..7010 and 7109..7199, profiles, authoring reviews, overlays and compile
/// at 7080..7099 and 72xx. Registered through the ACCESS module; ids are stable once allocated, names never reused.
/// </summary>
public static class AccessReasons
{
    /// <summary>The journal's engine id for everything ACCESS does (the gate's codes carry it too).</summary>
    public const string EngineId = ReasonCodes.EngineAccess;

    public static readonly ReasonCode AccessInstanceBootstrapped = new("ACCESS_INSTANCE_BOOTSTRAPPED", 7002, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessOverrideTempGranted = new("ACCESS_OVERRIDE_OK_TEMP_GRANT", 7003, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessOverridePermGranted = new("ACCESS_OVERRIDE_OK_PERM_GRANT", 7004, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessOverrideRevoked = new("ACCESS_OVERRIDE_OK_REVOKE", 7005, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessBoardPolicyUpdated = new("ACCESS_BOARD_POLICY_OK_UPDATE", 7006, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessBoardVoteRecorded = new("ACCESS_BOARD_VOTE_OK", 7007, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessInstanceUpserted = new("ACCESS_INSTANCE_OK_UPSERT", 7008, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessEscalationOpened = new("ACCESS_ESCALATION_CASE_OPENED", 7009, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessEscalationApproved = new("ACCESS_ESCALATION_CASE_APPROVED", 7010, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApSchemaDrafted = new("ACCESS_AP_SCHEMA_OK_CREATE_DRAFT", 7080, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApSchemaUpdated = new("ACCESS_AP_SCHEMA_OK_UPDATE_COMMIT", 7081, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApSchemaActivated = new("ACCESS_AP_SCHEMA_OK_ACTIVATE_COMMIT", 7082, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApSchemaRetired = new("ACCESS_AP_SCHEMA_OK_RETIRE_COMMIT", 7083, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApReviewChannelChosen = new("ACCESS_AP_AUTHORING_OK_REVIEW_CHANNEL_COMMIT", 7084, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApRuleActionRecorded = new("ACCESS_AP_AUTHORING_OK_RULE_ACTION_COMMIT", 7085, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApReviewConfirmed = new("ACCESS_AP_AUTHORING_OK_CONFIRM_COMMIT", 7086, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessApOverlayUpdated = new("ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT", 7087, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessInstanceCompiled = new("ACCESS_INSTANCE_OK_COMPILE_COMMIT", 7088, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessScopeViolation = new("ACCESS_SCOPE_VIOLATION", 7108, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessBoardPolicyInvalid = new("ACCESS_BOARD_POLICY_INVALID", 7109, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode AccessBoardMemberRequired = new("ACCESS_BOARD_MEMBER_REQUIRED", 7110, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessBoardVoteDuplicate = new("ACCESS_BOARD_VOTE_DUPLICATE", 7111, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessBoardPolicyTransitionInvalid = new("ACCESS_BOARD_POLICY_PROJECTION_CONFLICT", 7112, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessEscalationCaseNotFound = new("ACCESS_ESCALATION_CASE_NOT_FOUND", 7113, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode AccessEscalationCaseClosed = new("ACCESS_ESCALATION_CASE_CLOSED", 7114, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessEscalationDenied = new("ACCESS_ESCALATION_DENIED", 7115, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessOverrideConflict = new("ACCESS_OVERRIDE_CONFLICT", 7116, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessOverrideNotFound = new("ACCESS_OVERRIDE_NOT_FOUND", 7117, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode AccessOverrideNotActive = new("ACCESS_OVERRIDE_NOT_ACTIVE", 7118, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessGrantExceedsAuthority = new("ACCESS_GRANT_EXCEEDS_AUTHORITY", 7119, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessSelfGrantForbidden = new("ACCESS_SELF_GRANT_FORBIDDEN", 7120, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessBoardPolicyNotFound = new("ACCESS_BOARD_POLICY_NOT_FOUND", 7121, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode AccessSchemaRefMissing = new("ACCESS_SCHEMA_REF_MISSING", 7201, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode AccessProfileNotActive = new("ACCESS_PROFILE_NOT_ACTIVE", 7202, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessOverlayRefInvalid = new("ACCESS_OVERLAY_REF_INVALID", 7203, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessContractValidationFailed = new("ACCESS_CONTRACT_VALIDATION_FAILED", 7204, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode AccessApSchemaInvalid = new("ACCESS_AP_SCHEMA_INVALID", 7205, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode AccessApScopeViolation = new("ACCESS_AP_SCOPE_VIOLATION", 7206, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessApActivationConflict = new("ACCESS_AP_ACTIVATION_CONFLICT", 7207, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessApTransitionInvalid = new("ACCESS_AP_TRANSITION_INVALID", 7208, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode AccessOverlayOpInvalid = new("ACCESS_OVERLAY_OP_INVALID", 7209, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode AccessPositionRefMissing = new("ACCESS_POSITION_REF_MISSING", 7210, EngineId, Severity.Warn, ReasonKind.NotFound, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(AccessReasons));
}
