using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Selene.Postgres;
using Selene.Postgres.Embedded;
using Selene.Runtime;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Kernel.Os;

namespace Selene.Server;

/// <summary>Settings of the HTTP server.</summary>
/// <param name="Urls">Where to listen (default http://127.0.0.1:5080).</param>
/// <param name="MaxBodyBytes">Largest accepted request body.</param>
/// <param name="OsEnabled">False switches the orchestration gate off: every turn (and direct call) is answered 503 PH1_OS_NOT_INVOKED_DISABLED.</param>
/// <param name="Workers">Run the outbox worker in the server's host (<see cref="OutboxWorker"/>), on the server's clock.</param>
/// <param name="WorkerLease">How long the worker holds a claimed row and a work order's lease (default 1 minute).</param>
/// <param name="Deliveries">The delivery providers the worker sends through (default: the file sink under the embedded cluster's data directory).</param>
/// <param name="LinkKey">The key invite secrets are derived with (default: the one kept in the embedded cluster's data directory; none without one).</param>
/// <param name="Metrics">Serve Prometheus text at <c>/metrics</c> (default on; docs/observability.md).</param>
/// <param name="Otlp">The base URL of an OTLP/HTTP collector (traces to <c>/v1/traces</c>, metrics to <c>/v1/metrics</c>); no export when null.</param>
/// <param name="Supervision">How the embedded cluster is watched and restarted after a crash (default
/// <see cref="DatabaseSupervisorOptions.Default"/>); only when the database is the embedded cluster, never for SELENE_DB.</param>
public sealed record ServerOptions(string Urls = "http://127.0.0.1:5080", int MaxBodyBytes = 64 * 1024, bool OsEnabled = true, bool Workers = true,
    TimeSpan? WorkerLease = null, Selene.Runtime.Delivery.DeliveryProviders? Deliveries = null, Selene.Runtime.Link.LinkKey? LinkKey = null,
    bool Metrics = true, Uri? Otlp = null, DatabaseSupervisorOptions? Supervision = null);

/// <summary>The server's one supervisor (none without an embedded cluster), shared by the hosted service and <see cref="SeleneApp.Supervisor"/>.</summary>
internal sealed record DatabaseSupervisorHandle(DatabaseSupervisor? Supervisor);

/// <summary>The caller behind a request, established from its API key.</summary>
public sealed record Caller(TenantId Tenant, UserId User);

/// <summary>
/// Selene's HTTP doors (ARCHITECTURE.md §8): minimal APIs, strict JSON in, canonical JSON out, every success
/// with a <c>reason_code</c> and every error a problem detail with one.
/// </summary>
public static class SeleneApp
{
    private const string CallerItem = "selene.caller";
    private const string KeyItem = "selene.api_key";

    /// <summary>
    /// Endpoint metadata: the endpoint hands the caller's <see cref="ApiKeyCheck"/> to the executor, whose first batch checks
    /// the key, so <see cref="Authenticate"/> may take the key from <see cref="ApiKeys"/>' memory without a round trip.
    /// </summary>
    private sealed class KeyCheckedInTransaction
    {
        public static readonly KeyCheckedInTransaction Instance = new();
    }

    /// <summary>
    /// What the server gives the runtime beyond the database: the delivery providers for the worker's stages (the file sink
    /// by default) and the link key for LINK's simulations and reads (the data directory's by default); each is left out
    /// without a data directory unless given.
    /// </summary>
    private static HandoffServices RuntimeServices(SeleneDatabase db, ServerOptions options)
    {
        var services = HandoffServices.None;
        if ((options.Deliveries ?? (db.Cluster is { } cluster ? Selene.Runtime.Delivery.DeliveryProviders.FileSinkOnly(cluster.DataDir) : null)) is { } deliveries)
            services = services.With(deliveries);
        if ((options.LinkKey ?? (db.Cluster is { } c ? Selene.Runtime.Link.LinkKey.LoadOrCreate(c.DataDir) : null)) is { } linkKey)
            services = services.With(linkKey);
        return services;
    }

    /// <summary>
    /// The supervisor of the embedded cluster this server runs on (null with SELENE_DB): its restarts so far, and whether it
    /// gave up (then the host has stopped, and <c>selene serve</c> exits reason-coded).
    /// </summary>
    public static DatabaseSupervisor? Supervisor(WebApplication app) => app.Services.GetRequiredService<DatabaseSupervisorHandle>().Supervisor;

    /// <param name="clock">The server's clock (default <see cref="TimeProvider.System"/>): every timestamp the server and the
    /// runtime write comes from it, so a host (or a test on a fake clock) decides what "now" is.</param>
    public static WebApplication Build(SeleneDatabase db, ServerOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Kestrel's own cap sits above ours so that an oversized body still gets a reason-coded answer.
            k.Limits.MaxRequestBodySize = Math.Max(options.MaxBodyBytes * 16L, 1024 * 1024);
            k.AddServerHeader = false;
        });
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        // The console prints no scopes: ASP.NET Core's would print each request's path, and the invitee page's path is its
        // secret. Selene's own lines name the correlation id themselves; structured providers get the request's scope.
        else builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        Telemetry.Add(builder.Services, options);
        builder.Services.AddSingleton(db);
        builder.Services.AddSingleton(new ApiKeys(db));
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(SimulationRegistry.Default);
        var services = RuntimeServices(db, options);
        builder.Services.AddSingleton(services);
        var turns = new TurnExecutor(db, SimulationRegistry.Default, SeleneCatalog.Default, clock, OsConfig.Mvp with { OsEnabled = options.OsEnabled }, services);
        builder.Services.AddSingleton(turns);
        var executor = new SimulationExecutor(turns);
        builder.Services.AddSingleton(executor);
        if (options.Workers) builder.Services.AddHostedService(sp => new OutboxWorkerService(new OutboxWorker(db, executor, clock,
            new OutboxWorkerOptions(OutboxWorkerOptions.DefaultOwner(), LeaseDuration: options.WorkerLease, Services: services)),
            sp.GetRequiredService<ILogger<OutboxWorkerService>>()));
        // The embedded cluster Selene started comes back by itself after a crash (issue 15 item 5), on the server's clock.
        builder.Services.AddSingleton(sp => new DatabaseSupervisorHandle(DatabaseSupervisor.For(db, clock,
            (reason, message) => DatabaseSupervisorService.Log(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Selene.Database"), reason, message),
            options.Supervision)));
        if (db.Cluster is not null)
            builder.Services.AddHostedService(sp => new DatabaseSupervisorService(sp.GetRequiredService<DatabaseSupervisorHandle>().Supervisor!,
                sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()));
        builder.Services.AddSingleton(new RefusalJournal(db, clock));
        builder.Services.AddSingleton(options);
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Selene";
            doc.Info.Description = "Deterministic, fail-closed execution kernel. Every success carries reason_code; every error is a problem detail with reason_code.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        app.UseExceptionHandler(handler => handler.Run(HandleException));
        app.UseStatusCodePages(async ctx =>
        {
            var response = ctx.HttpContext.Response;
            if (response.HasStarted || response.ContentLength > 0) return;
            var reason = response.StatusCode switch
            {
                StatusCodes.Status405MethodNotAllowed => ReasonCodes.MethodNotAllowed,
                StatusCodes.Status413PayloadTooLarge => ReasonCodes.InputPayloadTooLarge,
                StatusCodes.Status415UnsupportedMediaType => ReasonCodes.InputMediaTypeUnsupported,
                StatusCodes.Status400BadRequest => ReasonCodes.InputSchemaInvalid,
                _ => ReasonCodes.RouteNotFound,
            };
            await Problems.WriteAsync(ctx.HttpContext, reason, reason == ReasonCodes.RouteNotFound ? "no such route" : "the request was not accepted");
        });
        app.Use(Telemetry.LogScopeAsync);
        app.Use(StorageBoundaryAsync);
        app.Use(Authenticate);

        // MapOpenApi answers any other document name (and ?documentName=…) with a plain-text 404 of its own; only v1
        // exists, so everything else under /openapi is refused here with a reason-coded problem (issue 15 item 8).
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (!path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase))
                await next(context);
            else if (!path.Equals("/openapi/v1.json", StringComparison.OrdinalIgnoreCase))
                await Problems.WriteAsync(context, ReasonCodes.RouteNotFound, "no such route");
            else if (context.Request.Query.Count > 0)
                await Problems.WriteAsync(context, ReasonCodes.QueryParameterInvalid, "the OpenAPI document takes no query parameters");
            else
                await next(context);
        });
        app.MapOpenApi("/openapi/{documentName}.json");
        Telemetry.Map(app, options);
        app.MapGroup("/healthz").WithTags("health").MapGet("", HealthAsync).WithName("Health")
            .Produces<JsonObject>().ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        // Second line of defence: no /v1 endpoint runs without a caller established by Authenticate, and none answers a
        // key the database has not confirmed during the request (ApiKeys: a remembered key the endpoint's transaction did
        // not check is checked here, before the answer is written).
        var v1 = app.MapGroup("/v1").AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            if (!context.Items.ContainsKey(CallerItem)) return Problems.Result(ReasonCodes.AuthKeyMissing, "send Authorization: Bearer <api key>");
            var answer = await next(invocation);
            return await KeyStillValidAsync(context) ? answer : KeyRejected(context);
        })
            // Outcomes every /v1 endpoint shares: no or a bad key, and storage (or the gate) unavailable.
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapGroup("/turns").WithTags("turns").MapPost("", RunTurnAsync).WithMetadata(KeyCheckedInTransaction.Instance)
            .WithName("RunTurn")
            .WithSummary("One turn in, exactly one move out (docs/turns.md). DISPATCH_SIMULATION runs the simulation in the same request.")
            .Accepts<JsonObject>("application/json")
            .Produces<JsonObject>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        v1.MapGroup("/simulations").WithTags("simulations").MapPost("/{simulation_id}", ExecuteSimulationAsync).WithMetadata(KeyCheckedInTransaction.Instance)
            .WithName("ExecuteSimulation")
            .WithSummary("Run one registered simulation. Header Idempotency-Key is required; the body is the simulation's inputs.")
            .Accepts<JsonObject>("application/json")
            .Produces<JsonObject>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        v1.MapGroup("/catalog").WithTags("catalog").MapGet("", (HttpContext context) => context.Request.Query.Count > 0
                ? Problems.Result(ReasonCodes.QueryParameterInvalid, $"unknown query parameter '{IdRules.Shorten(context.Request.Query.Keys.First())}'")
                : Json(CatalogView.ToJson(SeleneCatalog.Default), ReasonCodes.QueryOk)).WithName("GetCatalog")
            .WithSummary("Every simulation (id, owning engine, type, status, requested action, mode, blueprint, idempotency scope, reason codes) and blueprint.")
            .Produces<JsonObject>();
        // Each engine's read routes in a group of its own (tagged with the module's name in the OpenAPI document).
        foreach (var module in EngineModules.All)
        {
            var group = v1.MapGroup("").WithTags(module.Name);
            foreach (var route in module.Routes) MapReadRoute(group, route);
        }
        MapReadRoute(v1.MapGroup("").WithTags("journal"), KernelReads.Journal);
        MapReadRoute(v1.MapGroup("").WithTags("outbox"), OutboxOperations.Route);
        // The invitee's page (HTML, unauthenticated: the invite secret and the browser's device id are the credential).
        Invite.InvitePageEndpoints.Map(app);
        // No MapFallback: a catch-all would outrank routing's own 405 and 415 answers (dotnet/aspnetcore#41060).
        // Unmatched routes, methods and media types end with an empty status that UseStatusCodePages turns into a
        // reason-coded problem.
        return app;
    }

    /// <summary>
    /// Database failures end here, classified once (<see cref="StorageFailures"/>): a reason-coded answer (503 with a
    /// retryable code for an outage, 409 for a duplicate, 400 for a value the database refused) and one log line per
    /// request — no stack trace, so an outage does not flood the log.
    /// </summary>
    private static async Task StorageBoundaryAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (StorageFailures.Classify(ex) is { } failure && !context.Response.HasStarted)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Selene")
                .LogWarning("{Method} {Path} answered {Reason}: storage {Code} (correlation {CorrelationId})", context.Request.Method,
                    Invite.InvitePageEndpoints.LoggedPath(context.Request.Path), failure.Reason.Name, failure.Code, Telemetry.ScopeOf(context).CorrelationId ?? "-");
            context.Response.Clear();
            await Problems.WriteAsync(context, failure.Reason, failure.Detail);
        }
    }

    private static async Task HandleException(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (reason, detail) = error switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (ReasonCodes.InputPayloadTooLarge, "the request body is too large"),
            BadHttpRequestException => (ReasonCodes.InputSchemaInvalid, "the request could not be read"),
            _ => (ReasonCodes.InternalError, "an internal error occurred; it has been logged"),
        };
        if (reason == ReasonCodes.InternalError)
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Selene").LogError(error, "unhandled error");
        await Problems.WriteAsync(context, reason, detail);
    }

    /// <summary>Bearer API keys for everything under /v1; the key decides the tenant and the acting user.</summary>
    private static async Task Authenticate(HttpContext context, RequestDelegate next)
    {
        // Routing matches paths case-insensitively, so this check must too (/V1/… is /v1/…).
        if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            await Problems.WriteAsync(context, ReasonCodes.AuthKeyMissing, "send Authorization: Bearer <api key>");
            return;
        }
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length > 256)
        {
            await Problems.WriteAsync(context, ReasonCodes.AuthKeyInvalid, "the API key is not valid");
            return;
        }
        var keys = context.RequestServices.GetRequiredService<ApiKeys>();
        var inTransaction = context.GetEndpoint()?.Metadata.GetMetadata<KeyCheckedInTransaction>() is not null;
        var check = await keys.AuthenticateAsync(header[scheme.Length..].Trim(), inTransaction, context.RequestAborted);
        if (check is null)
        {
            await Problems.WriteAsync(context, ReasonCodes.AuthKeyInvalid, "the API key is not valid");
            return;
        }
        context.Items[CallerItem] = new Caller(check.Tenant, check.User);
        context.Items[KeyItem] = check;
        Telemetry.ScopeOf(context).TenantId = check.Tenant.Value;
        try
        {
            await next(context);
        }
        catch (ApiKeyRejectedException) when (!context.Response.HasStarted)
        {
            // The executor's first batch found the remembered key revoked: its transaction rolled back, nothing happened.
            context.Response.Clear();
            await KeyRejected(context).ExecuteAsync(context);
        }
    }

    /// <summary>
    /// False when the request's key was taken from memory, no transaction of the request checked it, and the database
    /// does not resolve it now (<see cref="ApiKeys.VerifyAsync"/>). True for a request without a key.
    /// </summary>
    internal static async Task<bool> KeyStillValidAsync(HttpContext context) =>
        context.Items.TryGetValue(KeyItem, out var item) && item is ApiKeyCheck check
            ? await context.RequestServices.GetRequiredService<ApiKeys>().VerifyAsync(check, context.RequestAborted)
            : true;

    /// <summary>
    /// The answer to a remembered key the database no longer resolves: the key is forgotten and the request loses its
    /// caller, so nothing (not even a refusal's trace) is recorded for it.
    /// </summary>
    private static IResult KeyRejected(HttpContext context)
    {
        if (context.Items[KeyItem] is ApiKeyCheck check) context.RequestServices.GetRequiredService<ApiKeys>().Forget(check);
        context.Items.Remove(CallerItem);
        context.Items.Remove(KeyItem);
        return Problems.Result(ReasonCodes.AuthKeyInvalid, "the API key is not valid");
    }

    private static Caller CallerOf(HttpContext context) => (Caller)context.Items[CallerItem]!;

    private static ApiKeyCheck? KeyOf(HttpContext context) => context.Items.TryGetValue(KeyItem, out var item) ? item as ApiKeyCheck : null;

    /// <summary>The caller established by the API key, or null when the request is not authenticated.</summary>
    internal static Caller? AuthenticatedCaller(HttpContext context) => context.Items.TryGetValue(CallerItem, out var caller) ? caller as Caller : null;

    private static async Task<IResult> HealthAsync(SeleneDatabase db, CancellationToken ct)
    {
        await KernelReads.CheckDatabaseAsync(db, ct);
        return Json(new JsonObject { ["status"] = "ok", ["database"] = "ok" }, ReasonCodes.HealthOk);
    }

    private static async Task<IResult> RunTurnAsync(HttpContext context, TurnExecutor turns, ServerOptions options)
    {
        var caller = CallerOf(context);
        var (document, problem) = await ReadJsonAsync(context, options, "the turn");
        if (problem is not null) return problem;
        using (document)
        {
            if (!TurnRequest.TryRead(document!.RootElement, out var turn, out var error))
                return Problems.Result(error!.Reason, error.Detail);
            if (CorrelationId.TryParse(turn!.CorrelationId, out var turnCorrelation)) Telemetry.ScopeOf(context).CorrelationId = turnCorrelation.ToString();
            var result = await turns.RunAsync(caller.Tenant, caller.User, turn!, context.RequestAborted, key: KeyOf(context));
            Answered(context, result.Reason);
            if (result.Kind != TurnOutcomeKind.Decided)
                return Problems.Result(result.Reason, result.Detail ?? result.Reason.Name, result.Correlation == default ? null : result.Correlation.ToString());
            if (result.Execution?.Outcome == ExecutionOutcome.Replayed) context.Response.Headers["Idempotent-Replayed"] = "true";
            return Json(TurnView.ToJson(result), result.Reason);
        }
    }

    private static async Task<IResult> ExecuteSimulationAsync(HttpContext context, string simulation_id, SimulationExecutor executor, ServerOptions options)
    {
        var caller = CallerOf(context);
        var request = context.Request;
        var (document, problem) = await ReadJsonAsync(context, options, "the inputs");
        if (problem is not null) return problem;

        var idempotencyKey = request.Headers["Idempotency-Key"].Count switch
        {
            0 => null,
            1 => request.Headers["Idempotency-Key"][0],
            _ => "\u0000", // several keys: invalid
        };
        var correlation = CorrelationFor(request, caller, simulation_id, idempotencyKey);
        if (correlation is null)
            return Problems.Result(ReasonCodes.InputFieldInvalid, "X-Correlation-Id must be a decimal number between 1 and 2^128-1");
        var turn = TurnFor(request);
        if (turn is null)
            return Problems.Result(ReasonCodes.InputFieldInvalid, "X-Turn-Id must be a decimal number between 1 and 2^63-1");

        Telemetry.ScopeOf(context).CorrelationId = correlation.Value.ToString();
        using (document)
        {
            var result = await executor.ExecuteAsync(new ExecutionRequest(caller.Tenant, caller.User, simulation_id, idempotencyKey,
                document!.RootElement, correlation.Value, turn.Value), context.RequestAborted, key: KeyOf(context));
            Answered(context, result.Reason);
            if (result.Journaled) context.Items[RefusalTrace.RecordedItem] = true;
            if (!result.Succeeded)
                return Problems.Result(result.Reason, result.Detail ?? result.Reason.Name, result.Correlation.ToString(), result.Problem);
            if (result.Outcome == ExecutionOutcome.Replayed) context.Response.Headers["Idempotent-Replayed"] = "true";
            return Results.Bytes(result.Body!, "application/json");
        }
    }

    /// <summary>
    /// One engine module's read route: the caller's tenant, the route values and the query go to its Runtime query
    /// function — unless the query names a parameter the route does not read (400 QUERY_PARAMETER_INVALID).
    /// </summary>
    private static void MapReadRoute(RouteGroupBuilder group, ReadRoute route)
    {
        var endpoint = group.MapGet(route.Pattern, async (HttpContext context, SeleneDatabase db, TimeProvider clock, HandoffServices services) =>
            {
                var values = context.Request.RouteValues.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "", StringComparer.Ordinal);
                var query = context.Request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
                var result = route.UnknownQueryParameter(query.Keys) as ReadResult ?? await route.Query(new ReadRequest(db, CallerOf(context).Tenant, values, query, UnixNanos.FromDateTimeOffset(clock.GetUtcNow()), services),
                    context.RequestAborted);
                return result switch
                {
                    ReadResult.Ok ok => Json(ok.Body, ReasonCodes.QueryOk),
                    ReadResult.Refused refused => Problems.Result(refused.Reason, refused.Detail),
                    _ => throw new InvalidOperationException("unknown read result"),
                };
            })
            .WithName(route.Name).WithSummary(route.Summary)
            .Produces<JsonObject>().ProducesProblem(StatusCodes.Status400BadRequest);
        if (route.NotFound) endpoint.ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>One debug line per turn or simulation request, inside the request's scope (its correlation id and tenant).</summary>
    private static void Answered(HttpContext context, ReasonCode reason)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Selene");
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("{Method} {Path} answered {ReasonCode}", context.Request.Method, context.Request.Path.Value, reason.Name);
    }

    private static IResult Json(JsonObject body, ReasonCode reason)
    {
        body["reason_code"] = reason.Name;
        body["reason_code_id"] = reason.Id;
        return Results.Bytes(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(body.ToJsonString())), "application/json");
    }

    /// <summary>
    /// <c>application/json</c> or <c>application/*+json</c>, with no parameter but <c>charset=utf-8</c>: the body is
    /// read as UTF-8, so a body declared in another charset is refused rather than misread.
    /// </summary>
    private static bool IsJson(string? contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)) return false;
        var type = media.MediaType.Value ?? "";
        var json = type.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
                   (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        return json && media.Parameters.All(p =>
            p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase) && Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(p.Value).Equals("utf-8", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The request body as a strict JSON document, or the problem that answers it (media type, size, syntax).</summary>
    private static async Task<(JsonDocument? Document, IResult? Problem)> ReadJsonAsync(HttpContext context, ServerOptions options, string what)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
            return (null, Problems.Result(ReasonCodes.InputMediaTypeUnsupported, $"send {what} as application/json"));
        var tooLarge = $"the body may be at most {options.MaxBodyBytes} bytes";
        if (request.ContentLength > options.MaxBodyBytes) return (null, Problems.Result(ReasonCodes.InputPayloadTooLarge, tooLarge));
        var body = await ReadBodyAsync(request, options.MaxBodyBytes, context.RequestAborted);
        if (body is null) return (null, Problems.Result(ReasonCodes.InputPayloadTooLarge, tooLarge));
        return StrictJson.TryParse(body, out var document, out var error) ? (document, null) : (null, Problems.Result(error!.Reason, error.Detail));
    }

    /// <summary>Reads at most <paramref name="max"/> bytes; null when the body is longer.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int max, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(max + 1);
        try
        {
            var total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(total, max + 1 - total), ct)) > 0)
            {
                total += read;
                if (total > max) return null;
            }
            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>X-Correlation-Id when given; otherwise derived from (tenant, actor, simulation, key) so that a retry keeps its correlation.</summary>
    private static CorrelationId? CorrelationFor(HttpRequest request, Caller caller, string simulationId, string? idempotencyKey)
    {
        var header = request.Headers["X-Correlation-Id"];
        if (header.Count > 0) return CorrelationId.TryParse(header.ToString(), out var given) ? given : null;
        var seed = idempotencyKey is null
            ? RandomNumberGenerator.GetBytes(32)
            : Encoding.UTF8.GetBytes($"{caller.Tenant.Value}|{caller.User.Value}|{simulationId}|{idempotencyKey}");
        return CorrelationId.FromDigest(SHA256.HashData(seed));
    }

    private static TurnId? TurnFor(HttpRequest request)
    {
        var header = request.Headers["X-Turn-Id"];
        if (header.Count == 0) return new TurnId(1);
        return ulong.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v is > 0 and <= long.MaxValue
            ? new TurnId(v) : null;
    }

}
