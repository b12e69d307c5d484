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
/// <see cref="RequiredMode"/>.
/// </summary>
public sealed record SimulationRecord(
    string SimulationId,
    string OwningEngine,
    SimulationType Type,
    SimulationStatus Status,
    string RequestedAction,
    AccessMode RequiredMode,
    string IdempotencyScope,
    IReadOnlyList<ReasonCode> ReasonCodes);
