using Selene.Engines.CapReq;
using Selene.Contracts;
using Selene.Kernel.Os;
using Selene.Postgres.Stores;
using Selene.Testing;

namespace Selene.Postgres.Tests;

/// <summary>A database of its own with two tenants, each with a user, a row in every tenant table (ledgers, projections, journal, outbox, OS outcomes and reviews).</summary>
public sealed class StorageFixture : IAsyncLifetime
{
    public SeleneDatabase Db { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestCluster.CreateDatabaseAsync();
        foreach (var tenant in new[] { "acme", "globex" })
        {
            await TestCluster.SeedUserAsync(Db, tenant, "u1");
            await using var tx = await TenantTransaction.BeginAsync(Db.App, tenant);
            var capreqs = new EngineStore(new StorePair("capreq"));
            var id = await capreqs.AppendAsync(tx, new NewLedgerEvent("capreq_00000000000000a1", "CREATE_DRAFT", "u1", "CAPREQ_OK_CREATE_DRAFT",
                """{"capreq_id":"capreq_00000000000000a1"}""", "7", "k1", 1), default);
            await capreqs.UpsertAsync(tx, new ProjectionRow("capreq_00000000000000a1", "DRAFT", """{"capreq_id":"capreq_00000000000000a1"}""", id, 1), default);
            await OutboxStore.EnqueueAsync(tx, new CorrelationId(7), [new OutboxMessage("SIMULATION_COMMIT", "o1", "TEST_HANDOFF",
                new Dictionary<string, string> { ["a"] = "b" })], 1, default);
            // One row in each POSITION pair (companies, positions, requirement schemas).
            foreach (var (store, stream, type) in new[] { ("tenant_company", "co1", "UPSERT"), ("position", "pos_00000000000000a1", "CREATE_DRAFT"),
                         ("position_requirements_schema", "pos_00000000000000a1", "CREATE_DRAFT") })
            {
                var pair = new EngineStore(new StorePair(store));
                var eventId = await pair.AppendAsync(tx, new NewLedgerEvent(stream, type, "u1", "POSITION_OK_CREATE_DRAFT", "{}", "7", "k1", 1), default);
                await pair.UpsertAsync(tx, new ProjectionRow(stream, "DRAFT", "{}", eventId, 1), default);
            }
            var policies = new EngineStore(new StorePair("access_board_policy"));
            await policies.AppendAsync(tx, new NewLedgerEvent("board", "CREATE_DRAFT", "u1", "ACCESS_BOARD_POLICY_OK_UPDATE", """{"board_policy_id":"board"}""", "7", "k1", 1), default);
            var activatedPolicy = await policies.AppendAsync(tx, new NewLedgerEvent("board", "ACTIVATE", "u1", "ACCESS_BOARD_POLICY_OK_UPDATE",
                """{"board_policy_id":"board"}""", "7", "k2", 1), default);
            await policies.UpsertAsync(tx, new ProjectionRow("board", "ACTIVE", """{"board_policy_id":"board"}""", activatedPolicy, 1), default);
            // One row in each governance pair on the engine store (instances, overrides, escalation cases, board votes).
            foreach (var (store, stream, type, status) in new[] { ("access_instance", "u1", "BOOTSTRAP_ADMIN", "ACTIVE"), ("access_override", "ovr_00000000000000a1", "GRANT", "ACTIVE"),
                         ("access_escalation_case", "esc_00000000000000a1", "OPEN", "OPEN"), ("access_board_votes", "esc_00000000000000a1", "VOTE", "SATISFIED") })
            {
                var pair = new EngineStore(new StorePair(store));
                var eventId = await pair.AppendAsync(tx, new NewLedgerEvent(stream, type, "u1", "ACCESS_BOARD_VOTE_OK", "{}", "7", "k1", 1), default);
                await pair.UpsertAsync(tx, new ProjectionRow(stream, status, "{}", eventId, 1), default);
            }
            await AccessProfileFixtureRows.SeedTenantRowsAsync(tx, tenant);
            await TurnDecisionStore.AppendAsync(tx, new TurnDecisionRow(0, "7", 1, "u1", "{}", new string('a', 64), "REFUSE", "OS_FAIL_ACCESS_GATE", true,
                "CAPREQ_CREATE_DRAFT", "k1", 1), default);
            var day = new DateOnly(2026, 3, 1);
            await OsOutcomeStore.AppendOutcomesAsync(tx, new CorrelationId(7), new TurnId(1), day,
                [new OsOutcomeEntry("PH1.SEARCH", "SEARCH_RESULT", new CorrelationId(7), new TurnId(1), OsOutcomeActionClass.ActNow, "PH1.X", 5, true, "PH1_OS_OK_POLICY_EVALUATE")],
                1, default);
            var review = Assert.IsType<UtilityReviewOutcome.Reviewed>(UtilityReview.Review("PH1.SEARCH",
                (await OsOutcomeStore.ReadDayAsync(tx, day, "PH1.SEARCH", default)).Select(r => r.Entry).ToList(), 0, UtilityThresholds.MvpV1)).Result;
            await OsOutcomeStore.AppendReviewAsync(tx, day, review, new CorrelationId(7), 1, default);
            await IdempotencyStore.ClaimAsync(tx, "sim:X", "k1", "hash", 1, default);
            IdempotencyStore.Complete(tx, "sim:X", "k1", 200, "{}", "CAPREQ_OK_CREATE_DRAFT", 1);
            // Journaled last, as Selene's transactions do: the entry binds every ledger row written above.
            await JournalStore.AppendAsync(tx, [new JournalEntry(new CorrelationId(7), new TurnId(1), "PH1.CAPREQ", "STATE_TRANSITION",
                CapreqReasons.CapreqCreated, JournalPayload.Create(("state_to", "DRAFT")), "u1", "k1")], 1, default);
            await tx.CommitAsync();
        }
    }

    public async Task DisposeAsync() => await Db.DisposeAsync();
}
