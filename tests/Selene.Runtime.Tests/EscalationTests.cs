using Selene.Engines.Access;
using System.Text.Json.Nodes;
using Selene.Engines.CapReq;
using Selene.Runtime.Access;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// The executor enforces the ACCESS gate, and every approval path is a recorded fact: escalation cases opened by
/// refusals, resolved by board votes or overrides, after which the original request retried with its key passes.
/// </summary>
public sealed class EscalationTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private static readonly string[] Voters = ["v1", "v2", "v3"];
    /// <summary>Voters v1..v3 and an ACTIVE N_OF_M (2 of 3) board policy governing CAPREQ_MANAGE.</summary>
    private async Task BoardAsync()
    {
        if (await f.CountAsync("acme", "access_board_policy_current", "stream_id = 'capreq-board'") > 0) return;
        foreach (var v in Voters) await f.GiveInstanceAsync("alice", v, "board_member", "W", ["ACCESS_ESCALATION_VOTE"]);
        await PolicyAsync("capreq-board", 1, "CREATE_DRAFT", new JsonObject
        {
            ["primitive"] = "N_OF_M", ["required_approvals"] = 2, ["members"] = new JsonArray("v1", "v2", "v3"), ["applies_to"] = new JsonArray("CAPREQ_MANAGE"),
        }).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        await PolicyAsync("capreq-board", 1, "ACTIVATE").Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
    }

    private Task<ExecutionResult> PolicyAsync(string id, int version, string action, JsonObject? payload = null, string actor = "alice")
    {
        var body = new JsonObject { ["board_policy_id"] = id, ["policy_version_id"] = version, ["event_action"] = action, ["reason"] = "board setup" };
        if (payload is not null) body["policy_payload"] = payload.DeepClone();
        return f.RunAsync(actor, GovernanceHandlers.BoardPolicyUpdate, Key("pol"), body.ToJsonString());
    }

    private Task<ExecutionResult> VoteAsync(string voter, string caseId, string value, string policy = "capreq-board", string? key = null) =>
        f.RunAsync(voter, GovernanceHandlers.BoardVote, key ?? Key("vote"), new JsonObject
        {
            ["escalation_case_id"] = caseId, ["board_policy_id"] = policy, ["vote_value"] = value, ["reason"] = "looked at it",
        }.ToJsonString());

    /// <summary>A capability request of alice's, submitted and waiting for approval.</summary>
    private async Task<string> PendingCapreqAsync()
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("cap." + Guid.NewGuid().ToString("N")[..8])));
        (await f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id))).Ok("CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        return id;
    }

    private async Task<string> RestrictedUserAsync()
    {
        var user = "w" + Guid.NewGuid().ToString("N")[..8];
        await f.GiveInstanceAsync("alice", user, "clerk_write", "W", ["CAPREQ_MANAGE"]);
        return user;
    }

    private static string CaseOf(ExecutionResult refused) => refused.Problem!["escalation_case_id"]!.GetValue<string>();

    [Fact]
    public async Task RestrictedUser_IsRefusedWithApRequired_BoardReachesNOfM_RetriedRequestPasses()
    {
        await BoardAsync();
        var erin = await RestrictedUserAsync();
        var id = await PendingCapreqAsync();
        var key = Key("approve");
        var correlation = f.NextCorrelation();

        var refused = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id), correlation);
        Assert.Equal(ExecutionOutcome.Refused, refused.Outcome);
        Assert.Equal(ReasonCodes.AccessApRequired, refused.Reason);
        Assert.Equal("ESCALATE", refused.Problem!["access_decision"]!.GetValue<string>());
        Assert.Equal("AP_APPROVAL_REQUIRED", refused.Problem["escalation_trigger"]!.GetValue<string>());
        Assert.Equal(10, refused.Problem["gate_step"]!.GetValue<int>());
        var caseId = CaseOf(refused);
        Assert.Equal("PENDING_APPROVAL", await CapreqStatusAsync(id)); // nothing happened

        // Retrying before the board answers is refused again, against the same case, and opens nothing new.
        var again = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id), correlation);
        Assert.Equal(ReasonCodes.AccessApRequired, again.Reason);
        Assert.Equal(caseId, CaseOf(again));
        Assert.Equal(1, await f.CountAsync("acme", "access_escalation_case_current", $"stream_id = '{caseId}'"));
        Assert.Equal(1, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND event_type = 'ACCESS_ESCALATION_CASE_OPENED'"));

        var first = await VoteAsync("v1", caseId, "APPROVE");
        first.Ok("ACCESS_BOARD_VOTE_OK");
        Assert.Equal("PENDING", Json(first)["threshold_status"]!.GetValue<string>());
        Assert.Equal(AccessReasons.AccessBoardVoteDuplicate, (await VoteAsync("v1", caseId, "APPROVE")).Reason);
        Assert.Equal(AccessReasons.AccessBoardMemberRequired, (await VoteAsync("alice", caseId, "APPROVE")).Reason); // not on the board
        Assert.Equal(ReasonCodes.AccessApRequired, (await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id), correlation)).Reason);

        var second = await VoteAsync("v2", caseId, "APPROVE");
        second.Ok("ACCESS_BOARD_VOTE_OK");
        Assert.Equal("SATISFIED", Json(second)["threshold_status"]!.GetValue<string>());
        var escalation = Json(second)["escalation_case"]!;
        Assert.Equal("APPROVED", escalation["status"]!.GetValue<string>());
        Assert.Equal("BOARD_VOTE", escalation["resolved_via"]!.GetValue<string>());
        Assert.Equal(2, escalation["votes"]!.AsArray().Count);
        Assert.Equal(AccessReasons.AccessEscalationCaseClosed, (await VoteAsync("v3", caseId, "REJECT")).Reason);

        var retried = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id), correlation);
        Assert.Equal(ExecutionOutcome.Executed, retried.Outcome);
        Assert.Equal(CapreqReasons.CapreqApproved, retried.Reason);
        Assert.Equal("APPROVED", await CapreqStatusAsync(id));

        // The board's answer was for that request only: the same action under another key escalates anew.
        var id2 = await PendingCapreqAsync();
        var other = await f.RunAsync(erin, CapreqSimulations.Approve, Key("approve"), IdBody(id2));
        Assert.Equal(ReasonCodes.AccessApRequired, other.Reason);
        Assert.NotEqual(caseId, CaseOf(other));

        // All of it is in the journal under the request's correlation, in order.
        var events = await EventTypesAsync(correlation);
        // Each attempt is one turn: the gate's TURN_DECISION, then the access decision it was derived from.
        Assert.Equal(["TURN_DECISION", "ACCESS_DECISION", "ACCESS_ESCALATION_CASE_OPENED", "TURN_DECISION", "ACCESS_DECISION", "TURN_DECISION", "ACCESS_DECISION",
            "TURN_DECISION", "ACCESS_DECISION", "STATE_TRANSITION"], events);
    }

    [Fact]
    public async Task BoardRejection_DeniesTheCase_AndTheRetryIsRefusedForGood()
    {
        await BoardAsync();
        var erin = await RestrictedUserAsync();
        var id = await PendingCapreqAsync();
        var key = Key("approve");
        var caseId = CaseOf(await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id)));

        Assert.Equal("PENDING", Json((await VoteAsync("v1", caseId, "REJECT")).Ok("ACCESS_BOARD_VOTE_OK"))["threshold_status"]!.GetValue<string>());
        var decisive = Json((await VoteAsync("v2", caseId, "REJECT")).Ok("ACCESS_BOARD_VOTE_OK"));
        Assert.Equal("REJECTED", decisive["threshold_status"]!.GetValue<string>()); // 2 of 3 can no longer approve
        Assert.Equal("DENIED", decisive["escalation_case"]!["status"]!.GetValue<string>());

        var retried = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id));
        Assert.Equal(AccessReasons.AccessEscalationDenied, retried.Reason);
        Assert.Equal("PENDING_APPROVAL", await CapreqStatusAsync(id));
    }

    [Fact]
    public async Task ApproverOverrides_OneShotForACase_PermanentUntilRevoked_AndTheirLimits()
    {
        var erin = await RestrictedUserAsync();
        var id = await PendingCapreqAsync();
        var key = Key("approve");
        var refused = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id));
        var caseId = CaseOf(refused);

        // An approver answers the case with a ONE_SHOT override: the case is approved and the retry passes.
        var oneShot = await Grant(GovernanceHandlers.TempGrant, erin, "CAPREQ_MANAGE", "A", ("escalation_case_id", caseId));
        oneShot.Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");
        Assert.Equal("ONE_SHOT", Json(oneShot)["override"]!["override_type"]!.GetValue<string>());
        Assert.Equal("APPROVED", Json(oneShot)["escalation_case_status"]!.GetValue<string>());
        Assert.Equal(CapreqReasons.CapreqApproved, (await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id))).Reason);
        Assert.Equal(AccessReasons.AccessEscalationCaseClosed,
            (await Grant(GovernanceHandlers.TempGrant, erin, "CAPREQ_MANAGE", "A", ("escalation_case_id", caseId))).Reason);

        // A PERMANENT override lifts the mode for every request until it is revoked; a second one for the same scope conflicts.
        var perm = await Grant(GovernanceHandlers.PermGrant, erin, "CAPREQ_MANAGE", "A");
        perm.Ok("ACCESS_OVERRIDE_OK_PERM_GRANT");
        var overrideId = Json(perm)["override"]!["override_id"]!.GetValue<string>();
        Assert.Equal(AccessReasons.AccessOverrideConflict, (await Grant(GovernanceHandlers.PermGrant, erin, "CAPREQ_MANAGE", "A")).Reason);
        Assert.Equal(CapreqReasons.CapreqApproved, (await f.RunAsync(erin, CapreqSimulations.Approve, Key("a"), IdBody(await PendingCapreqAsync()))).Reason);

        var revoke = await f.RunAsync("alice", GovernanceHandlers.Revoke, Key("rev"), new JsonObject
        {
            ["target_user_id"] = erin, ["override_id"] = overrideId, ["reason"] = "quarter closed",
        }.ToJsonString());
        revoke.Ok("ACCESS_OVERRIDE_OK_REVOKE");
        Assert.Equal("REVOKED", Json(revoke)["override"]!["status"]!.GetValue<string>());
        Assert.Equal(ReasonCodes.AccessApRequired, (await f.RunAsync(erin, CapreqSimulations.Approve, Key("a"), IdBody(await PendingCapreqAsync()))).Reason);

        // One approver key may serve two different override simulations (keys are scoped per simulation).
        var sharedKey = Key("shared");
        var temp = await f.RunAsync("alice", GovernanceHandlers.TempGrant, sharedKey, new JsonObject
        {
            ["target_user_id"] = erin, ["override_scope"] = "CAPREQ_MANAGE", ["grant_mode"] = "A", ["reason"] = "one hour", ["duration_ms"] = 3_600_000,
        }.ToJsonString());
        temp.Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");
        var perm2 = await f.RunAsync("alice", GovernanceHandlers.PermGrant, sharedKey, new JsonObject
        {
            ["target_user_id"] = erin, ["override_scope"] = "POSITION_MANAGE", ["grant_mode"] = "W", ["reason"] = "for good",
        }.ToJsonString());
        perm2.Ok("ACCESS_OVERRIDE_OK_PERM_GRANT");
        await f.RunAsync("alice", GovernanceHandlers.Revoke, Key("rev"), new JsonObject
        {
            ["target_user_id"] = erin, ["override_id"] = Json(temp)["override"]!["override_id"]!.GetValue<string>(), ["reason"] = "done",
        }.ToJsonString()).Ok("ACCESS_OVERRIDE_OK_REVOKE");

        // A TEMPORARY override holds for its duration.
        (await Grant(GovernanceHandlers.TempGrant, erin, "CAPREQ_MANAGE", "A", ("duration_ms", 3_600_000L))).Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");
        Assert.Equal(CapreqReasons.CapreqApproved, (await f.RunAsync(erin, CapreqSimulations.Approve, Key("a"), IdBody(await PendingCapreqAsync()))).Reason);

        // Nobody grants to themselves, nor beyond their own access.
        Assert.Equal(AccessReasons.AccessSelfGrantForbidden, (await Grant(GovernanceHandlers.PermGrant, "alice", "CAPREQ_MANAGE", "X")).Reason);
        await f.GiveInstanceAsync("alice", "olga", "approver", "A", ["ACCESS_OVERRIDE_MANAGE", "CAPREQ_MANAGE"]);
        Assert.Equal(AccessReasons.AccessGrantExceedsAuthority, (await Grant(GovernanceHandlers.PermGrant, erin, "CAPREQ_MANAGE", "X", actor: "olga")).Reason);
        Assert.Equal(AccessReasons.AccessGrantExceedsAuthority, (await Grant(GovernanceHandlers.PermGrant, erin, "POSITION_MANAGE", "A", actor: "olga")).Reason);
    }

    [Fact]
    public async Task Deny_WithoutTheActionOnTheList_IsAScopeViolation_AndOpensNoCase()
    {
        var user = await RestrictedUserAsync(); // allow: CAPREQ_MANAGE only
        var before = await f.CountAsync("acme", "access_escalation_case_current");
        var refused = await f.RunAsync(user, GovernanceHandlers.BoardPolicyUpdate, Key("p"), new JsonObject
        {
            ["board_policy_id"] = "x", ["policy_version_id"] = 1, ["event_action"] = "ACTIVATE", ["reason"] = "try",
        }.ToJsonString());
        Assert.Equal(AccessReasons.AccessScopeViolation, refused.Reason);
        Assert.Equal("DENY", refused.Problem!["access_decision"]!.GetValue<string>());
        Assert.Equal("ACTION_NOT_ALLOWED", refused.Problem["restriction_flags"]!.AsArray().Single()!.GetValue<string>());
        Assert.Null(refused.Problem["escalation_case_id"]);
        Assert.Equal(before, await f.CountAsync("acme", "access_escalation_case_current"));
    }

    [Fact]
    public async Task RestrictedInstance_NeedsStepUp_NotAnApprover()
    {
        await f.GiveInstanceAsync("alice", "rita", "clerk_write", "W", ["CAPREQ_MANAGE"], lifecycle: "RESTRICTED");
        var refused = await f.RunAsync("rita", CapreqSimulations.CreateDraft, Key("c"), CreateBody("cap.rita"));
        Assert.Equal(ReasonCodes.AccessApRequired, refused.Reason);
        Assert.Equal("STEP_UP_PROOF_REQUIRED", refused.Problem!["escalation_trigger"]!.GetValue<string>());
        Assert.Null(refused.Problem["escalation_case_id"]);
    }

    [Fact]
    public async Task InstanceUpsert_IsForAdministrators_AndNeverForOneself()
    {
        Assert.Equal(AccessReasons.AccessScopeViolation, (await Upsert("bob", "zed", "X")).Reason); // bob's list lacks the action
        Assert.Equal(AccessReasons.AccessSelfGrantForbidden, (await Upsert("alice", "alice", "X")).Reason);
        var created = await Upsert("alice", "zed", "W");
        created.Ok("ACCESS_INSTANCE_OK_UPSERT");
        Assert.True(Json(created)["identity_created"]!.GetValue<bool>());
        Assert.False(Json(await Upsert("alice", "zed", "R")).AsObject()["identity_created"]!.GetValue<bool>());
    }

    [Fact]
    public async Task BoardPolicy_VersionsMoveForwardOnly_AndPayloadsAreChecked()
    {
        await BoardAsync();
        var n3of2 = new JsonObject { ["primitive"] = "N_OF_M", ["required_approvals"] = 3, ["members"] = new JsonArray("v1", "v2") };
        Assert.Equal(AccessReasons.AccessBoardPolicyInvalid, (await PolicyAsync("p2", 1, "CREATE_DRAFT", n3of2)).Reason);
        var stranger = new JsonObject { ["primitive"] = "SINGLE_APPROVER", ["members"] = new JsonArray("nobody-here") };
        Assert.Equal(AccessReasons.AccessBoardPolicyInvalid, (await PolicyAsync("p2", 1, "CREATE_DRAFT", stranger)).Reason);

        var unanimous = new JsonObject { ["primitive"] = "UNANIMOUS_BOARD", ["members"] = new JsonArray("v1", "v2") };
        (await PolicyAsync("p2", 1, "CREATE_DRAFT", unanimous)).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        Assert.Equal(AccessReasons.AccessBoardPolicyTransitionInvalid, (await PolicyAsync("p2", 1, "CREATE_DRAFT", unanimous)).Reason);
        (await PolicyAsync("p2", 1, "UPDATE_DRAFT", unanimous)).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        (await PolicyAsync("p2", 1, "ACTIVATE")).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        Assert.Equal(AccessReasons.AccessBoardPolicyTransitionInvalid, (await PolicyAsync("p2", 1, "UPDATE_DRAFT", unanimous)).Reason);
        Assert.Equal(AccessReasons.AccessBoardPolicyTransitionInvalid, (await PolicyAsync("p2", 9, "ACTIVATE")).Reason);

        (await PolicyAsync("p2", 2, "CREATE_DRAFT", unanimous)).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        var v2 = Json((await PolicyAsync("p2", 2, "ACTIVATE")).Ok("ACCESS_BOARD_POLICY_OK_UPDATE"))["board_policy"]!;
        Assert.Equal(2, v2["active_policy_version_id"]!.GetValue<int>());
        Assert.Equal("RETIRED", v2["versions"]![0]!["lifecycle_state"]!.GetValue<string>()); // superseded
        Assert.Equal(AccessReasons.AccessBoardPolicyTransitionInvalid, (await PolicyAsync("p2", 1, "ACTIVATE")).Reason);

        var retired = Json((await PolicyAsync("p2", 2, "RETIRE")).Ok("ACCESS_BOARD_POLICY_OK_UPDATE"))["board_policy"]!;
        Assert.Null(retired["active_policy_version_id"]);
        Assert.Equal("RETIRED", retired["versions"]![1]!["lifecycle_state"]!.GetValue<string>());
        Assert.Equal(0, await f.CountAsync("acme", "access_board_policy_current", "stream_id = 'p2' AND status <> 'RETIRED'"));
    }

    [Fact]
    public async Task SelfApproval_IsRefused_UntilAnActiveTenantOverlayAllowsIt_AndAgainOnceItIsRetired()
    {
        var kit = new AccessProfileKit(f);
        var id = await PendingCapreqAsync();
        var own = await f.RunAsync("alice", CapreqSimulations.Approve, Key("own"), IdBody(id));
        Assert.Equal(CapreqReasons.CapreqSelfApprovalForbidden, own.Reason);

        await kit.ActiveOverlayAsync("self-approval", 1, """[{"op":"ADD_PERMISSION","capability_id":"CAPREQ_SELF_APPROVE"}]""");
        Assert.Equal(CapreqReasons.CapreqApproved, (await f.RunAsync("alice", CapreqSimulations.Approve, Key("own"), IdBody(id))).Reason);

        await kit.OkAsync(ProfileHandlers.OverlayUpdate, AccessProfileKit.OverlayBody("self-approval", 1, "RETIRE"));
        var next = await PendingCapreqAsync();
        Assert.Equal(CapreqReasons.CapreqSelfApprovalForbidden, (await f.RunAsync("alice", CapreqSimulations.Approve, Key("own"), IdBody(next))).Reason);
    }

    [Fact]
    public async Task AnApprovalIsForTheRequestItSaw_AnotherBodyUnderTheSameKeyIsRefused()
    {
        var erin = await RestrictedUserAsync();
        var (id1, id2) = (await PendingCapreqAsync(), await PendingCapreqAsync());
        var key = Key("approve");
        var caseId = CaseOf(await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id1)));
        await Grant(GovernanceHandlers.TempGrant, erin, "CAPREQ_MANAGE", "A", ("escalation_case_id", caseId)).Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");

        var swapped = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id2));
        Assert.Equal(ReasonCodes.IdempotencyKeyReused, swapped.Reason);
        Assert.Equal("PENDING_APPROVAL", await CapreqStatusAsync(id2));
        Assert.Equal(CapreqReasons.CapreqApproved, (await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id1))).Reason);
    }

    [Fact]
    public async Task ADeniedCase_StaysDenied_EvenAfterALaterGrant()
    {
        await BoardAsync();
        var erin = await RestrictedUserAsync();
        var id = await PendingCapreqAsync();
        var key = Key("approve");
        var caseId = CaseOf(await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id)));
        await VoteAsync("v1", caseId, "REJECT").Ok("ACCESS_BOARD_VOTE_OK");
        await VoteAsync("v2", caseId, "REJECT").Ok("ACCESS_BOARD_VOTE_OK");
        await Grant(GovernanceHandlers.TempGrant, erin, "CAPREQ_MANAGE", "A", ("duration_ms", 3_600_000L)).Ok("ACCESS_OVERRIDE_OK_TEMP_GRANT");

        Assert.Equal(AccessReasons.AccessEscalationDenied, (await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id))).Reason);
        Assert.Equal(CapreqReasons.CapreqApproved, (await f.RunAsync(erin, CapreqSimulations.Approve, Key("fresh"), IdBody(id))).Reason); // a new request may pass
    }

    [Fact]
    public async Task AnApprovedCaseWhoseGrantIsRevoked_SaysToUseANewKey_AndTheNewKeyOpensANewCase()
    {
        var erin = await RestrictedUserAsync();
        var id = await PendingCapreqAsync();
        var key = Key("approve");
        var caseId = CaseOf(await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id)));
        var perm = await Grant(GovernanceHandlers.PermGrant, erin, "CAPREQ_MANAGE", "A", ("escalation_case_id", caseId)).Ok("ACCESS_OVERRIDE_OK_PERM_GRANT");
        await f.RunAsync("alice", GovernanceHandlers.Revoke, Key("rev"), new JsonObject
        {
            ["target_user_id"] = erin, ["override_id"] = Json(perm)["override"]!["override_id"]!.GetValue<string>(), ["reason"] = "changed our mind",
        }.ToJsonString()).Ok("ACCESS_OVERRIDE_OK_REVOKE");

        var stale = await f.RunAsync(erin, CapreqSimulations.Approve, key, IdBody(id));
        Assert.Equal(ReasonCodes.AccessApRequired, stale.Reason);
        Assert.Contains("new Idempotency-Key", stale.Detail, StringComparison.Ordinal);
        var fresh = await f.RunAsync(erin, CapreqSimulations.Approve, Key("again"), IdBody(id));
        Assert.Equal(ReasonCodes.AccessApRequired, fresh.Reason);
        Assert.NotEqual(caseId, CaseOf(fresh));
    }

    [Fact]
    public async Task AnEngineRefusalAfterTheGateAllowed_JournalsBothDecisions()
    {
        var id = await PendingCapreqAsync();
        var correlation = f.NextCorrelation();
        Assert.Equal(CapreqReasons.CapreqSelfApprovalForbidden, (await f.RunAsync("alice", CapreqSimulations.Approve, Key("own"), IdBody(id), correlation)).Reason);
        Assert.Equal(["TURN_DECISION", "ACCESS_DECISION", "SIMULATION_REFUSED"], await EventTypesAsync(correlation));
    }

    [Fact]
    public async Task APolicyWhoseBoardWouldBeInvalidWithoutTheTarget_IsNotBound()
    {
        await f.GiveInstanceAsync("alice", "tess", "clerk_write", "W", ["CAPREQ_MANAGE", "ACCESS_ESCALATION_VOTE"]);
        await f.GiveInstanceAsync("alice", "vic", "board_member", "W", ["ACCESS_ESCALATION_VOTE"]);
        await PolicyAsync("aa-two-of-two", 1, "CREATE_DRAFT", new JsonObject
        {
            ["primitive"] = "N_OF_M", ["required_approvals"] = 2, ["members"] = new JsonArray("tess", "vic"), ["applies_to"] = new JsonArray("CAPREQ_MANAGE"),
        }).Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        await PolicyAsync("aa-two-of-two", 1, "ACTIVATE").Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        try
        {
            var refused = await f.RunAsync("tess", CapreqSimulations.Approve, Key("approve"), IdBody(await PendingCapreqAsync()));
            await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "acme");
            var bound = (await GovernanceHandlers.Cases.GetAsync(tx, CaseOf(refused), default))!.BoardPolicyId;
            Assert.NotEqual("aa-two-of-two", bound); // without tess, 2 of [vic] could never be met
        }
        finally
        {
            await PolicyAsync("aa-two-of-two", 1, "RETIRE").Ok("ACCESS_BOARD_POLICY_OK_UPDATE");
        }
    }

    [Fact]
    public async Task ADelegatedAdministrator_CannotRewriteSomeoneWhoHoldsMore()
    {
        await f.GiveInstanceAsync("alice", "dana", "delegated_admin", "X", ["ACCESS_INSTANCE_COMPILE_REFRESH", "CAPREQ_MANAGE"]);
        Assert.Equal(AccessReasons.AccessInstanceUpserted, (await Upsert("dana", "zoe", "W")).Reason);
        Assert.Equal(AccessReasons.AccessGrantExceedsAuthority, (await Upsert("dana", "alice", "R")).Reason); // alice holds "*"
    }

    private Task<ExecutionResult> Upsert(string actor, string target, string mode) =>
        f.RunAsync(actor, GovernanceHandlers.InstanceUpsert, Key("up"), new JsonObject
        {
            ["target_user_id"] = target, ["role_template_id"] = "staff", ["access_mode"] = mode, ["allow"] = new JsonArray("CAPREQ_MANAGE"),
        }.ToJsonString());

    private Task<ExecutionResult> Grant(string simulation, string target, string scope, string mode, (string Name, object Value)? extra = null,
        string actor = "alice")
    {
        var body = new JsonObject { ["target_user_id"] = target, ["override_scope"] = scope, ["grant_mode"] = mode, ["reason"] = "approved by phone" };
        if (extra is { } e) body[e.Name] = JsonValue.Create(e.Value);
        return f.RunAsync(actor, simulation, Key("grant"), body.ToJsonString());
    }

    private async Task<string> CapreqStatusAsync(string id)
    {
        await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "acme");
        return (await Selene.Runtime.CapReq.CapreqModule.Requests.Store.LockAndLoadAsync(tx, id, default))!.Status;
    }

    private async Task<string[]> EventTypesAsync(CorrelationId correlation)
    {
        await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "acme");
        var records = await Selene.Postgres.Stores.JournalStore.ByCorrelationAsync(tx, correlation, 100, default);
        return records.Select(r => r.EventType).ToArray();
    }

    private static JsonNode Json(ExecutionResult result) => JsonNode.Parse(result.Body!)!;
}

internal static class ExecutionResultAssertions
{
    /// <summary>Asserts the result executed (or replayed) with <paramref name="reason"/>; returns it.</summary>
    public static ExecutionResult Ok(this ExecutionResult result, string reason)
    {
        Assert.True(result.Succeeded, $"{result.Reason.Name}: {result.Detail}");
        Assert.Equal(reason, result.Reason.Name);
        return result;
    }

    public static async Task<ExecutionResult> Ok(this Task<ExecutionResult> pending, string reason) => (await pending).Ok(reason);
}
