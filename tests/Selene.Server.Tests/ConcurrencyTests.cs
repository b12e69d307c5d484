using System.Net;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

[Collection(SeleneServerCollection.Name)]
public class ConcurrencyTests(SeleneServerFixture f)
{
    private const int Callers = 20;

    [Fact]
    public async Task CreateDraft_TwentyConcurrentWithSameKey_AllIdenticalAndOneLedgerEvent()
    {
        var body = NewDraft().ToJsonString();
        var key = SeleneApi.NewIdempotencyKey();
        var before = await f.CountsAsync();

        var replies = await RaceAsync(() => f.Api.SimulateRawAsync(f.AliceKey, Create, body, key));

        Assert.All(replies, r => AssertSuccess(r, "CAPREQ_OK_CREATE_DRAFT"));
        Assert.Single(replies.Select(r => r.Text).Distinct());
        Assert.Equal(Callers - 1, replies.Count(r => r.Replayed));
        var first = replies[0];
        var id = first.Capreq["capreq_id"]!.GetValue<string>();
        Assert.Single(replies.Select(r => r.Capreq["source_event_id"]!.GetValue<long>()).Distinct());

        Assert.Equal(1, await f.LedgerEventsOfAsync(id));
        var entries = await f.Api.TransitionsAsync(f.AliceKey, first.Json["correlation_id"]!.GetValue<string>());
        var entry = Assert.Single(entries)!;
        Assert.Equal("STATE_TRANSITION", entry["event_type"]!.GetValue<string>());
        Assert.Equal(before with
        {
            Journal = before.Journal + 3, // the turn decision, the access gate's ALLOW and the transition
            CapreqLedger = before.CapreqLedger + 1,
            CapreqCurrent = before.CapreqCurrent + 1,
            IdempotencyKeys = before.IdempotencyKeys + 1,
        }, await f.CountsAsync());
    }

    [Fact]
    public async Task CreateDraft_TwentyConcurrentSameContentDifferentKeys_ExactlyOneCreated()
    {
        var body = NewDraft().ToJsonString();

        var replies = await RaceAsync(() => f.Api.SimulateRawAsync(f.AliceKey, Create, body, SeleneApi.NewIdempotencyKey()));

        var created = Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        AssertSuccess(created, "CAPREQ_OK_CREATE_DRAFT");
        Assert.All(replies.Where(r => r != created), r => AssertProblem(r, HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID"));
        Assert.Equal(1, await f.LedgerEventsOfAsync(created.Capreq["capreq_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Approve_TwentyConcurrentDifferentKeys_ExactlyOneApproved()
    {
        var id = await f.PendingAsync();

        var replies = await RaceAsync(() => f.Api.SimulateAsync(f.BobKey, Approve, On(id)));

        var approved = Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        AssertSuccess(approved, "CAPREQ_OK_APPROVE");
        Assert.All(replies.Where(r => r != approved), r => AssertProblem(r, HttpStatusCode.Conflict, "CAPREQ_TRANSITION_INVALID"));
        Assert.Equal(3, await f.LedgerEventsOfAsync(id));
        var row = await f.RowAsync(id);
        Assert.Equal("APPROVED", row["status"]!.GetValue<string>());
        Assert.Equal(approved.Json["ledger_event_id"]!.GetValue<long>(), row["source_event_id"]!.GetValue<long>());
    }

    /// <summary>Starts <see cref="Callers"/> requests together (released by one gate) and waits for all of them.</summary>
    private static async Task<Reply[]> RaceAsync(Func<Task<Reply>> request)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Callers).Select(async _ =>
        {
            await gate.Task;
            return await request();
        }).ToArray();
        gate.SetResult();
        return await Task.WhenAll(calls);
    }
}
