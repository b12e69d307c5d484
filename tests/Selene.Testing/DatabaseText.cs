using Selene.Postgres;

namespace Selene.Testing;

/// <summary>
/// Every row of every table of the selene schema as the owner sees it for one tenant, as text: for tests that prove a
/// value (a secret, a raw token) is stored nowhere.
/// </summary>
public static class DatabaseText
{
    /// <summary>The schema's table names and each row's text (<c>row::text</c>), table by table.</summary>
    public static async Task<(IReadOnlyList<string> Tables, IReadOnlyList<string> Rows)> ReadAsync(SeleneDatabase db, string tenant)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.Owner, tenant);
        var tables = new List<string>();
        await using (var cmd = tx.Command("SELECT tablename FROM pg_tables WHERE schemaname = 'selene' ORDER BY tablename"))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        var rows = new List<string>();
        foreach (var table in tables)
        {
            await using var cmd = tx.Command($"SELECT t::text FROM selene.{table} t");
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        }
        return (tables, rows);
    }
}
