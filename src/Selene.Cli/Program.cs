using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Selene.Cli;
using Selene.Kernel.Os;
using Selene.Cli.Bench;
using Selene.Postgres;
using Selene.Postgres.Embedded;
using Selene.Postgres.Stores;
using Selene.Runtime;
using Selene.Runtime.Access;
using Selene.Runtime.Os;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Server;

var dataDirOption = new Option<string?>("--data-dir")
{
    Description = "Selene's data directory (default: $SELENE_DATA_DIR, else ~/.local/share/selene; /var/lib/selene for root)",
    Recursive = true,
};

var root = new RootCommand("Selene: a deterministic, fail-closed execution kernel for enterprise AI assistants.");
root.Options.Add(dataDirOption);

// selene serve -------------------------------------------------------------------------------------------
var urlsOption = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
var osDisabledOption = new Option<bool>("--os-disabled")
{
    Description = "Switch the turn gate off: every turn and direct call is answered 503 PH1_OS_NOT_INVOKED_DISABLED",
};
var workerLeaseOption = new Option<int>("--worker-lease")
{
    Description = "Seconds a worker holds an outbox row it claimed (and a work order's lease) before another worker may take it over (1..300)",
    DefaultValueFactory = _ => 60,
    Recursive = true,
};
workerLeaseOption.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() is < 1 or > 300) r.AddError("--worker-lease is 1..300 seconds");
});
var configOption = new Option<string?>("--config")
{
    Description = "A JSON configuration file; its \"deliveries\" section names the delivery providers per channel (docs/deliveries.md). " +
        "Without it every channel is delivered to the file sink under <data dir>/deliveries/",
    Recursive = true,
};
var noMetricsOption = new Option<bool>("--no-metrics") { Description = "Do not serve Prometheus metrics at /metrics (served by default: docs/observability.md)" };
var otlpOption = new Option<string?>("--otlp")
{
    Description = "Export traces and metrics over OTLP/HTTP to this collector base URL (e.g. http://127.0.0.1:4318); off by default",
};
var serve = new Command("serve", "Run the HTTP server on the embedded PostgreSQL (or SELENE_DB)")
{
    urlsOption, osDisabledOption, workerLeaseOption, configOption, noMetricsOption, otlpOption,
};
serve.SetAction(async (parse, ct) =>
{
    var started = Stopwatch.StartNew();
    if (!Cli.TryDeliveries(parse.GetValue(configOption), parse.GetValue(dataDirOption), out var deliveries, out var problem))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, problem);
    Uri? otlp = null;
    if (parse.GetValue(otlpOption) is { } otlpText &&
        (!Uri.TryCreate(otlpText, UriKind.Absolute, out otlp) || otlp.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(otlp.Query)))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "--otlp must be an http:// or https:// URL without a query (the collector's base URL)");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    // An expired break-glass window's login is refused by the trigger anyway; starting takes its role back too.
    BreakGlassCommand.PrintSwept(await new BreakGlass(db).SweepAsync(UnixNanos.FromDateTimeOffset(TimeProvider.System.GetUtcNow()).Value, ct));
    await using var app = SeleneApp.Build(db, new ServerOptions(parse.GetValue(urlsOption)!, OsEnabled: !parse.GetValue(osDisabledOption),
        WorkerLease: TimeSpan.FromSeconds(parse.GetValue(workerLeaseOption)), Deliveries: deliveries,
        LinkKey: Selene.Runtime.Link.LinkKey.LoadOrCreate(Cli.DataDir(parse.GetValue(dataDirOption))), Metrics: !parse.GetValue(noMetricsOption), Otlp: otlp));
    await app.StartAsync(ct);
    Console.WriteLine($"Selene is listening on {string.Join(", ", app.Urls)} ({Cli.Describe(db)}); ready in {started.Elapsed.TotalSeconds:0.0} s. Ctrl+C stops it.");
    await app.WaitForShutdownAsync(ct);
    if (SeleneApp.Supervisor(app) is { GaveUp: true })
        return Cli.Fail(ReasonCodes.StorageEmbeddedRestartGaveUp, "the embedded PostgreSQL died and did not start again; see the log above and " +
            $"{db.Cluster?.LogFile}, then `selene db start` and start selene serve again");
    return 0;
});
root.Subcommands.Add(serve);

// selene worker -----------------------------------------------------------------------------------------
var worker = new Command("worker", "Run only the background workers (the outbox worker) against the same database as `selene serve`; Ctrl+C stops it")
{
    workerLeaseOption, configOption,
};
worker.SetAction(async (parse, ct) =>
{
    if (!Cli.TryDeliveries(parse.GetValue(configOption), parse.GetValue(dataDirOption), out var deliveries, out var problem))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, problem);
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var services = HandoffServices.None.With(deliveries!).With(Selene.Runtime.Link.LinkKey.LoadOrCreate(Cli.DataDir(parse.GetValue(dataDirOption))));
    var turns = new TurnExecutor(db, SimulationRegistry.Default, SeleneCatalog.Default, TimeProvider.System, services: services);
    var outbox = new OutboxWorker(db, new SimulationExecutor(turns), TimeProvider.System,
        new OutboxWorkerOptions(OutboxWorkerOptions.DefaultOwner(), LeaseDuration: TimeSpan.FromSeconds(parse.GetValue(workerLeaseOption)),
            Services: services));
    Console.WriteLine($"Selene worker running ({Cli.Describe(db)}); outbox event types consumed: " +
        (EngineModules.Handoffs.Count == 0 ? "none" : string.Join(", ", EngineModules.Handoffs.Select(h => h.EventType))) + ". Ctrl+C stops it.");
    // SIGTERM (a service manager, `kill`) stops the loop like Ctrl+C does, so the database is let go in order.
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        stop.Cancel();
    });
    await outbox.RunAsync(stop.Token, ex => Console.Error.WriteLine($"selene worker: a pass failed ({ex.GetType().Name}: {ex.Message}); the next pass tries again"));
    Console.WriteLine("Selene worker stopped.");
    return 0;
});
root.Subcommands.Add(worker);

// selene keys create --------------------------------------------------------------------------------------
var tenantOption = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
var userOption = new Option<string>("--user") { Description = "User id", Required = true };
var keysCreate = new Command("create", "Create an API key for an existing user of an existing tenant; the key is printed once and stored only as a hash") { tenantOption, userOption };
keysCreate.SetAction(async (parse, ct) =>
{
    var tenant = parse.GetValue(tenantOption)!;
    var user = parse.GetValue(userOption)!;
    if (!TenantId.IsValid(tenant) || !UserId.IsValid(user))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant and user ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var key = await KeyStore.CreateKeyAsync(db, new TenantId(tenant), new UserId(user), UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow).Value, ct);
    if (key is null)
        return Cli.Fail(ReasonCodes.IdentityUnknown,
            $"no active user {user} in tenant {tenant}: create the tenant with `selene tenant create`, and users with ACCESS_INSTANCE_UPSERT_COMMIT");
    Console.WriteLine(key);
    return 0;
});
root.Subcommands.Add(new Command("keys", "API keys") { keysCreate });

// selene tenant create ------------------------------------------------------------------------------------
var adminOption = new Option<string>("--admin") { Description = "User id of the tenant's first administrator", Required = true };
var platformOperatorOption = new Option<bool>("--platform-operator") { Description = "The tenant is a platform operator: its administrators may write GLOBAL access profiles" };
var tenantCreate = new Command("create", "Create a tenant, its first administrator (ACTIVE access instance with full authority) and an API key")
{
    tenantOption, adminOption, platformOperatorOption,
};
tenantCreate.SetAction(async (parse, ct) =>
{
    var tenant = parse.GetValue(tenantOption)!;
    var admin = parse.GetValue(adminOption)!;
    if (!TenantId.IsValid(tenant) || !UserId.IsValid(admin))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant and user ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var created = await new TenantBootstrap(db, TimeProvider.System).CreateAsync(new TenantId(tenant), new UserId(admin), ct,
        parse.GetValue(platformOperatorOption));
    if (!created.Created) return Cli.Fail(created.Reason, $"tenant {tenant} exists already");
    Console.WriteLine(created.AdminKey);
    return 0;
});
root.Subcommands.Add(new Command("tenant", "Tenants") { tenantCreate });

// selene access check ---------------------------------------------------------------------------------------
var checkTenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
var actionOption = new Option<string>("--action") { Description = "The requested_action, e.g. CAPREQ_MANAGE", Required = true };
var modeOption = new Option<string>("--mode") { Description = "R | W | A | X", DefaultValueFactory = _ => "A" };
modeOption.AcceptOnlyFromAmong("R", "W", "A", "X");
var accessCheck = new Command("check", "Print the ACCESS gate's decision for a user and an action, with its reason code and the rule that decided") { checkTenant, userOption, actionOption, modeOption };
accessCheck.SetAction(async (parse, ct) =>
{
    var tenant = parse.GetValue(checkTenant)!;
    var user = parse.GetValue(userOption)!;
    if (!TenantId.IsValid(tenant) || !UserId.IsValid(user))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant and user ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var decision = await new AccessCheck(db, TimeProvider.System).CheckAsync(new TenantId(tenant), new UserId(user), parse.GetValue(actionOption)!,
        WireNames.Parse<AccessMode>(parse.GetValue(modeOption)!), ct: ct);
    Console.WriteLine($"{WireNames.Of(decision.Decision)} {decision.Reason.Name} (step {decision.Step}: {decision.Rule})" +
        (decision.EffectiveMode is { } mode ? $"; effective mode {mode}" : "") +
        (decision.RestrictionFlags.Count > 0 ? $"; flags {string.Join(",", decision.RestrictionFlags.Select(WireNames.Of))}" : "") +
        (decision.Trigger is { } trigger ? $"; escalation {WireNames.Of(trigger)}" : ""));
    return 0;
});
root.Subcommands.Add(new Command("access", "The access gate") { accessCheck });

// selene db status | url | start | stop --------------------------------------------------------------------
var dbStatus = new Command("status", "Show the embedded cluster's state and applied migrations");
dbStatus.SetAction(async (parse, ct) =>
{
    if (Cli.ExternalDatabase is not null)
    {
        Console.WriteLine("database: SELENE_DB (external server)");
        return 0;
    }
    var cluster = new EmbeddedCluster(new EmbeddedClusterOptions(Cli.DataDir(parse.GetValue(dataDirOption))));
    var running = await cluster.IsRunningAsync(ct);
    Console.WriteLine($"data directory: {cluster.DataDir}");
    Console.WriteLine($"server binaries: {cluster.BinDir}");
    Console.WriteLine($"cluster: {(cluster.IsInitialized ? running ? "running" : "stopped" : "not created yet")}");
    Console.WriteLine($"socket: {cluster.SocketDir} (unix socket only, port {EmbeddedCluster.Port})");
    if (running)
    {
        await using var db = SeleneDatabase.Attach(cluster, "selene");
        foreach (var (version, name, checksum) in await Migrator.AppliedAsync(db.Owner, ct))
            Console.WriteLine($"migration {version:0000} {name} {checksum[..12]}");
    }
    return 0;
});
var roleOption = new Option<string>("--role") { Description = "owner | app | reader", DefaultValueFactory = _ => "owner" };
roleOption.AcceptOnlyFromAmong("owner", "app", "reader");
var dbUrl = new Command("url", "Print a libpq connection string (psql accepts it); a stopped cluster is started and left running until `selene db stop`") { roleOption };
dbUrl.SetAction(async (parse, ct) =>
{
    if (Cli.ExternalDatabase is not null)
    {
        Console.WriteLine(Cli.ExternalDatabase);
        return 0;
    }
    var role = "selene_" + parse.GetValue(roleOption);
    var cluster = new EmbeddedCluster(new EmbeddedClusterOptions(Cli.DataDir(parse.GetValue(dataDirOption))));
    if (await cluster.IsRunningAsync(ct))
    {
        Console.WriteLine(cluster.LibpqConnectionString(role)); // running: its lifetime stays as it is
        return 0;
    }
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: false, ct);
    Console.WriteLine(db.Cluster!.LibpqConnectionString(role));
    return 0;
});
var dbStart = new Command("start", "Start the embedded cluster and leave it running until `selene db stop`");
dbStart.SetAction(async (parse, ct) =>
{
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: false, ct);
    Console.WriteLine($"embedded PostgreSQL running at {db.Cluster?.SocketDir}");
    return 0;
});
var dbStop = new Command("stop", "Stop the embedded cluster");
dbStop.SetAction(async (parse, ct) =>
{
    var cluster = new EmbeddedCluster(new EmbeddedClusterOptions(Cli.DataDir(parse.GetValue(dataDirOption))));
    await cluster.StopAsync(ct);
    Console.WriteLine("embedded PostgreSQL stopped");
    return 0;
});
root.Subcommands.Add(new Command("db", "The embedded database") { dbStatus, dbUrl, dbStart, dbStop });

// selene rebuild [--engine E] [--tenant T] [--apply]; selene capreq rebuild [--check] (the older alias) -------
var onlyTenant = new Option<string?>("--tenant") { Description = "Only this tenant" };
var onlyEngine = new Option<string?>("--engine") { Description = "Only this engine (capreq, PH1.CAPREQ, …)" };
var applyOption = new Option<bool>("--apply") { Description = "Replace the live projection with the rebuilt one" };
var checkOnly = new Option<bool>("--check") { Description = "Compare only; do not replace the live projection" };

async Task<int> RebuildAsync(string? dataDir, string? engine, string? tenant, bool apply, CancellationToken ct)
{
    if (engine is not null && !EngineModules.All.Any(m => m.IsNamed(engine)))
    {
        Console.Error.WriteLine($"unknown engine '{engine}'; engines: {string.Join(", ", EngineModules.All.Select(m => m.Name))}");
        return 2;
    }
    await using var db = await Cli.OpenAsync(dataDir, register: true, ct);
    var reports = await new Maintenance(db, TimeProvider.System).RebuildAsync(engine, tenant, apply, ct);
    foreach (var r in reports)
    {
        Console.WriteLine($"{r.Engine} tenant {r.TenantId}: {r.Rows} rows of {r.Store}_current from {r.LedgerEvents} ledger events; " +
            (r.Identical ? "identical to the live projection" : $"differs from the live projection in {string.Join(", ", r.Differences)}") +
            (r.Applied ? "; projection replaced" : ""));
    }
    Console.WriteLine($"{reports.Count} projection(s) rebuilt{(apply ? " and replaced" : ", compared only (--apply replaces)")}");
    return !apply && reports.Any(r => !r.Identical) ? 1 : 0;
}

var rebuildAll = new Command("rebuild", "Rebuild every engine's projections from their ledgers and compare them with the live ones; --apply replaces them")
    { onlyEngine, onlyTenant, applyOption };
rebuildAll.SetAction((parse, ct) => RebuildAsync(parse.GetValue(dataDirOption), parse.GetValue(onlyEngine), parse.GetValue(onlyTenant), parse.GetValue(applyOption), ct));
root.Subcommands.Add(rebuildAll);
var rebuild = new Command("rebuild", "Alias of `selene rebuild --engine capreq --apply` (`--check` compares only)") { onlyTenant, checkOnly };
rebuild.SetAction((parse, ct) => RebuildAsync(parse.GetValue(dataDirOption), "capreq", parse.GetValue(onlyTenant), !parse.GetValue(checkOnly), ct));
root.Subcommands.Add(new Command("capreq", "Capability requests") { rebuild });

// selene audit verify | keygen | checkpoint -----------------------------------------------------------------
var checkpointsOption = new Option<string?>("--checkpoints") { Description = "Hold each chain against the signed head checkpoints in this file (needs --public-key)" };
var publicKeyOption = new Option<string?>("--public-key") { Description = "The PEM public key the checkpoints are verified with" };
var verify = new Command("verify",
    "Walk every tenant's journal hash chain and the ledger rows it binds, optionally against signed head checkpoints; without --tenant also every " +
    "break-glass window and the break-glass chain; report the first broken link")
    { onlyTenant, checkpointsOption, publicKeyOption };
verify.SetAction(async (parse, ct) =>
{
    var checkpointsPath = parse.GetValue(checkpointsOption);
    var publicKeyPath = parse.GetValue(publicKeyOption);
    if ((checkpointsPath is null) != (publicKeyPath is null))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "--checkpoints and --public-key come together");
    var checkpoints = new List<HeadCheckpoint>();
    if (checkpointsPath is not null)
    {
        using var key = Cli.ReadKeyFile(publicKeyPath!, requirePrivate: false, out var keyProblem);
        if (key is null) return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--public-key {publicKeyPath}: {keyProblem}");
        if (!File.Exists(checkpointsPath)) return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--checkpoints {checkpointsPath}: no such file");
        var lineNo = 0;
        foreach (var line in await File.ReadAllLinesAsync(checkpointsPath, ct))
        {
            lineNo++;
            if (line.Length == 0) continue;
            if (AuditCheckpoints.Read(line, key, out var lineProblem) is not { } checkpoint)
            {
                Console.WriteLine($"checkpoint {checkpointsPath}:{lineNo}: {lineProblem} ({ReasonCodes.JournalChainBroken.Name})");
                return 1;
            }
            checkpoints.Add(checkpoint);
        }
    }
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var reports = await new Maintenance(db, TimeProvider.System).VerifyJournalAsync(parse.GetValue(onlyTenant), ct, checkpoints);
    var intact = Cli.PrintAudit(reports) == 0;
    // Break-glass belongs to the database, not to a tenant: it is reported when every tenant is (docs/breakglass.md).
    var breakGlassIntact = parse.GetValue(onlyTenant) is not null || BreakGlassCommand.PrintReport(await new BreakGlass(db).VerifyAsync(ct));
    return intact && breakGlassIntact ? 0 : 1;
});

var privateKeyOption = new Option<string>("--private-key") { Description = "The PEM private key file", Required = true };
var publicKeyOutOption = new Option<string>("--public-key") { Description = "Where to write the PEM public key", Required = true };
var keygen = new Command("keygen", "Make an ECDSA P-256 key pair for signing head checkpoints (keep the private key outside the database's machine)")
    { privateKeyOption, publicKeyOutOption };
keygen.SetAction(async (parse, ct) =>
{
    var privatePath = parse.GetValue(privateKeyOption)!;
    var publicPath = parse.GetValue(publicKeyOutOption)!;
    if (File.Exists(privatePath) || File.Exists(publicPath))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, $"{(File.Exists(privatePath) ? privatePath : publicPath)} exists; keygen never overwrites a key");
    var (privatePem, publicPem) = AuditCheckpoints.NewKeyPair();
    var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
    if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    await using (var writer = new StreamWriter(new FileStream(privatePath, options)))
        await writer.WriteAsync(privatePem);
    await File.WriteAllTextAsync(publicPath, publicPem, ct);
    Console.WriteLine($"wrote the private key {privatePath} (mode 0600) and the public key {publicPath}");
    return 0;
});

var checkpointOutOption = new Option<string>("--out") { Description = "The checkpoint file to append to (one signed JSON line per tenant)", Required = true };
var checkpoint = new Command("checkpoint",
    "Verify every chain, then sign its head (tenant, seq, head hash, time) and append the checkpoints to a file kept outside the database")
    { onlyTenant, privateKeyOption, checkpointOutOption };
checkpoint.SetAction(async (parse, ct) =>
{
    using var key = Cli.ReadKeyFile(parse.GetValue(privateKeyOption)!, requirePrivate: true, out var keyProblem);
    if (key is null) return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--private-key {parse.GetValue(privateKeyOption)}: {keyProblem}");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var (checkpoints, reports) = await new Maintenance(db, TimeProvider.System).CheckpointAsync(parse.GetValue(onlyTenant), ct);
    var outPath = parse.GetValue(checkpointOutOption)!;
    await File.AppendAllLinesAsync(outPath, checkpoints.Select(c => AuditCheckpoints.Sign(c, key)), ct);
    foreach (var c in checkpoints) Console.WriteLine($"tenant {c.TenantId}: head seq {c.Seq} {c.HeadHash} signed");
    foreach (var r in reports.Where(r => !r.Intact))
        Console.WriteLine($"tenant {r.TenantId}: BROKEN ({r.Break!.Why}); not checkpointed ({ReasonCodes.JournalChainBroken.Name})");
    Console.WriteLine($"audit checkpoint: {checkpoints.Count} head(s) appended to {outPath} with key {AuditCheckpoints.KeyId(key)}");
    return reports.All(r => r.Intact) ? 0 : 1;
});
root.Subcommands.Add(new Command("audit", "The audit journal") { verify, keygen, checkpoint });

// selene replay --tenant T --correlation C [--json] ----------------------------------------------------------------------
var replayTenant = new Option<string>("--tenant") { Description = "The tenant whose journal holds the correlation", Required = true };
var replayCorrelation = new Option<string>("--correlation") { Description = "The correlation id (a turn's correlation_id)", Required = true };
var replayJson = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
var replay = new Command("replay",
    "Decide one correlation again from what was recorded (each turn's gate input, each engine decision's inputs), writing nothing; exit 1 at the first step that does not reproduce")
    { replayTenant, replayCorrelation, replayJson };
replay.SetAction(async (parse, ct) =>
{
    var tenantText = parse.GetValue(replayTenant)!;
    var correlationText = parse.GetValue(replayCorrelation)!;
    if (!IdRules.IsValidName(tenantText)) return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--tenant '{IdRules.Shorten(tenantText)}' is not a tenant id");
    if (!CorrelationId.TryParse(correlationText, out var correlation))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--correlation '{IdRules.Shorten(correlationText)}' is not a correlation id (a decimal number > 0)");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var report = await new Replayer(db, SimulationRegistry.Default).ReplayAsync(new TenantId(tenantText), correlation, ct);
    if (report.Steps.Count == 0)
        return Cli.Fail(ReasonCodes.InputFieldInvalid, $"tenant {tenantText} has no journal entry of correlation {correlation}");
    Cli.PrintReplay(report, parse.GetValue(replayJson));
    return report.FirstDivergence is null ? 0 : 1;
});
root.Subcommands.Add(replay);

// selene review utility -----------------------------------------------------------------------------------
var dayOption = new Option<string>("--day") { Description = "The UTC day to review, YYYY-MM-DD", Required = true };
var jsonOption = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
var reviewUtility = new Command("utility",
    "Run the PH1.OS optional-engine utility review (GATE-U4/GATE-U5) for a day: one row per tenant and TURN_OPTIONAL engine with outcome rows")
{
    dayOption, onlyTenant, jsonOption,
};
reviewUtility.SetAction(async (parse, ct) =>
{
    var dayText = parse.GetValue(dayOption)!;
    if (!DateOnly.TryParseExact(dayText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--day must be a calendar date YYYY-MM-DD, not '{IdRules.Shorten(dayText)}'");
    var tenant = parse.GetValue(onlyTenant);
    if (tenant is not null && !TenantId.IsValid(tenant))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var runs = await new UtilityReviewRunner(db, TimeProvider.System).RunAsync(tenant, day, ct);
    var rows = runs.SelectMany(run => run.Reviews.Select(r => (run.TenantId, r.Result))).ToArray();
    var backfilled = runs.Sum(run => run.Backfilled.Count);
    var dayName = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    if (parse.GetValue(jsonOption))
    {
        var reviews = new JsonArray(rows.Select(row => (JsonNode)new JsonObject
        {
            ["tenant_id"] = row.TenantId,
            ["engine_id"] = row.Result.EngineId,
            ["tier"] = WireNames.Of(row.Result.Tier),
            ["entries"] = row.Result.Metrics.Entries,
            ["decision_delta_rate_bps"] = row.Result.Metrics.DecisionDeltaRateBps,
            ["queue_learn_conversion_rate_bps"] = row.Result.Metrics.QueueLearnConversionRateBps,
            ["no_value_rate_bps"] = row.Result.Metrics.NoValueRateBps,
            ["latency_p95_ms"] = row.Result.Metrics.LatencyP95Ms,
            ["latency_p99_ms"] = row.Result.Metrics.LatencyP99Ms,
            ["gate_u4_pass"] = row.Result.GateU4Pass,
            ["gate_u5_triggered"] = row.Result.GateU5Triggered,
            ["action"] = WireNames.Of(row.Result.Action),
            ["fail_streak_days"] = row.Result.FailStreakDays,
            ["thresholds_version"] = row.Result.ThresholdsVersion,
        }).ToArray());
        Console.WriteLine(new JsonObject
        {
            ["day"] = dayName,
            ["tenants"] = runs.Count,
            ["backfilled_reviews"] = backfilled,
            ["reviews"] = reviews,
        }.ToJsonString());
        return 0;
    }
    string[] header = ["TENANT", "ENGINE", "ENTRIES", "DECISION_DELTA_BPS", "QUEUE_LEARN_CONV_BPS", "NO_VALUE_BPS", "P95_MS", "P99_MS", "U4", "ACTION", "FAIL_STREAK"];
    var table = rows.Select(row => new[]
    {
        row.TenantId, row.Result.EngineId, Invariant(row.Result.Metrics.Entries), Invariant(row.Result.Metrics.DecisionDeltaRateBps),
        Invariant(row.Result.Metrics.QueueLearnConversionRateBps), Invariant(row.Result.Metrics.NoValueRateBps),
        Invariant(row.Result.Metrics.LatencyP95Ms), Invariant(row.Result.Metrics.LatencyP99Ms), row.Result.GateU4Pass ? "PASS" : "FAIL",
        WireNames.Of(row.Result.Action), Invariant(row.Result.FailStreakDays),
    }).Prepend(header).ToArray();
    if (rows.Length > 0)
    {
        var widths = header.Select((_, c) => table.Max(line => line[c].Length)).ToArray();
        foreach (var line in table) Console.WriteLine(string.Join("  ", line.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
    }
    Console.WriteLine($"review utility {dayName}: {rows.Length} engine review(s) in {runs.Count} tenant(s); {backfilled} earlier day review(s) run first " +
        $"({UtilityThresholds.MvpV1.Version})");
    return 0;

    static string Invariant<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
});
root.Subcommands.Add(new Command("review", "Reviews") { reviewUtility });
// selene outbox list | retry -------------------------------------------------------------------------------
var stateOption = new Option<string?>("--state") { Description = "Only rows in this state: PENDING | SENT | CONFIRMED | FAILED | DEAD_LETTER" };
var outboxJson = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
var outboxList = new Command("list", "List outbox handoffs (every tenant's, or --tenant's) with status, attempts, next attempt and last error")
{
    onlyTenant, stateOption, outboxJson,
};
outboxList.SetAction(async (parse, ct) =>
{
    var tenant = parse.GetValue(onlyTenant);
    if (tenant is not null && !TenantId.IsValid(tenant))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    var state = parse.GetValue(stateOption);
    if (state is not null && !OutboxStatus.All.Contains(state, StringComparer.Ordinal))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--state must be one of {string.Join(", ", OutboxStatus.All)}");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var rows = await new OutboxOperations(db, TimeProvider.System).ListAsync(tenant is null ? null : new TenantId(tenant), state, ct);
    if (parse.GetValue(outboxJson))
    {
        Console.WriteLine(new JsonObject { ["outbox"] = new JsonArray(rows.Select(r => (JsonNode)OutboxOperations.ToJson(r)).ToArray()) }.ToJsonString());
        return 0;
    }
    string[] header = ["TENANT", "ID", "EVENT_TYPE", "STATUS", "ATTEMPTS", "NEXT_ATTEMPT_AT", "LAST_ERROR", "ERROR_CLASS", "ACTOR", "LEASE_OWNER", "LEASE_EXPIRES_AT"];
    var table = rows.Select(r => new[]
    {
        r.TenantId, r.OutboxId.ToString(CultureInfo.InvariantCulture), r.EventType, r.Status, r.AttemptCount.ToString(CultureInfo.InvariantCulture),
        new UnixNanos(r.NextAttemptAt).ToString(), r.LastErrorReasonCode ?? "-", OutboxOperations.LastErrorClass(r) ?? "-", r.ActorUserId ?? "-", r.LeaseOwner ?? "-",
        r.LeaseExpiresAt is { } expires ? new UnixNanos(expires).ToString() : "-",
    }).ToArray();
    Cli.PrintTable(header, table);
    Console.WriteLine($"outbox list: {rows.Count} row(s)");
    return 0;
});
var retryTenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
var outboxIdArgument = new Argument<string>("ID") { Description = "The outbox id of a DEAD_LETTER row (selene outbox list --state DEAD_LETTER)" };
var outboxRetry = new Command("retry", "Re-drive one DEAD_LETTER handoff once: back to PENDING, due now, journaled (OUTBOX_REDRIVEN)") { outboxIdArgument, retryTenant };
outboxRetry.SetAction(async (parse, ct) =>
{
    var tenant = parse.GetValue(retryTenant)!;
    if (!TenantId.IsValid(tenant))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    var idText = parse.GetValue(outboxIdArgument)!;
    if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
        return Cli.Fail(ReasonCodes.InputFieldInvalid, $"ID must be an outbox id (a positive number), not '{IdRules.Shorten(idText)}'");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var redrive = await new OutboxOperations(db, TimeProvider.System).RedriveAsync(new TenantId(tenant), id, ct);
    if (!redrive.Succeeded) return Cli.Fail(redrive.Reason, redrive.Detail);
    Console.WriteLine($"{redrive.Reason.Name}: {redrive.Detail}");
    return 0;
});
root.Subcommands.Add(new Command("outbox", "Outbox handoffs: what is pending, failing or dead-lettered, and re-driving it") { outboxList, outboxRetry });

// selene deliveries ----------------------------------------------------------------------------------------
var deliveriesJson = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
var deliveriesBroadcast = new Option<string?>("--broadcast") { Description = "Only the deliveries of this broadcast (bcast_<16 hex>)" };
var deliveries = new Command("deliveries", "What was sent where, with proofs: every tenant's delivery attempts (or --tenant's), oldest first")
{
    onlyTenant, deliveriesBroadcast, deliveriesJson,
};
deliveries.SetAction(async (parse, ct) =>
{
    var tenant = parse.GetValue(onlyTenant);
    if (tenant is not null && !TenantId.IsValid(tenant))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
    var broadcast = parse.GetValue(deliveriesBroadcast);
    if (broadcast is not null && !Selene.Engines.Bcast.BcastIds.IsWellFormed(broadcast))
        return Cli.Fail(ReasonCodes.InputFieldInvalid, "--broadcast must look like bcast_<16 hex>");
    await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
    var items = await Selene.Runtime.Delivery.DeliveryListing.ListAsync(db, tenant is null ? null : new TenantId(tenant), broadcast, ct);
    if (parse.GetValue(deliveriesJson))
    {
        Console.WriteLine(new JsonObject { ["deliveries"] = new JsonArray(items.Select(i => (JsonNode)i.DeepClone()).ToArray()) }.ToJsonString());
        return 0;
    }
    string[] header = ["TENANT", "AT", "ENGINE", "ID", "CHANNEL", "TO", "STATUS", "REASON", "PROVIDER", "PROOF"];
    var table = items.Select(i => header.Select(h => i[Selene.Runtime.Delivery.DeliveryListing.Column(h)]?.ToString() is { Length: > 0 } text ? text : "-").ToArray())
        .Prepend(header).ToArray();
    if (items.Count > 0)
    {
        var widths = header.Select((_, c) => table.Max(line => line[c].Length)).ToArray();
        foreach (var line in table) Console.WriteLine(string.Join("  ", line.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
    }
    Console.WriteLine($"deliveries: {items.Count} delivery(ies)");
    return 0;
});
root.Subcommands.Add(deliveries);

// selene bench turns --------------------------------------------------------------------------------------
root.Subcommands.Add(BenchCommand.Create(dataDirOption));
root.Subcommands.Add(Selene.Cli.Demo.DemoCommand.Create(dataDirOption));
// selene chaos ---------------------------------------------------------------------------------------------
root.Subcommands.Add(Selene.Cli.Chaos.ChaosCommand.Create(dataDirOption));
// selene gov … --------------------------------------------------------------------------------------------
root.Subcommands.Add(GovCommand.Create(dataDirOption));

root.Subcommands.Add(LearnCommand.Create(dataDirOption));
// selene invite link ---------------------------------------------------------------------------------------
root.Subcommands.Add(InviteCommand.Create(dataDirOption));
// selene breakglass open | close ---------------------------------------------------------------------------
root.Subcommands.Add(BreakGlassCommand.Create(dataDirOption));

try
{
    return await root.Parse(args).InvokeAsync();
}
catch (EmbeddedClusterException ex)
{
    return Cli.Fail(ReasonCodes.StorageUnavailable, ex.Message);
}
catch (MigrationChecksumException ex)
{
    return Cli.Fail(ReasonCodes.StorageMigrationChecksumMismatch, ex.Message);
}
