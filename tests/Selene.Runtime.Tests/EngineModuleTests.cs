using Selene.Runtime.CapReq;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Tests;

/// <summary>The registry, the catalog and the read routes derive from the engine modules; the modules do not overlap.</summary>
public sealed class EngineModuleTests
{
    [Fact]
    public void Registry_IsEveryModulesSimulations_InModuleOrder()
    {
        Assert.Equal(EngineModules.All.SelectMany(m => m.Simulations.Select(s => s.Record.SimulationId)),
            SimulationRegistry.Default.Handlers.Select(h => h.Record.SimulationId));
        var catalogued = SeleneCatalog.Default.Simulations.Select(s => s.SimulationId).ToHashSet(StringComparer.Ordinal);
        Assert.All(EngineModules.All.SelectMany(m => m.Simulations), s => Assert.Contains(s.Record.SimulationId, catalogued));
    }

    [Fact]
    public void Modules_HaveDistinctNamesEngineIdsStoresAndRoutes()
    {
        Assert.Distinct(EngineModules.All.Select(m => m.Name));
        Assert.Distinct(EngineModules.All.Select(m => m.EngineId));
        Assert.Distinct(EngineModules.All.SelectMany(m => m.Aggregates).Select(a => a.Store.Pair.Name));
        Assert.Distinct(EngineModules.All.SelectMany(m => m.Routes).Select(r => r.Name));
        Assert.Distinct(EngineModules.All.SelectMany(m => m.Routes).Select(r => r.Pattern));
        Assert.All(EngineModules.All.SelectMany(m => m.Routes), r => Assert.StartsWith("/", r.Pattern, StringComparison.Ordinal));
    }

    [Fact]
    public void EachModule_OwnsItsReasonCodesAndAggregates()
    {
        foreach (var module in EngineModules.All)
        {
            // PH1.WORK is the kernel's own engine: its codes are kernel codes (its pure decider lives in Selene.Kernel).
            Assert.NotEmpty(module.ReasonCodes.Concat(ReasonCodes.Kernel.All.Where(c => c.Engine == module.EngineId)));
            Assert.All(module.ReasonCodes, r => Assert.Equal(module.EngineId, r.Engine));
            Assert.All(module.Aggregates, a => Assert.Equal(module.EngineId, a.EngineId));
            Assert.True(module.IsNamed(module.Name.ToUpperInvariant()) && module.IsNamed(module.EngineId.ToLowerInvariant()));
        }
    }

    [Fact]
    public void Capreq_DeclaresEveryReasonCodeItsSimulationsAnswerWith()
    {
        var declared = CapreqModule.Module.ReasonCodes.ToHashSet();
        Assert.All(CapreqModule.Module.Simulations.SelectMany(s => s.Record.ReasonCodes), r => Assert.Contains(r, declared));
        Assert.All(CapreqModule.Module.Simulations, s => Assert.Equal(CapreqModule.Module.EngineId, s.Record.OwningEngine));
    }
}
