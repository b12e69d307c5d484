using Npgsql;

namespace Selene.Postgres;

/// <summary>
/// Creates what migrations cannot create as selene_owner: the four roles of ARCHITECTURE.md §5, the database
/// and its schema. Runs as a superuser, is idempotent, and is the only code that does.
/// </summary>
public static class Bootstrap
{
    public const string OwnerRole = "selene_owner";
    public const string AppRole = "selene_app";
    public const string ReaderRole = "selene_reader";
    public const string BreakGlassRole = "selene_breakglass";

    private const long AdvisoryLockKey = 0x53454C424F4F54; // "SELBOOT"

    /// <summary>Roles: owner runs migrations; app is the runtime; reader reads; break-glass cannot log in.</summary>
    private const string RolesSql = """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'selene_owner') THEN
                CREATE ROLE selene_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'selene_app') THEN
                CREATE ROLE selene_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'selene_reader') THEN
                CREATE ROLE selene_reader LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'selene_breakglass') THEN
                CREATE ROLE selene_breakglass NOLOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
            END IF;
        END $$;
        """;

    private const string SchemaSql = """
        CREATE SCHEMA IF NOT EXISTS selene AUTHORIZATION selene_owner;
        REVOKE ALL ON SCHEMA public FROM PUBLIC;
        REVOKE ALL ON DATABASE {0} FROM PUBLIC;
        GRANT CONNECT, TEMPORARY ON DATABASE {0} TO selene_owner, selene_app, selene_reader;
        GRANT CONNECT ON DATABASE {0} TO selene_breakglass;
        GRANT USAGE ON SCHEMA selene TO selene_app, selene_reader;
        """;

    /// <summary>
    /// Ensures roles, the database <paramref name="database"/> and its schema exist. Two processes starting at once
    /// are serialized by a cluster-wide advisory lock, so the check-then-create steps cannot race.
    /// </summary>
    public static async Task EnsureAsync(string superuserConnectionString, string database, CancellationToken ct = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(superuserConnectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({AdvisoryLockKey})", conn)) await take.ExecuteNonQueryAsync(ct);
        try
        {
            await using (var roles = new NpgsqlCommand(RolesSql, conn)) await roles.ExecuteNonQueryAsync(ct);
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = database } } };
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {Quote(database)} OWNER selene_owner ENCODING 'UTF8' TEMPLATE template0", conn);
                await create.ExecuteNonQueryAsync(ct);
            }

            builder.Database = database;
            await using var inDatabase = new NpgsqlConnection(builder.ConnectionString);
            await inDatabase.OpenAsync(ct);
            await using var schema = new NpgsqlCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, SchemaSql, Quote(database)), inDatabase);
            await schema.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({AdvisoryLockKey})", conn);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Creates <paramref name="database"/> as a copy of <paramref name="template"/> (tests: one database per class).</summary>
    public static async Task CloneDatabaseAsync(string superuserConnectionString, string template, string database, CancellationToken ct = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(superuserConnectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync(ct);
        await using var create = new NpgsqlCommand($"CREATE DATABASE {Quote(database)} OWNER selene_owner TEMPLATE {Quote(template)}", conn);
        await create.ExecuteNonQueryAsync(ct);
    }

    internal static string Quote(string identifier)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(identifier, "^[a-z_][a-z0-9_]{0,62}$"))
            throw new ArgumentException($"'{identifier}' is not a plain lower-case identifier", nameof(identifier));
        return "\"" + identifier + "\"";
    }
}
