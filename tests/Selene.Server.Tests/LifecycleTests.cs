using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

[Collection(SeleneServerCollection.Name)]
public class LifecycleTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Lifecycle_TwoUsersOfOneTenant_CreateSubmitApproveFulfil()
    {
        var draft = NewDraft();
        var created = await f.RunAsync(f.AliceKey, Create, draft, "CAPREQ_OK_CREATE_DRAFT");
        var id = created.Capreq["capreq_id"]!.GetValue<string>();
        Assert.Matches("^capreq_[0-9a-f]{16}$", id);
        Assert.Equal("DRAFT", created.Capreq["status"]!.GetValue<string>());
        Assert.Equal("alice", created.Capreq["requester_user_id"]!.GetValue<string>());
        Assert.Equal("acme", created.Capreq["tenant_id"]!.GetValue<string>());
        Assert.Equal(draft["target_scope_ref"]!.GetValue<string>(), created.Capreq["target_scope_ref"]!.GetValue<string>());
        Assert.Equal(created.Json["ledger_event_id"]!.GetValue<long>(), created.Capreq["source_event_id"]!.GetValue<long>());

        var submitted = await f.RunAsync(f.AliceKey, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
        Assert.Equal("PENDING_APPROVAL", submitted.Capreq["status"]!.GetValue<string>());

        var approved = await f.RunAsync(f.BobKey, Approve, On(id), "CAPREQ_OK_APPROVE");
        Assert.Equal("APPROVED", approved.Capreq["status"]!.GetValue<string>());
        Assert.Equal("bob", approved.Capreq["last_actor_user_id"]!.GetValue<string>());
        Assert.Equal("alice", approved.Capreq["requester_user_id"]!.GetValue<string>());

        var fulfilled = await f.RunAsync(f.BobKey, Fulfil, On(id), "CAPREQ_OK_FULFILL");
        Assert.Equal("FULFILLED", fulfilled.Capreq["status"]!.GetValue<string>());

        // Each step appended exactly one ledger event, in order.
        var events = new[] { created, submitted, approved, fulfilled }.Select(r => r.Json["ledger_event_id"]!.GetValue<long>()).ToArray();
        Assert.Equal(events.Order(), events);
        Assert.Equal(events.Length, events.Distinct().Count());
        Assert.Equal(4, await f.LedgerEventsOfAsync(id));

        // Reads reflect the final state, for either user of the tenant.
        var row = await f.RowAsync(id, f.BobKey);
        Assert.Equal("FULFILLED", row["status"]!.GetValue<string>());
        Assert.Equal("FULFILL", row["last_action"]!.GetValue<string>());
        Assert.Equal("CAPREQ_OK_FULFILL", row["last_reason_code"]!.GetValue<string>());
        Assert.Equal(events[^1], row["source_event_id"]!.GetValue<long>());
        Assert.True(JsonNode.DeepEquals(fulfilled.Capreq, row), $"GET differs from the FULFILL result:\n{fulfilled.Capreq}\n{row}");

        Assert.Contains(await f.Api.ListAsync(f.AliceKey, "FULFILLED"), r => r!["capreq_id"]!.GetValue<string>() == id);
        Assert.DoesNotContain(await f.Api.ListAsync(f.AliceKey, "DRAFT"), r => r!["capreq_id"]!.GetValue<string>() == id);
        Assert.DoesNotContain(await f.Api.ListAsync(f.AliceKey, "APPROVED"), r => r!["capreq_id"]!.GetValue<string>() == id);
        Assert.All(await f.Api.ListAsync(f.AliceKey, "FULFILLED"), r => Assert.Equal("FULFILLED", r!["status"]!.GetValue<string>()));

        // The journal of the approval's correlation holds its state transition.
        var correlation = approved.Json["correlation_id"]!.GetValue<string>();
        var entries = await f.Api.TransitionsAsync(f.AliceKey, correlation);
        var entry = Assert.Single(entries)!;
        Assert.Equal("STATE_TRANSITION", entry["event_type"]!.GetValue<string>());
        Assert.Equal("CAPREQ_OK_APPROVE", entry["reason_code"]!.GetValue<string>());
        Assert.Equal("bob", entry["actor_user_id"]!.GetValue<string>());
        Assert.Equal(correlation, entry["correlation_id"]!.GetValue<string>());
        Assert.Equal(approved.Json["journal_seq"]!.AsArray().Last()!.GetValue<long>(), entry["seq"]!.GetValue<long>());
        var payload = entry["payload"]!;
        Assert.Equal("PENDING_APPROVAL", payload["state_from"]!.GetValue<string>());
        Assert.Equal("APPROVED", payload["state_to"]!.GetValue<string>());
        Assert.Equal(id, payload["capreq_id"]!.GetValue<string>());
        Assert.Equal(events[2].ToString(System.Globalization.CultureInfo.InvariantCulture), payload["ledger_event_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lifecycle_CreateDraft_JournalsTransitionFromNone()
    {
        var created = await f.RunAsync(f.AliceKey, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        var entry = Assert.Single(await f.Api.TransitionsAsync(f.AliceKey, created.Json["correlation_id"]!.GetValue<string>()))!;
        Assert.Equal("STATE_TRANSITION", entry["event_type"]!.GetValue<string>());
        Assert.Equal("NONE", entry["payload"]!["state_from"]!.GetValue<string>());
        Assert.Equal("DRAFT", entry["payload"]!["state_to"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lifecycle_ApproverRejects_RequestEndsRejected()
    {
        var id = await f.PendingAsync();
        var rejected = await f.RunAsync(f.BobKey, Reject, new JsonObject { ["capreq_id"] = id, ["reject_reason"] = "not needed" }, "CAPREQ_OK_REJECT");
        Assert.Equal("REJECTED", rejected.Capreq["status"]!.GetValue<string>());
        Assert.Equal("REJECTED", (await f.RowAsync(id))["status"]!.GetValue<string>());
        Assert.Contains(await f.Api.ListAsync(f.BobKey, "REJECTED"), r => r!["capreq_id"]!.GetValue<string>() == id);
    }

    [Theory]
    [InlineData("DRAFT")]
    [InlineData("PENDING_APPROVAL")]
    [InlineData("APPROVED")]
    public async Task Lifecycle_RequesterCancelsOpenRequest_RequestEndsCanceled(string from)
    {
        var id = from switch
        {
            "DRAFT" => await f.DraftAsync(),
            "PENDING_APPROVAL" => await f.PendingAsync(),
            _ => await f.ApprovedAsync(),
        };
        var canceled = await f.RunAsync(f.AliceKey, Cancel, new JsonObject { ["capreq_id"] = id, ["cancel_reason"] = "changed my mind" }, "CAPREQ_OK_CANCEL");
        Assert.Equal("CANCELED", canceled.Capreq["status"]!.GetValue<string>());
        var entry = Assert.Single(await f.Api.TransitionsAsync(f.AliceKey, canceled.Json["correlation_id"]!.GetValue<string>()))!;
        Assert.Equal(from, entry["payload"]!["state_from"]!.GetValue<string>());
        Assert.Equal("CANCELED", entry["payload"]!["state_to"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_LimitAndAfter_PagesThroughInIdOrder()
    {
        // Its own tenant: the unpaged list is exactly the five rows made here, whatever earlier tests created.
        var (_, admin) = await f.OwnTenantAsync("paging");
        var made = new List<string>();
        for (var i = 0; i < 5; i++)
            made.Add((await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>());
        var all = (await f.Api.ListAsync(admin)).Select(r => r!["capreq_id"]!.GetValue<string>()).ToList();
        Assert.Equal(made.Order(StringComparer.Ordinal), all);

        var paged = new List<string>();
        var pageSizes = new List<int>();
        string? after = null;
        for (var page = 0; page <= all.Count; page++)
        {
            var reply = await f.Api.GetAsync(admin, after is null ? "/v1/capreqs?limit=2" : $"/v1/capreqs?limit=2&after={after}");
            AssertSuccess(reply, "QUERY_OK");
            var rows = reply.Json["capreqs"]!.AsArray();
            pageSizes.Add(rows.Count);
            paged.AddRange(rows.Select(r => r!["capreq_id"]!.GetValue<string>()));
            after = reply.Json["next_after"]?.GetValue<string>();
            if (after is null) break;
            Assert.Equal(paged[^1], after);
        }
        Assert.Null(after);
        Assert.Equal([2, 2, 1], pageSizes);
        Assert.Equal(all, paged);
    }
}
