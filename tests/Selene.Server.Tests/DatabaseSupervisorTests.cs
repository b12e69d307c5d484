using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Selene.Contracts;
using Selene.Postgres;
using Selene.Postgres.Embedded;
using Selene.Runtime.Access;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The supervisor's schedule and giving up, on a <see cref="FakeTimeProvider"/> with fake checks and restarts (issue 15
/// item 5). The real postmaster is killed in <see cref="SelfRestartTests"/>.
/// </summary>
public class DatabaseSupervisorTests
{
    private static readonly DatabaseSupervisorOptions Options = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), 4);

    [Fact]
    public void Backoff_DoublesFromTheFirstWaitUpToTheCap()
    {
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(a => DatabaseSupervisorOptions.Default.Backoff(a).TotalSeconds));
        Assert.Equal(8, DatabaseSupervisorOptions.Default.MaxAttempts);
        Assert.Equal([1, 2, 4, 4], Enumerable.Range(1, 4).Select(a => Options.Backoff(a).TotalSeconds));
    }

    [Fact]
    public async Task RestartFailingEveryTime_WaitsItsBackoffOnTheClock_ThenGivesUpReasonCoded()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var attempts = new List<DateTimeOffset>();
        var log = new List<(ReasonCode Reason, string Message)>();
        var supervisor = new DatabaseSupervisor(() => true, _ =>
        {
            lock (attempts) attempts.Add(clock.GetUtcNow());
            throw new EmbeddedClusterException("the embedded PostgreSQL did not start");
        }, clock, Options, (reason, message) => { lock (log) log.Add((reason, message)); });

        var start = clock.GetUtcNow();
        var run = supervisor.RunAsync(CancellationToken.None);
        await DriveUntilAsync(clock, () => run.IsCompleted);
        await run;

        Assert.True(supervisor.GaveUp);
        Assert.Equal(0, supervisor.Restarts);
        Assert.Equal(4, attempts.Count);
        // Every wait is on the fake clock: the first attempt after one check interval, each next after at least its backoff.
        Assert.True(attempts[0] - start >= Options.CheckInterval);
        for (var i = 1; i < attempts.Count; i++) Assert.True(attempts[i] - attempts[i - 1] >= Options.Backoff(i), $"attempt {i + 1} came too early");
        Assert.Equal([ReasonCodes.StorageEmbeddedDied, ReasonCodes.StorageEmbeddedRestartFailed, ReasonCodes.StorageEmbeddedRestartFailed,
            ReasonCodes.StorageEmbeddedRestartFailed, ReasonCodes.StorageEmbeddedRestartGaveUp], log.Select(l => l.Reason));
        Assert.Contains("next attempt in 2 s", log[2].Message, StringComparison.Ordinal);
        Assert.Contains("in 4 attempts", log[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartSucceedingAfterAFailure_CountsTheRestart_AndGoesOnWatching()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var down = true;
        var calls = 0;
        var log = new List<ReasonCode>();
        var supervisor = new DatabaseSupervisor(() => Volatile.Read(ref down), _ =>
        {
            if (Interlocked.Increment(ref calls) == 1) throw new EmbeddedClusterException("shared memory still in use");
            Volatile.Write(ref down, false);
            return Task.CompletedTask;
        }, clock, Options, (reason, _) => { lock (log) log.Add(reason); });
        using var stop = new CancellationTokenSource();
        var run = supervisor.RunAsync(stop.Token);

        await DriveUntilAsync(clock, () => supervisor.Restarts == 1);
        Assert.Equal([ReasonCodes.StorageEmbeddedDied, ReasonCodes.StorageEmbeddedRestartFailed, ReasonCodes.StorageEmbeddedRestarted], log);

        // It goes on watching: a second death is restarted too.
        Volatile.Write(ref down, true);
        await DriveUntilAsync(clock, () => supervisor.Restarts == 2);
        Assert.False(supervisor.GaveUp);
        Assert.False(run.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    /// <summary>
    /// Moves the fake clock on in half-second steps until <paramref name="done"/> (a real condition, polled with a deadline):
    /// the supervisor's waits end only when the clock passes them.
    /// </summary>
    internal static async Task DriveUntilAsync(FakeTimeProvider clock, Func<bool> done, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60));
        while (!done())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("the supervisor did not get there in time");
            clock.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(20);
        }
    }
}

/// <summary>
/// The embedded PostgreSQL killed under a running server (a real SIGKILL of the postmaster): requests meanwhile get 503
/// retryable, the supervisor — driven through the server's fake clock — starts it again, requests then succeed and every
/// acknowledged write is still there. A server and a durable cluster of its own (an acknowledged commit must survive).
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class SelfRestartTests
{
    [Fact]
    public async Task PostmasterKilled_RequestsGet503_TheSupervisorRestartsIt_AndNothingAcknowledgedIsLost()
    {
        var dataDir = "/tmp/ssr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new CapturedLog();
        try
        {
            await using var db = await SeleneDatabase.OpenAsync(new DatabaseOptions(null, dataDir));
            var key = (await new TenantBootstrap(db, clock).CreateAsync(new TenantId("phoenix"), new UserId("pat"))).AdminKey!;
            var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
            await using var app = SeleneApp.Build(db, new ServerOptions(address.ToString().TrimEnd('/'), Workers: false),
                logging: b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Warning), clock: clock);
            await app.StartAsync();
            var supervisor = SeleneApp.Supervisor(app)!;
            using var api = new SeleneApi(address);

            var acknowledged = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                var created = await api.SimulateAsync(key, Create, NewDraft());
                AssertSuccess(created, "CAPREQ_OK_CREATE_DRAFT");
                acknowledged.Add(created.Capreq["capreq_id"]!.GetValue<string>());
            }

            var pid = int.Parse(File.ReadLines(Path.Combine(dataDir, "pg", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            using (var postmaster = Process.GetProcessById(pid)) postmaster.Kill(); // SIGKILL: no shutdown, no checkpoint
            await UntilAsync(() => db.Cluster!.HasCrashed(), "the postmaster to be gone");

            var lostKey = SeleneApi.NewIdempotencyKey();
            var body = NewDraft();
            foreach (var reply in new[] { await api.SimulateAsync(key, Create, body, lostKey), await api.GetAsync(key, "/v1/capreqs"), await api.GetAsync(null, "/healthz") })
            {
                AssertProblem(reply, HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
                Assert.True(reply.Json["retryable"]!.GetValue<bool>());
            }
            Assert.Equal(0, supervisor.Restarts);

            await DatabaseSupervisorTests.DriveUntilAsync(clock, () => supervisor.Restarts == 1, TimeSpan.FromSeconds(120));
            Assert.False(supervisor.GaveUp);
            Assert.Contains(logs.Lines, l => l.Contains("F_EMBEDDED_DIED", StringComparison.Ordinal));
            Assert.Contains(logs.Lines, l => l.Contains("F_EMBEDDED_RESTARTED", StringComparison.Ordinal));

            // Back: the request refused during the outage runs now (once), and everything acknowledged before it is there.
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(null, "/healthz")).Status);
            var retried = await api.SimulateAsync(key, Create, body, lostKey);
            AssertSuccess(retried, "CAPREQ_OK_CREATE_DRAFT");
            Assert.True((await api.SimulateAsync(key, Create, body, lostKey)).Replayed);
            foreach (var id in acknowledged)
            {
                var read = await api.GetCapreqAsync(key, id);
                Assert.True(read.Status == HttpStatusCode.OK, read.ToString());
                Assert.Equal("DRAFT", read.Capreq["status"]!.GetValue<string>());
            }
            var list = await api.GetAsync(key, "/v1/capreqs");
            Assert.Equal(HttpStatusCode.OK, list.Status);
            Assert.Equal(4, list.Json["capreqs"]!.AsArray().Count);
            await app.StopAsync();
        }
        finally
        {
            if (File.Exists(Path.Combine(dataDir, "pg", "PG_VERSION"))) await ChildProcess.SeleneAsync(dataDir, "db", "stop");
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task ClusterStoppedOnPurpose_IsNotRestarted_AndRequestsStay503()
    {
        var dataDir = "/tmp/ssr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        try
        {
            await using var db = await SeleneDatabase.OpenAsync(new DatabaseOptions(null, dataDir));
            var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
            await using var app = SeleneApp.Build(db, new ServerOptions(address.ToString().TrimEnd('/'), Workers: false),
                logging: b => b.SetMinimumLevel(LogLevel.None), clock: clock);
            await app.StartAsync();
            using var api = new SeleneApi(address);
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(null, "/healthz")).Status);

            var stop = await ChildProcess.SeleneAsync(dataDir, "db", "stop");
            Assert.True(stop.ExitCode == 0, stop.ToString());
            Assert.False(db.Cluster!.HasCrashed());
            // A minute of checks on the server's clock: a stop is an operator's decision, not a crash.
            for (var i = 0; i < 60; i++) clock.Advance(TimeSpan.FromSeconds(1));
            AssertProblem(await api.GetAsync(null, "/healthz"), HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
            Assert.Equal(0, SeleneApp.Supervisor(app)!.Restarts);
            Assert.False(await db.Cluster.IsRunningAsync());
            await app.StopAsync();
        }
        finally
        {
            if (File.Exists(Path.Combine(dataDir, "pg", "PG_VERSION"))) await ChildProcess.SeleneAsync(dataDir, "db", "stop");
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 30 s for {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>The server's log lines, kept for assertions.</summary>
    private sealed class CapturedLog : ILoggerProvider, ILogger
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines) return _lines.ToArray();
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines) _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }

        public void Dispose()
        {
        }
    }
}
