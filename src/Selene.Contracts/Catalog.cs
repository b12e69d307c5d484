namespace Selene.Contracts;

/// <summary>DRAFT simulations prepare; COMMIT and REVOKE change truth (reference §0.3).</summary>
public enum SimulationType
{
    /// <summary>Prepares without committing; needs no confirmation.</summary>
    Draft,
    /// <summary>Commits a change.</summary>
    Commit,
    /// <summary>Revokes or cancels.</summary>
    Revoke,
}

/// <summary>Catalog status of a simulation (KC.7); only <see cref="Active"/> ones execute.</summary>
public enum SimulationStatus
{
    /// <summary>Being designed; not executable.</summary>
    Draft,
    /// <summary>Executable.</summary>
    Active,
    /// <summary>A legacy id that must fail closed.</summary>
    LegacyDoNotWire,
    /// <summary>Kept for replay; not executable.</summary>
    Deprecated,
    /// <summary>Switched off; not executable.</summary>
    Disabled,
}

/// <summary>
/// A catalog entry: what a simulation is, who owns it, how it is deduplicated, and what it is governed by: before
/// deciding, the executor runs the ACCESS gate for the acting user with <see cref="RequestedAction"/> at
/// <see cref="RequiredMode"/>. A record with <see cref="RequiredCapability"/> dispatches only with the actor's APPROVED
/// capability request for exactly that capability and the scope its input names (the CAPREQ gate), which the same
/// transaction fulfils; with <see cref="CapabilityByTenantPolicy"/> only where the tenant's (or the platform's) approval
/// policy names the capability (PH1.GOV's GOV_APPROVAL_POLICY_SET_COMMIT), and only for an input that names a scope at
/// all (an input outside the governed kind, e.g. a NEW_HIRES_ONLY schema activation, needs none). A <see cref="HandoffOnly"/> record runs only as a handoff of the outbox worker (what another
/// engine's accepted decision asked for, e.g. a provider's proof coming back): a caller asking for it directly is
/// refused with SIMULATION_HANDOFF_ONLY before anything is read, so nobody can forge what only the OS reports.
/// </summary>
public sealed record SimulationRecord(
    string SimulationId,
    string OwningEngine,
    SimulationType Type,
    SimulationStatus Status,
    string RequestedAction,
    AccessMode RequiredMode,
    string IdempotencyScope,
    IReadOnlyList<ReasonCode> ReasonCodes,
    string? RequiredCapability = null,
    bool HandoffOnly = false,
    bool CapabilityByTenantPolicy = false);

/// <summary>Status of a blueprint (reference §0.2 BlueprintRecord); the OS executes ACTIVE blueprints only.</summary>
public enum BlueprintStatus
{
    /// <summary>Being designed; simulations bound to it do not execute.</summary>
    Draft,
    /// <summary>Executable.</summary>
    Active,
    /// <summary>Kept for replay; simulations bound to it do not execute.</summary>
    Deprecated,
}

/// <summary>One ordered step of a blueprint: the engine and the simulation it runs.</summary>
public sealed record BlueprintStep(string EngineId, string SimulationId);

/// <summary>
/// A process blueprint (reference §0.2, §0.4): its process id (equal to its intent type), version, status and the
/// ordered steps it may run. A simulation listed in a blueprint's steps is bound to that blueprint and executes only
/// while the blueprint is ACTIVE.
/// </summary>
public sealed record BlueprintRecord(string ProcessId, int Version, BlueprintStatus Status, IReadOnlyList<BlueprintStep> Steps)
{
    /// <summary>The intent type this blueprint serves; one ACTIVE process per intent type, and process id == intent type.</summary>
    public string IntentType => ProcessId;
}
