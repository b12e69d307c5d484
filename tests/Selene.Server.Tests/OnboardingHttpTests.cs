using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Onboarding sessions over HTTP (issue 11, item 6): a link opened on a device starts its session (ONB_SESSION_START_DRAFT
/// with the activation context), which the tenant's administrators list and read with its pinned schema and next step;
/// the invite names its session; another tenant sees none of it; bad ids and filters are reason-coded.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class OnboardingHttpTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Session_StartedFromAnOpenedLink_IsListedAndReadByItsTenantOnly()
    {
        var generated = await f.RunAsync(f.AliceKey, "LINK_INVITE_GENERATE_DRAFT", JsonNode.Parse("""
            {"invitee_type":"FRIEND","prefilled_fields":{"first_name":"Eve"}}
            """)!.AsObject(), "LINK_OK_GENERATE_DRAFT");
        var tokenId = generated.Json["token"]!["token_id"]!.GetValue<string>();
        const long openedAt = 1_900_000_000_000_000_000;
        var opened = await f.RunAsync(f.AliceKey, "LINK_INVITE_OPEN_ACTIVATE_COMMIT", new JsonObject
        {
            ["token_id"] = tokenId, ["device_fingerprint"] = "web:http-phone", ["app_platform"] = "WEB", ["app_instance_id"] = "web_http",
            ["deep_link_nonce"] = "nonce-http", ["link_opened_at"] = openedAt,
        }, "LINK_OK_OPEN_ACTIVATE");
        var started = await f.RunAsync(f.AliceKey, "ONB_SESSION_START_DRAFT", new JsonObject
        {
            ["token_id"] = tokenId, ["device_fingerprint_hash"] = opened.Json["bound_device_fingerprint_hash"]!.GetValue<string>(), ["app_platform"] = "WEB",
            ["app_instance_id"] = "web_http", ["deep_link_nonce"] = "nonce-http", ["link_opened_at"] = openedAt,
        }, "ONB_OK_SESSION_START_DRAFT");
        var sessionId = started.Json["session"]!["onboarding_session_id"]!.GetValue<string>();

        var list = await f.Api.GetAsync(f.AliceKey, "/v1/onboarding-sessions?status=DRAFT_CREATED&limit=500");
        AssertSuccess(list, "QUERY_OK");
        Assert.Contains(list.Json["onboarding_sessions"]!.AsArray(), s => s!["onboarding_session_id"]!.GetValue<string>() == sessionId);

        var one = await f.Api.GetAsync(f.AliceKey, $"/v1/onboarding-sessions/{sessionId}");
        AssertSuccess(one, "QUERY_OK");
        var session = one.Json["session"]!;
        // A FRIEND invite pins the invitee type's defaults; its one required field (the tenant) is known, so the terms come next.
        Assert.Equal(("invitee:FRIEND", "default", "TERMS", "DRAFT_CREATED"), (session["pinned_schema_id"]!.GetValue<string>(),
            session["pinned_overlay_set_id"]!.GetValue<string>(), session["next_step"]!.GetValue<string>(), session["status"]!.GetValue<string>()));
        Assert.Equal(["tenant_id"], session["questions"]!.AsArray().Select(q => q!["field_key"]!.GetValue<string>()));
        Assert.DoesNotContain("nonce-http", one.Json.ToJsonString(), StringComparison.Ordinal);
        var invite = await f.Api.GetAsync(f.AliceKey, $"/v1/invites/{tokenId}");
        AssertSuccess(invite, "QUERY_OK");
        Assert.Equal(sessionId, invite.Json["onboarding_session_id"]!.GetValue<string>());

        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/onboarding-sessions/{sessionId}"), HttpStatusCode.NotFound, "ONB_REFUSE_NOT_FOUND");
        var carol = await f.Api.GetAsync(f.CarolKey, "/v1/onboarding-sessions");
        AssertSuccess(carol, "QUERY_OK");
        Assert.DoesNotContain(carol.Json["onboarding_sessions"]!.AsArray(), s => s!["onboarding_session_id"]!.GetValue<string>() == sessionId);
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/onboarding-sessions/onb_nope"), HttpStatusCode.NotFound, "ONB_REFUSE_NOT_FOUND");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/onboarding-sessions?status=OPEN"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
        // Another device's start is refused and changes nothing.
        var other = await f.Api.SimulateAsync(f.AliceKey, "ONB_SESSION_START_DRAFT", new JsonObject
        {
            ["token_id"] = tokenId, ["device_fingerprint_hash"] = "dfp_00000000000000000000000000000000", ["app_platform"] = "WEB",
            ["app_instance_id"] = "web_http", ["deep_link_nonce"] = "nonce-http", ["link_opened_at"] = openedAt,
        });
        AssertProblem(other, HttpStatusCode.Forbidden, "ONB_CONTEXT_MISMATCH");
    }
}
