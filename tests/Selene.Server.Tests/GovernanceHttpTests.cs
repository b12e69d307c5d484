using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// PH1.GOV's gate inputs over HTTP against a real server (issue 10): safe mode, the kill switch, the day's budgets and
/// the CAPREQ gate each refuse with their own reason code, the refusal is in the journal, and the control plane itself
/// is never locked out. Each test works in a tenant of its own, so its switches touch nobody else.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class GovernanceHttpTests(SeleneServerFixture f)
{
    private const string SwitchSet = "GOV_SWITCH_SET_COMMIT";
    private const string QuotaSet = "GOV_QUOTA_SET_COMMIT";
    private const string DefinitionSet = "GOV_DEFINITION_SET_COMMIT";

    private static JsonObject Switch(string name, bool enabled) => new() { ["switch"] = name, ["enabled"] = enabled, ["note"] = "incident drill" };

    /// <summary>The turn's TURN_DECISION entry under the refusal's correlation: reason and cause.</summary>
    private async Task AssertJournaledRefusalAsync(string apiKey, Reply refused, string gateReason, string cause)
    {
        var correlation = refused.Json["correlation_id"]!.GetValue<string>();
        var decision = Assert.Single(await f.Api.JournalAsync(apiKey, correlation), e => e!["event_type"]!.GetValue<string>() == "TURN_DECISION")!;
        Assert.Equal(gateReason, decision["reason_code"]!.GetValue<string>());
        Assert.Equal("REFUSE", decision["payload"]!["next_move"]!.GetValue<string>());
        Assert.Equal(cause, decision["payload"]!["cause_reason_code"]!.GetValue<string>());
    }

    private Task<Reply> TurnAsync(string apiKey, string simulation, JsonObject inputs) =>
        f.Api.PostTurnAsync(apiKey, SeleneApi.TextTurn(simulation, inputs, SeleneApi.NewIdempotencyKey()).ToJsonString());

    [Fact]
    public async Task SafeMode_RefusesCommits_LetsDraftsAndReadsRun_AndIsJournaled()
    {
        var (_, admin) = await f.OwnTenantAsync("gov-safe");
        var id = (await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>();
        await f.RunAsync(admin, SwitchSet, Switch("SAFE_MODE", true), "GOV_OK_SWITCH_SET");

        var refused = await f.Api.SimulateAsync(admin, Submit, On(id));
        AssertProblem(refused, HttpStatusCode.Conflict, "GOV_SAFE_MODE_ACTIVE");
        await AssertJournaledRefusalAsync(admin, refused, "OS_FAIL_GOV_GATE", "GOV_SAFE_MODE_ACTIVE");
        var turn = await TurnAsync(admin, Submit, On(id));
        Assert.Equal(HttpStatusCode.OK, turn.Status);
        Assert.Equal("REFUSE", turn.Json["move"]!.GetValue<string>());
        Assert.Equal("OS_FAIL_GOV_GATE", turn.ReasonCode);
        Assert.Equal("GOV_SAFE_MODE_ACTIVE", turn.Json["cause_reason_code"]!.GetValue<string>());

        // A DRAFT simulation and a read still run; the request did not move.
        await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        Assert.Equal("DRAFT", (await f.Api.GetCapreqAsync(admin, id)).Capreq["status"]!.GetValue<string>());
        var gov = await f.Api.GetAsync(admin, "/v1/gov");
        AssertSuccess(gov, "QUERY_OK");
        Assert.Equal("SAFE_MODE", gov.Json["tenant"]!["status"]!.GetValue<string>());
        Assert.True(gov.Json["effective"]!["safe_mode"]!.GetValue<bool>());

        AssertProblem(await f.Api.SimulateAsync(admin, SwitchSet, Switch("SAFE_MODE", true)), HttpStatusCode.Conflict, "GOV_SWITCH_UNCHANGED");
        await f.RunAsync(admin, SwitchSet, Switch("SAFE_MODE", false), "GOV_OK_SWITCH_SET");
        await f.RunAsync(admin, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
    }

    [Fact]
    public async Task KillSwitch_RefusesEveryDispatch_DraftsToo_ButNeverTheSwitchItself()
    {
        var (_, admin) = await f.OwnTenantAsync("gov-kill");
        var (_, neighbour) = await f.OwnTenantAsync("gov-kill-neighbour");
        await f.RunAsync(admin, SwitchSet, Switch("KILL_SWITCH", true), "GOV_OK_SWITCH_SET");

        var refused = await f.Api.SimulateAsync(admin, Create, NewDraft());
        AssertProblem(refused, HttpStatusCode.Conflict, "GOV_KILL_SWITCH_ACTIVE");
        await AssertJournaledRefusalAsync(admin, refused, "OS_FAIL_GOV_GATE", "GOV_KILL_SWITCH_ACTIVE");
        Assert.Empty(await f.Api.ListAsync(admin));
        // A tenant's switch is its own.
        await f.RunAsync(neighbour, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        // Only a platform operator sets GLOBAL switches.
        var global = Switch("KILL_SWITCH", true);
        global["scope"] = "GLOBAL";
        AssertProblem(await f.Api.SimulateAsync(admin, SwitchSet, global), HttpStatusCode.Forbidden, "GOV_GLOBAL_SCOPE_FORBIDDEN");

        var switchJournal = await f.RunAsync(admin, SwitchSet, Switch("KILL_SWITCH", false), "GOV_OK_SWITCH_SET");
        var transition = Assert.Single(await f.Api.TransitionsAsync(admin, switchJournal.Json["correlation_id"]!.GetValue<string>()))!;
        Assert.Equal("PH1.GOV", transition["engine"]!.GetValue<string>());
        Assert.Equal("KILL_SWITCH", transition["payload"]!["state_from"]!.GetValue<string>());
        Assert.Equal("NORMAL", transition["payload"]!["state_to"]!.GetValue<string>());
        await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
    }

    [Fact]
    public async Task Quota_UserAndTenantBudgets_RefuseDeterministically_AndAReplaySpendsNothing()
    {
        var (tenant, admin) = await f.OwnTenantAsync("gov-quota");
        await f.GiveInstanceAsync(admin, "erin", "clerk_write", "W", "CAPREQ_MANAGE");
        var erin = await f.CreateKeyAsync(tenant, "erin");
        await f.RunAsync(admin, QuotaSet, new JsonObject { ["user_daily_executions"] = 2, ["tenant_daily_executions"] = 4, ["note"] = "pilot budget" }, "GOV_OK_QUOTA_SET");

        const string key = "erin-first-draft";
        var firstDraft = NewDraft();
        var first = await f.Api.SimulateAsync(erin, Create, firstDraft, key);
        AssertSuccess(first, "CAPREQ_OK_CREATE_DRAFT");
        await f.RunAsync(erin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        var overUser = await f.Api.SimulateAsync(erin, Create, NewDraft());
        AssertProblem(overUser, (HttpStatusCode)429, "QUOTA_USER_DAILY_EXCEEDED");
        await AssertJournaledRefusalAsync(erin, overUser, "OS_FAIL_QUOTA_GATE", "QUOTA_USER_DAILY_EXCEEDED");

        // The retry of a committed request executes nothing: its stored answer, not a refusal.
        var replay = await f.Api.SimulateAsync(erin, Create, firstDraft, key);
        Assert.Equal(HttpStatusCode.OK, replay.Status);
        Assert.True(replay.Replayed);

        // The admin has budget of their own; the tenant's is the limit then (the admin's instance grant for erin was
        // the tenant's first execution, erin's drafts the second and third).
        await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        var overTenant = await f.Api.SimulateAsync(admin, Create, NewDraft());
        AssertProblem(overTenant, (HttpStatusCode)429, "QUOTA_TENANT_DAILY_EXCEEDED");
        await AssertJournaledRefusalAsync(admin, overTenant, "OS_FAIL_QUOTA_GATE", "QUOTA_TENANT_DAILY_EXCEEDED");
        Assert.Equal(3, (await f.Api.ListAsync(admin)).Count);

        var gov = await f.Api.GetAsync(admin, "/v1/gov");
        AssertSuccess(gov, "QUERY_OK");
        Assert.Equal(4, gov.Json["usage"]!["tenant_executions"]!.GetValue<long>());
        Assert.Equal(4, gov.Json["effective"]!["tenant_daily_executions"]!.GetValue<long>());

        // The budget itself can always be raised: the control plane spends none.
        await f.RunAsync(admin, QuotaSet, new JsonObject { ["tenant_daily_executions"] = 5, ["note"] = "one more" }, "GOV_OK_QUOTA_SET");
        await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        AssertProblem(await f.Api.SimulateAsync(admin, QuotaSet, new JsonObject { ["user_daily_executions"] = 0, ["note"] = "zero" }),
            HttpStatusCode.BadRequest, "INPUT_FIELD_INVALID");
    }

    [Fact]
    public async Task CapreqGate_ADefinitionChange_RunsOnlyWithTheActorsApprovedRequest_AndFulfilsIt()
    {
        var (tenant, admin) = await f.OwnTenantAsync("gov-capreq");
        await f.GiveInstanceAsync(admin, "bob", "approver", "A", "CAPREQ_MANAGE");
        var bob = await f.CreateKeyAsync(tenant, "bob");
        var deprecate = new JsonObject
        {
            ["artifact_kind"] = "SIMULATION", ["artifact_id"] = Cancel, ["action"] = "DEPRECATE", ["note"] = "cancels go through support for now",
        };

        var refused = await f.Api.SimulateAsync(admin, DefinitionSet, deprecate);
        AssertProblem(refused, HttpStatusCode.Forbidden, "GOV_CAPREQ_APPROVAL_MISSING");
        await AssertJournaledRefusalAsync(admin, refused, "OS_FAIL_CAPREQ_GATE", "GOV_CAPREQ_APPROVAL_MISSING");

        // An approval for another scope does not count; one for exactly this definition does.
        var other = await ApprovedRequestAsync(admin, bob, "SIMULATION:" + Create);
        AssertProblem(await f.Api.SimulateAsync(admin, DefinitionSet, deprecate), HttpStatusCode.Forbidden, "GOV_CAPREQ_APPROVAL_MISSING");
        var approval = await ApprovedRequestAsync(admin, bob, "SIMULATION:" + Cancel);

        var changed = await f.Api.SimulateAsync(admin, DefinitionSet, deprecate);
        AssertSuccess(changed, "GOV_OK_DEFINITION_SET");
        Assert.Equal("DEPRECATED", changed.Json["definition"]!["status"]!.GetValue<string>());
        var fulfilled = (await f.Api.GetCapreqAsync(admin, approval)).Capreq;
        Assert.Equal("FULFILLED", fulfilled["status"]!.GetValue<string>());
        Assert.Equal("admin", fulfilled["last_actor_user_id"]!.GetValue<string>());
        Assert.Equal("APPROVED", (await f.Api.GetCapreqAsync(admin, other)).Capreq["status"]!.GetValue<string>());
        var journal = await f.Api.TransitionsAsync(admin, changed.Json["correlation_id"]!.GetValue<string>());
        Assert.Contains(journal, e => e!["engine"]!.GetValue<string>() == "PH1.CAPREQ" && e["payload"]!["state_to"]!.GetValue<string>() == "FULFILLED");

        // The catalog gate answers from the stored definition: the deprecated simulation no longer runs.
        var draft = (await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>();
        var gone = await f.Api.SimulateAsync(admin, Cancel, On(draft));
        Assert.Equal("SIMULATION_NOT_ACTIVE", gone.ReasonCode);
        Assert.Contains("DEPRECATED", gone.Json["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // The approval was spent: rolling back needs another one.
        var rollback = new JsonObject { ["artifact_kind"] = "SIMULATION", ["artifact_id"] = Cancel, ["action"] = "ROLLBACK", ["note"] = "support is back" };
        AssertProblem(await f.Api.SimulateAsync(admin, DefinitionSet, rollback), HttpStatusCode.Forbidden, "GOV_CAPREQ_APPROVAL_MISSING");
        await ApprovedRequestAsync(admin, bob, "SIMULATION:" + Cancel);
        AssertSuccess(await f.Api.SimulateAsync(admin, DefinitionSet, rollback), "GOV_OK_DEFINITION_SET");
        await f.RunAsync(admin, Cancel, On(draft), "CAPREQ_OK_CANCEL");
    }

    /// <summary>The requester drafts and submits a GOV_DEFINITION_CHANGE request for <paramref name="scope"/>; the approver approves it.</summary>
    private async Task<string> ApprovedRequestAsync(string requester, string approver, string scope)
    {
        var id = (await f.RunAsync(requester, Create, new JsonObject
        {
            ["requested_capability_id"] = "GOV_DEFINITION_CHANGE", ["target_scope_ref"] = scope, ["justification"] = "governed definition change " + Guid.NewGuid().ToString("N"),
        }, "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>();
        await f.RunAsync(requester, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        await f.RunAsync(approver, Approve, On(id), "CAPREQ_OK_APPROVE");
        return id;
    }

    [Fact]
    public async Task GovCli_OperatorSwitchesSafeModeAndSetsABudget_TheServerObeysAndStatusShowsIt()
    {
        var (tenant, admin) = await f.OwnTenantAsync("gov-cli");
        var on = await f.SeleneAsync("gov", "safe-mode", "on", "--tenant", tenant, "--user", "admin", "--note", "incident 42");
        Assert.True(on.ExitCode == 0, on.ToString());
        Assert.StartsWith("GOV_OK_SWITCH_SET ", on.StandardOutput, StringComparison.Ordinal);
        var draft = (await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>();
        AssertProblem(await f.Api.SimulateAsync(admin, Submit, On(draft)), HttpStatusCode.Conflict, "GOV_SAFE_MODE_ACTIVE");

        var again = await f.SeleneAsync("gov", "safe-mode", "on", "--tenant", tenant, "--user", "admin", "--note", "incident 42");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("GOV_SWITCH_UNCHANGED", again.StandardError, StringComparison.Ordinal);
        var stranger = await f.SeleneAsync("gov", "kill-switch", "on", "--tenant", tenant, "--user", "nobody", "--note", "x");
        Assert.Equal(2, stranger.ExitCode);
        Assert.Contains("ACCESS_", stranger.StandardError, StringComparison.Ordinal);

        Assert.Equal(0, (await f.SeleneAsync("gov", "quota", "--tenant", tenant, "--user", "admin", "--note", "pilot", "--user-daily", "7")).ExitCode);
        var status = await f.SeleneAsync("gov", "status", "--tenant", tenant, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        var body = JsonNode.Parse(status.StandardOutput)!;
        Assert.True(body["effective"]!["safe_mode"]!.GetValue<bool>());
        Assert.Equal(7, body["effective"]!["user_daily_executions"]!.GetValue<long>());
        Assert.Equal("pilot", body["tenant"]!["last_note"]!.GetValue<string>());

        Assert.Equal(0, (await f.SeleneAsync("gov", "safe-mode", "off", "--tenant", tenant, "--user", "admin", "--note", "resolved")).ExitCode);
        await f.RunAsync(admin, Submit, On(draft), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
    }
}
