using Npgsql;
using Selene.Testing;

namespace Selene.Postgres.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrate_FreshDatabase_AppliesEveryEmbeddedMigrationInOrderWithChecksums()
    {
        var (_, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        var applied = await Migrator.MigrateAsync(source);
        Assert.Equal(Migrator.Embedded.Select(m => m.Version), applied);
        var recorded = await Migrator.AppliedAsync(source);
        Assert.Equal(Migrator.Embedded.Select(m => (m.Version, m.Name, m.Checksum)), recorded);
        Assert.Empty(await Migrator.MigrateAsync(source)); // a second run finds nothing to do
    }

    [Fact]
    public async Task Migrate_ConcurrentRuns_ApplyEachMigrationOnce()
    {
        var (_, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Migrator.MigrateAsync(source)));
        Assert.Equal(Migrator.Embedded.Count, runs.Sum(r => r.Count));
        Assert.Equal(Migrator.Embedded.Count, (await Migrator.AppliedAsync(source)).Count);
    }

    [Fact]
    public async Task Migrate_ChangedAppliedMigration_StopsWithChecksumError()
    {
        var (_, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        var original = new Migration(1, "probe", "CREATE TABLE selene.probe (id int);");
        await Migrator.MigrateAsync(source, [original]);

        var edited = original with { Sql = "CREATE TABLE selene.probe (id bigint);" };
        var error = await Assert.ThrowsAsync<MigrationChecksumException>(() => Migrator.MigrateAsync(source, [edited, new Migration(2, "next", "SELECT 1;")]));
        Assert.Equal(1, error.Version);
        Assert.Contains("F_MIGRATION_CHECKSUM_MISMATCH", error.Message, StringComparison.Ordinal);
        Assert.Single(await Migrator.AppliedAsync(source)); // nothing after the mismatch ran
    }

    [Fact]
    public async Task Migrate_FailingMigration_LeavesNoTrace()
    {
        var (_, owner) = await TestCluster.CreateEmptyDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(owner);
        await Assert.ThrowsAsync<PostgresException>(() => Migrator.MigrateAsync(source,
            [new Migration(1, "half", "CREATE TABLE selene.half (id int); SELECT * FROM selene.does_not_exist;")]));
        Assert.Empty(await Migrator.AppliedAsync(source));
        await using var cmd = source.CreateCommand("SELECT to_regclass('selene.half') IS NULL");
        Assert.True((bool)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public void EmbeddedMigrations_AreNumberedWithoutGaps()
    {
        var versions = Migrator.Embedded.Select(m => m.Version).ToArray();
        Assert.Equal(Enumerable.Range(1, versions[^1]), versions);
    }
}
