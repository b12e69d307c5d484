using System.Globalization;

namespace Selene.Postgres.Embedded;

/// <summary>Settings of a private PostgreSQL cluster.</summary>
/// <param name="DataDir">Selene's data directory; the cluster lives in <c>pg/</c>, its socket in <c>run/</c>.</param>
/// <param name="Durable">false turns fsync off: for throwaway test clusters only.</param>
/// <param name="OsUser">The unprivileged OS user that runs the server when Selene runs as root.</param>
public sealed record EmbeddedClusterOptions(string DataDir, bool Durable = true, string? OsUser = null);

/// <summary>
/// Selene's private PostgreSQL cluster (ARCHITECTURE.md §5): created on first use with initdb from the machine's
/// server binaries, reused afterwards, reachable only through a unix socket in a 0700 directory (no TCP), and
/// run as an unprivileged OS user when Selene runs as root, because PostgreSQL refuses root.
/// <para>
/// Lifetime rule: a cluster that a registered process started ("auto-started", marked by a file in run/) is
/// stopped by the last registered process to leave, whichever it is; a cluster started by an unregistered
/// caller (<c>selene db start</c>, <c>selene db url</c>) stays up until <c>selene db stop</c>. Start, stop and
/// registration are serialized by a lock file.
/// </para>
/// </summary>
public sealed class EmbeddedCluster
{
    public const int Port = 5432;
    public const string SuperUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly EmbeddedClusterOptions _options;
    private readonly string _binDir;

    public EmbeddedCluster(EmbeddedClusterOptions options, string? binDir = null)
    {
        _options = options with { DataDir = Path.GetFullPath(options.DataDir) };
        _binDir = PgBinaries.Locate(binDir);
        var socketFile = Path.Combine(SocketDir, $".s.PGSQL.{Port}");
        if (socketFile.Length > 100)
            throw new EmbeddedClusterException($"the data directory path is too long for a unix socket ({socketFile}); choose a shorter --data-dir");
    }

    public string DataDir => _options.DataDir;
    public string PgData => Path.Combine(DataDir, "pg");
    public string SocketDir => Path.Combine(DataDir, "run");
    public string LogFile => Path.Combine(DataDir, "log", "postgresql.log");
    public string BinDir => _binDir;
    private string UsersDir => Path.Combine(DataDir, "users");
    private string AutoStartedMarker => Path.Combine(DataDir, "auto-started");
    private string LockFile => Path.Combine(DataDir, "cluster.lock");

    /// <summary>The default data directory: $XDG_DATA_HOME/selene or ~/.local/share/selene; /var/lib/selene for root.</summary>
    public static string DefaultDataDir()
    {
        if (IsRoot) return "/var/lib/selene";
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg, "selene");
    }

    /// <summary>True when this process runs as root (Environment.UserName is resolved from the effective uid).</summary>
    public static bool IsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

    /// <summary>A libpq keyword/value connection string for <paramref name="role"/> that psql accepts.</summary>
    public string LibpqConnectionString(string role, string database = "selene") =>
        $"host={SocketDir} port={Port} dbname={database} user={role}";

    /// <summary>An Npgsql connection string for <paramref name="role"/>.</summary>
    public string NpgsqlConnectionString(string role, string database = "selene") =>
        $"Host={SocketDir};Port={Port};Database={database};Username={role};Search Path=selene;Command Timeout=30;Timeout=15;Max Auto Prepare=64";

    public bool IsInitialized => File.Exists(Path.Combine(PgData, "PG_VERSION"));

    public async Task<bool> IsRunningAsync(CancellationToken ct = default)
    {
        if (!IsInitialized) return false;
        var result = await PgCtlAsync(["status", "-D", PgData], ct);
        return result.ExitCode == 0;
    }

    /// <summary>
    /// Makes sure the cluster exists and runs. With <paramref name="register"/> the calling process counts as a
    /// user until the returned lease is disposed, and a cluster it starts is auto-started: the last registered
    /// user to leave stops it. Without, a cluster it starts (or finds auto-started) stays up until stopped.
    /// </summary>
    public async Task<ClusterLease> AcquireAsync(bool register = true, CancellationToken ct = default)
    {
        using (await FileLock.AcquireAsync(EnsureLockDir(), ct))
        {
            if (!IsInitialized) await InitializeAsync(ct);
            if (!await IsRunningAsync(ct))
            {
                await StartAsync(ct);
                if (register) await File.WriteAllTextAsync(AutoStartedMarker, "", ct);
                else File.Delete(AutoStartedMarker);
            }
            else if (!register)
            {
                File.Delete(AutoStartedMarker); // asked to keep it running: no one stops it automatically now
            }
            if (register)
            {
                Directory.CreateDirectory(UsersDir);
                await File.WriteAllTextAsync(Path.Combine(UsersDir, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)), "", ct);
            }
        }
        return new ClusterLease(this, register);
    }

    /// <summary>
    /// True when the server died without being stopped: its <c>postmaster.pid</c> is still there but names a process that
    /// is gone (or a zombie). A stop (<c>selene db stop</c>, <c>pg_ctl stop</c>) removes the file, so it is never a crash.
    /// </summary>
    public bool HasCrashed()
    {
        string? first;
        try
        {
            first = File.ReadLines(Path.Combine(PgData, "postmaster.pid")).FirstOrDefault();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // no file: never started, or stopped
        }
        if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return false; // being written
        try
        {
            // /proc/<pid>/stat: "pid (comm) state …"; Z and X are a process that has exited.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is 'Z' or 'X';
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return true; // no such process
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // cannot tell (a /proc that hides other users' processes): never restart a server that may be running
        }
    }

    /// <summary>
    /// Starts the server again after a crash (<see cref="HasCrashed"/>), under the lifetime lock; a server another process
    /// restarted meanwhile, or one that was stopped, is left as it is. The lifetime marks (auto-started, registered users)
    /// do not change: a crash ends no one's use. Throws <see cref="EmbeddedClusterException"/> when it does not start.
    /// </summary>
    public async Task RestartAfterCrashAsync(CancellationToken ct = default)
    {
        using (await FileLock.AcquireAsync(EnsureLockDir(), ct))
        {
            if (HasCrashed()) await StartAsync(ct);
        }
    }

    /// <summary>Stops the cluster (fast shutdown: running transactions are rolled back, nothing committed is lost).</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        using (await FileLock.AcquireAsync(EnsureLockDir(), ct))
        {
            await StopUnlockedAsync(ct);
        }
    }

    internal async Task ReleaseAsync(bool registered)
    {
        if (!registered) return;
        using (await FileLock.AcquireAsync(EnsureLockDir(), CancellationToken.None))
        {
            File.Delete(Path.Combine(UsersDir, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
            if (File.Exists(AutoStartedMarker) && !OtherLiveUsers().Any()) await StopUnlockedAsync(CancellationToken.None);
        }
    }

    /// <summary>Whether a live process other than this one holds a lease on the cluster (a dead one's registration is dropped).</summary>
    public bool HasOtherLiveUsers() => OtherLiveUsers().Any();

    private IEnumerable<int> OtherLiveUsers()
    {
        if (!Directory.Exists(UsersDir)) yield break;
        foreach (var file in Directory.GetFiles(UsersDir))
        {
            if (!int.TryParse(Path.GetFileName(file), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (pid == Environment.ProcessId) continue;
            if (Directory.Exists($"/proc/{pid}")) yield return pid;
            else File.Delete(file); // a process that died without releasing
        }
    }

    private async Task StopUnlockedAsync(CancellationToken ct)
    {
        File.Delete(AutoStartedMarker);
        if (!await IsRunningAsync(ct)) return;
        var result = await PgCtlAsync(["stop", "-D", PgData, "-m", "fast", "-w", "-t", "60"], ct);
        if (result.ExitCode != 0) throw new EmbeddedClusterException($"pg_ctl stop failed:\n{result.Output}");
    }

    private string EnsureLockDir()
    {
        Directory.CreateDirectory(DataDir);
        return LockFile;
    }

    private async Task InitializeAsync(CancellationToken ct)
    {
        // Directories the server writes to belong to the server's OS user and are private to it.
        foreach (var dir in new[] { PgData, SocketDir, Path.GetDirectoryName(LogFile)! })
        {
            Directory.CreateDirectory(dir);
            SetMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        if (IsRoot)
        {
            var user = ServiceUser();
            EnsureTraversable(user);
            foreach (var dir in new[] { PgData, SocketDir, Path.GetDirectoryName(LogFile)! })
                await RunCheckedAsync("chown", ["-R", $"{user}:", dir], ct);
        }

        var init = await RunAsServerUserAsync(Path.Combine(_binDir, "initdb"),
            ["-D", PgData, "-U", SuperUser, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-instructions"], ct);
        if (init.ExitCode != 0) throw new EmbeddedClusterException($"initdb failed:\n{init.Output}");

        // Unix socket only, in our private directory; trust is safe because only the socket's 0700 directory
        // grants access (the owner of the cluster, and root).
        var conf = string.Join('\n',
            "# Selene embedded cluster",
            "listen_addresses = ''",
            $"unix_socket_directories = '{SocketDir}'",
            "unix_socket_permissions = 0700",
            $"port = {Port}",
            "max_connections = 200",
            "shared_buffers = 128MB",
            "log_min_messages = warning",
            "logging_collector = off",
            _options.Durable ? "" : "fsync = off\nsynchronous_commit = off\nfull_page_writes = off",
            "");
        // Written by this process (root may); appending and truncating keep each file's owner and mode.
        await File.AppendAllTextAsync(Path.Combine(PgData, "postgresql.conf"), conf, ct);
        await File.WriteAllTextAsync(Path.Combine(PgData, "pg_hba.conf"), "# Selene: unix socket only\nlocal all all trust\n", ct);
    }

    private async Task StartAsync(CancellationToken ct)
    {
        var result = await PgCtlAsync(["start", "-D", PgData, "-l", LogFile, "-w", "-t", "60", "-s"], ct);
        if (result.ExitCode != 0)
        {
            var log = File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(20)) : "";
            throw new EmbeddedClusterException($"the embedded PostgreSQL did not start:\n{result.Output}\n{log}");
        }
    }

    private Task<ProcessRunner.Result> PgCtlAsync(string[] args, CancellationToken ct) =>
        RunAsServerUserAsync(Path.Combine(_binDir, "pg_ctl"), args, ct);

    private Task<ProcessRunner.Result> RunAsServerUserAsync(string program, string[] args, CancellationToken ct) =>
        IsRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", ServiceUser(), "--", program, .. args], CommandTimeout, ct)
            : ProcessRunner.RunAsync(program, args, CommandTimeout, ct);

    private static async Task RunCheckedAsync(string program, string[] args, CancellationToken ct)
    {
        var result = await ProcessRunner.RunAsync(program, args, CommandTimeout, ct);
        if (result.ExitCode != 0) throw new EmbeddedClusterException($"{program} {string.Join(' ', args)} failed:\n{result.Output}");
    }

    // Selene runs on Linux (the embedded cluster needs unix sockets); the guards keep the platform analyzer honest.
    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, mode);
    }

    private static UnixFileMode GetMode(string path) =>
        OperatingSystem.IsWindows() ? UnixFileMode.OtherExecute : File.GetUnixFileMode(path);

    /// <summary>The OS user for the server when running as root: SELENE_PG_USER, else postgres, else nobody.</summary>
    private string ServiceUser()
    {
        if (!string.IsNullOrEmpty(_options.OsUser)) return _options.OsUser;
        var configured = Environment.GetEnvironmentVariable("SELENE_PG_USER");
        if (!string.IsNullOrEmpty(configured)) return configured;
        return File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal)) ? "postgres" : "nobody";
    }

    /// <summary>The server's OS user must be able to walk from / to the data directory.</summary>
    private void EnsureTraversable(string user)
    {
        for (var dir = DataDir; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            var mode = GetMode(dir);
            if (dir == DataDir)
            {
                // Our own directory: let the server user in, keep everyone else from listing it.
                SetMode(dir, mode | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
                continue;
            }
            if ((mode & UnixFileMode.OtherExecute) == 0)
                throw new EmbeddedClusterException(
                    $"the PostgreSQL server runs as the unprivileged user '{user}' (it refuses root) and cannot reach {DataDir}: " +
                    $"{dir} is not searchable by other users. Choose a --data-dir outside it (the default for root is /var/lib/selene).");
        }
    }
}

/// <summary>Holds the cluster for one process; disposing it applies the lifetime rule of <see cref="EmbeddedCluster"/>.</summary>
public sealed class ClusterLease : IAsyncDisposable
{
    private readonly EmbeddedCluster _cluster;
    private readonly bool _registered;
    private int _disposed;

    internal ClusterLease(EmbeddedCluster cluster, bool registered)
    {
        _cluster = cluster;
        _registered = registered;
    }

    public EmbeddedCluster Cluster => _cluster;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _cluster.ReleaseAsync(_registered);
    }
}

/// <summary>An exclusive lock on a file, held across processes while the handle is open.</summary>
internal sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    public static async Task<FileLock> AcquireAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
