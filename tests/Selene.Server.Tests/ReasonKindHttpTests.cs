using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The HTTP status of a refusal follows from its reason code's kind (issue 9 item 3), checked over HTTP where the
/// former severity fallback answered 400 for a refusal that is not about the request's shape.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class ReasonKindHttpTests(SeleneServerFixture f)
{
    [Fact]
    public async Task DirectCall_BySuspendedUser_OfASimulationWithoutHandler_Is403AccessGate_Not400()
    {
        // No governed action to ask about, so the gate needs an ACTIVE instance; a suspended user fails the access
        // gate before the catalog is consulted. That refusal is FORBIDDEN; the severity fallback made it 400.
        var (tenant, admin) = await f.OwnTenantAsync("kinds");
        const string user = "suspended";
        var upsert = await f.Api.SimulateAsync(admin, "ACCESS_INSTANCE_UPSERT_COMMIT", new JsonObject
        {
            ["target_user_id"] = user, ["role_template_id"] = "clerk", ["access_mode"] = "W",
            ["allow"] = new JsonArray("CAPREQ_MANAGE"), ["lifecycle_state"] = "SUSPENDED",
        });
        AssertSuccess(upsert, "ACCESS_INSTANCE_OK_UPSERT");
        var key = await f.CreateKeyAsync(tenant, user);

        var reply = await f.Api.SimulateAsync(key, "CAPREQ_TELEPORT_COMMIT", new JsonObject());

        AssertProblem(reply, HttpStatusCode.Forbidden, "OS_FAIL_ACCESS_GATE");
    }
}
