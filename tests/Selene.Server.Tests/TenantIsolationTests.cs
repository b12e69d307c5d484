using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>carol (tenant globex) against acme's requests.</summary>
[Collection(SeleneServerCollection.Name)]
public class TenantIsolationTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Get_OtherTenantsCapreq_Is404NotFound()
    {
        var id = await f.PendingAsync();
        var reply = await f.Api.GetCapreqAsync(f.CarolKey, id);
        AssertProblem(reply, HttpStatusCode.NotFound, "CAPREQ_NOT_FOUND");
        Assert.DoesNotContain("alice", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_OtherTenantsCapreqWithoutTenantId_Is404NotFoundAndRowUnchanged()
    {
        var id = await f.PendingAsync();
        var rowBefore = await f.Api.GetCapreqAsync(f.AliceKey, id);
        var before = await f.CountsAsync();

        var reply = await f.Api.SimulateAsync(f.CarolKey, Approve, On(id));

        AssertProblem(reply, HttpStatusCode.NotFound, "CAPREQ_NOT_FOUND");
        Assert.Equal(rowBefore.Text, (await f.Api.GetCapreqAsync(f.AliceKey, id)).Text);
        // The refusal is journaled in carol's own tenant, and acme cannot see it.
        // The turn decision, the access gate's ALLOW and the engine's refusal are journaled; nothing else changes.
        Assert.Equal(before with { Journal = before.Journal + 3 }, await f.CountsAsync());
        var correlation = reply.Json["correlation_id"]!.GetValue<string>();
        var entry = Assert.Single(await f.Api.TransitionsAsync(f.CarolKey, correlation))!;
        Assert.Equal("SIMULATION_REFUSED", entry["event_type"]!.GetValue<string>());
        Assert.Empty(await f.Api.TransitionsAsync(f.AliceKey, correlation));
    }

    [Fact]
    public async Task Approve_OtherTenantsCapreqNamingThatTenant_Is403TenantScopeViolationAndLeavesOneTrace()
    {
        var id = await f.PendingAsync();
        var rowBefore = await f.Api.GetCapreqAsync(f.AliceKey, id);
        var before = await f.CountsAsync();

        var reply = await f.Api.SimulateAsync(f.CarolKey, Approve, new JsonObject { ["tenant_id"] = "acme", ["capreq_id"] = id });

        AssertProblem(reply, HttpStatusCode.Forbidden, "TENANT_SCOPE_VIOLATION");
        Assert.Equal(rowBefore.Text, (await f.Api.GetCapreqAsync(f.AliceKey, id)).Text);
        // The attempt's one trace, in carol's own tenant (audit proof of the cross-tenant attempt); nothing else.
        Assert.Equal(before with { Journal = before.Journal + 1 }, await f.CountsAsync());
        Assert.Equal("REQUEST_REFUSED", Assert.Single(await f.Api.JournalAsync(f.CarolKey, reply.Json["correlation_id"]!.GetValue<string>()))!["event_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_OtherTenant_ContainsNoneOfAcmesRows()
    {
        var id = await f.DraftAsync();
        var acme = (await f.Api.ListAsync(f.AliceKey)).Select(r => r!["capreq_id"]!.GetValue<string>()).ToHashSet();
        Assert.Contains(id, acme);

        var globex = await f.Api.ListAsync(f.CarolKey);
        Assert.All(globex, r => Assert.Equal("globex", r!["tenant_id"]!.GetValue<string>()));
        Assert.DoesNotContain(globex, r => acme.Contains(r!["capreq_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Journal_OtherTenantsCorrelation_IsEmpty()
    {
        var created = await f.RunAsync(f.AliceKey, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT");
        var correlation = created.Json["correlation_id"]!.GetValue<string>();
        Assert.Single(await f.Api.TransitionsAsync(f.AliceKey, correlation));
        Assert.Empty(await f.Api.TransitionsAsync(f.CarolKey, correlation));
    }

    [Fact]
    public async Task CreateDraft_SameContentInTwoTenants_GetsDistinctRequests()
    {
        var draft = NewDraft();
        var acme = await f.RunAsync(f.AliceKey, Create, draft, "CAPREQ_OK_CREATE_DRAFT");
        var globex = await f.RunAsync(f.CarolKey, Create, draft.DeepClone().AsObject(), "CAPREQ_OK_CREATE_DRAFT");
        Assert.NotEqual(acme.Capreq["capreq_id"]!.GetValue<string>(), globex.Capreq["capreq_id"]!.GetValue<string>());
        Assert.Equal("globex", globex.Capreq["tenant_id"]!.GetValue<string>());
        Assert.Equal("carol", globex.Capreq["requester_user_id"]!.GetValue<string>());
    }
}
