using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Invite links over HTTP (issue 11, items 1 and 6): an administrator generates an invite, lists and reads it with its
/// draft (never the secret), reads the link's path (derived on each read; the CLI prints the same), and another tenant
/// sees none of it.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class InviteHttpTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Invite_GeneratedOverHttp_IsListedAndReadByItsTenantOnly_AndItsLinkIsReadNotStored()
    {
        var generated = await f.RunAsync(f.AliceKey, "LINK_INVITE_GENERATE_DRAFT", JsonNode.Parse("""
            {"invitee_type":"FRIEND","prefilled_fields":{"first_name":"Dana"}}
            """)!.AsObject(), "LINK_OK_GENERATE_DRAFT");
        var tokenId = generated.Json["token"]!["token_id"]!.GetValue<string>();
        var draftId = generated.Json["draft"]!["draft_id"]!.GetValue<string>();
        Assert.DoesNotContain("/invite/", generated.Json.ToJsonString(), StringComparison.Ordinal);

        var list = await f.Api.GetAsync(f.AliceKey, "/v1/invites?status=DRAFT_CREATED&limit=500");
        AssertSuccess(list, "QUERY_OK");
        Assert.Contains(list.Json["invites"]!.AsArray(), i => i!["token_id"]!.GetValue<string>() == tokenId);

        var one = await f.Api.GetAsync(f.AliceKey, $"/v1/invites/{tokenId}");
        AssertSuccess(one, "QUERY_OK");
        Assert.Equal(("DRAFT_CREATED", draftId, 0), (one.Json["invite"]!["status"]!.GetValue<string>(), one.Json["draft"]!["draft_id"]!.GetValue<string>(),
            one.Json["invite"]!["forward_block_count"]!.GetValue<int>()));
        Assert.Equal(["tenant_id"], one.Json["draft"]!["required_fields"]!.AsArray().Select(n => n!.GetValue<string>()));
        var draft = await f.Api.GetAsync(f.AliceKey, $"/v1/invite-drafts/{draftId}");
        AssertSuccess(draft, "QUERY_OK");
        Assert.Equal(tokenId, draft.Json["active_invite"]!["token_id"]!.GetValue<string>());

        var link = await f.Api.GetAsync(f.AliceKey, $"/v1/invites/{tokenId}/link");
        AssertSuccess(link, "QUERY_OK");
        var path = link.Json["link_path"]!.GetValue<string>();
        Assert.Matches("^/invite/[A-Za-z0-9_-]{43}$", path);
        Assert.DoesNotContain(path["/invite/".Length..], one.Json.ToJsonString(), StringComparison.Ordinal);
        // The CLI derives the same path from the same key in the data directory.
        var cli = await f.SeleneAsync("invite", "link", "--tenant", "acme", "--token", tokenId);
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Equal(path, cli.StandardOutput.Trim());

        // Another tenant, a bad id, a bad status: reason-coded, nothing shown.
        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/invites/{tokenId}"), HttpStatusCode.NotFound, "LINK_REFUSE_NOT_FOUND");
        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/invites/{tokenId}/link"), HttpStatusCode.NotFound, "LINK_REFUSE_NOT_FOUND");
        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/invite-drafts/{draftId}"), HttpStatusCode.NotFound, "LINK_REFUSE_NOT_FOUND");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/invites/link_nope"), HttpStatusCode.NotFound, "LINK_REFUSE_NOT_FOUND");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/invites?status=BLOCKED"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");

        // A revoked link has no path any more.
        await f.RunAsync(f.AliceKey, "LINK_INVITE_REVOKE_REVOKE", new JsonObject { ["token_id"] = tokenId, ["reason"] = "withdrawn" }, "LINK_OK_REVOKE");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, $"/v1/invites/{tokenId}/link"), HttpStatusCode.Conflict, "LINK_TOKEN_REVOKED");
    }
}
