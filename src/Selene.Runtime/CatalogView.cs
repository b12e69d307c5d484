using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Selene.Kernel.Catalog;

namespace Selene.Runtime;

/// <summary>The catalog as served by GET /v1/catalog and as written to docs/catalog.md (both generated here).</summary>
public static class CatalogView
{
    /// <summary>The JSON document of GET /v1/catalog.</summary>
    public static JsonObject ToJson(SimulationCatalog catalog) => new()
    {
        ["simulations"] = new JsonArray(catalog.Simulations.Select(s => (JsonNode)new JsonObject
        {
            ["simulation_id"] = s.SimulationId,
            ["owning_engine"] = s.OwningEngine,
            ["type"] = WireNames.Of(s.Type),
            ["status"] = WireNames.Of(s.Status),
            ["requested_action"] = s.RequestedAction,
            ["required_mode"] = WireNames.Of(s.RequiredMode),
            ["idempotency_scope"] = s.IdempotencyScope,
            ["handoff_only"] = s.HandoffOnly,
            ["blueprint_id"] = catalog.BlueprintOf(s.SimulationId)?.ProcessId,
            ["reason_codes"] = new JsonArray(s.ReasonCodes.Select(c => (JsonNode)c.Name).ToArray()),
        }).ToArray()),
        ["blueprints"] = new JsonArray(catalog.Blueprints.Select(b => (JsonNode)new JsonObject
        {
            ["process_id"] = b.ProcessId,
            ["intent_type"] = b.IntentType,
            ["version"] = b.Version,
            ["status"] = WireNames.Of(b.Status),
            ["steps"] = new JsonArray(b.Steps.Select(st => (JsonNode)new JsonObject
            {
                ["engine_id"] = st.EngineId,
                ["simulation_id"] = st.SimulationId,
            }).ToArray()),
        }).ToArray()),
    };

    /// <summary>docs/catalog.md.</summary>
    public static string Markdown(SimulationCatalog catalog)
    {
        var md = new StringBuilder();
        md.Append("# Simulation catalog\n\n");
        md.Append("<!-- Generated from SeleneCatalog.Default by the test CatalogDocs_MatchCatalog; do not edit by hand.\n");
        md.Append("     Refresh with: SELENE_UPDATE_DOCS=1 dotnet test tests/Selene.Runtime.Tests --filter CatalogDocs -->\n\n");
        md.Append("Only ACTIVE simulations bound to an ACTIVE blueprint execute, and only after the turn gate decides\n");
        md.Append("DISPATCH_SIMULATION (docs/turns.md). LEGACY_DO_NOT_WIRE ids are refused with that reason code. Served live by\n");
        md.Append("`GET /v1/catalog`. A simulation marked *(handoff only)* runs only as the outbox worker's handoff\n");
        md.Append("(docs/orchestration.md); a caller asking for it is refused with SIMULATION_HANDOFF_ONLY.\n\n");
        md.Append("## Simulations\n\n");
        md.Append("| simulation | engine | type | status | requested action | mode | blueprint | idempotency scope | reason codes |\n");
        md.Append("|---|---|---|---|---|---|---|---|---|\n");
        foreach (var s in catalog.Simulations)
        {
            md.Append(CultureInfo.InvariantCulture,
                $"| `{s.SimulationId}`{(s.HandoffOnly ? " *(handoff only)*" : "")} | {s.OwningEngine} | {WireNames.Of(s.Type)} | {WireNames.Of(s.Status)} | {s.RequestedAction} | {WireNames.Of(s.RequiredMode)} | {catalog.BlueprintOf(s.SimulationId)?.ProcessId ?? "—"} | {s.IdempotencyScope} | {string.Join(", ", s.ReasonCodes.Select(c => c.Name))} |\n");
        }
        md.Append("\n## Blueprints\n\n");
        md.Append("| process (intent type) | version | status | ordered steps |\n");
        md.Append("|---|---:|---|---|\n");
        foreach (var b in catalog.Blueprints)
        {
            md.Append(CultureInfo.InvariantCulture,
                $"| `{b.ProcessId}` | {b.Version} | {WireNames.Of(b.Status)} | {string.Join(" → ", b.Steps.Select((st, i) => $"{i + 1}. {st.EngineId} {st.SimulationId}"))} |\n");
        }
        return md.ToString();
    }
}
