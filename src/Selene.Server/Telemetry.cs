using System.Collections;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Selene.Postgres;
using Selene.Runtime;

namespace Selene.Server;

/// <summary>
/// The server's observability (docs/observability.md): OpenTelemetry's SDK listening to Selene's activity source and meter
/// (<see cref="SeleneTelemetry"/>), Prometheus text at <c>/metrics</c> (on by default, no API key: it shows simulation ids,
/// reason codes and counts, never a tenant, user or key), and the OTLP/HTTP exporter for traces and metrics only when an
/// endpoint is given. With neither, no provider listens: no span is created and no instrument records.
/// </summary>
internal static class Telemetry
{
    /// <summary>The path Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    public static void Add(IServiceCollection services, ServerOptions options)
    {
        if (!options.Metrics && options.Otlp is null) return;
        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService("selene"));
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter(SeleneTelemetry.Name);
            if (options.Metrics) metrics.AddPrometheusExporter();
            if (options.Otlp is { } otlp) metrics.AddOtlpExporter(o => Otlp(o, otlp, "v1/metrics"));
        });
        // Traces go nowhere but OTLP: without an endpoint no tracer listens, so the turn's spans are never created. The
        // HTTP request's span is the turn's parent: ASP.NET Core makes a request activity anyway (for its log scopes), and
        // left unsampled it would make the parent-based sampler drop every turn span under it.
        if (options.Otlp is { } endpoint)
            otel.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(SeleneTelemetry.Name).AddSeleneDatabase()
                .AddOtlpExporter(o => Otlp(o, endpoint, "v1/traces")));
    }

    public static void Map(WebApplication app, ServerOptions options)
    {
        if (options.Metrics) app.MapPrometheusScrapingEndpoint(MetricsPath);
    }

    /// <summary>OTLP over HTTP (protobuf) to <c>&lt;base&gt;/v1/traces</c> and <c>&lt;base&gt;/v1/metrics</c>, the collector's default paths.</summary>
    private static void Otlp(OtlpExporterOptions o, Uri endpoint, string signal)
    {
        o.Protocol = OtlpExportProtocol.HttpProtobuf;
        o.Endpoint = new Uri(endpoint.ToString().TrimEnd('/') + "/" + signal);
    }

    /// <summary>
    /// Opens the request's logging scope: every line logged while the request runs carries its <c>correlation_id</c> and
    /// <c>tenant_id</c> once the request has them (an endpoint fills them in through <see cref="ScopeOf"/>).
    /// </summary>
    public static async Task LogScopeAsync(HttpContext context, RequestDelegate next)
    {
        var scope = new RequestLogScope();
        context.Features.Set(scope);
        using (context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Selene").BeginScope(scope))
            await next(context);
    }

    /// <summary>The request's logging scope (a new one, never seen by a logger, outside <see cref="LogScopeAsync"/>).</summary>
    public static RequestLogScope ScopeOf(HttpContext context) => context.Features.Get<RequestLogScope>() ?? new RequestLogScope();
}

/// <summary>
/// The structured state of a request's logging scope: correlation and tenant, set as soon as the request knows them. A
/// logger reads it when it writes a line, so values set after the scope opened still appear.
/// </summary>
internal sealed class RequestLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    public string? CorrelationId { get; set; }

    public string? TenantId { get; set; }

    private KeyValuePair<string, object?>[] Pairs() =>
        [new("correlation_id", CorrelationId), new("tenant_id", TenantId)];

    public KeyValuePair<string, object?> this[int index] => Pairs()[index];

    public int Count => 2;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)Pairs()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"correlation_id={CorrelationId ?? "-"} tenant_id={TenantId ?? "-"}");
}
