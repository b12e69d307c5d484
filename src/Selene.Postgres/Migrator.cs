using System.Globalization;
using System.Reflection;
using System.Text;
using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres;

/// <summary>One numbered, plain SQL migration.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    /// <summary>SHA-256 of the SQL text with line endings normalized.</summary>
    public string Checksum => Hashing.Sha256Hex(Sql.ReplaceLineEndings("\n"));
}

/// <summary>An already applied migration whose text changed: start-up must stop.</summary>
public sealed class MigrationChecksumException(int version, string name, string recorded, string current)
    : Exception($"{ReasonCodes.StorageMigrationChecksumMismatch.Name}: migration {version:0000}_{name} was applied with checksum {recorded[..12]}… " +
                $"but the embedded file now has {current[..12]}…; applied migrations must never change — add a new migration instead.")
{
    public int Version { get; } = version;
}

/// <summary>
/// Applies the embedded migrations in order under an advisory lock, each in its own transaction and recorded
/// with its checksum in selene.schema_migrations. Runs as selene_owner.
/// </summary>
public static class Migrator
{
    private const long AdvisoryLockKey = 0x53454C454E45; // "SELENE"

    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    private static IReadOnlyList<Migration> LoadEmbedded()
    {
        var assembly = typeof(Migrator).Assembly;
        const string prefix = "Selene.Postgres.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => Parse(n[prefix.Length..^4], Read(assembly, n)))
            .OrderBy(m => m.Version)
            .ToArray();
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static Migration Parse(string fileName, string sql)
    {
        var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
        var version = int.Parse(fileName[..underscore], NumberStyles.None, CultureInfo.InvariantCulture);
        return new Migration(version, fileName[(underscore + 1)..], sql);
    }

    /// <summary>Applies what is missing; returns the versions applied now.</summary>
    public static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource ownerDataSource, IReadOnlyList<Migration>? migrations = null, CancellationToken ct = default)
    {
        migrations ??= Embedded;
        var versions = migrations.Select(m => m.Version).ToArray();
        if (versions.Distinct().Count() != versions.Length) throw new InvalidOperationException("two migrations share a version number");

        await using var conn = await ownerDataSource.OpenConnectionAsync(ct);
        await Exec(conn, $"SELECT pg_advisory_lock({AdvisoryLockKey})", ct);
        try
        {
            await Exec(conn, """
                CREATE TABLE IF NOT EXISTS selene.schema_migrations (
                    version     integer PRIMARY KEY,
                    name        text NOT NULL,
                    checksum    text NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now()
                )
                """, ct);

            var applied = new Dictionary<int, (string Name, string Checksum)>();
            await using (var read = new NpgsqlCommand("SELECT version, name, checksum FROM selene.schema_migrations", conn))
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) applied[reader.GetInt32(0)] = (reader.GetString(1), reader.GetString(2));
            }

            foreach (var m in migrations)
            {
                if (applied.TryGetValue(m.Version, out var recorded) && recorded.Checksum != m.Checksum)
                    throw new MigrationChecksumException(m.Version, m.Name, recorded.Checksum, m.Checksum);
            }

            var now = new List<int>();
            foreach (var m in migrations.Where(m => !applied.ContainsKey(m.Version)))
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var apply = new NpgsqlCommand(m.Sql, conn, tx)) await apply.ExecuteNonQueryAsync(ct);
                await using (var record = new NpgsqlCommand("INSERT INTO selene.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", conn, tx))
                {
                    record.Bind(m.Version, m.Name, m.Checksum);
                    await record.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                now.Add(m.Version);
            }
            return now;
        }
        finally
        {
            await Exec(conn, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>The migrations recorded in the database, in order.</summary>
    public static async Task<IReadOnlyList<(int Version, string Name, string Checksum)>> AppliedAsync(NpgsqlDataSource ownerDataSource, CancellationToken ct = default)
    {
        await using var conn = await ownerDataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT version, name, checksum FROM selene.schema_migrations ORDER BY version", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<(int, string, string)>();
        while (await reader.ReadAsync(ct)) list.Add((reader.GetInt32(0), reader.GetString(1), reader.GetString(2)));
        return list;
    }

    private static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
