using System.Diagnostics;

namespace Selene.Postgres.Embedded;

/// <summary>Raised when the embedded cluster cannot be created, started or reached; the message says what to do.</summary>
public sealed class EmbeddedClusterException(string message) : Exception(message);

/// <summary>Finds the machine's PostgreSQL server binaries (initdb, pg_ctl, postgres).</summary>
public static class PgBinaries
{
    public const string InstallHint =
        "PostgreSQL server binaries were not found. Install the Debian package 'postgresql' (apt-get install postgresql), " +
        "set SELENE_PG_BIN to the folder that holds initdb and pg_ctl, or set SELENE_DB to the connection string of an existing server.";

    /// <summary>
    /// Looks in SELENE_PG_BIN, then `pg_config --bindir`, then /usr/lib/postgresql/*/bin (newest first), then PATH.
    /// </summary>
    public static string Locate(string? explicitDir = null)
    {
        foreach (var candidate in Candidates(explicitDir))
        {
            if (candidate is not null && IsServerBinDir(candidate)) return candidate;
        }
        throw new EmbeddedClusterException(InstallHint);
    }

    private static IEnumerable<string?> Candidates(string? explicitDir)
    {
        yield return explicitDir;
        yield return Environment.GetEnvironmentVariable("SELENE_PG_BIN");
        yield return PgConfigBinDir();
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var versions = Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .OrderByDescending(x => x.Version);
            foreach (var (dir, _) in versions) yield return Path.Combine(dir, "bin");
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            yield return dir;
    }

    private static bool IsServerBinDir(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres"));

    private static string? PgConfigBinDir()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // pg_config is not installed
        }
    }
}
