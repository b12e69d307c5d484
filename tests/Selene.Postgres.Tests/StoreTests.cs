using Selene.Engines.CapReq;
using Selene.Contracts;
using Selene.Postgres.Stores;
using Selene.Testing;

namespace Selene.Postgres.Tests;

public sealed class StoreTests
{
    [Fact]
    public async Task Outbox_SameIdempotencyKeyTwice_EnqueuesOnce()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(db, "acme", "u1");
        var message = new OutboxMessage("SIMULATION_COMMIT", "handoff:1", "POSITION_REQUIREMENTS_ACTIVATED", new Dictionary<string, string> { ["position_id"] = "p1" });
        for (var i = 0; i < 2; i++)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, "acme");
            var added = await OutboxStore.EnqueueAsync(tx, new CorrelationId(5), [message], 10 + i, default);
            Assert.Equal(i == 0 ? 1 : 0, added);
            await tx.CommitAsync();
        }
        await using var read = await TenantTransaction.BeginAsync(db.App, "acme");
        var row = Assert.Single(await OutboxStore.ListAsync(read, default));
        Assert.Equal("PENDING", row.Status);
        Assert.Equal("{\"position_id\":\"p1\"}", row.Payload);
    }

    [Fact]
    public async Task OutboxClaim_AcrossTenants_ClaimsEachDueRowOnce_AndLeavesRowLevelSecurityAsItWas()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        foreach (var tenant in new[] { "acme", "globex" })
        {
            await TestCluster.SeedUserAsync(db, tenant, "u1");
            await using var tx = await TenantTransaction.BeginAsync(db.App, tenant);
            await OutboxStore.EnqueueAsync(tx, new CorrelationId(5), [
                new OutboxMessage("SIMULATION_COMMIT", "due", "TEST_HANDOFF", new Dictionary<string, string> { ["n"] = "1" }),
                new OutboxMessage("SIMULATION_COMMIT", "other", "NOBODY_CONSUMES", new Dictionary<string, string> { ["n"] = "2" }),
            ], 10, default, new OutboxOrigin("u1", new TurnId(3)));
            await tx.CommitAsync();
        }
        var token = Guid.NewGuid();

        // Not due before its time; then both tenants' rows of the claimed type, and only those, once.
        Assert.Empty(await OutboxStore.ClaimAsync(db.App, ["TEST_HANDOFF"], "w1", token, 9, 100, 10, default));
        var claimed = await OutboxStore.ClaimAsync(db.App, ["TEST_HANDOFF"], "w1", token, 10, 100, 10, default);
        Assert.Equal(["acme", "globex"], claimed.Select(c => c.TenantId).Order());
        Assert.Empty(await OutboxStore.ClaimAsync(db.App, ["TEST_HANDOFF"], "w2", Guid.NewGuid(), 99, 200, 10, default));
        // The lease expired: claimable again by another worker.
        Assert.Equal(2, (await OutboxStore.ClaimAsync(db.App, ["TEST_HANDOFF"], "w2", Guid.NewGuid(), 100, 200, 10, default)).Count);

        await using (var read = await TenantTransaction.BeginAsync(db.App, "acme"))
        {
            var rows = await OutboxStore.ListAsync(read, default);
            Assert.Equal(2, rows.Count); // the runtime still sees its own tenant only
            var row = Assert.Single(rows, r => r.EventType == "TEST_HANDOFF");
            Assert.Equal(("SENT", "w2", 200L, "u1", 3L), (row.Status, row.LeaseOwner, row.LeaseExpiresAt, row.ActorUserId, row.OriginTurnId));
            Assert.Equal("PENDING", Assert.Single(rows, r => r.EventType == "NOBODY_CONSUMES").Status);
        }
        Assert.Equal(2, await Sql.CountAsync(db.Owner, "acme", "outbox")); // the owner too, outside the claim
        // Who caused a handoff never changes.
        Assert.Equal("SE001", (await Sql.FailsAsync(db.App, "acme", "UPDATE selene.outbox SET actor_user_id = NULL")).SqlState);
        Assert.Equal("SE001", (await Sql.FailsAsync(db.App, "acme", "UPDATE selene.outbox SET origin_turn_id = 4")).SqlState);
    }

    [Fact]
    public async Task DeferredWrites_GoWithTheJournalBatch_AndAMissedRowCountFailsTheTransaction()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(db, "acme", "u1");
        var message = new OutboxMessage("SIMULATION_COMMIT", "handoff:d", "TEST_HANDOFF", new Dictionary<string, string> { ["n"] = "1" });
        await using (var tx = await TenantTransaction.BeginAsync(db.App, "acme"))
        {
            Assert.IsType<IdempotencyClaim.Claimed>(await IdempotencyStore.ClaimAsync(tx, "sim:X", "kd", "h", 1, default));
            OutboxStore.Enqueue(tx, new CorrelationId(5), [message], 1);
            IdempotencyStore.Complete(tx, "sim:X", "kd", 200, "{}", "CAPREQ_OK_CREATE_DRAFT", 2);
            await JournalStore.AppendAsync(tx, [new JournalEntry(new CorrelationId(5), new TurnId(1), "PH1.OS", "TURN_DECISION", ReasonCodes.OsOkDecisionCompute,
                JournalPayload.Create(("n", "1")), "u1", "kd")], 3, default);
            // Sent with the journal's batch: visible inside the transaction before commit.
            Assert.Single(await OutboxStore.ListAsync(tx, default));
            await tx.CommitAsync();
        }

        // Completing a key nobody claimed touches no row: the deferred write's check fails the transaction at commit.
        await using (var tx = await TenantTransaction.BeginAsync(db.App, "acme"))
        {
            OutboxStore.Enqueue(tx, new CorrelationId(6), [message with { IdempotencyKey = "handoff:e" }], 4);
            IdempotencyStore.Complete(tx, "sim:X", "never-claimed", 200, "{}", "CAPREQ_OK_CREATE_DRAFT", 4);
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => tx.CommitAsync());
            Assert.Contains("not claimed", error.Message, StringComparison.Ordinal);
        }
        await using var read = await TenantTransaction.BeginAsync(db.App, "acme");
        Assert.Equal(["handoff:d"], (await OutboxStore.ListAsync(read, default)).Select(r => r.IdempotencyKey));
    }

    /// <summary>
    /// Issue 14: a transaction that commits with its journal append sends COMMIT in the journal's batch; a deferred write's row
    /// count is then checked by the database before that COMMIT, so a miss leaves nothing behind — not even the journal entry.
    /// </summary>
    [Fact]
    public async Task CommitWithJournal_CommitsInTheJournalBatch_AndAMissedRowCountCommitsNothing()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(db, "acme", "u1");
        var message = new OutboxMessage("SIMULATION_COMMIT", "handoff:c", "TEST_HANDOFF", new Dictionary<string, string> { ["n"] = "1" });
        JournalEntry Entry(int n) => new(new CorrelationId((UInt128)n), new TurnId(1), "PH1.OS", "TURN_DECISION", ReasonCodes.OsOkDecisionCompute,
            JournalPayload.Create(("n", n.ToString(System.Globalization.CultureInfo.InvariantCulture))), "u1", "k" + n);
        await using (var tx = await TenantTransaction.BeginAsync(db.App, "acme"))
        {
            Assert.IsType<IdempotencyClaim.Claimed>(await IdempotencyStore.ClaimAsync(tx, "sim:X", "kc", "h", 1, default));
            OutboxStore.Enqueue(tx, new CorrelationId(7), [message], 1);
            IdempotencyStore.Complete(tx, "sim:X", "kc", 200, "{}", "CAPREQ_OK_CREATE_DRAFT", 2);
            tx.CommitWithJournal();
            await JournalStore.AppendAsync(tx, [Entry(7)], 3, default);
            // Committed by that batch: another transaction sees it before CommitAsync confirms, and nothing may be written after it.
            await using (var other = await TenantTransaction.BeginAsync(db.App, "acme"))
                Assert.Equal(1L, (await JournalStore.HeadAsync(other, default)).LastSeq);
            Assert.Throws<InvalidOperationException>(() => OutboxStore.Enqueue(tx, new CorrelationId(8), [message with { IdempotencyKey = "handoff:late" }], 4));
            await tx.CommitAsync();
        }

        await using (var tx = await TenantTransaction.BeginAsync(db.App, "acme"))
        {
            OutboxStore.Enqueue(tx, new CorrelationId(9), [message with { IdempotencyKey = "handoff:f" }], 4);
            IdempotencyStore.Complete(tx, "sim:X", "never-claimed", 200, "{}", "CAPREQ_OK_CREATE_DRAFT", 4);
            tx.CommitWithJournal();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => JournalStore.AppendAsync(tx, [Entry(9)], 5, default));
            Assert.Contains("not claimed", error.Message, StringComparison.Ordinal);
        }
        await using var read = await TenantTransaction.BeginAsync(db.App, "acme");
        Assert.Equal(["handoff:c"], (await OutboxStore.ListAsync(read, default)).Select(r => r.IdempotencyKey));
        Assert.Equal(1L, (await JournalStore.HeadAsync(read, default)).LastSeq);
        Assert.IsType<IdempotencyClaim.Claimed>(await IdempotencyStore.ClaimAsync(read, "sim:X", "never-claimed", "h", 6, default));
    }

    [Fact]
    public async Task Journal_Appends_FormOneVerifiableChainPerTenant()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        foreach (var tenant in new[] { "acme", "globex" })
        {
            await TestCluster.SeedUserAsync(db, tenant, "u1");
            for (var i = 0; i < 3; i++)
            {
                await using var tx = await TenantTransaction.BeginAsync(db.App, tenant);
                await JournalStore.AppendAsync(tx, [
                    new JournalEntry(new CorrelationId(9), new TurnId((ulong)i + 1), "PH1.CAPREQ", "STATE_TRANSITION", CapreqReasons.CapreqCreated,
                        JournalPayload.Create(("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))), "u1", null),
                    new JournalEntry(new CorrelationId(10), new TurnId(1), "PH1.CAPREQ", "SIMULATION_REFUSED", CapreqReasons.CapreqTransitionInvalid,
                        JournalPayload.Empty, "u1", "k")], 100 + i, default);
                await tx.CommitAsync();
            }
        }

        foreach (var tenant in new[] { "acme", "globex" })
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, tenant);
            var chain = new List<JournalRecord>();
            await foreach (var r in JournalStore.ChainAsync(tx, default)) chain.Add(r);
            Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), chain.Select(r => r.Seq));
            Assert.Null(JournalChain.Verify(chain));
            Assert.All(chain, r => Assert.Equal(tenant, r.TenantId));
            var byCorrelation = await JournalStore.ByCorrelationAsync(tx, new CorrelationId(9), 100, default);
            Assert.Equal(3, byCorrelation.Count);
        }
    }

    [Fact]
    public async Task ApiKey_ResolvesToItsTenantAndUser_AndIsStoredOnlyAsAHash()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        var key = await TestCluster.SeedUserAsync(db, "acme", "alice");
        var resolved = await KeyStore.ResolveAsync(db, key, default);
        Assert.Equal(("acme", "alice"), (resolved!.Value.Tenant.Value, resolved.Value.User.Value));
        Assert.Null(await KeyStore.ResolveAsync(db, key + "x", default));

        await using var cmd = db.Owner.CreateCommand("SELECT count(*) FROM selene.api_keys WHERE key_hash = $1 AND position($2 in key_hash) = 0");
        cmd.Parameters.Add(new() { Value = KeyStore.HashKey(key) });
        cmd.Parameters.Add(new() { Value = key });
        Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!);
    }
}

public sealed class HardeningTests
{
    [Fact]
    public async Task ApiKey_OfADisabledIdentity_NoLongerResolves()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        var key = await TestCluster.SeedUserAsync(db, "acme", "alice");
        Assert.NotNull(await KeyStore.ResolveAsync(db, key, default));
        await Sql.ExecAsync(db.Owner, "acme", "UPDATE selene.identities SET status = 'DISABLED' WHERE user_id = 'alice'");
        Assert.Null(await KeyStore.ResolveAsync(db, key, default));
    }

    [Fact]
    public async Task JournalHead_CannotBePointedAwayFromTheChainsLastEntry()
    {
        await using var db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(db, "acme", "u1");
        for (var i = 0; i < 2; i++)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, "acme");
            await JournalStore.AppendAsync(tx, [new JournalEntry(new CorrelationId(3), new TurnId(1), "PH1.CAPREQ", "STATE_TRANSITION",
                CapreqReasons.CapreqCreated, JournalPayload.Empty, "u1", null)], 10 + i, default);
            await tx.CommitAsync();
        }
        foreach (var change in new[] { "last_seq = 1", "last_seq = 7", "last_hash = repeat('a', 64)" })
        {
            var error = await Sql.FailsAsync(db.App, "acme", $"UPDATE selene.journal_heads SET {change}");
            Assert.Equal("SE001", error.SqlState);
        }
    }

    [Fact]
    public async Task Bootstrap_ConcurrentFirstRuns_DoNotRace()
    {
        var superuser = await TestCluster.SuperuserConnectionStringAsync("postgres");
        var name = "race_" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Bootstrap.EnsureAsync(superuser, name))));
        await using var conn = new Npgsql.NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(name));
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_namespace WHERE nspname = 'selene'", conn);
        Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!);
    }
}
