using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Selene.Engines.CapReq;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// Traces and metrics of the turn executor (issue 15 item 6) seen by plain listeners, as OpenTelemetry's SDK sees them: one
/// turn's span tree (turn → gate, executor) with its correlation id and tenant, and the execution counter's labels. Listeners
/// are process-wide, so each test keeps only what carries its own correlation ids.
/// </summary>
public sealed class TelemetryTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    /// <summary>Records every stopped activity of Selene's source, sampled in full, until disposed.</summary>
    private static ActivityListener Listen(ConcurrentQueue<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SeleneTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task DispatchedTurn_IsOneTurnSpan_WithGateAndExecutorChildren_CarryingItsCorrelationAndTenant()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = Listen(stopped);

        var correlation = f.NextCorrelation();
        var result = await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("t"), CreateBody("trace.cap"), correlation);
        Assert.Equal(ExecutionOutcome.Executed, result.Outcome);

        var turn = Assert.Single(stopped, a => a.OperationName == SeleneTelemetry.TurnSpan && (string?)a.GetTagItem(SeleneTelemetry.Tags.Correlation) == correlation.ToString());
        Assert.Equal("acme", turn.GetTagItem(SeleneTelemetry.Tags.Tenant));
        Assert.Equal(CapreqSimulations.CreateDraft, turn.GetTagItem(SeleneTelemetry.Tags.Simulation));
        Assert.Equal("DISPATCH_SIMULATION", turn.GetTagItem(SeleneTelemetry.Tags.Move));
        Assert.Equal("CAPREQ_OK_CREATE_DRAFT", turn.GetTagItem(SeleneTelemetry.Tags.Reason));
        Assert.Equal("executed", turn.GetTagItem(SeleneTelemetry.Tags.Outcome));

        var children = stopped.Where(a => a.ParentSpanId == turn.SpanId && a.TraceId == turn.TraceId).Select(a => a.OperationName).ToArray();
        Assert.Equal([SeleneTelemetry.GateSpan, SeleneTelemetry.ExecutorSpan], children);
        var gate = Assert.Single(stopped, a => a.ParentSpanId == turn.SpanId && a.OperationName == SeleneTelemetry.GateSpan);
        var executor = Assert.Single(stopped, a => a.ParentSpanId == turn.SpanId && a.OperationName == SeleneTelemetry.ExecutorSpan);
        Assert.Equal("DISPATCH_SIMULATION", gate.GetTagItem(SeleneTelemetry.Tags.Move));
        Assert.Equal("CAPREQ_OK_CREATE_DRAFT", executor.GetTagItem(SeleneTelemetry.Tags.Reason));
        // The gate decided before the executor ran, and both lie within the turn.
        Assert.True(gate.StartTimeUtc + gate.Duration <= executor.StartTimeUtc);
        Assert.True(turn.StartTimeUtc <= gate.StartTimeUtc && executor.StartTimeUtc + executor.Duration <= turn.StartTimeUtc + turn.Duration);
    }

    [Fact]
    public async Task RefusedTurn_IsATurnSpanWithTheGateAndTheRecord_AndNoExecutor()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = Listen(stopped);

        var correlation = f.NextCorrelation();
        // Bob may manage capability requests, not access instances: the access gate refuses before anything runs.
        var result = await f.RunAsync("bob", Selene.Runtime.Access.GovernanceHandlers.InstanceUpsert, Key("r"),
            """{"target_user_id":"zed","role_template_id":"clerk","access_mode":"R","allow":["CAPREQ_MANAGE"]}""", correlation);
        Assert.Equal(ExecutionOutcome.Refused, result.Outcome);

        var turn = Assert.Single(stopped, a => a.OperationName == SeleneTelemetry.TurnSpan && (string?)a.GetTagItem(SeleneTelemetry.Tags.Correlation) == correlation.ToString());
        Assert.Equal("refused", turn.GetTagItem(SeleneTelemetry.Tags.Outcome));
        var children = stopped.Where(a => a.ParentSpanId == turn.SpanId && a.TraceId == turn.TraceId).Select(a => a.OperationName).ToArray();
        Assert.Equal([SeleneTelemetry.GateSpan, SeleneTelemetry.RecordSpan], children);
    }

    [Fact]
    public async Task Executions_AreCountedPerSimulationOutcomeAndReason_WithBoundedLabels()
    {
        var seen = new ConcurrentQueue<(long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == SeleneTelemetry.Name && instrument.Name == "selene.executions") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            seen.Enqueue((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();

        // A simulation id the catalog does not know is counted under UNKNOWN, never under the caller's text.
        var unknown = "NO_SUCH_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Assert.False((await f.RunAsync("alice", unknown, Key("u"), "{}")).Succeeded);
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("m"), CreateBody("metric.cap")));
        Assert.Equal(ExecutionOutcome.Refused, (await f.RunAsync("alice", CapreqSimulations.Fulfill, Key("mf"), IdBody(id))).Outcome);

        static bool Has(Dictionary<string, object?> tags, string simulation, string outcome, string reason) =>
            Equals(tags["simulation_id"], simulation) && Equals(tags["outcome"], outcome) && Equals(tags["reason_code"], reason);
        Assert.Contains(seen, m => m.Value == 1 && Has(m.Tags, CapreqSimulations.CreateDraft, "executed", "CAPREQ_OK_CREATE_DRAFT"));
        Assert.Contains(seen, m => m.Value == 1 && Has(m.Tags, CapreqSimulations.Fulfill, "refused", "CAPREQ_TRANSITION_INVALID"));
        Assert.Contains(seen, m => Has(m.Tags, SeleneTelemetry.UnknownSimulation, "refused", "SIMULATION_UNKNOWN"));
        Assert.DoesNotContain(seen, m => Equals(m.Tags["simulation_id"], unknown));
        Assert.All(seen, m => Assert.Equal(["outcome", "reason_code", "simulation_id"], m.Tags.Keys.Order(StringComparer.Ordinal)));
    }
}
