using Npgsql;

namespace Selene.Server.Tests;

/// <summary>A server and cluster of their own: this test breaks a journal chain for good.</summary>
[CollectionDefinition(Name)]
public sealed class TamperedServerCollection : ICollectionFixture<SeleneServerFixture>
{
    public const string Name = "selene server with a tampered journal";
}

[Collection(TamperedServerCollection.Name)]
public class AuditTamperTests(SeleneServerFixture f)
{
    [Fact]
    public async Task AuditVerify_EntryAlteredThroughTheOwnerRole_ExitsOneAndNamesThatEntry()
    {
        await f.FulfilledAsync(); // create, submit, approve, fulfil: four chained entries for acme
        var intact = await f.SeleneAsync("audit", "verify");
        Assert.True(intact.ExitCode == 0, intact.ToString());

        // The owner role may switch the append-only trigger off; the hash chain must still tell.
        await using (var owner = new NpgsqlConnection($"Host={f.DataDir}/run;Port=5432;Database=selene;Username=selene_owner;Pooling=false"))
        {
            await owner.OpenAsync();
            await using var tx = await owner.BeginTransactionAsync();
            await using var cmd = new NpgsqlCommand("""
                SELECT set_config('selene.tenant_id', 'acme', true);
                ALTER TABLE selene.journal DISABLE TRIGGER append_only_row;
                UPDATE selene.journal SET reason_code = 'CAPREQ_OK_REJECT' WHERE seq = 3;
                ALTER TABLE selene.journal ENABLE TRIGGER append_only_row;
                """, owner, tx);
            await cmd.ExecuteNonQueryAsync();
            await tx.CommitAsync();
        }

        var broken = await f.SeleneAsync("audit", "verify");
        Assert.True(broken.ExitCode == 1, broken.ToString());
        Assert.Contains("tenant acme: BROKEN at seq 3: hash does not match the entry's content (J_CHAIN_BROKEN)", broken.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"tenant globex: \d+ entries, \d+ ledger rows bound, chain intact", broken.StandardOutput);
        Assert.Contains("audit verify: 1 of 2 tenant chain(s) broken", broken.StandardOutput, StringComparison.Ordinal);
    }
}
