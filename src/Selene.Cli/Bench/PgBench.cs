using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Selene.Cli.Bench;

/// <summary>What pgbench reported: transactions per second without connection time, and its average latency.</summary>
public sealed record PgBenchResult(double Tps, double? LatencyAverageMs, long? Transactions, string Command);

/// <summary>
/// PostgreSQL's own load tool as the yardstick: pgbench initialised in a database of its own on the same cluster
/// (<c>pgbench -i -s 10</c>), then run with <c>-N</c> (the simple-update script: one UPDATE, one SELECT, one
/// INSERT per transaction) at the same client count.
/// </summary>
public static partial class PgBench
{
    /// <summary>The database pgbench works in; dropped and recreated on each run.</summary>
    public const string Database = "selene_pgbench";

    /// <summary>Runs pgbench -i then pgbench -N against a unix-socket directory as <paramref name="user"/>.</summary>
    public static async Task<PgBenchResult> RunAsync(string binDir, string socketDir, int port, string user, int clients, int threads,
        TimeSpan duration, int scale, TextWriter log, CancellationToken ct)
    {
        var pgbench = Path.Combine(binDir, "pgbench");
        var connection = new[] { "-h", socketDir, "-p", port.ToString(CultureInfo.InvariantCulture), "-U", user };
        await RunCheckedAsync(Path.Combine(binDir, "dropdb"), [.. connection, "--if-exists", Database], ct);
        await RunCheckedAsync(Path.Combine(binDir, "createdb"), [.. connection, Database], ct);
        log.WriteLine($"pgbench: initialising {Database} at scale {scale} …");
        await RunCheckedAsync(pgbench, [.. connection, "-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture), Database], ct);

        string[] run = [.. connection, "-N", "-M", "prepared", "-n",
            "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", threads.ToString(CultureInfo.InvariantCulture),
            "-T", Math.Max(1, (int)Math.Round(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture), Database];
        var command = "pgbench " + string.Join(' ', run);
        log.WriteLine($"pgbench: {command}");
        var output = await RunCheckedAsync(pgbench, run, ct);
        var tps = TryParseTps(output) ?? throw new InvalidOperationException($"no 'tps = …' line in pgbench's output:\n{output}");
        return new PgBenchResult(tps, TryParseLatencyAverage(output), TryParseTransactions(output), command);
    }

    /// <summary>
    /// The TPS that excludes connection time: the line <c>tps = N (without initial connection time)</c> (PostgreSQL
    /// 14 and later), or <c>tps = N (excluding connections establishing)</c> (13 and earlier); null when neither is there.
    /// </summary>
    public static double? TryParseTps(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            var match = TpsLine().Match(line);
            if (match.Success && (line.Contains("without initial connection time", StringComparison.Ordinal) ||
                                  line.Contains("excluding connections establishing", StringComparison.Ordinal)))
                return double.Parse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary><c>latency average = N ms</c>, when present.</summary>
    public static double? TryParseLatencyAverage(string output) =>
        LatencyLine().Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture) : null;

    /// <summary><c>number of transactions actually processed: N</c>, when present.</summary>
    public static long? TryParseTransactions(string output) =>
        ProcessedLine().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^\s*tps\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*\(")]
    private static partial Regex TpsLine();

    [GeneratedRegex(@"(?m)^\s*latency average\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*ms")]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"(?m)^\s*number of transactions actually processed:\s*([0-9]+)")]
    private static partial Regex ProcessedLine();

    private static async Task<string> RunCheckedAsync(string program, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The connection is given explicitly; nothing from the caller's PG* environment may redirect it.
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(name);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var output = await stdout + await stderr;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output;
    }
}
