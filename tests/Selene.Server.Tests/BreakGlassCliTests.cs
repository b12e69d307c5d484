using System.Net;
using System.Security.Cryptography;
using Npgsql;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// <c>selene breakglass open|close</c> and the break-glass part of <c>selene audit verify</c> through the real CLI, on the
/// cluster the running server started (issue 15 item 3, docs/breakglass.md). The login's session is what an operator's
/// psql would be.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class BreakGlassCliTests(SeleneServerFixture f)
{
    [Fact]
    public async Task OpenAlterClose_AuditVerifyNamesTheWindowWhoAndTheChange_AndTheLoginCannotWriteAfterwards()
    {
        var (tenant, key) = await f.OwnTenantAsync("bg");
        var draft = await f.Api.SimulateAsync(key, Create, NewDraft());
        Assert.Equal(HttpStatusCode.OK, draft.Status);
        var login = "bg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

        var open = await f.SeleneAsync("breakglass", "open", "--login", login, "--reason", "INC-42: draft journaled with the wrong code", "--ttl", "30m");
        Assert.True(open.ExitCode == 0, open.ToString());
        Assert.Matches($@"BREAKGLASS_OPENED: window \d+ for created login {login} from \S+ until \S+; reason: INC-42: draft journaled with the wrong code", open.StandardOutput);
        Assert.Contains($"user={login}", open.StandardOutput, StringComparison.Ordinal);

        await using (var session = await ConnectAsync(login, tenant))
        {
            await using var update = new NpgsqlCommand("UPDATE selene.capreq_ledger SET reason_code = 'CAPREQ_OK_REJECT'", session);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());

            var close = await f.SeleneAsync("breakglass", "close", "--login", login);
            Assert.True(close.ExitCode == 0, close.ToString());
            Assert.Matches($@"BREAKGLASS_CLOSED: window \d+ of {login} ended at \S+; role revoked", close.StandardOutput);

            // The same session, still open, can no longer write.
            await using var again = new NpgsqlCommand("UPDATE selene.capreq_ledger SET reason_code = 'CAPREQ_OK_CREATE_DRAFT'", session);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => again.ExecuteNonQueryAsync());
            Assert.Equal("42501", refused.SqlState);
        }

        var verify = await f.SeleneAsync("audit", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        // The ledger row no longer matches what its journal entry bound: the window explains it, so the chain is intact.
        Assert.Matches($@"tenant {tenant}: \d+ entries, \d+ ledger rows bound, 1 changed under break-glass \(capreq:\d+ \(break-glass window \d+\)\), chain intact",
            verify.StandardOutput);
        var windowLine = Assert.Single(verify.StandardOutput.Split('\n'), l => l.Contains($"login {login},", StringComparison.Ordinal));
        Assert.Matches($@"^break-glass window \d+: login {login}, opened by \S+, reason ""INC-42: draft journaled with the wrong code""; from \S+ to \S+ " +
            @"\(BREAKGLASS_CLOSED by \S+ at \S+\); 1 statement\(s\) recorded$", windowLine);
        Assert.Matches($@"  seq \d+ at \S+ by {login}: UPDATE selene\.capreq_ledger \{{""event_id"": \d+, ""tenant_id"": ""{tenant}""\}}: " +
            @"reason_code ""CAPREQ_OK_CREATE_DRAFT"" → ""CAPREQ_OK_REJECT""", verify.StandardOutput);
        Assert.Matches(@"break-glass audit: \d+ entries, \d+ window\(s\), chain intact \(J_CHAIN_VERIFIED\); head [0-9a-f]{64}", verify.StandardOutput);

        var closeAgain = await f.SeleneAsync("breakglass", "close", "--login", login);
        Assert.Equal(2, closeAgain.ExitCode);
        Assert.Contains("BREAKGLASS_NO_OPEN_WINDOW", closeAgain.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres", "30m", "BREAKGLASS_LOGIN_REFUSED")]
    [InlineData("selene_owner", "30m", "BREAKGLASS_LOGIN_REFUSED")]
    [InlineData("Ops-Alice", "30m", "INPUT_FIELD_INVALID")]
    [InlineData("bg_ttl_check", "3d", "INPUT_FIELD_INVALID")]
    [InlineData("bg_ttl_check", "30s", "INPUT_FIELD_INVALID")]
    public async Task Open_RefusedInput_ExitsTwoReasonCodedAndOpensNothing(string login, string ttl, string reason)
    {
        var before = await WindowsAsync();
        var open = await f.SeleneAsync("breakglass", "open", "--login", login, "--reason", "probe", "--ttl", ttl);
        Assert.Equal(2, open.ExitCode);
        Assert.Contains($"selene: {reason}:", open.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, await WindowsAsync());
    }

    private async Task<NpgsqlConnection> ConnectAsync(string login, string tenant)
    {
        var conn = new NpgsqlConnection($"Host={f.DataDir}/run;Port=5432;Database=selene;Username={login};Pooling=false");
        await conn.OpenAsync();
        await using var set = new NpgsqlCommand($"SELECT set_config('selene.tenant_id', '{tenant}', false)", conn);
        await set.ExecuteNonQueryAsync();
        return conn;
    }

    private async Task<long> WindowsAsync() => (await f.TableCountsAsync())["breakglass_windows"];
}
