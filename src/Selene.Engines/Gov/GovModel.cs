namespace Selene.Engines.Gov;

/// <summary>Where a governance setting applies: the acting tenant, or every tenant (written by a platform operator).</summary>
public enum GovScope
{
    Tenant,
    Global,
}

/// <summary>The two incident switches (seed build plan P2, governance controls).</summary>
public enum GovSwitch
{
    /// <summary>Only reads and DRAFT simulations run.</summary>
    SafeMode,
    /// <summary>Nothing is dispatched.</summary>
    KillSwitch,
}

/// <summary>What a definition change does (reference §11.5).</summary>
public enum GovDefinitionAction
{
    Activate,
    Deprecate,
    /// <summary>Undoes the last change: the definition goes back to the status it had before it.</summary>
    Rollback,
}

/// <summary>The kinds of definitions the catalog gate answers for.</summary>
public enum GovArtifactKind
{
    Simulation,
    Blueprint,
}

/// <summary>A definition's status as governance says (the catalog ships every definition ACTIVE).</summary>
public enum GovDefinitionStatus
{
    Active,
    Deprecated,
}

/// <summary>The status of a control stream: which incident switch, if any, is on (the kill switch wins).</summary>
public enum GovControlStatus
{
    Normal,
    SafeMode,
    KillSwitch,
}

// ---- commands -------------------------------------------------------------------------------------------------

/// <summary>A PH1.GOV command.</summary>
public abstract record GovCommand(GovScope Scope, string Note);

/// <summary>GOV_SWITCH_SET_COMMIT: turn an incident switch on or off.</summary>
public sealed record SetSwitch(GovScope Scope, GovSwitch Switch, bool Enabled, string Note) : GovCommand(Scope, Note);

/// <summary>GOV_QUOTA_SET_COMMIT: the tenant's daily execution budgets (null: the default).</summary>
public sealed record SetQuota(long? TenantDailyExecutions, long? UserDailyExecutions, string Note) : GovCommand(GovScope.Tenant, Note);

/// <summary>GOV_DEFINITION_SET_COMMIT: activate, deprecate or roll back a simulation or blueprint definition.</summary>
public sealed record SetDefinition(GovScope Scope, GovArtifactKind Kind, string ArtifactId, GovDefinitionAction Action, string Note) : GovCommand(Scope, Note);

/// <summary>
/// GOV_APPROVAL_POLICY_SET_COMMIT: whether executions of the simulations that require <paramref name="CapabilityId"/> by
/// the tenant's policy (<c>SimulationRecord.CapabilityByTenantPolicy</c>) need the actor's APPROVED capability request.
/// </summary>
public sealed record SetApprovalPolicy(GovScope Scope, string CapabilityId, bool Required, string Note) : GovCommand(Scope, Note);

// ---- events ---------------------------------------------------------------------------------------------------

/// <summary>An event of a control stream (switches and budgets of one scope).</summary>
public abstract record GovControlEvent(GovScope Scope, string ActorUserId, string Note, long At);

/// <summary>SWITCH_SET.</summary>
public sealed record GovSwitchSet(GovScope Scope, GovSwitch Switch, bool Enabled, string ActorUserId, string Note, long At)
    : GovControlEvent(Scope, ActorUserId, Note, At);

/// <summary>QUOTA_SET.</summary>
public sealed record GovQuotaSet(GovScope Scope, long? TenantDailyExecutions, long? UserDailyExecutions, string ActorUserId, string Note, long At)
    : GovControlEvent(Scope, ActorUserId, Note, At);

/// <summary>APPROVAL_POLICY_SET: a capability's approval is required (or no longer) in the scope.</summary>
public sealed record GovApprovalPolicySet(GovScope Scope, string CapabilityId, bool Required, string ActorUserId, string Note, long At)
    : GovControlEvent(Scope, ActorUserId, Note, At);

/// <summary>DEFINITION_SET: a definition's status changes; <see cref="Previous"/> is what it was.</summary>
public sealed record GovDefinitionSet(GovScope Scope, GovArtifactKind Kind, string ArtifactId, GovDefinitionAction Action, GovDefinitionStatus Status,
    GovDefinitionStatus Previous, string ActorUserId, string Note, long At);

// ---- state ----------------------------------------------------------------------------------------------------

/// <summary>
/// The switches, budgets and approval policy of one scope (stream <c>TENANT</c>, or <c>GLOBAL</c> under the reserved
/// tenant key). <see cref="ApprovalRequired"/> lists, in ordinal order without repeats, the capabilities whose
/// policy-governed simulations need an APPROVED capability request in this scope (null: none; rows written before the
/// policy existed have none).
/// </summary>
public sealed record GovControlState(
    GovScope Scope,
    bool SafeMode,
    bool KillSwitch,
    long? TenantDailyExecutions,
    long? UserDailyExecutions,
    string LastActorUserId,
    string LastNote,
    long UpdatedAt,
    IReadOnlyList<string>? ApprovalRequired = null)
{
    /// <summary>Whether this scope's policy requires an approval for <paramref name="capabilityId"/>.</summary>
    public bool RequiresApproval(string capabilityId) => ApprovalRequired?.Contains(capabilityId, StringComparer.Ordinal) ?? false;
}

/// <summary>
/// One definition's governance: its status and the statuses it had (oldest first), so a rollback undoes exactly the
/// last change, and a second rollback the one before.
/// </summary>
public sealed record GovDefinitionState(
    GovScope Scope,
    GovArtifactKind Kind,
    string ArtifactId,
    GovDefinitionStatus Status,
    IReadOnlyList<GovDefinitionStatus> History,
    long Version,
    string LastActorUserId,
    string LastNote,
    long UpdatedAt);
