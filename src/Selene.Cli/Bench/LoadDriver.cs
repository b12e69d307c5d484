using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace Selene.Cli.Bench;

/// <summary>What to drive and for how long.</summary>
/// <param name="BaseAddress">The server, e.g. http://127.0.0.1:5080.</param>
/// <param name="ApiKeys">One or more API keys; client i uses key i mod count (one tenant per key spreads the journal chains).</param>
/// <param name="Clients">Concurrent clients, each with one request in flight at a time (closed loop).</param>
/// <param name="Duration">The measured window.</param>
/// <param name="Warmup">Load before the measured window that is not counted.</param>
/// <param name="RunId">Makes keys and business fields unique across runs against the same database (random when null).</param>
public sealed record LoadOptions(Uri BaseAddress, IReadOnlyList<string> ApiKeys, int Clients, TimeSpan Duration, TimeSpan Warmup,
    BenchEndpoint Endpoint = BenchEndpoint.Auto, string? RunId = null);

/// <summary>Called when the measured window opens and when it closes (CPU and database counters).</summary>
public sealed record LoadHooks(Action? MeasureStarted = null, Action? MeasureEnded = null);

/// <summary>The figures of one run.</summary>
/// <param name="FellBack">Auto chose /v1/simulations because /v1/turns answered 404 ROUTE_NOT_FOUND.</param>
/// <param name="Executions">Successful executions that completed inside the measured window.</param>
/// <param name="Errors">Requests that completed inside the measured window without executing, by "status reason_code".</param>
/// <param name="WarmupErrors">The same, during warmup.</param>
public sealed record LoadReport(BenchEndpoint Endpoint, string Path, bool FellBack, int Clients, int Keys, double MeasuredSeconds, double WarmupSeconds,
    long Executions, LatencySummary Latency, IReadOnlyDictionary<string, long> Errors, long WarmupExecutions, IReadOnlyDictionary<string, long> WarmupErrors)
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

        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);

        var tasks = new Task[options.Clients + 1];
        for (var i = 0; i < options.Clients; i++)
        {
            var client = i;
            tasks[i] = Task.Run(() => ClientLoopAsync(sender, options.ApiKeys[client % options.ApiKeys.Count], client + 1, clients[client],
                measureStart, measureEnd, ct), ct);
        }
        tasks[^1] = WindowHooksAsync(hooks, measureStart, measureEnd, ct);
        await Task.WhenAll(tasks);

        return new LoadReport(sender.Endpoint, sender.Path, fellBack, options.Clients, options.ApiKeys.Count,
            options.Duration.TotalSeconds, options.Warmup.TotalSeconds,
            clients.Sum(c => c.Executions), LatencySummary.From(clients.Select(c => c.Latencies)), Merge(clients.Select(c => c.Errors)),
            clients.Sum(c => c.WarmupExecutions), Merge(clients.Select(c => c.WarmupErrors)));
    }

    /// <summary>Auto sends one probe turn: a server without /v1/turns answers 404 ROUTE_NOT_FOUND and the run uses /v1/simulations.</summary>
    private static async Task<(ExecutionSender Sender, bool FellBack)> ResolveAsync(LoadOptions options, HttpClient http, string runId, CancellationToken ct)
    {
        if (options.Endpoint != BenchEndpoint.Auto) return (ExecutionSender.Create(options.Endpoint, http, runId), false);
        var turns = new TurnsSender(http, runId);
        var probe = await turns.SendAsync(options.ApiKeys[0], client: 0, sequence: 0, ct);
        return ExecutionSender.IsRouteNotFound(probe.Error) ? (new SimulationsSender(http, runId), true) : (turns, false);
    }

    private static async Task ClientLoopAsync(ExecutionSender sender, string apiKey, int client, ClientState state, long measureStart, long measureEnd,
        CancellationToken ct)
    {
        for (long sequence = 1; ; sequence++)
        {
            var sent = Stopwatch.GetTimestamp();
            // Every client sends at least once, even if it started after the window (a loaded machine can schedule it
            // late): an answer after the window is not counted, but a run never silently measures nothing at all.
            if (sent >= measureEnd && sequence > 1) return;
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
            if (answered < measureStart)
            {
                if (outcome.Executed) state.WarmupExecutions++;
                else Count(state.WarmupErrors, outcome.Error!);
            }
            else if (answered < measureEnd)
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

    private static async Task WindowHooksAsync(LoadHooks? hooks, long measureStart, long measureEnd, CancellationToken ct)
    {
        if (hooks is null) return;
        await Task.Delay(Until(measureStart), ct);
        hooks.MeasureStarted?.Invoke();
        await Task.Delay(Until(measureEnd), ct);
        hooks.MeasureEnded?.Invoke();
    }

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
