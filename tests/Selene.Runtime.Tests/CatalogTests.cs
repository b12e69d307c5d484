using System.Text;
using Selene.Engines.Link;
using Selene.Kernel.Catalog;

namespace Selene.Runtime.Tests;

/// <summary>The served catalog: complete, valid, and the same as docs/catalog.md.</summary>
public sealed class CatalogTests
{
    private const string DocPath = "docs/catalog.md";

    [Fact]
    public void CatalogDocs_MatchCatalog()
    {
        var path = Path.Combine(RepoRoot(), DocPath);
        var expected = CatalogView.Markdown(SeleneCatalog.Default);
        if (Environment.GetEnvironmentVariable("SELENE_UPDATE_DOCS") == "1")
            File.WriteAllText(path, expected, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

        Assert.True(File.Exists(path), $"{DocPath} is missing; run the tests with SELENE_UPDATE_DOCS=1");
        Assert.Equal(expected, File.ReadAllText(path).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Default_HoldsEveryRegisteredHandler_ActiveAndBoundToAnActiveBlueprint()
    {
        var catalog = SeleneCatalog.Default;
        Assert.All(SimulationRegistry.Default.Handlers, h =>
        {
            var posture = catalog.Posture(h.Record.SimulationId);
            Assert.Same(h.Record, posture.Record);
            Assert.True(posture.SimulationActive, h.Record.SimulationId);
            Assert.True(posture.BlueprintActive, h.Record.SimulationId);
        });
    }

    [Fact]
    public void Default_KeepsTheLegacyLinkDeliveryIds_AsLegacyWithoutHandler()
    {
        foreach (var id in SimulationCatalog.LegacyLinkDeliveryIds)
        {
            var posture = SeleneCatalog.Default.Posture(id);
            Assert.True(posture.Legacy, id);
            Assert.False(posture.SimulationActive);
            Assert.Null(posture.Blueprint);
            Assert.False(SimulationRegistry.Default.TryGet(id, out _));
        }
    }

    [Fact]
    public void Json_ListsEverySimulationAndBlueprint()
    {
        var json = CatalogView.ToJson(SeleneCatalog.Default);
        Assert.Equal(SeleneCatalog.Default.Simulations.Count, json["simulations"]!.AsArray().Count);
        Assert.Equal(SeleneCatalog.Default.Blueprints.Count, json["blueprints"]!.AsArray().Count);
        var legacy = json["simulations"]!.AsArray().Single(s => (string?)s!["simulation_id"] == LinkSimulations.Legacy[0].SimulationId)!;
        Assert.Equal("LEGACY_DO_NOT_WIRE", (string?)legacy["status"]);
        Assert.Null(legacy["blueprint_id"]);
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Selene.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no Selene.slnx above {AppContext.BaseDirectory}");
    }
}
