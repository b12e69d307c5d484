using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Selene.Postgres;
using Selene.Testing;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Observability on a real server (issue 15 item 6; docs/observability.md): a <c>selene serve</c> process of its own (its
/// metrics count only its own requests) serves Prometheus text at /metrics with the per-simulation counters, and with
/// <c>--otlp</c> delivers traces to a real OTLP/HTTP listener on 127.0.0.1; in process: /metrics switched off, and the
/// request's log scope carrying its correlation id.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public partial class ObservabilityTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Serve_Metrics_CountEachSimulationsExecutionsByOutcomeAndReason_AndOtlpDeliversTraces()
    {
        await using var collector = WebhookReceiver.Start();
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        using var server = RunningProcess.Start(ChildProcess.DotnetHost,
            [ChildProcess.SeleneDll, "--data-dir", f.DataDir, "serve", "--urls", address.ToString().TrimEnd('/'), "--otlp", collector.Url.ToString()]);
        try
        {
            await SeleneServerFixture.WaitUntilHealthyAsync(server, address);
            using var api = new SeleneApi(address);
            var tag = Guid.NewGuid().ToString("N")[..8];
            for (var i = 0; i < 3; i++)
            {
                var created = await api.SimulateAsync(f.AliceKey, Create, new JsonObject
                {
                    ["requested_capability_id"] = "cap.metrics", ["target_scope_ref"] = $"scope/{tag}/{i}", ["justification"] = "metrics",
                });
                AssertSuccess(created, "CAPREQ_OK_CREATE_DRAFT");
            }
            for (var i = 0; i < 2; i++)
                AssertProblem(await api.SimulateAsync(f.BobKey, Approve, On("capreq_0000000000000000")), HttpStatusCode.NotFound, "CAPREQ_NOT_FOUND");
            AssertProblem(await api.SimulateAsync(f.AliceKey, "NO_SUCH_SIMULATION_" + tag.ToUpperInvariant(), new JsonObject()), HttpStatusCode.NotFound,
                "SIMULATION_UNKNOWN");

            // No API key: /metrics holds simulation ids, reason codes and counts only.
            var scraped = await api.GetAsync(null, "/metrics");
            Assert.True(scraped.Status == HttpStatusCode.OK, scraped.ToString());
            Assert.Equal("text/plain", scraped.MediaType);
            var samples = Parse(scraped.Text);
            Assert.Equal(3, Value(samples, "selene_executions_total", ("simulation_id", Create), ("outcome", "executed"), ("reason_code", "CAPREQ_OK_CREATE_DRAFT")));
            Assert.Equal(2, Value(samples, "selene_executions_total", ("simulation_id", Approve), ("outcome", "refused"), ("reason_code", "CAPREQ_NOT_FOUND")));
            Assert.Equal(1, Value(samples, "selene_executions_total", ("simulation_id", "UNKNOWN"), ("outcome", "refused"), ("reason_code", "SIMULATION_UNKNOWN")));
            Assert.Equal(3, Value(samples, "selene_execution_duration_seconds_count", ("simulation_id", Create), ("outcome", "executed")));
            Assert.True(Value(samples, "selene_execution_duration_seconds_sum", ("simulation_id", Create), ("outcome", "executed")) > 0);
            // Turns by move: these six at least (the server's outbox worker may run handoffs other tests left behind).
            Assert.True(samples.Where(s => s.Name == "selene_turns_total").Sum(s => s.Value) >= 6, scraped.Text);
            // Never a tenant, user or key, and never the caller's unknown simulation id.
            Assert.DoesNotContain("acme", scraped.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("NO_SUCH_SIMULATION", scraped.Text, StringComparison.Ordinal);
            Assert.DoesNotContain(f.AliceKey, scraped.Text, StringComparison.Ordinal);
        }
        finally
        {
            Assert.True(await server.StopAsync(TimeSpan.FromSeconds(30)), $"the server ignored SIGTERM:\n{server.Output}");
        }
        // Stopping flushes the exporters: the turns' spans arrived as OTLP/HTTP protobuf at the collector's /v1/traces.
        var traces = collector.Received.Where(r => r.Path.EndsWith("/v1/traces", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(traces);
        Assert.All(traces, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.Contains(traces, r => r.Body.Contains(Selene.Runtime.SeleneTelemetry.TurnSpan, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serve_OtlpNotAUrl_IsRefusedBeforeStart()
    {
        var result = await f.SeleneAsync("serve", "--urls", $"http://127.0.0.1:{SeleneServerFixture.FreePort()}", "--otlp", "collector:4318");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsSwitchedOff_IsNoRoute_AndTheRequestLogScopeCarriesTheCorrelationId()
    {
        var logs = new CapturingLoggerProvider();
        await using var db = await SeleneDatabase.OpenAsync(new DatabaseOptions(null, f.DataDir));
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        await using var app = SeleneApp.Build(db, new ServerOptions(address.ToString().TrimEnd('/'), Workers: false, Metrics: false),
            logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await app.StartAsync();
        try
        {
            using var api = new SeleneApi(address);
            AssertProblem(await api.GetAsync(null, "/metrics"), HttpStatusCode.NotFound, "ROUTE_NOT_FOUND");
            var created = await api.SimulateAsync(f.AliceKey, Create, NewDraft());
            AssertSuccess(created, "CAPREQ_OK_CREATE_DRAFT");
            var correlation = created.Json["correlation_id"]!.GetValue<string>();
            var line = Assert.Single(logs.Lines, l => l.Message.Contains("answered CAPREQ_OK_CREATE_DRAFT", StringComparison.Ordinal) &&
                l.Scope.Contains($"correlation_id={correlation}", StringComparison.Ordinal));
            Assert.Contains("tenant_id=acme", line.Scope, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    // name{label="value",…} value  (Prometheus text exposition; label values here never hold quotes or backslashes)
    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"")]
    private static partial Regex LabelPair();

    private static List<Sample> Parse(string text) =>
        text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => SampleLine().Match(l)).Where(m => m.Success)
            .Select(m => new Sample(m.Groups[1].Value,
                LabelPair().Matches(m.Groups[2].Value).ToDictionary(p => p.Groups[1].Value, p => p.Groups[2].Value, StringComparer.Ordinal),
                double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>The one sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    private static double Value(List<Sample> samples, string name, params (string Key, string Value)[] labels) =>
        Assert.Single(samples, s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Value;

    /// <summary>Every log line with the scopes it was written in.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(string Message, string Scope)> _lines = new();
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public IReadOnlyList<(string Message, string Scope)> Lines => _lines.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new System.Text.StringBuilder();
                provider._scopes.ForEachScope((s, sb) => sb.Append(s).Append(' '), scope);
                provider._lines.Enqueue((formatter(state, exception), scope.ToString()));
            }
        }
    }
}
