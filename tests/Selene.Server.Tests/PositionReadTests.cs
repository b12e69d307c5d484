using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>Companies, positions and their active schema over HTTP, one tenant's view only.</summary>
[Collection(SeleneServerCollection.Name)]
public class PositionReadTests(SeleneServerFixture f)
{
    [Fact]
    public async Task PositionFlow_OverHttp_IsReadableByItsTenantOnly()
    {
        await f.RunAsync(f.AliceKey, "TENANT_COMPANY_UPSERT_COMMIT",
            JsonNode.Parse("""{"company_id":"http-co","legal_name":"Http Co","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""")!.AsObject(), "TENANT_COMPANY_OK_UPSERT");
        var created = await f.RunAsync(f.AliceKey, "POSITION_SIM_001_CREATE_DRAFT", JsonNode.Parse("""
            {"company_id":"http-co","position_title":"Courier","department":"Delivery","jurisdiction":"DE","schedule_type":"PART_TIME",
             "permission_profile_ref":"ap.courier","compensation_band_ref":"band.c1"}
            """)!.AsObject(), "POSITION_OK_CREATE_DRAFT");
        var id = created.Json["position"]!["position_id"]!.GetValue<string>();
        await f.RunAsync(f.AliceKey, "POSITION_SIM_004_ACTIVATE_COMMIT", new JsonObject { ["position_id"] = id }, "POSITION_OK_ACTIVATE_COMMIT");

        AssertProblem(await f.Api.GetAsync(f.AliceKey, $"/v1/positions/{id}/schema"), HttpStatusCode.NotFound, "POSITION_SCHEMA_VERSION_NOT_FOUND");
        var spec = """{"field_key":"bike","field_type":"ENUM","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"USER_ANSWER","prompt_short":"Bike?","prompt_long":"Do you bring your own bike?"}""";
        await f.RunAsync(f.AliceKey, "POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT",
            JsonNode.Parse($$"""{"company_id":"http-co","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{spec}}]}""")!.AsObject(),
            "POSITION_OK_REQUIREMENTS_SCHEMA_CREATE_DRAFT");
        await f.RunAsync(f.AliceKey, "POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT",
            JsonNode.Parse($$"""{"company_id":"http-co","position_id":"{{id}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""")!.AsObject(),
            "POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT");

        var position = await f.Api.GetAsync(f.AliceKey, $"/v1/positions/{id}");
        AssertSuccess(position, "QUERY_OK");
        Assert.Equal("ACTIVE", position.Json["position"]!["lifecycle_state"]!.GetValue<string>());
        var schema = await f.Api.GetAsync(f.AliceKey, $"/v1/positions/{id}/schema");
        AssertSuccess(schema, "QUERY_OK");
        Assert.Equal("v1", schema.Json["schema"]!["schema_version_id"]!.GetValue<string>());
        Assert.Equal("bike", schema.Json["schema"]!["field_specs"]![0]!["field_key"]!.GetValue<string>());
        Assert.Contains((await f.Api.GetAsync(f.AliceKey, "/v1/positions")).Json["positions"]!.AsArray(), p => p!["position_id"]!.GetValue<string>() == id);
        Assert.Contains((await f.Api.GetAsync(f.AliceKey, "/v1/companies")).Json["companies"]!.AsArray(), c => c!["company_id"]!.GetValue<string>() == "http-co");

        // Another tenant sees none of it.
        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/positions/{id}"), HttpStatusCode.NotFound, "POSITION_NOT_FOUND");
        Assert.DoesNotContain((await f.Api.GetAsync(f.CarolKey, "/v1/companies")).Json["companies"]!.AsArray(), c => c!["company_id"]!.GetValue<string>() == "http-co");
    }

    [Fact]
    public async Task AccessInstances_ListTheTenantsUsers_AndAnUnknownUserIsAReasonCoded404()
    {
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/instances/nobody"), HttpStatusCode.NotFound, "ACCESS_INSTANCE_MISSING");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/instances/carol"), HttpStatusCode.NotFound, "ACCESS_INSTANCE_MISSING"); // globex's
        var list = await f.Api.GetAsync(f.AliceKey, "/v1/access/instances");
        AssertSuccess(list, "QUERY_OK");
        var users = list.Json["access_instances"]!.AsArray().Select(i => i!["user_id"]!.GetValue<string>()).ToArray();
        Assert.Contains("alice", users);
        Assert.Contains("bob", users);
        Assert.DoesNotContain("carol", users);
        var bob = await f.Api.GetAsync(f.AliceKey, "/v1/access/instances/bob");
        AssertSuccess(bob, "QUERY_OK");
        Assert.Equal("A", bob.Json["access_instance"]!["effective_access_mode"]!.GetValue<string>());
    }
}
