using System.Net;
using System.Text.Json;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

[Collection(SeleneServerCollection.Name)]
public class DiscoveryTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Healthz_WithoutApiKey_Is200HealthOk()
    {
        var reply = await f.Api.GetAsync(null, "/healthz");
        AssertSuccess(reply, "HEALTH_OK");
        Assert.Equal("ok", reply.Json["status"]!.GetValue<string>());
        Assert.Equal("ok", reply.Json["database"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenApi_Document_IsJsonListingTheSimulationPath()
    {
        var reply = await f.Api.GetAsync(null, "/openapi/v1.json");
        Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
        Assert.Equal(SeleneApi.Json, reply.MediaType);

        using var document = JsonDocument.Parse(reply.Bytes);
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/simulations/{simulation_id}", out var simulation), "paths lacks /v1/simulations/{simulation_id}");
        Assert.True(simulation.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/v1/capreqs/{capreq_id}", out _));
        Assert.True(paths.TryGetProperty("/v1/journal", out _));
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_EveryOperation_NamesItsOutcomesAndItsResourceGroup()
    {
        // Issue 9 item 4: endpoints grouped per resource (one tag per group: turns, simulations, catalog, journal,
        // health and each engine module), and the document knows every outcome an endpoint can answer.
        using var document = JsonDocument.Parse((await f.Api.GetAsync(null, "/openapi/v1.json")).Bytes);
        var operations = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Path: p.Name, Method: o.Name, Operation: o.Value)))
            .ToArray();
        Assert.NotEmpty(operations);
        foreach (var (path, method, operation) in operations)
        {
            var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
            Assert.True(responses.IsSupersetOf(path.StartsWith("/v1/", StringComparison.Ordinal) ? ["200", "401", "503"] : ["200", "503"]),
                $"{method} {path} answers {string.Join(",", responses)}");
            Assert.True(operation.TryGetProperty("tags", out var tags) && tags.GetArrayLength() == 1, $"{method} {path} has no resource group");
        }
        string TagOf(string path, string method) => operations.Single(o => o.Path == path && o.Method == method).Operation.GetProperty("tags")[0].GetString()!;
        Assert.Equal("turns", TagOf("/v1/turns", "post"));
        Assert.Equal("simulations", TagOf("/v1/simulations/{simulation_id}", "post"));
        Assert.Equal("catalog", TagOf("/v1/catalog", "get"));
        Assert.Equal("journal", TagOf("/v1/journal", "get"));
        Assert.Equal("health", TagOf("/healthz", "get"));
        Assert.Equal("capreq", TagOf("/v1/capreqs/{capreq_id}", "get"));
        Assert.Contains("404", operations.Single(o => o.Path == "/v1/capreqs/{capreq_id}").Operation.GetProperty("responses").EnumerateObject().Select(r => r.Name));
    }

    [Fact]
    public async Task Catalog_OverHttp_IsTheServedCatalog()
    {
        var reply = await f.Api.GetAsync(f.AliceKey, "/v1/catalog");
        AssertSuccess(reply, "QUERY_OK");
        var expected = Selene.Runtime.CatalogView.ToJson(Selene.Runtime.SeleneCatalog.Default);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(expected["simulations"], reply.Json["simulations"]), "simulations differ");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(expected["blueprints"], reply.Json["blueprints"]), "blueprints differ");
        AssertProblem(await f.Api.GetAsync(null, "/v1/catalog"), HttpStatusCode.Unauthorized, "AUTH_KEY_MISSING");
    }

    [Fact]
    public async Task Problem_UnknownRouteOutsideV1_Is404RouteNotFoundWithoutApiKey()
    {
        var reply = await f.Api.GetAsync(null, "/nowhere");
        AssertProblem(reply, HttpStatusCode.NotFound, "ROUTE_NOT_FOUND");
        Assert.Equal("urn:selene:reason:ROUTE_NOT_FOUND", reply.Json["type"]!.GetValue<string>());
    }
}
