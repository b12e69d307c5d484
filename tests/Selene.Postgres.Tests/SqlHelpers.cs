using Npgsql;

namespace Selene.Postgres.Tests;

/// <summary>Small helpers to run SQL as a given role with a given tenant setting.</summary>
internal static class Sql
{
    public static async Task<PostgresException> FailsAsync(NpgsqlDataSource source, string tenant, string sql)
    {
        await using var conn = await source.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await SetTenantAsync(conn, tx, tenant);
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        return await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
    }

    public static async Task<long> CountAsync(NpgsqlDataSource source, string? tenant, string table)
    {
        await using var conn = await source.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (tenant is not null) await SetTenantAsync(conn, tx, tenant);
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM selene.{table}", conn, tx);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task ExecAsync(NpgsqlDataSource source, string? tenant, string sql)
    {
        await using var conn = await source.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (tenant is not null) await SetTenantAsync(conn, tx, tenant);
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    private static async Task SetTenantAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string tenant)
    {
        await using var set = new NpgsqlCommand("SELECT set_config('selene.tenant_id', $1, true)", conn, tx) { Parameters = { new() { Value = tenant } } };
        await set.ExecuteNonQueryAsync();
    }
}
