using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>Access profiles and overlays over HTTP: a tenant reads its own (and GLOBAL) profiles, never another tenant's.</summary>
[Collection(SeleneServerCollection.Name)]
public class AccessProfileReadTests(SeleneServerFixture f)
{
    [Fact]
    public async Task ProfileAndOverlay_OverHttp_AreReadableByTheirTenantOnly()
    {
        // Its own tenant: the profile and overlay lists it reads hold only what it made (they are capped, not paged).
        var (_, admin) = await f.OwnTenantAsync("ap-read");
        var p = "http-ap-" + Guid.NewGuid().ToString("N")[..8];
        JsonObject Version(int v, bool payload = false)
        {
            var body = new JsonObject { ["access_profile_id"] = p, ["schema_version_id"] = v, ["scope"] = "TENANT", ["reason"] = "http test" };
            if (payload)
            {
                body["profile_payload"] = JsonNode.Parse("""{"profile_name":"Courier","capability_allow_list":["CAPREQ_MANAGE"],"access_mode":"W","financial_auth":false}""");
            }
            return body;
        }
        await f.RunAsync(admin, "ACCESS_AP_SCHEMA_CREATE_DRAFT", Version(1, payload: true), "ACCESS_AP_SCHEMA_OK_CREATE_DRAFT");
        var review = Version(1);
        review["review_channel"] = "PHONE_DESKTOP";
        await f.RunAsync(admin, "ACCESS_AP_AUTHORING_REVIEW_CHANNEL_COMMIT", review, "ACCESS_AP_AUTHORING_OK_REVIEW_CHANNEL_COMMIT");

        // Activation before the review is confirmed: a reason-coded 409.
        AssertProblem(await f.Api.SimulateAsync(admin, "ACCESS_AP_SCHEMA_ACTIVATE_COMMIT", Version(1)),
            HttpStatusCode.Conflict, "ACCESS_AP_ACTIVATION_CONFLICT");
        Assert.DoesNotContain((await f.Api.GetAsync(admin, "/v1/access/profiles")).Json["access_profiles"]!.AsArray(),
            a => a!["access_profile_id"]!.GetValue<string>() == p);

        var detail = await f.Api.GetAsync(admin, $"/v1/access/profiles/{p}");
        AssertSuccess(detail, "QUERY_OK");
        var version = detail.Json["access_profile"]!["versions"]![0]!;
        Assert.Equal(("TENANT", 1, "DRAFT"), (version["scope"]!.GetValue<string>(), version["schema_version_id"]!.GetValue<int>(), version["lifecycle_state"]!.GetValue<string>()));
        Assert.Equal("REVIEW_IN_PROGRESS", version["authoring_review"]!["confirmation_state"]!.GetValue<string>());

        var overlay = JsonNode.Parse($$"""
            {"overlay_id":"{{p}}","overlay_version_id":1,"event_action":"CREATE_DRAFT","reason":"http test","overlay_ops":[{"op":"ADD_PERMISSION","capability_id":"CAPREQ_SELF_APPROVE"}]}
            """)!.AsObject();
        await f.RunAsync(admin, "ACCESS_AP_OVERLAY_UPDATE_COMMIT", overlay, "ACCESS_AP_OVERLAY_OK_UPDATE_COMMIT");
        var overlays = await f.Api.GetAsync(admin, "/v1/access/overlays");
        AssertSuccess(overlays, "QUERY_OK");
        var mine = Assert.Single(overlays.Json["access_overlays"]!.AsArray(), o => o!["overlay_id"]!.GetValue<string>() == p)!;
        Assert.Equal("DRAFT", mine["versions"]![0]!["lifecycle_state"]!.GetValue<string>());

        // Another tenant sees none of it.
        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/access/profiles/{p}"), HttpStatusCode.NotFound, "ACCESS_SCHEMA_REF_MISSING");
        Assert.DoesNotContain((await f.Api.GetAsync(f.CarolKey, "/v1/access/overlays")).Json["access_overlays"]!.AsArray(),
            o => o!["overlay_id"]!.GetValue<string>() == p);
        AssertProblem(await f.Api.GetAsync(admin, "/v1/access/profiles/not%20an%20id"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
    }
}
