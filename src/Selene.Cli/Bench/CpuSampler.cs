using System.Globalization;

namespace Selene.Cli.Bench;

/// <summary>CPU seconds used between two samples: this process, the PostgreSQL server's processes, and the whole machine.</summary>
/// <param name="PostgresSeconds">null when the server's processes are not known (external server).</param>
public sealed record CpuUsage(double WallSeconds, double SelfSeconds, double? PostgresSeconds, double MachineBusySeconds, int Cores)
{
    public double SelfCores => SelfSeconds / WallSeconds;
    public double? PostgresCores => PostgresSeconds / WallSeconds;
    public double MachineBusyCores => MachineBusySeconds / WallSeconds;

    /// <summary>Busy time not accounted to this process or PostgreSQL: other programs on the machine, the kernel's own work.</summary>
    public double OtherCores => Math.Max(0, MachineBusyCores - SelfCores - (PostgresCores ?? 0));
}

/// <summary>
/// Reads CPU time from /proc (Linux): utime+stime of this process and of the postmaster and its children, and the
/// machine's non-idle time. Backends that exit between the samples are not counted (the pools keep theirs open).
/// </summary>
public sealed class CpuSampler(int? postmasterPid)
{
    // USER_HZ: the unit of /proc's CPU times, 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100.0;

    private long _self, _postgres, _busy, _wallStart;

    public static bool Supported => File.Exists("/proc/self/stat") && File.Exists("/proc/stat");

    /// <summary>The postmaster's pid from <c>postmaster.pid</c> in a data directory, when it runs.</summary>
    public static int? PostmasterPid(string pgData)
    {
        var file = Path.Combine(pgData, "postmaster.pid");
        try
        {
            var first = File.ReadLines(file).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Start()
    {
        _wallStart = Environment.TickCount64;
        _self = ProcessTicks(Environment.ProcessId) ?? 0;
        _postgres = postmasterPid is { } pm ? PostgresTicks(pm) : 0;
        _busy = MachineBusyTicks();
    }

    public CpuUsage Stop()
    {
        var wall = (Environment.TickCount64 - _wallStart) / 1000.0;
        var self = (ProcessTicks(Environment.ProcessId) ?? 0) - _self;
        double? postgres = postmasterPid is { } pm ? (PostgresTicks(pm) - _postgres) / TicksPerSecond : null;
        var busy = MachineBusyTicks() - _busy;
        return new CpuUsage(wall, self / TicksPerSecond, postgres, busy / TicksPerSecond, Environment.ProcessorCount);
    }

    private static long PostgresTicks(int postmaster)
    {
        long total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (Stat(pid) is not { } fields) continue;
            // fields[0] is the state (field 3 of stat); ppid is field 4, utime 14, stime 15.
            var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
            if (pid == postmaster || ppid == postmaster)
                total += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        return total;
    }

    private static long? ProcessTicks(int pid) =>
        Stat(pid) is { } f ? long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture) : null;

    /// <summary>The fields of /proc/pid/stat after the command name (which may hold spaces and parentheses).</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var close = text.LastIndexOf(')');
            return close < 0 ? null : text[(close + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // the process is gone
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The "cpu" line of /proc/stat without idle, iowait and steal (time the hypervisor gave to someone else).</summary>
    private static long MachineBusyTicks()
    {
        var line = File.ReadLines("/proc/stat").First();
        var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already inside user.
        var total = values.Take(8).Sum();
        return total - values[3] - values[4] - (values.Length > 7 ? values[7] : 0);
    }
}
