using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The turn laws without exceptions (issue 9, item 5), against a real server: confirmation is Selene's to require,
/// the gate's whole answer is in the response, every authenticated refusal leaves exactly one journal entry (an
/// unauthenticated one none), bad input is never a server error, and enum tokens and media types are strict.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class TurnLawTests(SeleneServerFixture f)
{
    private static readonly string[] Gates =
    [
        "session", "understanding", "confirmation", "prompt_policy", "policy", "tenant", "gov", "quota", "work", "capreq", "access", "blueprint",
        "simulation", "idempotency", "lease",
    ];

    private static JsonObject Turn(string simulation, JsonObject inputs, string? key, bool requiresConfirmation, bool confirmationReceived) =>
        SeleneApi.TextTurn(simulation, inputs, key, requiresConfirmation, confirmationReceived);

    private static string NewCorrelation() => SeleneApi.NewCorrelation();

    private Task<Reply> PostTurnAsync(string? apiKey, string body, string contentType = SeleneApi.Json) => f.Api.PostTurnAsync(apiKey, body, contentType);

    /// <summary>The refusal's correlation holds exactly one entry, REQUEST_REFUSED with the answer's reason, and only the journal grew, by one.</summary>
    private async Task AssertOneTraceAsync(Reply reply, string readerKey, StorageCounts before)
    {
        var correlation = reply.Json["correlation_id"]?.GetValue<string>();
        Assert.True(correlation is not null, $"a refusal names the correlation of its journal entry: {reply}");
        // A retried key shares its correlation with the request that committed; the refusal is the one REQUEST_REFUSED entry.
        var entry = Assert.Single(await f.Api.JournalAsync(readerKey, correlation), e => e!["event_type"]!.GetValue<string>() == "REQUEST_REFUSED")!;
        Assert.Equal(reply.ReasonCode, entry["reason_code"]!.GetValue<string>());
        Assert.Equal(((int)reply.Status).ToString(System.Globalization.CultureInfo.InvariantCulture), entry["payload"]!["http_status"]!.GetValue<string>());
        Assert.Equal(before with { Journal = before.Journal + 1 }, await f.CountsAsync());
    }

    // ---- Confirmation is Selene's -------------------------------------------------------------------------------

    [Fact]
    public async Task Turn_CommitWithRequiresConfirmationFalse_AnswersConfirm_AndRunsNothing()
    {
        var id = await f.DraftAsync();
        var ledger = await f.LedgerEventsOfAsync(id);

        var reply = await PostTurnAsync(f.AliceKey, Turn(Submit, On(id), SeleneApi.NewIdempotencyKey(), requiresConfirmation: false, confirmationReceived: false).ToJsonString());

        AssertSuccess(reply, "OS_FAIL_CONFIRMATION_GATE");
        Assert.Equal("CONFIRM", reply.Json["move"]!.GetValue<string>());
        Assert.Null(reply.Json["execution"]);
        Assert.False(reply.Json["policy"]!["confirmation_gate_ok"]!.GetValue<bool>());
        Assert.Equal("DRAFT", (await f.RowAsync(id))["status"]!.GetValue<string>());
        Assert.Equal(ledger, await f.LedgerEventsOfAsync(id));
    }

    [Fact]
    public async Task Turn_DraftWithRequiresConfirmationFalse_Dispatches_TheCallerMayAskForLessOnlyWhereSeleneRequiresNone()
    {
        var reply = await PostTurnAsync(f.AliceKey, Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), requiresConfirmation: false, confirmationReceived: false).ToJsonString());

        AssertSuccess(reply, "PH1_OS_OK_DECISION_COMPUTE");
        Assert.Equal("EXECUTED", reply.Json["execution"]!["outcome"]!.GetValue<string>());
    }

    // ---- The gate's whole answer --------------------------------------------------------------------------------

    [Fact]
    public async Task Turn_Response_CarriesTheWholePolicyEvaluation_BesideTheMove()
    {
        var passed = await PostTurnAsync(f.AliceKey, Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), true, true).ToJsonString());
        AssertSuccess(passed, "PH1_OS_OK_DECISION_COMPUTE");
        var policy = passed.Json["policy"]!;
        Assert.Equal("PH1_OS_OK_POLICY_EVALUATE", policy["reason_code"]!.GetValue<string>());
        Assert.All(Gates, g => Assert.True(policy[g + "_gate_ok"]!.GetValue<bool>(), g));
        Assert.True(policy["gate_u3_optional_budget_enforced"]!.GetValue<bool>());
        foreach (var echoed in new[] { "optional_invocations_requested", "optional_invocations_budget", "optional_invocations_skipped_budget",
                     "optional_latency_budget_ms", "optional_latency_estimated_ms" })
            Assert.NotNull(policy[echoed]);
        Assert.True(policy["simulation_dispatch_allowed"]!.GetValue<bool>());
        Assert.True(policy["execution_allowed"]!.GetValue<bool>());
        Assert.Empty(policy["guard_failures"]!.AsArray());

        var noKey = await PostTurnAsync(f.AliceKey, Turn(Create, NewDraft(), key: null, true, true).ToJsonString());
        AssertSuccess(noKey, "OS_FAIL_IDEMPOTENCY_GATE");
        var refused = noKey.Json["policy"]!;
        Assert.False(refused["idempotency_gate_ok"]!.GetValue<bool>());
        Assert.True(refused["access_gate_ok"]!.GetValue<bool>());
        Assert.False(refused["execution_allowed"]!.GetValue<bool>());
        Assert.Equal(["IDEMPOTENCY_GATE_FAILED"], refused["guard_failures"]!.AsArray().Select(g => g!.GetValue<string>()));
    }

    // ---- Every refusal leaves a trace ----------------------------------------------------------------------------

    [Fact]
    public async Task CompanyUpsert_With65CharacterId_Is400_AndLeavesExactlyOneEntry()
    {
        var before = await f.CountsAsync();
        var reply = await f.Api.SimulateAsync(f.AliceKey, "TENANT_COMPANY_UPSERT_COMMIT", Company(new string('c', 65)));
        AssertProblem(reply, HttpStatusCode.BadRequest, "INPUT_FIELD_INVALID");
        await AssertOneTraceAsync(reply, f.AliceKey, before);
    }

    [Fact]
    public async Task Capreq_WithABadField_Is400_AndLeavesExactlyOneEntry()
    {
        var before = await f.CountsAsync();
        var draft = NewDraft();
        draft["requested_capability_id"] = "cap with spaces";
        var reply = await f.Api.SimulateAsync(f.AliceKey, Create, draft);
        AssertProblem(reply, HttpStatusCode.BadRequest, "INPUT_FIELD_INVALID");
        await AssertOneTraceAsync(reply, f.AliceKey, before);
    }

    [Fact]
    public async Task CrossTenant_BodyNamingAnotherTenant_Is403_AndLeavesExactlyOneEntryInTheCallersTenant()
    {
        var id = await f.PendingAsync();
        var before = await f.CountsAsync();
        var reply = await f.Api.SimulateAsync(f.CarolKey, Approve, new JsonObject { ["tenant_id"] = "acme", ["capreq_id"] = id });
        AssertProblem(reply, HttpStatusCode.Forbidden, "TENANT_SCOPE_VIOLATION");
        await AssertOneTraceAsync(reply, f.CarolKey, before);
        Assert.Empty(await f.Api.JournalAsync(f.AliceKey, reply.Json["correlation_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CrossTenant_ReadingAnotherTenantsId_Is404_AndLeavesExactlyOneEntry()
    {
        var id = await f.DraftAsync();
        var before = await f.CountsAsync();
        var reply = await f.Api.GetCapreqAsync(f.CarolKey, id);
        AssertProblem(reply, HttpStatusCode.NotFound, "CAPREQ_NOT_FOUND");
        await AssertOneTraceAsync(reply, f.CarolKey, before);
    }

    [Fact]
    public async Task IdempotencyKeyReused_Is409_AndLeavesExactlyOneEntry()
    {
        var key = SeleneApi.NewIdempotencyKey();
        AssertSuccess(await f.Api.SimulateAsync(f.AliceKey, Create, NewDraft(), key), "CAPREQ_OK_CREATE_DRAFT");
        var before = await f.CountsAsync();
        var reply = await f.Api.SimulateAsync(f.AliceKey, Create, NewDraft(), key);
        AssertProblem(reply, HttpStatusCode.Conflict, "IDEMPOTENCY_KEY_REUSED");
        await AssertOneTraceAsync(reply, f.AliceKey, before);
    }

    [Fact]
    public async Task Turn_RefusedAsInvalid_LeavesExactlyOneEntry_AndUnauthenticatedNone()
    {
        var turn = Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), true, true);
        turn["access_allowed"] = true;
        var before = await f.CountsAsync();
        var reply = await PostTurnAsync(f.AliceKey, turn.ToJsonString());
        AssertProblem(reply, HttpStatusCode.BadRequest, "TURN_AUTHORITY_INPUT_REJECTED");
        await AssertOneTraceAsync(reply, f.AliceKey, before);

        before = await f.CountsAsync();
        AssertProblem(await PostTurnAsync(null, turn.ToJsonString()), HttpStatusCode.Unauthorized, "AUTH_KEY_MISSING");
        AssertProblem(await PostTurnAsync("sel_" + new string('x', 43), turn.ToJsonString()), HttpStatusCode.Unauthorized, "AUTH_KEY_INVALID");
        Assert.Equal(before, await f.CountsAsync());
    }

    // ---- Bad input is never a server error ------------------------------------------------------------------------

    [Theory]
    [InlineData("empty")]
    [InlineData("300 chars")]
    [InlineData("NUL")]
    public async Task CompanyUpsert_WithAnUnusableId_Is400NotAServerError(string kind)
    {
        var id = kind switch { "empty" => "", "300 chars" => new string('c', 300), _ => "acme\u0000co" };
        var before = await f.CountsAsync();
        var reply = await f.Api.SimulateAsync(f.AliceKey, "TENANT_COMPANY_UPSERT_COMMIT", Company(id));
        AssertProblem(reply, HttpStatusCode.BadRequest, "INPUT_FIELD_INVALID");
        Assert.False(reply.Json["retryable"]!.GetValue<bool>());
        await AssertOneTraceAsync(reply, f.AliceKey, before);
    }

    [Fact]
    public async Task Turn_WithAnOutcomeRowHoldingNul_Is400NotAServerError()
    {
        var turn = Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), true, true);
        turn["outcomes"] = new JsonArray(new JsonObject
        {
            ["engine_id"] = "PH1.SEARCH", ["outcome_type"] = "RESULT\u0000", ["action_class"] = "ACT_NOW", ["consumed_by"] = "PH1.X",
            ["latency_cost_ms"] = 5, ["decision_delta"] = true, ["reason_code"] = "PH1_OS_OK_POLICY_EVALUATE",
        });
        var before = await f.CountsAsync();
        var reply = await PostTurnAsync(f.AliceKey, turn.ToJsonString());
        AssertProblem(reply, HttpStatusCode.BadRequest, "INPUT_FIELD_INVALID");
        await AssertOneTraceAsync(reply, f.AliceKey, before);
    }

    // ---- Enum tokens and media types are strict ----------------------------------------------------------------------

    [Theory]
    [InlineData("w")]
    [InlineData("x")]
    [InlineData("W ")]
    [InlineData("2")]
    public async Task AccessMode_OtherThanItsExactToken_IsRefused(string mode)
    {
        var reply = await f.Api.SimulateAsync(f.AliceKey, "ACCESS_INSTANCE_UPSERT_COMMIT", new JsonObject
        {
            ["target_user_id"] = "strict-" + Guid.NewGuid().ToString("N")[..8], ["role_template_id"] = "clerk", ["access_mode"] = mode,
            ["allow"] = new JsonArray("CAPREQ_MANAGE"),
        });
        AssertProblem(reply, HttpStatusCode.BadRequest, "INPUT_SCHEMA_INVALID");
    }

    [Fact]
    public async Task ScheduleType_Fulltime_IsRefused()
    {
        var reply = await f.Api.SimulateAsync(f.AliceKey, "POSITION_SIM_001_CREATE_DRAFT", new JsonObject
        {
            ["company_id"] = "strictco", ["position_title"] = "Clerk", ["department"] = "Ops", ["jurisdiction"] = "US", ["schedule_type"] = "fulltime",
            ["permission_profile_ref"] = "perm.clerk", ["compensation_band_ref"] = "band.1",
        });
        AssertProblem(reply, HttpStatusCode.BadRequest, "INPUT_SCHEMA_INVALID");
    }

    [Fact]
    public async Task TurnPath_LowerCase_IsRefused()
    {
        var turn = Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), true, true);
        turn["path"] = "text";
        AssertProblem(await PostTurnAsync(f.AliceKey, turn.ToJsonString()), HttpStatusCode.BadRequest, "INPUT_SCHEMA_INVALID");
    }

    [Theory]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; profile=x")]
    public async Task Json_DeclaredInAnotherCharset_Is415(string contentType)
    {
        var before = await f.CountsAsync();
        var reply = await PostTurnAsync(f.AliceKey, Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), true, true).ToJsonString(), contentType);
        AssertProblem(reply, HttpStatusCode.UnsupportedMediaType, "INPUT_MEDIA_TYPE_UNSUPPORTED");
        await AssertOneTraceAsync(reply, f.AliceKey, before);
    }

    [Fact]
    public async Task Json_DeclaredAsUtf8_IsAccepted()
    {
        var reply = await PostTurnAsync(f.AliceKey, Turn(Create, NewDraft(), SeleneApi.NewIdempotencyKey(), true, true).ToJsonString(), "application/json; charset=UTF-8");
        AssertSuccess(reply, "PH1_OS_OK_DECISION_COMPUTE");
    }

    private static JsonObject Company(string id) => new()
    {
        ["company_id"] = id, ["legal_name"] = "Strict Co", ["jurisdiction"] = "US", ["lifecycle_state"] = "ACTIVE",
    };
}
