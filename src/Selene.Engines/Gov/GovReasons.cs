namespace Selene.Engines.Gov;

/// <summary>
/// PH1.GOV's simulation codes (block 13xxx: 130xx successes, 132xx refusals). The gate-input codes of the same engine
/// (kill switch, safe mode, quotas, missing approval: 131xx) are the kernel's, in <see cref="ReasonCodes"/>.
/// </summary>
public static class GovReasons
{
    /// <summary>The journal's engine id for governance.</summary>
    public const string EngineId = ReasonCodes.EngineGov;

    public static readonly ReasonCode GovSwitchSet = new("GOV_OK_SWITCH_SET", 13001, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode GovQuotaSet = new("GOV_OK_QUOTA_SET", 13002, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode GovDefinitionSet = new("GOV_OK_DEFINITION_SET", 13003, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode GovApprovalPolicySet = new("GOV_OK_APPROVAL_POLICY_SET", 13004, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode GovSwitchUnchanged = new("GOV_SWITCH_UNCHANGED", 13201, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode GovGlobalScopeForbidden = new("GOV_GLOBAL_SCOPE_FORBIDDEN", 13202, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode GovDefinitionUnknown = new("GOV_DEFINITION_UNKNOWN", 13203, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode GovDefinitionProtected = new("GOV_DEFINITION_PROTECTED", 13204, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode GovDefinitionTransitionInvalid = new("GOV_DEFINITION_TRANSITION_INVALID", 13205, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The approval policy already says so for that capability in that scope.</summary>
    public static readonly ReasonCode GovApprovalPolicyUnchanged = new("GOV_APPROVAL_POLICY_UNCHANGED", 13206, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>No simulation of the catalog requires that capability by the tenant's policy: an approval policy for it would govern nothing.</summary>
    public static readonly ReasonCode GovApprovalCapabilityUnknown = new("GOV_APPROVAL_CAPABILITY_UNKNOWN", 13207, EngineId, Severity.Warn, ReasonKind.NotFound, false);

    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(GovReasons));
}
