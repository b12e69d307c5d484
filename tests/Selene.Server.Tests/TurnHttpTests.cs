using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// POST /v1/turns against a real server: one move per turn, and no way for a caller to buy a dispatch by claiming
/// authority the gate derives itself (access, catalog status, idempotency key), nor to run a legacy LINK send id.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class TurnHttpTests(SeleneServerFixture f)
{
    private static JsonObject Turn(string correlation, string simulation, JsonObject inputs, string? key, params string[] moves)
    {
        var sim = new JsonObject { ["simulation_id"] = simulation, ["inputs"] = inputs };
        if (key is not null) sim["idempotency_key"] = key;
        return new JsonObject
        {
            ["correlation_id"] = correlation,
            ["turn_id"] = 1,
            ["path"] = "TEXT",
            ["always_on_sequence"] = new JsonArray("PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"),
            ["posture"] = new JsonObject
            {
                ["session_active"] = true, ["transcript_ok"] = true, ["nlp_confidence_high"] = true,
                ["requires_confirmation"] = true, ["confirmation_received"] = true, ["prompt_policy_gate_ok"] = true,
            },
            ["requested_moves"] = new JsonArray(moves.Length == 0 ? ["DISPATCH_SIMULATION"] : moves.Select(m => (JsonNode)m).ToArray()),
            ["simulation"] = sim,
        };
    }

    private static JsonObject Draft(string capability) => new()
    {
        ["requested_capability_id"] = capability, ["target_scope_ref"] = "scope.turns", ["justification"] = "turn test",
    };

    private static string NewCorrelation() => ((UInt128)BitConverter.ToUInt64(Guid.NewGuid().ToByteArray(), 0) + 1).ToString();

    private Task<Reply> PostAsync(string apiKey, JsonObject turn)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/turns", UriKind.Relative))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(turn.ToJsonString())),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return f.Api.SendAsync(request);
    }

    /// <summary>Nothing was decided: no turn entry under the turn's correlation, and only the refusals' own journal entries (one each).</summary>
    private async Task AssertNothingDecidedAsync(string apiKey, string correlation, StorageCounts before, int refusals)
    {
        Assert.Equal(before with { Journal = before.Journal + refusals }, await f.CountsAsync());
        Assert.All(await f.Api.JournalAsync(apiKey, correlation), e => Assert.Equal("REQUEST_REFUSED", e!["event_type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Turn_AllGatesPass_DispatchesTheSimulation_AndTheDecisionIsJournaledFirst()
    {
        var correlation = NewCorrelation();
        var reply = await PostAsync(f.AliceKey, Turn(correlation, Create, Draft("cap.turns.ok"), SeleneApi.NewIdempotencyKey()));

        AssertSuccess(reply, "PH1_OS_OK_DECISION_COMPUTE");
        Assert.Equal("DISPATCH_SIMULATION", reply.Json["move"]!.GetValue<string>());
        Assert.False(reply.Json["fail_closed"]!.GetValue<bool>());
        Assert.Equal("EXECUTED", reply.Json["execution"]!["outcome"]!.GetValue<string>());
        Assert.Equal("CAPREQ_OK_CREATE_DRAFT", reply.Json["execution"]!["reason_code"]!.GetValue<string>());
        var journal = await f.Api.JournalAsync(f.AliceKey, correlation);
        Assert.Equal(["TURN_DECISION", "ACCESS_DECISION", "STATE_TRANSITION"], journal.Select(e => e!["event_type"]!.GetValue<string>()));
        Assert.Equal(reply.Json["turn_input_hash"]!.GetValue<string>(), journal[0]!["payload"]!["turn_input_hash"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("access_allowed", false)]
    [InlineData("access_allowed", true)] // inside posture
    [InlineData("simulation_active", false)]
    [InlineData("blueprint_active", false)]
    [InlineData("idempotency_key_present", false)]
    [InlineData("execution_allowed", true)]
    [InlineData("policy_gate_decision", false)]
    public async Task Turn_ClaimingAnAuthorityInput_IsRejected_AndNothingIsDecided(string member, bool inPosture)
    {
        var correlation = NewCorrelation();
        var before = await f.CountsAsync();
        var turn = Turn(correlation, Create, Draft("cap.turns.claim"), SeleneApi.NewIdempotencyKey());
        JsonNode claim = member == "policy_gate_decision" ? "ALLOW" : true;
        if (inPosture) turn["posture"]![member] = claim;
        else turn[member] = claim;

        var reply = await PostAsync(f.AliceKey, turn);

        AssertProblem(reply, HttpStatusCode.BadRequest, "TURN_AUTHORITY_INPUT_REJECTED");
        Assert.Contains(member, reply.Json["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertNothingDecidedAsync(f.AliceKey, correlation, before, refusals: 1);
    }

    [Fact]
    public async Task Turn_OfAUserWithoutTheAuthority_IsRefusedAtTheAccessGate_NotDispatched()
    {
        // bob is an approver of CAPREQ and POSITION only; writing access instances needs more.
        var correlation = NewCorrelation();
        var before = await f.CountsAsync();
        var inputs = new JsonObject
        {
            ["target_user_id"] = "mallory", ["role_template_id"] = "admin", ["access_mode"] = "X", ["allow"] = new JsonArray("CAPREQ_MANAGE"),
            ["lifecycle_state"] = "ACTIVE",
        };
        var reply = await PostAsync(f.BobKey, Turn(correlation, "ACCESS_INSTANCE_UPSERT_COMMIT", inputs, SeleneApi.NewIdempotencyKey()));

        AssertSuccess(reply, "OS_FAIL_ACCESS_GATE");
        Assert.Equal("REFUSE", reply.Json["move"]!.GetValue<string>());
        Assert.True(reply.Json["fail_closed"]!.GetValue<bool>());
        Assert.Null(reply.Json["execution"]);
        Assert.StartsWith("ACCESS_", reply.Json["cause_reason_code"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(reply.Json["access"]!["gate_reason_code"]);
        Assert.Empty(await f.Api.TransitionsAsync(f.BobKey, correlation));
        Assert.Equal(before.CapreqLedger, (await f.CountsAsync()).CapreqLedger);
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/access/instances/mallory"), HttpStatusCode.NotFound, "ACCESS_INSTANCE_MISSING");
    }

    [Fact]
    public async Task Turn_WithoutIdempotencyKey_IsRefusedAtTheIdempotencyGate_NotDispatched()
    {
        var correlation = NewCorrelation();
        var before = await f.CountsAsync();
        var reply = await PostAsync(f.AliceKey, Turn(correlation, Create, Draft("cap.turns.nokey"), key: null));

        AssertSuccess(reply, "OS_FAIL_IDEMPOTENCY_GATE");
        Assert.Equal("REFUSE", reply.Json["move"]!.GetValue<string>());
        Assert.Equal("IDEMPOTENCY_KEY_MISSING", reply.Json["cause_reason_code"]!.GetValue<string>());
        Assert.Equal(["IDEMPOTENCY_GATE_FAILED"], reply.Json["guard_failures"]!.AsArray().Select(g => g!.GetValue<string>()));
        var after = await f.CountsAsync();
        Assert.Equal(before with { Journal = after.Journal }, after); // only the decision is on record
        Assert.Empty(await f.Api.TransitionsAsync(f.AliceKey, correlation));
    }

    [Theory]
    [InlineData("CAPREQ_TELEPORT_COMMIT", "SIMULATION_UNKNOWN")]
    public async Task Turn_ForASimulationTheCatalogCannotRun_IsRefused_NotDispatched(string simulation, string cause)
    {
        var correlation = NewCorrelation();
        var reply = await PostAsync(f.AliceKey, Turn(correlation, simulation, Draft("cap.turns.unknown"), SeleneApi.NewIdempotencyKey()));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("REFUSE", reply.Json["move"]!.GetValue<string>());
        Assert.StartsWith("OS_FAIL_", reply.Json["reason_code"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(cause, reply.Json["cause_reason_code"]!.GetValue<string>());
        Assert.Empty(await f.Api.TransitionsAsync(f.AliceKey, correlation));
    }

    [Theory]
    [InlineData("LINK_INVITE_SEND_COMMIT")]
    [InlineData("LINK_INVITE_RESEND_COMMIT")]
    [InlineData("LINK_DELIVERY_FAILURE_HANDLING_COMMIT")]
    public async Task Turn_ForALegacyLinkSendId_IsRefusedAsLegacyDoNotWire(string simulation)
    {
        var correlation = NewCorrelation();
        var reply = await PostAsync(f.AliceKey, Turn(correlation, simulation, new JsonObject { ["invitee"] = "x" }, SeleneApi.NewIdempotencyKey()));

        AssertSuccess(reply, "LEGACY_DO_NOT_WIRE");
        Assert.Equal("REFUSE", reply.Json["move"]!.GetValue<string>());
        Assert.True(reply.Json["fail_closed"]!.GetValue<bool>());
        Assert.Null(reply.Json["execution"]);
        var journal = await f.Api.JournalAsync(f.AliceKey, correlation);
        Assert.Equal("LEGACY_DO_NOT_WIRE", Assert.Single(journal)!["reason_code"]!.GetValue<string>());

        // The direct call refuses the same way.
        var direct = await f.Api.SimulateAsync(f.AliceKey, simulation, new JsonObject());
        AssertProblem(direct, HttpStatusCode.Conflict, "LEGACY_DO_NOT_WIRE");
    }

    [Fact]
    public async Task Turn_AskingForTwoMoves_IsRefusedOneTurnOneMove()
    {
        var correlation = NewCorrelation();
        var before = await f.CountsAsync();
        var reply = await PostAsync(f.AliceKey, Turn(correlation, Create, Draft("cap.turns.two"), SeleneApi.NewIdempotencyKey(), "DISPATCH_SIMULATION", "RESPOND"));

        AssertSuccess(reply, "OS_FAIL_ONE_TURN_ONE_MOVE");
        Assert.Equal("REFUSE", reply.Json["move"]!.GetValue<string>());
        Assert.Equal(before.CapreqLedger, (await f.CountsAsync()).CapreqLedger);
    }

    [Fact]
    public async Task Turn_MalformedEnvelope_IsA400WithAReasonCode_AndNothingIsDecided()
    {
        var correlation = NewCorrelation();
        var before = await f.CountsAsync();
        var turn = Turn(correlation, Create, Draft("cap.turns.bad"), SeleneApi.NewIdempotencyKey());
        turn["surprise"] = 1;
        AssertProblem(await PostAsync(f.AliceKey, turn), HttpStatusCode.BadRequest, "INPUT_UNKNOWN_FIELD");
        turn.Remove("surprise");
        turn["path"] = "SMOKE_SIGNAL";
        AssertProblem(await PostAsync(f.AliceKey, turn), HttpStatusCode.BadRequest, "INPUT_SCHEMA_INVALID");
        turn["path"] = "TEXT";
        turn["always_on_sequence"] = new JsonArray("PH1.x lower");
        AssertProblem(await PostAsync(f.AliceKey, turn), HttpStatusCode.BadRequest, "PH1_OS_INPUT_SCHEMA_INVALID");
        await AssertNothingDecidedAsync(f.AliceKey, correlation, before, refusals: 3);
    }
}
