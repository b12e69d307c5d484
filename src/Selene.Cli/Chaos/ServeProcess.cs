using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Selene.Cli.Processes;

namespace Selene.Cli.Chaos;

/// <summary>
/// A real <c>selene serve</c> child process on a fixed 127.0.0.1 port and data directory, so that a SIGKILL is a real one.
/// It can be started again after a kill on the same port; the output of every process it started is kept for the report.
/// </summary>
public sealed class ServeProcess(string dataDir, int port, IReadOnlyList<string> extraArguments) : IDisposable
{
    private static readonly TimeSpan StartupDeadline = TimeSpan.FromSeconds(90);
    private readonly List<RunningProcess> _all = [];
    private RunningProcess? _current;

    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The pid of the running process (0 when none).</summary>
    public int Pid => _current is { Process.HasExited: false } p ? p.Process.Id : 0;

    /// <summary>Processes started so far.</summary>
    public int Starts => _all.Count;

    /// <summary>Every line every serve process printed, in start order.</summary>
    public string Output => string.Join("\n", _all.Select((p, i) => $"--- selene serve #{i + 1} ---\n{p.Output}"));

    /// <summary>A port nobody listens on now (the kernel's pick).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts serve and returns once <c>/healthz</c> answers 200; throws when the process exits first or the deadline passes.</summary>
    public async Task StartAsync(HttpClient probe, CancellationToken ct)
    {
        var (file, prefix) = ChildProcess.Selene;
        _current = RunningProcess.Start(file, [.. prefix, "--data-dir", dataDir, "serve", "--urls", BaseAddress.ToString().TrimEnd('/'), .. extraArguments]);
        _all.Add(_current);
        var deadline = DateTime.UtcNow + StartupDeadline;
        while (true)
        {
            if (_current.Process.HasExited)
                throw new ChaosHarnessException($"selene serve exited with {_current.Process.ExitCode} before it answered /healthz:\n{_current.Output}");
            if (DateTime.UtcNow > deadline)
                throw new ChaosHarnessException($"selene serve did not answer /healthz within {StartupDeadline.TotalSeconds:0} s:\n{_current.Output}");
            if (await HealthyAsync(probe, BaseAddress, ct)) return;
            await Task.Delay(50, ct);
        }
    }

    /// <summary>True when <c>GET /healthz</c> answers 200 now.</summary>
    public static async Task<bool> HealthyAsync(HttpClient http, Uri baseAddress, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await http.GetAsync(new Uri(baseAddress, "/healthz"), timeout.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>SIGKILL (no shutdown of any kind), then waits until the process is gone so its port is free.</summary>
    public async Task KillAsync()
    {
        if (_current is not { Process.HasExited: false } victim) return;
        victim.Process.Kill(); // SIGKILL of serve alone: the cluster it did not start keeps running
        await victim.Process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait (SIGKILL after <paramref name="timeout"/>); the exit code, or null when it had to be killed.</summary>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        if (_current is null) return null;
        if (_current.Process.HasExited) return _current.Process.ExitCode;
        return await _current.StopAsync(timeout) ? _current.Process.ExitCode : null;
    }

    public void Dispose()
    {
        foreach (var p in _all)
        {
            if (!p.Process.HasExited) p.Process.Kill();
            p.Dispose();
        }
    }
}

/// <summary>The harness could not run the profile at all (not a finding about Selene): F_CHAOS_HARNESS_FAILED.</summary>
public sealed class ChaosHarnessException(string message) : Exception(message);
