using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

[Collection(SeleneServerCollection.Name)]
public class AuthTests(SeleneServerFixture f)
{
    [Theory]
    [InlineData("/V1/capreqs")]
    [InlineData("/v1/CAPREQS")]
    [InlineData("/V1/journal?correlation_id=1")]
    public async Task Get_AnyCaseOfTheV1Prefix_StillNeedsAKey(string path)
    {
        AssertProblem(await f.Api.GetAsync(null, path), HttpStatusCode.Unauthorized, "AUTH_KEY_MISSING");
        AssertProblem(await f.Api.GetAsync("sel_not-a-key", path), HttpStatusCode.Unauthorized, "AUTH_KEY_INVALID");
        Assert.Equal(HttpStatusCode.OK, (await f.Api.GetAsync(f.AliceKey, path)).Status);
    }

    /// <summary>
    /// The server remembers keys it resolved (issue 14: a turn checks its key in its own first batch instead of a round trip of its
    /// own); a key revoked in the database is refused by the very next request all the same, whatever that request is, and
    /// nothing is written for it — not the execution, not a refusal's trace.
    /// </summary>
    [Theory]
    [InlineData("simulation")]
    [InlineData("turn")]
    [InlineData("invalid turn")]
    [InlineData("read")]
    public async Task RevokedKey_IsRefusedOnTheVeryNextRequest_AndNothingIsWritten(string next)
    {
        var (tenant, adminKey) = await f.OwnTenantAsync("revoke");
        var key = await f.CreateKeyAsync(tenant, "admin");
        // The key works, and the server now remembers it (the request ran through a transaction that checked it).
        AssertSuccess(await f.Api.SimulateAsync(key, "CAPREQ_CREATE_DRAFT", NewDraft()), "CAPREQ_OK_CREATE_DRAFT");
        AssertSuccess(await f.Api.SimulateAsync(key, "CAPREQ_CREATE_DRAFT", NewDraft()), "CAPREQ_OK_CREATE_DRAFT");

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        await f.SuperuserExecAsync($"UPDATE selene.api_keys SET revoked_at = 1 WHERE key_hash = '{hash}'");
        var before = await f.TenantDigestsAsync(tenant);

        var reply = next switch
        {
            "simulation" => await f.Api.SimulateAsync(key, "CAPREQ_CREATE_DRAFT", NewDraft()),
            "turn" => await f.Api.PostTurnAsync(key, SeleneApi.TextTurn("CAPREQ_CREATE_DRAFT", NewDraft(), SeleneApi.NewIdempotencyKey()).ToJsonString()),
            "invalid turn" => await f.Api.PostTurnAsync(key, new JsonObject { ["turn_id"] = 1 }.ToJsonString()),
            _ => await f.Api.GetAsync(key, "/v1/capreqs"),
        };
        AssertProblem(reply, HttpStatusCode.Unauthorized, "AUTH_KEY_INVALID");
        Assert.Equal(before, await f.TenantDigestsAsync(tenant));
        // The tenant's other key is untouched.
        AssertSuccess(await f.Api.SimulateAsync(adminKey, "CAPREQ_CREATE_DRAFT", NewDraft()), "CAPREQ_OK_CREATE_DRAFT");
        // And the revoked key stays refused.
        AssertProblem(await f.Api.SimulateAsync(key, "CAPREQ_CREATE_DRAFT", NewDraft()), HttpStatusCode.Unauthorized, "AUTH_KEY_INVALID");
    }
}
