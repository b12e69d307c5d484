using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Selene.Postgres;
using Selene.Postgres.Embedded;
using Selene.Runtime.Access;

namespace Selene.Cli.Chaos;

/// <summary>What to run: the profile, how long the fault lasts, how many clients, and where (null: a throwaway directory).</summary>
public sealed record ChaosOptions(ChaosProfile Profile, TimeSpan Duration, int Clients, string? DataDir)
{
    public ChaosThresholds Thresholds { get; init; } = ChaosThresholds.For(Profile);

    /// <summary>The load after the fault, checked for 100 % 2xx: a sixth of the fault's length, 2 to 10 s.</summary>
    public TimeSpan RecoveryPhase => TimeSpan.FromSeconds(Math.Clamp(Duration.TotalSeconds / 6, 2, 10));

    /// <summary>
    /// Time between recovering from one injection and the next (kill-server, restart-postgres): 6 s, or a third of a short run
    /// (at least 1 s), so even a run of a few seconds injects once.
    /// </summary>
    public TimeSpan InjectionInterval => Duration >= TimeSpan.FromSeconds(18) ? TimeSpan.FromSeconds(6) : TimeSpan.FromSeconds(Math.Max(1, Duration.TotalSeconds / 3));
}

/// <summary>The outcome of a run: what happened, the invariants and the SLOs; <see cref="Passed"/> when every one held.</summary>
public sealed record ChaosReport(ChaosOptions Options, string DataDir, bool Throwaway, IReadOnlyList<ChaosTenant> Tenants, IReadOnlyList<Injection> Injections,
    IReadOnlyList<Attempt> Attempts, int Acknowledged, double FaultSeconds, double RecoverySeconds, int ServeStarts, int SupervisorRestarts,
    IReadOnlyList<Check> Invariants, IReadOnlyList<Check> Slos, string? HarnessFailure)
{
    public bool Passed => HarnessFailure is null && Invariants.All(c => c.Passed) && Slos.All(c => c.Passed);

    /// <summary>F_CHAOS_PASSED, F_CHAOS_HARNESS_FAILED, else the first failed check's code.</summary>
    public ReasonCode Reason => HarnessFailure is not null ? ReasonCodes.ChaosHarnessFailed
        : Invariants.Concat(Slos).FirstOrDefault(c => !c.Passed)?.Reason ?? ReasonCodes.ChaosPassed;
}

/// <summary>
/// <c>selene chaos</c>: makes (or takes) a data directory with its own embedded cluster, bootstraps one tenant per client, starts
/// a real <c>selene serve</c> child process on a free 127.0.0.1 port, runs <see cref="ChaosLoad"/> against it while injecting the
/// profile's fault, stops the fault, runs the load a little longer, then checks <see cref="ChaosInvariants"/> and
/// <see cref="ChaosSlo"/> (docs/reliability.md).
/// </summary>
public static class ChaosRunner
{
    /// <summary>
    /// How long the outbox may take to drain after the load stops: twice the run's length, at least 120 s. The one worker drains
    /// the backlog the load built (three handoffs per delivered broadcast, one transaction each); a killed worker's claim
    /// expires after serve's 5 s lease.
    /// </summary>
    public static TimeSpan OutboxBound(ChaosOptions o) => o.Duration * 2 > TimeSpan.FromSeconds(120) ? o.Duration * 2 : TimeSpan.FromSeconds(120);

    /// <summary>serve's outbox lease in a run: a claim of a killed worker is taken over after 5 s instead of the default 60 s.</summary>
    public const int WorkerLeaseSeconds = 5;

    /// <summary>Copies per duplicate storm.</summary>
    public const int StormCopies = 16;

    public static async Task<ChaosReport> RunAsync(ChaosOptions o, TextWriter log, CancellationToken ct)
    {
        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var throwaway = o.DataDir is null;
        // Short on purpose: the cluster's socket path must stay under 100 characters.
        var dataDir = Path.GetFullPath(o.DataDir ?? "/tmp/selene-chaos-" + runId);
        var profile = ChaosProfiles.Name(o.Profile);
        log.WriteLine($"selene chaos: profile {profile}, {o.Duration.TotalSeconds:0} s of fault + {o.RecoveryPhase.TotalSeconds:0} s after it, " +
                      $"{o.Clients} client(s); embedded PostgreSQL in {dataDir}{(throwaway ? " (throwaway)" : "")} …");
        var tenants = new List<ChaosTenant>();
        var injections = new List<(double At, string What)>();
        var down = new List<(double From, double To)>();
        ChaosLoad? load = null;
        ServeProcess? server = null;
        double faultEnded = 0, recoveryEnded = 0;
        try
        {
            await using var db = await SeleneDatabase.OpenAsync(new DatabaseOptions(null, dataDir, Register: true), ct);
            var bootstrap = new TenantBootstrap(db, TimeProvider.System);
            for (var i = 0; i < o.Clients; i++)
            {
                var created = await bootstrap.CreateAsync(new TenantId($"chaos-{runId}-{i}"), new UserId("chaos-admin"), ct);
                tenants.Add(new ChaosTenant($"chaos-{runId}-{i}", "chaos-admin",
                    created.AdminKey ?? throw new ChaosHarnessException($"tenant {i} was not created: {created.Reason.Name}")));
            }

            server = new ServeProcess(dataDir, ServeProcess.FreePort(), ["--worker-lease", WorkerLeaseSeconds.ToString(CultureInfo.InvariantCulture)]);
            using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = Timeout.InfiniteTimeSpan };
            await server.StartAsync(http, ct);
            log.WriteLine($"selene chaos: selene serve (pid {server.Pid}) at {server.BaseAddress}; {tenants.Count} tenant(s) …");
            load = new ChaosLoad(http, server.BaseAddress, runId, o.Thresholds);
            foreach (var tenant in tenants)
            {
                // The administrator's app binding, so that a broadcast to them is delivered (and its handoffs drain).
                var setup = await load.SendUntilAnsweredAsync(new ChaosLoad.Request(tenant, "DELIVERY_CHANNEL_SETUP_COMMIT", ChaosLoad.Json(w =>
                {
                    w.WriteString("user_id", tenant.AdminUserId);
                    w.WriteString("setup_source", "SETTINGS");
                    w.WriteStartObject("bindings");
                    w.WriteString("APP_PUSH", "chaos-phone");
                    w.WriteEndObject();
                }), load.NewKey("setup")), ct);
                if (setup?.Attempt.Outcome != AttemptOutcome.Success)
                    throw new ChaosHarnessException($"the channel setup of {tenant.TenantId} was answered {setup?.Attempt.Describe() ?? "never"}");
            }

            using var stopClients = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var faultStart = load.Now;
            var clients = tenants.Select((t, i) => load.RunClientAsync(t, i, stopClients.Token, o.Profile == ChaosProfile.ClientDisconnects ? 3 : 0)).ToList();
            await InjectAsync(o, load, server, http, dataDir, tenants, faultStart, injections, down, log, stopClients.Token);

            // The fault is over once the server answers again (a kill-server run restarted it; a dead server stays dead).
            var healthyBy = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!await ServeProcess.HealthyAsync(http, server.BaseAddress, ct) && DateTime.UtcNow < healthyBy) await Task.Delay(100, ct);
            faultEnded = load.Now;
            log.WriteLine($"selene chaos: fault over after {faultEnded - faultStart:0.0} s ({injections.Count + load.OwnInjections.Count} injection(s)); " +
                          $"{o.RecoveryPhase.TotalSeconds:0} s of load after it …");
            await Task.Delay(o.RecoveryPhase, ct);
            await stopClients.CancelAsync();
            await Task.WhenAll(clients);
            recoveryEnded = load.Now;

            // The checks. The harness's own pools may hold connections to a postmaster that was killed.
            db.ClearPools();
            log.WriteLine($"selene chaos: load stopped; {load.Acknowledged.Count} acknowledged execution(s); checking the invariants …");
            var tenantIds = tenants.Select(t => t.TenantId).ToList();
            var outbox = await ChaosInvariants.OutboxDrainsAsync(db, tenantIds, OutboxBound(o), ct);
            log.WriteLine($"selene chaos: outbox {(outbox.Passed ? "drained" : "NOT drained")}; sending every acknowledged request again …");
            var resent = await ResendAsync(http, server.BaseAddress, runId, o.Thresholds, load.Acknowledged, tenants, ct);
            log.WriteLine("selene chaos: reading the ledgers, verifying the journal, rebuilding the projections …");
            // Read-only, each on its own connections: run side by side.
            var factsTask = ChaosInvariants.ReadFactsAsync(db, tenantIds, ct);
            var journalTask = ChaosInvariants.JournalVerifiesAsync(db, ct);
            var rebuildTask = ChaosInvariants.ProjectionsRebuildAsync(db, ct);
            await Task.WhenAll(factsTask, journalTask, rebuildTask);
            var facts = await factsTask;
            var invariants = new List<Check>
            {
                ChaosInvariants.AcknowledgedKept(load.Acknowledged, facts),
                ChaosInvariants.NoEffectTwice(facts),
                ChaosInvariants.SameAnswer(resent, load.Storms),
                await journalTask,
                await rebuildTask,
                outbox,
            };
            var record = Record(load, injections, down, faultEnded);
            var slos = ChaosSlo.Evaluate(record, o.Thresholds);
            var exit = await server.StopAsync(TimeSpan.FromSeconds(30));
            string? failure = exit == 0 ? null : $"selene serve did not stop cleanly on SIGTERM (exit {exit?.ToString(CultureInfo.InvariantCulture) ?? "none: killed"})";
            return Report(o, dataDir, throwaway, tenants, record, load, faultStart, faultEnded, recoveryEnded, server, invariants, slos, failure);
        }
        catch (ChaosHarnessException ex)
        {
            return Report(o, dataDir, throwaway, tenants, load is null ? null : Record(load, injections, down, faultEnded), load, 0, faultEnded, recoveryEnded,
                server, [], [], ex.Message);
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync(TimeSpan.FromSeconds(30));
                if (!throwaway && server.Starts > 0) await File.WriteAllTextAsync(Path.Combine(dataDir, $"chaos-{runId}-serve.log"), server.Output, CancellationToken.None);
                server.Dispose();
            }
            if (throwaway && Directory.Exists(dataDir))
            {
                // A serve that had to be killed leaves the cluster running: stop it before its directory goes.
                var cluster = new EmbeddedCluster(new EmbeddedClusterOptions(dataDir));
                if (await cluster.IsRunningAsync(CancellationToken.None)) await cluster.StopAsync(CancellationToken.None);
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    /// <summary>Injects the profile's fault until the run's duration is over and the last injection has recovered.</summary>
    private static async Task InjectAsync(ChaosOptions o, ChaosLoad load, ServeProcess server, HttpClient http, string dataDir, IReadOnlyList<ChaosTenant> tenants,
        double faultStart, List<(double At, string What)> injections, List<(double From, double To)> down, TextWriter log, CancellationToken ct)
    {
        var end = faultStart + o.Duration.TotalSeconds;
        switch (o.Profile)
        {
            case ChaosProfile.KillServer or ChaosProfile.RestartPostgres:
                for (var next = faultStart + o.InjectionInterval.TotalSeconds; next < end; next = load.Now + o.InjectionInterval.TotalSeconds)
                {
                    await DelayUntilAsync(load, next, ct);
                    if (load.Now >= end) break;
                    var at = load.Now;
                    if (o.Profile == ChaosProfile.KillServer)
                    {
                        var pid = server.Pid;
                        await server.KillAsync();
                        injections.Add((at, $"SIGKILL selene serve (pid {pid}), started again by the harness"));
                        try
                        {
                            await server.StartAsync(http, ct);
                        }
                        finally
                        {
                            down.Add((at, load.Now));
                        }
                    }
                    else
                    {
                        var pid = PostmasterPid(dataDir) ?? throw new ChaosHarnessException("the embedded PostgreSQL has no postmaster.pid to kill");
                        using (var postmaster = Process.GetProcessById(pid)) postmaster.Kill(); // SIGKILL: no shutdown, no checkpoint
                        injections.Add((at, $"SIGKILL the embedded postmaster (pid {pid}); selene serve's supervisor restarts it"));
                    }
                    // The next injection only after this one recovered (or the SLO's bound passed: it fails the run anyway).
                    var bound = at + o.Thresholds.RecoveryMax.TotalSeconds * 2;
                    while (load.FirstSuccessSince(at) is null && load.Now < bound) await Task.Delay(50, ct);
                    log.WriteLine($"selene chaos:   {injections[^1].What}: " +
                                  (load.FirstSuccessSince(at) is { } back ? $"first 2xx {back - at:0.00} s later" : "no 2xx since"));
                    if (load.FirstSuccessSince(at) is null) break;
                }
                await DelayUntilAsync(load, end, ct); // the fault window is the whole of --seconds, even after the last injection
                break;
            case ChaosProfile.DuplicateStorm:
                for (var n = 0; load.Now < end; n++)
                {
                    await load.StormAsync(tenants[n % tenants.Count], StormCopies, ct);
                    await Task.Delay(250, ct);
                }
                break;
            default: // client-disconnects: the clients abandon requests themselves
                await DelayUntilAsync(load, end, ct);
                break;
        }
    }

    /// <summary>Sends every acknowledged request again (tenants in parallel, each tenant's in order) and pairs it with the new answer.</summary>
    private static async Task<IReadOnlyList<(Acknowledged, ChaosLoad.Answer?)>> ResendAsync(HttpClient http, Uri address, string runId, ChaosThresholds thresholds,
        IReadOnlyList<Acknowledged> acknowledged, IReadOnlyList<ChaosTenant> tenants, CancellationToken ct)
    {
        // A storm's copies are one request: it is sent again once.
        var again = new ChaosLoad(http, address, runId, thresholds);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TimeSpan.FromSeconds(120));
        var byTenant = tenants.ToDictionary(t => t.TenantId, StringComparer.Ordinal);
        var parts = await Task.WhenAll(acknowledged.DistinctBy(a => (a.TenantId, a.SimulationId, a.IdempotencyKey)).GroupBy(a => a.TenantId).Select(async group =>
        {
            var pairs = new List<(Acknowledged, ChaosLoad.Answer?)>();
            foreach (var a in group)
                pairs.Add((a, await again.SendUntilAnsweredAsync(new ChaosLoad.Request(byTenant[a.TenantId], a.SimulationId, a.Body, a.IdempotencyKey), bound.Token)));
            return pairs;
        }));
        return parts.SelectMany(p => p).ToList();
    }

    private static LoadRecord Record(ChaosLoad load, List<(double At, string What)> injections, List<(double From, double To)> down, double faultEnded) =>
        new(load.Attempts, injections.Select(i => new Injection(i.At, load.FirstSuccessSince(i.At), i.What)).Concat(load.OwnInjections).OrderBy(i => i.At).ToList(),
            down.ToList(), faultEnded);

    private static ChaosReport Report(ChaosOptions o, string dataDir, bool throwaway, IReadOnlyList<ChaosTenant> tenants, LoadRecord? record, ChaosLoad? load,
        double faultStart, double faultEnded, double recoveryEnded, ServeProcess? server, IReadOnlyList<Check> invariants, IReadOnlyList<Check> slos, string? failure)
    {
        var output = server?.Output ?? "";
        var restarts = CountOf(output, ReasonCodes.StorageEmbeddedRestarted.Name);
        return new ChaosReport(o, dataDir, throwaway, tenants, record?.Injections ?? [], record?.Attempts ?? [],
            load?.Acknowledged.Select(a => a.IdempotencyKey).Distinct().Count() ?? 0, Math.Max(0, faultEnded - faultStart), Math.Max(0, recoveryEnded - faultEnded),
            server?.Starts ?? 0, restarts, invariants, slos, failure);
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static async Task DelayUntilAsync(ChaosLoad load, double at, CancellationToken ct)
    {
        var left = at - load.Now;
        if (left > 0) await Task.Delay(TimeSpan.FromSeconds(left), ct);
    }

    /// <summary>The postmaster's pid from the first line of <c>pg/postmaster.pid</c>, or null when there is none.</summary>
    private static int? PostmasterPid(string dataDir)
    {
        var file = Path.Combine(dataDir, "pg", "postmaster.pid");
        return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }
}
