using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The README walkthrough of issue 3, over HTTP against a real `selene serve`: a tenant and its admin, a second user
/// with a restricted instance whose governed request is refused with ACCESS_AP_REQUIRED, an N_OF_M board vote that
/// resolves it, and the retried request succeeding — all in the journal.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class EscalationHttpTests(SeleneServerFixture f)
{
    [Fact]
    public async Task RestrictedUsersRequest_IsEscalated_BoardApprovesTwoOfThree_RetryWithTheSameKeySucceeds()
    {
        var admin = await f.CreateTenantAsync("initech", "ian");
        await f.GiveInstanceAsync(admin, "erin", "clerk_write", "W", "CAPREQ_MANAGE");
        foreach (var member in new[] { "m1", "m2", "m3" }) await f.GiveInstanceAsync(admin, member, "board_member", "W", "ACCESS_ESCALATION_VOTE");
        var erin = await f.CreateKeyAsync("initech", "erin");
        var m1 = await f.CreateKeyAsync("initech", "m1");
        var m2 = await f.CreateKeyAsync("initech", "m2");

        var policy = new JsonObject
        {
            ["primitive"] = "N_OF_M", ["required_approvals"] = 2, ["members"] = new JsonArray("m1", "m2", "m3"),
            ["applies_to"] = new JsonArray("CAPREQ_MANAGE"),
        };
        await f.RunAsync(admin, "ACCESS_BOARD_POLICY_UPDATE_COMMIT", new JsonObject
        {
            ["board_policy_id"] = "approvals", ["policy_version_id"] = 1, ["event_action"] = "CREATE_DRAFT", ["reason"] = "two of three", ["policy_payload"] = policy,
        }, "ACCESS_BOARD_POLICY_OK_UPDATE");
        await f.RunAsync(admin, "ACCESS_BOARD_POLICY_UPDATE_COMMIT", new JsonObject
        {
            ["board_policy_id"] = "approvals", ["policy_version_id"] = 1, ["event_action"] = "ACTIVATE", ["reason"] = "in force",
        }, "ACCESS_BOARD_POLICY_OK_UPDATE");

        var id = (await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>();
        await f.RunAsync(admin, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");

        // erin may write, not approve: refused with ACCESS_AP_REQUIRED, and a case opens for the board.
        const string key = "erin-approves-1";
        var refused = await f.Api.SimulateAsync(erin, Approve, On(id), key);
        AssertProblem(refused, HttpStatusCode.Forbidden, "ACCESS_AP_REQUIRED");
        Assert.Equal("ESCALATE", refused.Json["access_decision"]!.GetValue<string>());
        Assert.Equal("AP_APPROVAL_REQUIRED", refused.Json["escalation_trigger"]!.GetValue<string>());
        var caseId = refused.Json["escalation_case_id"]!.GetValue<string>();
        var correlation = refused.Json["correlation_id"]!.GetValue<string>();

        var open = await f.Api.GetAsync(admin, "/v1/access/escalations?status=OPEN");
        AssertSuccess(open, "QUERY_OK");
        var listed = Assert.Single(open.Json["escalation_cases"]!.AsArray())!;
        Assert.Equal(caseId, listed["escalation_case_id"]!.GetValue<string>());
        Assert.Equal("PENDING", listed["threshold_status"]!.GetValue<string>());
        Assert.Equal("approvals", listed["board_policy_id"]!.GetValue<string>());

        var first = await f.Api.SimulateAsync(m1, "ACCESS_BOARD_VOTE_COMMIT", Vote(caseId));
        AssertSuccess(first, "ACCESS_BOARD_VOTE_OK");
        Assert.Equal("PENDING", first.Json["threshold_status"]!.GetValue<string>());
        AssertProblem(await f.Api.SimulateAsync(m1, "ACCESS_BOARD_VOTE_COMMIT", Vote(caseId)), HttpStatusCode.Conflict, "ACCESS_BOARD_VOTE_DUPLICATE");
        AssertProblem(await f.Api.SimulateAsync(erin, Approve, On(id), key), HttpStatusCode.Forbidden, "ACCESS_AP_REQUIRED");

        var second = await f.Api.SimulateAsync(m2, "ACCESS_BOARD_VOTE_COMMIT", Vote(caseId));
        AssertSuccess(second, "ACCESS_BOARD_VOTE_OK");
        Assert.Equal("SATISFIED", second.Json["threshold_status"]!.GetValue<string>());

        var resolved = await f.Api.GetAsync(admin, $"/v1/access/escalations/{caseId}");
        AssertSuccess(resolved, "QUERY_OK");
        var escalation = resolved.Json["escalation_case"]!;
        Assert.Equal("APPROVED", escalation["status"]!.GetValue<string>());
        Assert.Equal("SATISFIED", escalation["threshold_status"]!.GetValue<string>());
        Assert.Equal(["m1", "m2"], escalation["votes"]!.AsArray().Select(v => v!["voter_user_id"]!.GetValue<string>()));

        var retried = await f.Api.SimulateAsync(erin, Approve, On(id), key);
        AssertSuccess(retried, "CAPREQ_OK_APPROVE");
        Assert.Equal("APPROVED", retried.Capreq["status"]!.GetValue<string>());
        Assert.Equal(correlation, retried.Json["correlation_id"]!.GetValue<string>());

        var overrides = await f.Api.GetAsync(admin, "/v1/access/overrides?user_id=erin");
        AssertSuccess(overrides, "QUERY_OK");
        var granted = Assert.Single(overrides.Json["overrides"]!.AsArray())!;
        Assert.Equal("ONE_SHOT", granted["override_type"]!.GetValue<string>());
        Assert.Equal("ACCESS_BOARD_VOTE_COMMIT", granted["approved_via_simulation_id"]!.GetValue<string>());
        Assert.Equal(caseId, granted["escalation_case_id"]!.GetValue<string>());

        // The request's story, in the journal under its correlation.
        var entries = await f.Api.JournalAsync(erin, correlation);
        // Each attempt is one turn: the gate's TURN_DECISION first, then the access decision it was derived from.
        Assert.Equal(["TURN_DECISION", "ACCESS_DECISION", "ACCESS_ESCALATION_CASE_OPENED", "TURN_DECISION", "ACCESS_DECISION",
                "TURN_DECISION", "ACCESS_DECISION", "STATE_TRANSITION"],
            entries.Select(e => e!["event_type"]!.GetValue<string>()));
        Assert.Equal(["OS_FAIL_ACCESS_GATE", "ACCESS_AP_REQUIRED", "ACCESS_ESCALATION_CASE_OPENED", "OS_FAIL_ACCESS_GATE", "ACCESS_AP_REQUIRED",
                "PH1_OS_OK_DECISION_COMPUTE", "ACCESS_ALLOWED", "CAPREQ_OK_APPROVE"],
            entries.Select(e => e!["reason_code"]!.GetValue<string>()));

        // Another tenant sees none of it.
        AssertProblem(await f.Api.GetAsync(f.AliceKey, $"/v1/access/escalations/{caseId}"), HttpStatusCode.NotFound, "ACCESS_ESCALATION_CASE_NOT_FOUND");
        var acmePolicies = await f.Api.GetAsync(f.AliceKey, "/v1/access/board-policies");
        Assert.DoesNotContain(acmePolicies.Json["board_policies"]!.AsArray(), p => p!["board_policy_id"]!.GetValue<string>() == "approvals");
        var initechPolicies = await f.Api.GetAsync(admin, "/v1/access/board-policies/approvals");
        AssertSuccess(initechPolicies, "QUERY_OK");
        Assert.Equal(1, initechPolicies.Json["board_policy"]!["active_policy_version_id"]!.GetValue<int>());
    }

    [Fact]
    public async Task Reads_RefuseBadParameters_WithReasonCodes()
    {
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/escalations?status=MAYBE"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/escalations?who=me"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/escalations/not-a-case"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/overrides?user_id=a%20b"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/board-policies/none"), HttpStatusCode.NotFound, "ACCESS_BOARD_POLICY_NOT_FOUND");
    }

    [Fact]
    public async Task KeysCreate_ForAUserWhoDoesNotExist_IsRefused()
    {
        var result = await f.SeleneAsync("keys", "create", "--tenant", "acme", "--user", "ghost");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("IDENTITY_UNKNOWN", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
        var noTenant = await f.SeleneAsync("keys", "create", "--tenant", "no-such-tenant", "--user", "alice");
        Assert.Contains("IDENTITY_UNKNOWN", noTenant.StandardError + noTenant.StandardOutput, StringComparison.Ordinal);
    }

    private static JsonObject Vote(string caseId) => new()
    {
        ["escalation_case_id"] = caseId, ["board_policy_id"] = "approvals", ["vote_value"] = "APPROVE", ["reason"] = "the request is sound",
    };
}
