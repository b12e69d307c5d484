namespace Selene.Engines.Gov;

/// <summary>
/// PH1.GOV's four control-plane simulations, all COMMIT (so always confirmed), requested action GOV_CONTROL at mode X.
/// A definition change also needs an APPROVED capability request for <see cref="GovDecider.DefinitionChangeCapability"/>
/// on the definition (the CAPREQ gate). The approval policy says which policy-governed capabilities (e.g. a
/// CURRENT_AND_NEW requirement-schema activation's) need such a request in the tenant or on the platform.
/// </summary>
public static class GovSimulations
{
    public const string SwitchSet = "GOV_SWITCH_SET_COMMIT";
    public const string QuotaSet = "GOV_QUOTA_SET_COMMIT";
    public const string DefinitionSet = "GOV_DEFINITION_SET_COMMIT";
    public const string ApprovalPolicySet = "GOV_APPROVAL_POLICY_SET_COMMIT";

    /// <summary>The requested action (and so the blueprint) of every PH1.GOV simulation.</summary>
    public const string RequestedAction = "GOV_CONTROL";

    public const string IdempotencyScope = "tenant+simulation_id+key";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        new(SwitchSet, GovReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, RequestedAction, AccessMode.X, IdempotencyScope,
            [GovReasons.GovSwitchSet, GovReasons.GovSwitchUnchanged, GovReasons.GovGlobalScopeForbidden]),
        new(QuotaSet, GovReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, RequestedAction, AccessMode.X, IdempotencyScope,
            [GovReasons.GovQuotaSet]),
        new(DefinitionSet, GovReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, RequestedAction, AccessMode.X, IdempotencyScope,
            [GovReasons.GovDefinitionSet, GovReasons.GovDefinitionUnknown, GovReasons.GovDefinitionProtected, GovReasons.GovDefinitionTransitionInvalid,
             GovReasons.GovGlobalScopeForbidden],
            RequiredCapability: GovDecider.DefinitionChangeCapability),
        new(ApprovalPolicySet, GovReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, RequestedAction, AccessMode.X, IdempotencyScope,
            [GovReasons.GovApprovalPolicySet, GovReasons.GovApprovalPolicyUnchanged, GovReasons.GovApprovalCapabilityUnknown, GovReasons.GovGlobalScopeForbidden]),
    ];
}
