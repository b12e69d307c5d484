using Selene.Engines.Link;
using Selene.Kernel.Catalog;

namespace Selene.Runtime;

/// <summary>
/// The catalog this process serves: every registered simulation, the legacy ids that must fail closed, and the
/// ACTIVE v1 blueprints of reference §0.4 that bind them. A simulation belongs to the blueprint of the process its
/// requested action names (CAPREQ_MANAGE, POSITION_MANAGE, ONB_BIZ_SETUP, ACCESS_SCHEMA_MANAGE,
/// ACCESS_ESCALATION_VOTE, ACCESS_INSTANCE_COMPILE_REFRESH); override grants and revokes resolve escalations and so
/// belong to ACCESS_ESCALATION_VOTE. Steps keep the registration order.
/// </summary>
public static class SeleneCatalog
{
    private static readonly Dictionary<string, string> ProcessOfAction = new(StringComparer.Ordinal)
    {
        ["ACCESS_OVERRIDE_MANAGE"] = "ACCESS_ESCALATION_VOTE",
    };

    /// <summary>The catalog built from <see cref="SimulationRegistry.Default"/>.</summary>
    public static SimulationCatalog Default { get; } = Build(SimulationRegistry.Default);

    /// <summary>Builds the catalog for a registry (validated; throws when a rule is broken).</summary>
    public static SimulationCatalog Build(SimulationRegistry registry)
    {
        var executable = registry.Handlers.Select(h => h.Record).ToArray();
        var blueprints = executable
            .GroupBy(r => ProcessOfAction.GetValueOrDefault(r.RequestedAction, r.RequestedAction), StringComparer.Ordinal)
            .Select(g => new BlueprintRecord(g.Key, 1, BlueprintStatus.Active, g.Select(r => new BlueprintStep(r.OwningEngine, r.SimulationId)).ToArray()));
        return new SimulationCatalog([.. executable, .. LinkSimulations.Legacy], blueprints);
    }
}
