namespace Selene.Kernel.Access;

/// <summary>Device trust levels, DTL1 (least) to DTL4 (most).</summary>
public enum DeviceTrustLevel
{
    /// <summary>Unknown or untrusted device.</summary>
    Dtl1 = 1,
    /// <summary>Low trust.</summary>
    Dtl2 = 2,
    /// <summary>Managed device.</summary>
    Dtl3 = 3,
    /// <summary>Fully trusted device.</summary>
    Dtl4 = 4,
}

/// <summary>Lifecycle of an access instance.</summary>
public enum AccessLifecycle
{
    /// <summary>Exists but needs step-up before use.</summary>
    Restricted,
    /// <summary>Usable.</summary>
    Active,
    /// <summary>Blocked.</summary>
    Suspended,
}

/// <summary>The gate's three answers (the frozen external envelope).</summary>
public enum AccessDecisionKind
{
    /// <summary>Go ahead.</summary>
    Allow,
    /// <summary>No approval path exists.</summary>
    Deny,
    /// <summary>An approval path exists and must be walked first.</summary>
    Escalate,
}

/// <summary>Why an escalation is needed.</summary>
public enum EscalationTrigger
{
    /// <summary>Identity or device must be proven again.</summary>
    StepUpProofRequired,
    /// <summary>An approver (or board) must grant a higher mode.</summary>
    ApApprovalRequired,
}

/// <summary>The restriction flags of a gate decision (reference §7.2).</summary>
public enum RestrictionFlag
{
    /// <summary>The user has no access instance.</summary>
    InstanceMissing,
    /// <summary>The instance belongs to another user.</summary>
    UserScopeMismatch,
    /// <summary>The instance is suspended.</summary>
    InstanceSuspended,
    /// <summary>The baseline allow-list does not name the action.</summary>
    ActionNotAllowed,
    /// <summary>Sensitive data without financial authorization.</summary>
    SensitiveFieldsBlocked,
    /// <summary>The device is not trusted enough for the mode.</summary>
    DeviceUntrusted,
    /// <summary>The mode asked for exceeds the effective mode.</summary>
    ModeUpgradeRequired,
}

/// <summary>Kinds of override (reference §7.1).</summary>
public enum OverrideType
{
    /// <summary>Valid for one use.</summary>
    OneShot,
    /// <summary>Valid until it expires.</summary>
    Temporary,
    /// <summary>Valid until revoked.</summary>
    Permanent,
    /// <summary>A revocation row.</summary>
    Revoke,
}

/// <summary>Override row status.</summary>
public enum OverrideStatus
{
    /// <summary>In force inside its window.</summary>
    Active,
    /// <summary>Its window has passed.</summary>
    Expired,
    /// <summary>Revoked.</summary>
    Revoked,
}

/// <summary>A user's access instance as the gate sees it.</summary>
/// <param name="AllowList">requested_action tokens the baseline allows; null means no list (legacy allow); "*" is a wildcard.</param>
public sealed record AccessInstanceView(
    string AccessInstanceId,
    string TenantId,
    string UserId,
    AccessMode BaseMode,
    IReadOnlyList<string>? AllowList,
    bool FinancialAuth,
    bool IdentityVerified,
    DeviceTrustLevel DeviceTrust,
    AccessLifecycle Lifecycle);

/// <summary>An override as the gate sees it.</summary>
/// <param name="Scope">The requested_action it covers, or "*" for all.</param>
/// <param name="GrantMode">The mode it grants (null: grants none).</param>
/// <param name="ExpiresAt">Exclusive end of the window (unix ns); null for permanent.</param>
public sealed record AccessOverrideView(
    string OverrideId,
    OverrideType Type,
    string Scope,
    AccessMode? GrantMode,
    OverrideStatus Status,
    long StartsAt,
    long? ExpiresAt);

/// <summary>The inputs of one gate decision.</summary>
public sealed record AccessGateRequest(
    string UserId,
    AccessInstanceView? Instance,
    IReadOnlyList<AccessOverrideView> Overrides,
    string RequestedAction,
    AccessMode RequestedMode,
    DeviceTrustLevel CallerDeviceTrust,
    bool SensitiveDataRequest,
    UnixNanos Now);

/// <summary>The gate's answer: decision, effective mode, restriction flags, escalation trigger, reason, and the step that decided.</summary>
public sealed record AccessGateDecision(
    AccessDecisionKind Decision,
    AccessMode? EffectiveMode,
    IReadOnlyList<RestrictionFlag> RestrictionFlags,
    EscalationTrigger? Trigger,
    ReasonCode Reason,
    int Step,
    string Rule);
