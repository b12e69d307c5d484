using System.Text.Json.Nodes;
using Npgsql;

namespace Selene.Postgres;

/// <summary>What the load driver reports about the cluster it ran on, read as the cluster's superuser.</summary>
public static class ClusterStats
{
    /// <summary>The settings that decide what a commit costs, by name.</summary>
    private static readonly string[] Settings =
        ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections"];

    /// <summary>
    /// Commits and rollbacks of the selene database so far (pg_stat_database). Backends publish their counts at most
    /// once a second, so a window's figure is exact to about a second's worth.
    /// </summary>
    public static (long Commits, long Rollbacks) TransactionCounts(SeleneDatabase db)
    {
        using var conn = new NpgsqlConnection(db.SuperuserConnectionString);
        conn.Open();
        using var cmd = new NpgsqlCommand("SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1", conn);
        cmd.Bind(db.Database);
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The cluster's durability and size settings (SHOW each).</summary>
    public static async Task<JsonObject> SettingsAsync(SeleneDatabase db, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(db.SuperuserConnectionString);
        await conn.OpenAsync(ct);
        var settings = new JsonObject();
        foreach (var name in Settings)
        {
            await using var cmd = new NpgsqlCommand($"SHOW {name}", conn);
            settings[name] = (string?)await cmd.ExecuteScalarAsync(ct);
        }
        return settings;
    }
}
