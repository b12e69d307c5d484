using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Embedded;
using Selene.Runtime.Access;
using Selene.Server;

namespace Selene.Cli.Bench;

/// <summary>
/// <c>selene bench turns</c>: the end-to-end load driver. By default it makes a throwaway data directory under /tmp
/// (its own embedded cluster, durable like <c>selene serve</c>'s), bootstraps one tenant per client, serves Selene
/// in-process on a free 127.0.0.1 port, drives it over real HTTP, stops the server, then runs pgbench on the same
/// cluster and prints both.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each with one request in flight", DefaultValueFactory = _ => 16 };
        var seconds = new Option<int>("--seconds") { Description = "Length of the measured window, in seconds", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Uncounted load before the window, in seconds; in-process, at least this long and then until the JIT has settled (at most 120 s)", DefaultValueFactory = _ => 5 };
        var tenants = new Option<int?>("--tenants") { Description = "Bench tenants to bootstrap, used round-robin by the clients (default: one per client)" };
        var url = new Option<string?>("--url") { Description = "Drive an already running server instead of starting one (needs --key)" };
        var keys = new Option<string[]>("--key") { Description = "API key for --url; repeat it to spread clients over tenants", DefaultValueFactory = _ => [] };
        var endpoint = new Option<string>("--endpoint") { Description = "auto: /v1/turns, else /v1/simulations if the server has no /v1/turns", DefaultValueFactory = _ => "auto" };
        endpoint.AcceptOnlyFromAmong("auto", "turns", "simulations");
        var noPgbench = new Option<bool>("--no-pgbench") { Description = "Skip the pgbench comparison" };
        var scale = new Option<int>("--pgbench-scale") { Description = "pgbench -i -s (10: one million accounts)", DefaultValueFactory = _ => 10 };
        var fsyncOff = new Option<bool>("--fsync-off") { Description = "New throwaway cluster only: fsync, synchronous_commit and full_page_writes off (as the test clusters)" };
        var keep = new Option<bool>("--keep") { Description = "Keep the throwaway data directory (and leave it stopped)" };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object" };

        var turns = new Command("turns", "Drive N concurrent clients of POST /v1/turns (or /v1/simulations) for S seconds and compare with pgbench on the same cluster")
        {
            clients, seconds, warmup, tenants, url, keys, endpoint, noPgbench, scale, fsyncOff, keep, json,
        };
        turns.SetAction(async (parse, ct) =>
        {
            // Checked here rather than in command validators, which run before System.CommandLine applies the defaults.
            if (Invalid(parse.GetValue(clients), parse.GetValue(seconds), parse.GetValue(warmup), parse.GetValue(tenants), parse.GetValue(url),
                    parse.GetValue(keys)!, parse.GetValue(scale)) is { } problem)
                return Cli.Fail(ReasonCodes.InputFieldInvalid, problem);
            var settings = new Settings(parse.GetValue(clients), TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeSpan.FromSeconds(parse.GetValue(warmup)),
                parse.GetValue(tenants) ?? parse.GetValue(clients), WireEndpoint(parse.GetValue(endpoint)!), !parse.GetValue(noPgbench),
                parse.GetValue(scale), parse.GetValue(json));
            return parse.GetValue(url) is { } external
                ? await RunExternalAsync(settings, new Uri(external), parse.GetValue(keys)!, ct)
                : await RunSelfHostedAsync(settings, parse.GetValue(dataDirOption), parse.GetValue(fsyncOff), parse.GetValue(keep), ct);
        });
        return new Command("bench", "Load drivers") { turns };
    }

    private static string? Invalid(int clients, int seconds, int warmup, int? tenants, string? url, string[] keys, int scale)
    {
        if (clients < 1) return "--clients must be at least 1";
        if (seconds < 1) return "--seconds must be at least 1";
        if (warmup < 0) return "--warmup must not be negative";
        if (tenants is < 1) return "--tenants must be at least 1";
        if (scale < 1) return "--pgbench-scale must be at least 1";
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
            return "--url must be an absolute http:// or https:// address";
        if (url is not null && keys.Length == 0) return "--url needs at least one --key";
        if (url is null && keys.Length > 0) return "--key goes with --url";
        return null;
    }

    private sealed record Settings(int Clients, TimeSpan Duration, TimeSpan Warmup, int Tenants, BenchEndpoint Endpoint, bool PgBench, int Scale, bool Json);

    private static BenchEndpoint WireEndpoint(string value) => value switch
    {
        "turns" => BenchEndpoint.Turns,
        "simulations" => BenchEndpoint.Simulations,
        _ => BenchEndpoint.Auto,
    };

    private static async Task<int> RunExternalAsync(Settings s, Uri url, string[] keys, CancellationToken ct)
    {
        var log = s.Json ? Console.Error : Console.Out;
        log.WriteLine($"selene bench turns: driving {url} with {s.Clients} client(s) over {keys.Length} key(s); pgbench skipped (the cluster is not this process's)");
        var cpu = CpuSampler.Supported ? new CpuSampler(null) : null;
        var report = await LoadDriver.RunAsync(new LoadOptions(url, keys, s.Clients, s.Duration, s.Warmup, s.Endpoint),
            new LoadHooks(() => cpu?.Start(), null), ct);
        var usage = cpu?.Stop();
        Print(s, report, usage, null, null, null, null);
        return report.Executions > 0 ? 0 : 1;
    }

    private static async Task<int> RunSelfHostedAsync(Settings s, string? dataDirOption, bool fsyncOff, bool keep, CancellationToken ct)
    {
        var log = s.Json ? Console.Error : Console.Out;
        // A throwaway directory unless --data-dir names one: bench tenants never land in the real data, and every run
        // starts from the same empty cluster. Short on purpose: the socket path must stay under 100 characters.
        var throwaway = dataDirOption is null && Cli.ExternalDatabase is null;
        var dataDir = throwaway ? "/tmp/selene-bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) : Cli.DataDir(dataDirOption);
        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        try
        {
            log.WriteLine($"selene bench turns: {(Cli.ExternalDatabase is null ? $"embedded PostgreSQL in {dataDir}{(throwaway ? " (throwaway)" : "")}" : "SELENE_DB")} …");
            LoadReport report;
            CpuUsage? usage = null;
            PgBenchResult? pgbench = null;
            string? pgbenchNote;
            JsonObject cluster;
            (long Commits, long Rollbacks)? xacts = null;
            await using (var db = await SeleneDatabase.OpenAsync(new DatabaseOptions(Cli.ExternalDatabase, dataDir, Register: true, Durable: !fsyncOff), ct))
            {
                cluster = await ClusterStats.SettingsAsync(db, ct);
                var apiKeys = new List<string>();
                var bootstrap = new TenantBootstrap(db, TimeProvider.System);
                for (var i = 0; i < s.Tenants; i++)
                {
                    var created = await bootstrap.CreateAsync(new TenantId($"bench-{runId}-{i:D3}"), new UserId("bench-admin"), ct);
                    apiKeys.Add(created.AdminKey ?? throw new InvalidOperationException($"bench tenant {i} was not created: {created.Reason.Name}"));
                }

                await using (var app = SeleneApp.Build(db, new ServerOptions("http://127.0.0.1:0")))
                {
                    await app.StartAsync(ct);
                    var address = new Uri(app.Urls.First());
                    log.WriteLine($"selene bench turns: Selene in-process at {address}, {s.Tenants} tenant(s), {s.Clients} client(s), " +
                                  $"{s.Warmup.TotalSeconds:0} s warmup + {s.Duration.TotalSeconds:0} s measured …");
                    var cpu = CpuSampler.Supported ? new CpuSampler(db.Cluster is null ? null : CpuSampler.PostmasterPid(db.Cluster.PgData)) : null;
                    (long, long)? xactStart = null;
                    report = await LoadDriver.RunAsync(new LoadOptions(address, apiKeys, s.Clients, s.Duration, s.Warmup, s.Endpoint, runId, SettleJit: true),
                        new LoadHooks(() =>
                        {
                            cpu?.Start();
                            xactStart = ClusterStats.TransactionCounts(db);
                        }, () =>
                        {
                            usage = cpu?.Stop();
                            var end = ClusterStats.TransactionCounts(db);
                            xacts = (end.Commits - xactStart!.Value.Item1, end.Rollbacks - xactStart.Value.Item2);
                        }), ct);
                    await app.StopAsync(ct);
                }

                if (!s.PgBench) pgbenchNote = "skipped (--no-pgbench)";
                else if (db.Cluster is not { } embedded) pgbenchNote = "skipped (SELENE_DB: no embedded cluster to run it on)";
                else
                {
                    // After the Selene load and with the HTTP server stopped, so that the two never compete for the machine.
                    var threads = Math.Min(Environment.ProcessorCount, s.Clients);
                    pgbench = await PgBench.RunAsync(embedded.BinDir, embedded.SocketDir, EmbeddedCluster.Port, EmbeddedCluster.SuperUser,
                        s.Clients, threads, s.Duration, s.Scale, log, ct);
                    pgbenchNote = "run after the Selene load, same cluster, HTTP server stopped";
                }
            }
            Print(s, report, usage, xacts, pgbench, pgbenchNote, cluster);
            return report.Executions > 0 ? 0 : 1;
        }
        finally
        {
            if (throwaway && !keep && Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
            else if (throwaway) log.WriteLine($"selene bench turns: kept {dataDir}");
        }
    }

    /// <summary>CPU milliseconds per execution of the window from cores busy over it (null without executions).</summary>
    private static double? PerExecutionMs(double cores, LoadReport r) =>
        r.ExecutionsPerSecond > 0 ? Math.Round(cores / r.ExecutionsPerSecond * 1000, 3) : null;

    private static void Print(Settings s, LoadReport r, CpuUsage? cpu, (long Commits, long Rollbacks)? xacts, PgBenchResult? pgbench, string? pgbenchNote,
        JsonObject? cluster)
    {
        double? ratio = pgbench is { Tps: > 0 } p ? r.ExecutionsPerSecond / p.Tps : null;
        if (s.Json)
        {
            var o = new JsonObject
            {
                ["endpoint"] = r.Path,
                ["fell_back_to_simulations"] = r.FellBack,
                ["clients"] = r.Clients,
                ["keys"] = r.Keys,
                ["warmup_seconds"] = r.WarmupSeconds,
                ["measured_seconds"] = r.MeasuredSeconds,
                ["executions"] = r.Executions,
                ["executions_per_second"] = Math.Round(r.ExecutionsPerSecond, 1),
                ["latency_ms"] = new JsonObject
                {
                    ["mean"] = Math.Round(r.Latency.MeanMs, 3), ["p50"] = Math.Round(r.Latency.P50Ms, 3), ["p95"] = Math.Round(r.Latency.P95Ms, 3),
                    ["p99"] = Math.Round(r.Latency.P99Ms, 3), ["max"] = Math.Round(r.Latency.MaxMs, 3),
                },
                ["errors"] = ToJson(r.Errors),
                ["warmup_executions"] = r.WarmupExecutions,
                ["warmup_errors"] = ToJson(r.WarmupErrors),
                ["jit_settled"] = r.JitSettled,
                ["jit_methods_in_window"] = r.JitMethodsInWindow,
            };
            if (cpu is not null)
                o["cpu_cores_busy"] = new JsonObject
                {
                    ["cores"] = cpu.Cores, ["selene_process"] = Math.Round(cpu.SelfCores, 2),
                    ["postgres"] = cpu.PostgresCores is { } pg ? Math.Round(pg, 2) : null, ["machine"] = Math.Round(cpu.MachineBusyCores, 2),
                    ["everything_else"] = Math.Round(cpu.OtherCores, 2),
                    ["selene_ms_per_execution"] = PerExecutionMs(cpu.SelfCores, r),
                    ["postgres_ms_per_execution"] = cpu.PostgresCores is { } pgm ? PerExecutionMs(pgm, r) : null,
                };
            if (xacts is { } x)
                o["database_transactions_per_execution"] = r.Executions > 0 ? Math.Round((double)(x.Commits + x.Rollbacks) / r.Executions, 2) : null;
            if (pgbench is not null)
                o["pgbench"] = new JsonObject
                {
                    ["command"] = pgbench.Command, ["tps"] = Math.Round(pgbench.Tps, 1), ["latency_average_ms"] = pgbench.LatencyAverageMs,
                    ["transactions"] = pgbench.Transactions,
                };
            o["pgbench_note"] = pgbenchNote;
            o["ratio_executions_per_pgbench_tps"] = ratio is { } q ? Math.Round(q, 3) : null;
            if (cluster is not null) o["cluster"] = cluster;
            Console.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"endpoint:    POST {r.Path}{(r.FellBack ? " (fallback: POST /v1/turns answered 404 ROUTE_NOT_FOUND)" : "")}"));
        Console.WriteLine(string.Create(inv, $"load:        {r.Clients} client(s) over {r.Keys} tenant key(s), {r.WarmupSeconds:0} s warmup ({r.WarmupExecutions} executions), {r.MeasuredSeconds:0} s measured"));
        if (r.JitSettled is { } settled)
            Console.WriteLine(string.Create(inv, $"jit:         {(settled ? "settled before the window" : $"still compiling after {LoadDriver.MaxWarmup.TotalSeconds:0} s of warmup")}; {r.JitMethodsInWindow} methods compiled in the window"));
        Console.WriteLine(string.Create(inv, $"executions:  {r.Executions} ({r.ExecutionsPerSecond:0.0}/s)"));
        Console.WriteLine(string.Create(inv, $"latency ms:  mean {r.Latency.MeanMs:0.00}  p50 {r.Latency.P50Ms:0.00}  p95 {r.Latency.P95Ms:0.00}  p99 {r.Latency.P99Ms:0.00}  max {r.Latency.MaxMs:0.00}"));
        Console.WriteLine(r.Errors.Count == 0 ? "errors:      none" : "errors:      " + string.Join(", ", r.Errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key} × {e.Value}")));
        if (r.WarmupErrors.Count > 0)
            Console.WriteLine("warmup errs: " + string.Join(", ", r.WarmupErrors.OrderByDescending(e => e.Value).Select(e => $"{e.Key} × {e.Value}")));
        if (cpu is not null)
            Console.WriteLine(string.Create(inv, $"cpu:         {cpu.MachineBusyCores:0.00} of {cpu.Cores} cores busy; {(cluster is null ? "this process (load clients)" : "selene process (server + load clients)")} {cpu.SelfCores:0.00}") +
                              (cpu.PostgresCores is { } pgc ? string.Create(inv, $", postgres {pgc:0.00}") : "") +
                              string.Create(inv, $", everything else {cpu.OtherCores:0.00}") +
                              (PerExecutionMs(cpu.SelfCores, r) is { } selfMs
                                  ? string.Create(inv, $"; per execution {selfMs:0.00} ms selene") + (cpu.PostgresCores is { } pgx ? string.Create(inv, $", {PerExecutionMs(pgx, r):0.00} ms postgres") : "")
                                  : ""));
        if (xacts is { } t && r.Executions > 0)
            Console.WriteLine(string.Create(inv, $"database:    {(double)(t.Commits + t.Rollbacks) / r.Executions:0.00} transactions per execution ({t.Commits} commits, {t.Rollbacks} rollbacks in the window)"));
        if (pgbench is not null)
        {
            Console.WriteLine(string.Create(inv, $"pgbench:     {pgbench.Tps:0.0} tps (without initial connection time), latency average {pgbench.LatencyAverageMs:0.000} ms; {pgbenchNote}"));
            Console.WriteLine($"             {pgbench.Command}");
        }
        else if (pgbenchNote is not null)
        {
            Console.WriteLine($"pgbench:     {pgbenchNote}");
        }
        if (ratio is { } rr) Console.WriteLine(string.Create(inv, $"ratio:       {rr:0.000} (Selene executions/s ÷ pgbench -N tps)"));
        if (cluster is not null)
            Console.WriteLine("cluster:     " + string.Join(", ", cluster.Select(kv => $"{kv.Key}={kv.Value}")));
    }

    private static JsonObject ToJson(IReadOnlyDictionary<string, long> errors) =>
        new(errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value)));
}
