using System.Net;
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
}
