using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

[Collection(SeleneServerCollection.Name)]
public class IdempotencyTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Retry_SameKeySameBody_ReplaysIdenticalBytesAndLedgerDoesNotGrow()
    {
        var id = await f.DraftAsync();
        var key = SeleneApi.NewIdempotencyKey();
        var first = await f.Api.SimulateAsync(f.AliceKey, Submit, On(id), key);
        AssertSuccess(first, "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        Assert.False(first.Replayed);
        var before = await f.CountsAsync();

        var retry = await f.Api.SimulateAsync(f.AliceKey, Submit, On(id), key);

        AssertSuccess(retry, "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        Assert.True(retry.Replayed, "a replay carries Idempotent-Replayed: true");
        Assert.Equal(first.Text, retry.Text);
        Assert.True(first.Bytes.Span.SequenceEqual(retry.Bytes.Span));
        Assert.Equal(before, await f.CountsAsync());
        Assert.Equal(2, await f.LedgerEventsOfAsync(id));
        var row = await f.RowAsync(id);
        Assert.Equal(first.Json["ledger_event_id"]!.GetValue<long>(), row["source_event_id"]!.GetValue<long>());
        Assert.Single(await f.Api.TransitionsAsync(f.AliceKey, first.Json["correlation_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Retry_SameKeyReorderedBodyWithMatchingTenant_IsTheSameRequestAndReplays()
    {
        var draft = NewDraft();
        var key = SeleneApi.NewIdempotencyKey();
        var first = await f.Api.SimulateAsync(f.AliceKey, Create, draft, key);
        AssertSuccess(first, "CAPREQ_OK_CREATE_DRAFT");
        var before = await f.CountsAsync();

        // Same members in another order, other whitespace, and the key's own tenant named: the same request.
        var reordered = $$"""
            {
              "tenant_id" : "acme",
              "justification" : {{draft["justification"]!.ToJsonString()}},
              "target_scope_ref" : {{draft["target_scope_ref"]!.ToJsonString()}},
              "requested_capability_id" : {{draft["requested_capability_id"]!.ToJsonString()}}
            }
            """;
        var retry = await f.Api.SimulateRawAsync(f.AliceKey, Create, reordered, key);

        AssertSuccess(retry, "CAPREQ_OK_CREATE_DRAFT");
        Assert.True(retry.Replayed);
        Assert.Equal(first.Text, retry.Text);
        Assert.Equal(before, await f.CountsAsync());
    }

    [Fact]
    public async Task Retry_SameKeyDifferentBody_Is409IdempotencyKeyReusedAndChangesNothingButItsTrace()
    {
        var id = await f.DraftAsync();
        var other = await f.DraftAsync();
        var key = SeleneApi.NewIdempotencyKey();
        var first = await f.Api.SimulateAsync(f.AliceKey, Submit, On(id), key);
        AssertSuccess(first, "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        var rowBefore = await f.RowAsync(other);
        var before = await f.CountsAsync();

        var reused = await f.Api.SimulateAsync(f.AliceKey, Submit, On(other), key);

        AssertProblem(reused, HttpStatusCode.Conflict, "IDEMPOTENCY_KEY_REUSED");
        Assert.False(reused.Replayed);
        Assert.Equal(before with { Journal = before.Journal + 1 }, await f.CountsAsync()); // the refusal's own entry
        var rowAfter = await f.RowAsync(other);
        Assert.Equal("DRAFT", rowAfter["status"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(rowBefore, rowAfter));

        // The original request still replays.
        var replay = await f.Api.SimulateAsync(f.AliceKey, Submit, On(id), key);
        Assert.True(replay.Replayed);
        Assert.Equal(first.Text, replay.Text);
    }

    [Fact]
    public async Task Retry_SameKeyAndBodyFromAnotherUser_Is409IdempotencyKeyReused()
    {
        var id = await f.PendingAsync();
        var key = SeleneApi.NewIdempotencyKey();
        AssertSuccess(await f.Api.SimulateAsync(f.BobKey, Approve, On(id), key), "CAPREQ_OK_APPROVE");
        var before = await f.CountsAsync();

        // The actor is part of the request: alice cannot pick up bob's stored result.
        var other = await f.Api.SimulateAsync(f.AliceKey, Approve, On(id), key);

        AssertProblem(other, HttpStatusCode.Conflict, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(before with { Journal = before.Journal + 1 }, await f.CountsAsync()); // the refusal's own entry
    }

    [Fact]
    public async Task Retry_AfterRefusal_SameKeyIsNotConsumed()
    {
        var id = await f.DraftAsync();
        var key = SeleneApi.NewIdempotencyKey();
        var refused = await f.Api.SimulateAsync(f.BobKey, Approve, On(id), key);
        AssertProblem(refused, HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID");

        // A refusal stores no result under the key: once the request is pending, the same key approves it.
        await f.RunAsync(f.AliceKey, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        var approved = await f.Api.SimulateAsync(f.BobKey, Approve, On(id), key);
        AssertSuccess(approved, "CAPREQ_OK_APPROVE");
        Assert.False(approved.Replayed);

        // Both attempts share the key's correlation: first the refusal, then the transition.
        var entries = await f.Api.TransitionsAsync(f.BobKey, approved.Json["correlation_id"]!.GetValue<string>());
        Assert.Equal(["SIMULATION_REFUSED", "STATE_TRANSITION"], entries.Select(e => e!["event_type"]!.GetValue<string>()));
    }
}
