using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace Selene.Cli.Bench;

/// <summary>What to drive and for how long.</summary>
/// <param name="BaseAddress">The server, e.g. http://127.0.0.1:5080.</param>
/// <param name="ApiKeys">One or more API keys; client i uses key i mod count (one tenant per key spreads the journal chains).</param>
/// <param name="Clients">Concurrent clients, each with one request in flight at a time (closed loop).</param>
/// <param name="Duration">The measured window.</param>
/// <param name="Warmup">Load before the measured window that is not counted (the least of it when <paramref name="SettleJit"/>).</param>
/// <param name="RunId">Makes keys and business fields unique across runs against the same database (random when null).</param>
/// <param name="SettleJit">
/// The server runs in this process: after <paramref name="Warmup"/>, keep warming up until the JIT has settled (fewer
/// than <see cref="LoadDriver.SettledJitMethodsPerSecond"/> methods compiled per second over the last
/// <see cref="LoadDriver.SettleProbe"/>), for at most <see cref="LoadDriver.MaxWarmup"/>. Tiered compilation keeps
/// recompiling hot methods for tens of seconds under load; a window opened during it measures the JIT, not the server.
/// </param>
public sealed record LoadOptions(Uri BaseAddress, IReadOnlyList<string> ApiKeys, int Clients, TimeSpan Duration, TimeSpan Warmup,
    BenchEndpoint Endpoint = BenchEndpoint.Auto, string? RunId = null, bool SettleJit = false);

/// <summary>Called when the measured window opens and when it closes (CPU and database counters).</summary>
public sealed record LoadHooks(Action? MeasureStarted = null, Action? MeasureEnded = null);

/// <summary>The figures of one run.</summary>
/// <param name="FellBack">Auto chose /v1/simulations because /v1/turns answered 404 ROUTE_NOT_FOUND.</param>
/// <param name="Executions">Successful executions that completed inside the measured window.</param>
/// <param name="Errors">Requests that completed inside the measured window without executing, by "status reason_code".</param>
/// <param name="WarmupErrors">The same, during warmup.</param>
/// <param name="WarmupSeconds">How long the warmup lasted (longer than asked when the JIT was let settle).</param>
/// <param name="JitSettled">With <see cref="LoadOptions.SettleJit"/>: whether the JIT settled before <see cref="LoadDriver.MaxWarmup"/>; null without it.</param>
/// <param name="JitMethodsInWindow">Methods this process's JIT compiled during the measured window.</param>
public sealed record LoadReport(BenchEndpoint Endpoint, string Path, bool FellBack, int Clients, int Keys, double MeasuredSeconds, double WarmupSeconds,
    long Executions, LatencySummary Latency, IReadOnlyDictionary<string, long> Errors, long WarmupExecutions, IReadOnlyDictionary<string, long> WarmupErrors,
    bool? JitSettled = null, long JitMethodsInWindow = 0)
{
    public double ExecutionsPerSecond => MeasuredSeconds > 0 ? Executions / MeasuredSeconds : 0;
    public long ErrorCount => Errors.Values.Sum();
}

/// <summary>
/// The core of <c>selene bench turns</c>: N closed-loop clients over one keep-alive connection pool
/// (<see cref="SocketsHttpHandler"/>), each sending a new execution as soon as the previous one answered. A request
/// counts in the window in which it completes; every latency of the window is kept (<see cref="LatencyRecorder"/>)
/// and summarised with nearest-rank percentiles.
/// </summary>
public static class LoadDriver
{
    /// <summary>The JIT counts as settled below this many compiled methods per second.</summary>
    public const int SettledJitMethodsPerSecond = 5;

    /// <summary>The span over which the JIT's compile rate is judged.</summary>
    public static readonly TimeSpan SettleProbe = TimeSpan.FromSeconds(2);

    /// <summary>The longest a JIT-settling warmup lasts; the window then opens anyway, and the report says so.</summary>
    public static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(120);

    public static async Task<LoadReport> RunAsync(LoadOptions options, LoadHooks? hooks = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Clients, 1);
        if (options.ApiKeys.Count == 0) throw new ArgumentException("at least one API key is needed", nameof(options));
        if (options.Duration <= TimeSpan.Zero) throw new ArgumentException("the measured window must be positive", nameof(options));
        var runId = options.RunId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

        using var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(options.Clients, 1),
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = options.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        var (sender, fellBack) = await ResolveAsync(options, http, runId, ct);

        var clients = new ClientState[options.Clients];
        for (var i = 0; i < clients.Length; i++) clients[i] = new ClientState();

        var window = new Window(Stopwatch.GetTimestamp());
        var tasks = new Task[options.Clients + 1];
        for (var i = 0; i < options.Clients; i++)
        {
            var client = i;
            tasks[i] = Task.Run(() => ClientLoopAsync(sender, options.ApiKeys[client % options.ApiKeys.Count], client + 1, clients[client], window, ct), ct);
        }
        tasks[^1] = RunWindowAsync(options, hooks, window, ct);
        await Task.WhenAll(tasks);

        return new LoadReport(sender.Endpoint, sender.Path, fellBack, options.Clients, options.ApiKeys.Count,
            options.Duration.TotalSeconds, Stopwatch.GetElapsedTime(window.Created, window.Start).TotalSeconds,
            clients.Sum(c => c.Executions), LatencySummary.From(clients.Select(c => c.Latencies)), Merge(clients.Select(c => c.Errors)),
            clients.Sum(c => c.WarmupExecutions), Merge(clients.Select(c => c.WarmupErrors)),
            options.SettleJit ? window.JitSettled : null, window.JitMethodsInWindow);
    }

    /// <summary>Auto sends one probe turn: a server without /v1/turns answers 404 ROUTE_NOT_FOUND and the run uses /v1/simulations.</summary>
    private static async Task<(ExecutionSender Sender, bool FellBack)> ResolveAsync(LoadOptions options, HttpClient http, string runId, CancellationToken ct)
    {
        if (options.Endpoint != BenchEndpoint.Auto) return (ExecutionSender.Create(options.Endpoint, http, runId), false);
        var turns = new TurnsSender(http, runId);
        var probe = await turns.SendAsync(options.ApiKeys[0], client: 0, sequence: 0, ct);
        return ExecutionSender.IsRouteNotFound(probe.Error) ? (new SimulationsSender(http, runId), true) : (turns, false);
    }

    private static async Task ClientLoopAsync(ExecutionSender sender, string apiKey, int client, ClientState state, Window window, CancellationToken ct)
    {
        for (long sequence = 1; ; sequence++)
        {
            var sent = Stopwatch.GetTimestamp();
            // Every client sends at least once, even if it started after the window (a loaded machine can schedule it
            // late): an answer after the window is not counted, but a run never silently measures nothing at all.
            if (sent >= window.End && sequence > 1) return;
            SendOutcome outcome;
            try
            {
                outcome = await sender.SendAsync(apiKey, client, sequence, ct);
            }
            catch (HttpRequestException ex)
            {
                outcome = new SendOutcome($"transport {ex.HttpRequestError}");
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                outcome = new SendOutcome("transport timeout");
            }
            var answered = Stopwatch.GetTimestamp();
            if (answered < window.Start)
            {
                if (outcome.Executed) state.WarmupExecutions++;
                else Count(state.WarmupErrors, outcome.Error!);
            }
            else if (answered < window.End)
            {
                if (outcome.Executed)
                {
                    state.Executions++;
                    state.Latencies.Record(answered - sent);
                }
                else
                {
                    Count(state.Errors, outcome.Error!);
                }
            }
        }
    }

    /// <summary>Opens the window after the warmup (and, when asked, once the JIT has settled), then closes it after the duration.</summary>
    private static async Task RunWindowAsync(LoadOptions options, LoadHooks? hooks, Window window, CancellationToken ct)
    {
        var created = window.Created;
        await Task.Delay(Until(created + Ticks(options.Warmup)), ct);
        if (options.SettleJit)
        {
            var giveUp = created + Ticks(MaxWarmup);
            while (true)
            {
                var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
                await Task.Delay(SettleProbe, ct);
                var rate = (System.Runtime.JitInfo.GetCompiledMethodCount() - compiled) / SettleProbe.TotalSeconds;
                if (rate < SettledJitMethodsPerSecond) { window.JitSettled = true; break; }
                if (Stopwatch.GetTimestamp() >= giveUp) break;
            }
        }
        var jitAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        var start = Stopwatch.GetTimestamp();
        window.Open(start, start + Ticks(options.Duration));
        hooks?.MeasureStarted?.Invoke();
        await Task.Delay(Until(window.End), ct);
        hooks?.MeasureEnded?.Invoke();
        window.JitMethodsInWindow = System.Runtime.JitInfo.GetCompiledMethodCount() - jitAtStart;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static TimeSpan Until(long timestamp)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static void Count(Dictionary<string, long> errors, string error) =>
        errors[error] = errors.GetValueOrDefault(error) + 1;

    private static Dictionary<string, long> Merge(IEnumerable<Dictionary<string, long>> parts)
    {
        var merged = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in parts)
            foreach (var (error, count) in part) merged[error] = merged.GetValueOrDefault(error) + count;
        return merged;
    }

    /// <summary>
    /// The measured window, shared by the clients and the task that opens it. Until it opens, both its ends lie in the
    /// future (every answer counts as warmup); <see cref="Open"/> writes the end before the start, so a client that sees
    /// the start also sees the end.
    /// </summary>
    private sealed class Window(long created)
    {
        private long _start = long.MaxValue;
        private long _end = long.MaxValue;

        public long Created { get; } = created;
        public long Start => Volatile.Read(ref _start);
        public long End => Volatile.Read(ref _end);
        public bool JitSettled { get; set; }
        public long JitMethodsInWindow { get; set; }

        public void Open(long start, long end)
        {
            Volatile.Write(ref _end, end);
            Volatile.Write(ref _start, start);
        }
    }

    /// <summary>One client's counters; touched only by its own loop until the run ends.</summary>
    private sealed class ClientState
    {
        public LatencyRecorder Latencies { get; } = new();
        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, long> WarmupErrors { get; } = new(StringComparer.Ordinal);
        public long Executions { get; set; }
        public long WarmupExecutions { get; set; }
    }
}
