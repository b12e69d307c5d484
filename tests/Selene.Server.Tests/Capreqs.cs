using System.Net;
using System.Text.Json.Nodes;

namespace Selene.Server.Tests;

/// <summary>CAPREQ simulations, bodies and the common steps of the lifecycle, over HTTP.</summary>
public static class Capreqs
{
    public const string Create = "CAPREQ_CREATE_DRAFT";
    public const string Submit = "CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT";
    public const string Approve = "CAPREQ_APPROVE_COMMIT";
    public const string Reject = "CAPREQ_REJECT_COMMIT";
    public const string Fulfil = "CAPREQ_FULFILL_COMMIT";
    public const string Cancel = "CAPREQ_CANCEL_REVOKE";

    /// <summary>A draft body with unique content, so each test works on its own capability request.</summary>
    public static JsonObject NewDraft() => new()
    {
        ["requested_capability_id"] = "cap.e2e.read",
        ["target_scope_ref"] = "scope/e2e/" + Guid.NewGuid().ToString("N"),
        ["justification"] = "end-to-end test",
    };

    public static JsonObject On(string capreqId) => new() { ["capreq_id"] = capreqId };

    public static void AssertSuccess(Reply reply, string reason)
    {
        Assert.True(reply.Status == HttpStatusCode.OK, $"expected 200 {reason}, got {reply}");
        Assert.Equal(SeleneApi.Json, reply.MediaType);
        Assert.Equal(reason, reply.ReasonCode);
    }

    public static void AssertProblem(Reply reply, HttpStatusCode status, string reason)
    {
        Assert.True(reply.Status == status, $"expected {(int)status} {reason}, got {reply}");
        Assert.Equal(SeleneApi.ProblemJson, reply.MediaType);
        Assert.Equal(reason, reply.ReasonCode);
        Assert.Equal((int)status, reply.Json["status"]!.GetValue<int>());
    }

    /// <summary>Runs one simulation and asserts it succeeded with <paramref name="reason"/>.</summary>
    public static async Task<Reply> RunAsync(this SeleneServerFixture f, string apiKey, string simulation, JsonObject body, string reason)
    {
        var reply = await f.Api.SimulateAsync(apiKey, simulation, body);
        AssertSuccess(reply, reason);
        return reply;
    }

    /// <summary>alice creates a draft; returns its id.</summary>
    public static async Task<string> DraftAsync(this SeleneServerFixture f)
    {
        var reply = await f.RunAsync(f.AliceKey, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        return reply.Capreq["capreq_id"]!.GetValue<string>();
    }

    /// <summary>alice creates and submits.</summary>
    public static async Task<string> PendingAsync(this SeleneServerFixture f)
    {
        var id = await f.DraftAsync();
        await f.RunAsync(f.AliceKey, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        return id;
    }

    /// <summary>alice creates and submits, bob approves.</summary>
    public static async Task<string> ApprovedAsync(this SeleneServerFixture f)
    {
        var id = await f.PendingAsync();
        await f.RunAsync(f.BobKey, Approve, On(id), "CAPREQ_OK_APPROVE");
        return id;
    }

    /// <summary>… and bob fulfils.</summary>
    public static async Task<string> FulfilledAsync(this SeleneServerFixture f)
    {
        var id = await f.ApprovedAsync();
        await f.RunAsync(f.BobKey, Fulfil, On(id), "CAPREQ_OK_FULFILL");
        return id;
    }

    /// <summary>The row as GET /v1/capreqs/{id} shows it to <paramref name="apiKey"/> (default alice).</summary>
    public static async Task<JsonNode> RowAsync(this SeleneServerFixture f, string capreqId, string? apiKey = null)
    {
        var reply = await f.Api.GetCapreqAsync(apiKey ?? f.AliceKey, capreqId);
        AssertSuccess(reply, "QUERY_OK");
        return reply.Capreq;
    }
}
