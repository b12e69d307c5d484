using Selene.Contracts;
using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>Refused transitions: the refusal is journaled (SIMULATION_REFUSED) and nothing else changes.</summary>
[Collection(SeleneServerCollection.Name)]
public class RefusalTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Approve_Draft_Is409TransitionInvalidAndRowUnchanged()
    {
        var id = await f.DraftAsync();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.BobKey, Approve, On(id)),
            HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID", f.BobKey, "DRAFT");
    }

    [Fact]
    public async Task Fulfil_PendingApproval_Is409TransitionInvalidAndRowUnchanged()
    {
        var id = await f.PendingAsync();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.BobKey, Fulfil, On(id)),
            HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID", f.BobKey, "PENDING_APPROVAL");
    }

    [Fact]
    public async Task Cancel_Fulfilled_Is409TransitionInvalidAndRowUnchanged()
    {
        var id = await f.FulfilledAsync();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.AliceKey, Cancel, On(id)),
            HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID", f.AliceKey, "FULFILLED");
    }

    [Fact]
    public async Task Submit_Pending_Is409TransitionInvalidAndRowUnchanged()
    {
        var id = await f.PendingAsync();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.AliceKey, Submit, On(id)),
            HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID", f.AliceKey, "PENDING_APPROVAL");
    }

    [Fact]
    public async Task CreateDraft_SameContentWithNewKey_Is409TransitionInvalidAndRowUnchanged()
    {
        var draft = NewDraft();
        var created = await f.RunAsync(f.AliceKey, Create, draft, "CAPREQ_OK_CREATE_DRAFT");
        var id = created.Capreq["capreq_id"]!.GetValue<string>();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.AliceKey, Create, draft.DeepClone().AsObject()),
            HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID", f.AliceKey, "DRAFT");
    }

    [Fact]
    public async Task Submit_ByAnotherUserOfTheTenant_Is403RequesterMismatch()
    {
        var id = await f.DraftAsync();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.BobKey, Submit, On(id)),
            HttpStatusCode.Forbidden, "CAPREQ_REQUESTER_MISMATCH", f.BobKey, "DRAFT");
    }

    [Fact]
    public async Task Cancel_ByAnotherUserOfTheTenant_Is403RequesterMismatch()
    {
        var id = await f.PendingAsync();
        await AssertRefusedAsync(id, () => f.Api.SimulateAsync(f.BobKey, Cancel, On(id)),
            HttpStatusCode.Forbidden, "CAPREQ_REQUESTER_MISMATCH", f.BobKey, "PENDING_APPROVAL");
    }

    [Fact]
    public async Task Approve_UnknownCapreq_Is404NotFoundAndJournaled()
    {
        var before = await f.CountsAsync();
        var reply = await f.Api.SimulateAsync(f.BobKey, Approve, On("capreq_0000000000000000"));
        AssertProblem(reply, HttpStatusCode.NotFound, "CAPREQ_NOT_FOUND");
        var entry = Assert.Single(await f.Api.TransitionsAsync(f.BobKey, reply.Json["correlation_id"]!.GetValue<string>()))!;
        Assert.Equal("SIMULATION_REFUSED", entry["event_type"]!.GetValue<string>());
        Assert.Equal("NONE", entry["payload"]!["state"]!.GetValue<string>());
        // The turn decision, the access gate's ALLOW and the engine's refusal are journaled; nothing else changes.
        Assert.Equal(before with { Journal = before.Journal + 3 }, await f.CountsAsync());
    }

    [Fact]
    public async Task Approve_WithoutCapreqId_Is400CapreqIdRequiredAndStoresOnlyItsTrace()
    {
        var before = await f.CountsAsync();
        var reply = await f.Api.SimulateAsync(f.BobKey, Approve, new JsonObject { ["approval_ref"] = "ticket-1" });
        AssertProblem(reply, HttpStatusCode.BadRequest, "CAPREQ_ID_REQUIRED");
        var entry = Assert.Single(await f.Api.JournalAsync(f.BobKey, reply.Json["correlation_id"]!.GetValue<string>()))!;
        Assert.Equal("REQUEST_REFUSED", entry["event_type"]!.GetValue<string>());
        // A rule of the input said no: a policy refusal, named beside reason_code (issue 15 item 2).
        Assert.Equal(("CAPREQ_ID_REQUIRED", null), (entry["policy_reason_code"]?.GetValue<string>(), entry["failure_reason_code"]?.GetValue<string>()));
        Assert.Equal(before with { Journal = before.Journal + 1 }, await f.CountsAsync());
    }

    /// <summary>
    /// Runs a request that the engine must refuse and checks: the problem, the row byte for byte, the ledger,
    /// and exactly one new journal entry (SIMULATION_REFUSED with the same reason) under the problem's correlation.
    /// </summary>
    private async Task AssertRefusedAsync(string id, Func<Task<Reply>> act, HttpStatusCode status, string reason, string readerKey, string state)
    {
        var rowBefore = await f.Api.GetCapreqAsync(f.AliceKey, id);
        var before = await f.CountsAsync();

        var reply = await act();

        AssertProblem(reply, status, reason);
        var rowAfter = await f.Api.GetCapreqAsync(f.AliceKey, id);
        Assert.Equal(rowBefore.Text, rowAfter.Text);
        Assert.Equal(state, rowAfter.Capreq["status"]!.GetValue<string>());
        // The turn decision, the access gate's ALLOW and the engine's refusal are journaled; nothing else changes.
        Assert.Equal(before with { Journal = before.Journal + 3 }, await f.CountsAsync());

        var correlation = reply.Json["correlation_id"]!.GetValue<string>();
        var entry = Assert.Single(await f.Api.TransitionsAsync(readerKey, correlation))!;
        Assert.Equal("SIMULATION_REFUSED", entry["event_type"]!.GetValue<string>());
        Assert.Equal(reason, entry["reason_code"]!.GetValue<string>());
        Assert.Equal(id, entry["payload"]!["capreq_id"]!.GetValue<string>());
        Assert.Equal(state, entry["payload"]!["state"]!.GetValue<string>());
        Assert.Equal((reason, null), (entry["policy_reason_code"]?.GetValue<string>(), entry["failure_reason_code"]?.GetValue<string>()));
        Assert.Equal(reason, entry["payload"]!["policy_reason_code"]!.GetValue<string>());
        // Every entry of the request: a refusal names its own code in exactly one of the two fields, a success in neither.
        Assert.All(await f.Api.JournalAsync(readerKey, correlation), e =>
        {
            Assert.True(Selene.Runtime.Platform.EngineModules.Reasons.TryGet(e!["reason_code"]!.GetValue<string>(), out var code));
            var expected = RefusalClassification.Of(code) switch
            {
                RefusalClass.Failure => ((string?)code.Name, (string?)null),
                RefusalClass.Policy => (null, code.Name),
                _ => (null, null),
            };
            Assert.Equal(expected, (e["failure_reason_code"]?.GetValue<string>(), e["policy_reason_code"]?.GetValue<string>()));
        });
    }
}
