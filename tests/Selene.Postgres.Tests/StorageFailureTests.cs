using Npgsql;
using Selene.Contracts;
using Selene.Postgres.Stores;

namespace Selene.Postgres.Tests;

/// <summary>The one classifier of database failures, fed with real failures of a real server.</summary>
public sealed class StorageFailureTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    private static async Task<Exception> FailureOfAsync(Func<Task> act) => await Assert.ThrowsAnyAsync<NpgsqlException>(act);

    [Theory]
    [InlineData("40001", StorageFailureKind.Retry, "F_SERIALIZATION_RETRY")]
    [InlineData("40P01", StorageFailureKind.Retry, "F_SERIALIZATION_RETRY")]
    [InlineData("57P01", StorageFailureKind.Unavailable, "STORAGE_UNAVAILABLE")]
    [InlineData("53300", StorageFailureKind.Unavailable, "STORAGE_UNAVAILABLE")]
    [InlineData("08006", StorageFailureKind.Unavailable, "STORAGE_UNAVAILABLE")]
    [InlineData("22001", StorageFailureKind.InvalidInput, "INPUT_FIELD_INVALID")]
    [InlineData("23514", StorageFailureKind.InvalidInput, "INPUT_FIELD_INVALID")]
    [InlineData("42501", StorageFailureKind.Forbidden, "F_TENANT_SCOPE_VIOLATION")]
    public async Task KnownSqlState_IsClassified(string sqlState, StorageFailureKind kind, string reason)
    {
        var error = await FailureOfAsync(async () =>
        {
            await using var cmd = fixture.Db.App.CreateCommand($"DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '{sqlState}'; END $$");
            await cmd.ExecuteNonQueryAsync();
        });
        var failure = StorageFailures.Classify(error);
        Assert.NotNull(failure);
        Assert.Equal(kind, failure.Kind);
        Assert.Equal(reason, failure.Reason.Name);
        Assert.Equal(sqlState, failure.Code);
    }

    [Fact]
    public async Task UnknownSqlState_IsLeftToTheLastResortHandler()
    {
        var error = await FailureOfAsync(async () =>
        {
            await using var cmd = fixture.Db.App.CreateCommand("DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = 'XX000'; END $$");
            await cmd.ExecuteNonQueryAsync();
        });
        Assert.Null(StorageFailures.Classify(error));
    }

    [Fact]
    public async Task UniqueViolationOfAnIdempotencyBackstop_IsTheDuplicateItIs()
    {
        var error = await FailureOfAsync(async () =>
        {
            await using var tx = await TenantTransaction.BeginAsync(fixture.Db.App, "acme");
            // The fixture's CREATE_DRAFT of this stream under key k1, appended again.
            await new EngineStore(new StorePair("capreq")).AppendAsync(tx, new NewLedgerEvent("capreq_00000000000000a1", "CREATE_DRAFT", "u1",
                "CAPREQ_OK_CREATE_DRAFT", """{"capreq_id":"capreq_00000000000000a1"}""", "7", "k1", 2), default);
        });
        var failure = StorageFailures.Classify(error);
        Assert.Equal(StorageFailureKind.Duplicate, failure!.Kind);
        Assert.Equal(ReasonCodes.IdempotencyKeyReused, failure.Reason);
    }

    [Fact]
    public async Task OtherUniqueViolation_IsALostRace_RetriedInPlace()
    {
        var error = await FailureOfAsync(async () =>
        {
            await using var tx = await TenantTransaction.BeginAsync(fixture.Db.App, "acme");
            // The fixture's projection row, inserted a second time: a primary-key violation, not a backstop.
            await using var again = tx.Command("INSERT INTO selene.capreq_current SELECT * FROM selene.capreq_current WHERE stream_id = 'capreq_00000000000000a1'");
            await again.ExecuteNonQueryAsync();
        });
        Assert.Equal(StorageFailureKind.Retry, StorageFailures.Classify(error)!.Kind);
    }

    [Fact]
    public async Task AppendOnlyTrigger_IsAppendOnlyViolation()
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", "UPDATE selene.idempotency_keys SET result_body = '{\"x\":1}'");
        var failure = StorageFailures.Classify(error);
        Assert.Equal(StorageFailureKind.AppendOnly, failure!.Kind);
        Assert.Equal(ReasonCodes.StorageAppendOnlyViolation, failure.Reason);
    }

    [Fact]
    public async Task TextWithNul_IsInvalidInput()
    {
        var error = await FailureOfAsync(async () =>
        {
            await using var cmd = fixture.Db.App.CreateCommand("SELECT $1::text");
            cmd.Parameters.Add(new() { Value = "a\u0000b" });
            await cmd.ExecuteScalarAsync();
        });
        Assert.Equal(StorageFailureKind.InvalidInput, StorageFailures.Classify(error)!.Kind);
    }

    [Fact]
    public async Task NoServerListening_IsUnavailable()
    {
        var dir = Path.Combine(Path.GetTempPath(), "no-pg-" + Guid.NewGuid().ToString("N")[..8]);
        var error = await FailureOfAsync(async () =>
        {
            await using var conn = new NpgsqlConnection($"Host={dir};Port=5432;Database=selene;Username=nobody;Pooling=false;Timeout=2");
            await conn.OpenAsync();
        });
        var failure = StorageFailures.Classify(error);
        Assert.Equal(StorageFailureKind.Unavailable, failure!.Kind);
        Assert.True(failure.Reason.Retryable);
    }
}
