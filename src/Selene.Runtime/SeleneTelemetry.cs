using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Selene.Runtime;

/// <summary>
/// Selene's traces and metrics (issue 15 item 6; docs/observability.md): the <see cref="ActivitySource"/> and the
/// <see cref="Meter"/> named <see cref="Name"/>, the span names, and the instruments the turn executor records into.
/// Nothing here exports: a host attaches listeners (OpenTelemetry's SDK in <c>selene serve</c>, an ActivityListener in a
/// test). Without a listener a span is never created (<see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null) and an instrument that is not enabled records nothing, so the hot path pays a null check.
/// Labels are bounded: a simulation id is a label only when the catalog knows it (else <see cref="UnknownSimulation"/>),
/// a reason code only when registered; no tenant, user, key or correlation id is ever a metric label (they are span tags).
/// </summary>
public static class SeleneTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "Selene";

    /// <summary>One turn (a direct call is a turn): tags tenant, correlation id, turn id, simulation id, move, reason code.</summary>
    public const string TurnSpan = "selene.turn";
    /// <summary>The gate stage of a turn: the access and governance facts, the access gate, the slice and OS decision.</summary>
    public const string GateSpan = "selene.gate";
    /// <summary>The executor stage of a dispatched turn: the handler, the journal and the commit.</summary>
    public const string ExecutorSpan = "selene.executor";
    /// <summary>Recording a decision that dispatched nothing (or an engine refusal) in a transaction of its own.</summary>
    public const string RecordSpan = "selene.record";

    /// <summary>The simulation-id label of a request naming no simulation the catalog knows (the caller's text is never a label).</summary>
    public const string UnknownSimulation = "UNKNOWN";

    // Bucket bounds in seconds, 1 ms to 10 s: a turn is a few milliseconds; the SDK's default bounds are for milliseconds.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    public static ActivitySource Source { get; } = new(Name);

    public static Meter Meter { get; } = new(Name);

    /// <summary>Simulation requests by simulation_id, outcome (executed, replayed, refused, invalid, failed) and reason_code.</summary>
    public static Counter<long> Executions { get; } = Meter.CreateCounter<long>("selene.executions", "{execution}",
        "Simulation requests (direct calls and dispatched turns) by simulation, outcome and reason code");

    /// <summary>Seconds a simulation request took in the executor, by simulation_id and outcome.</summary>
    public static Histogram<double> ExecutionDuration { get; } = Meter.CreateHistogram<double>("selene.execution.duration", "s",
        "Time a simulation request spent in the turn executor, by simulation and outcome", null, Seconds);

    /// <summary>Turns by move and reason_code.</summary>
    public static Counter<long> Turns { get; } = Meter.CreateCounter<long>("selene.turns", "{turn}", "Turns decided (or refused) by move and reason code");

    /// <summary>Seconds a turn took in the executor, by move.</summary>
    public static Histogram<double> TurnDuration { get; } = Meter.CreateHistogram<double>("selene.turn.duration", "s", "Time a turn spent in the turn executor, by move",
        null, Seconds);

    /// <summary>True when a listener records any of the instruments.</summary>
    internal static bool Listened => Executions.Enabled || ExecutionDuration.Enabled || Turns.Enabled || TurnDuration.Enabled;

    /// <summary>Tag names on spans.</summary>
    public static class Tags
    {
        public const string Tenant = "selene.tenant_id";
        public const string Correlation = "selene.correlation_id";
        public const string Turn = "selene.turn_id";
        public const string Simulation = "selene.simulation_id";
        public const string Move = "selene.move";
        public const string Reason = "selene.reason_code";
        public const string Outcome = "selene.outcome";
    }

    /// <summary>
    /// Records a finished turn: its span's outcome tags and status, the turn counter and duration, and — for a turn that
    /// asked for a simulation — the execution counter and duration under the most specific reason Selene knows.
    /// </summary>
    /// <param name="simulation">The simulation-id label (<see cref="UnknownSimulation"/> when not in the catalog), null for a turn without one
    /// (or when nothing listened as the turn began).</param>
    internal static void Record(Activity? span, string? simulation, TurnResult? result, ReasonCode? failure, TimeSpan elapsed)
    {
        if (span is null && !Listened) return;
        var move = result is { Kind: TurnOutcomeKind.Decided } ? WireNames.Of(result.Move) : "NONE";
        var outcome = Outcome(result, failure);
        var reason = failure ?? result!.Execution?.Reason ?? result!.Cause ?? result!.Reason;
        if (span is not null)
        {
            span.SetTag(Tags.Move, move);
            span.SetTag(Tags.Reason, reason.Name);
            span.SetTag(Tags.Outcome, outcome);
            if (failure is not null) span.SetStatus(ActivityStatusCode.Error, failure.Name);
        }
        if (Turns.Enabled) Turns.Add(1, new KeyValuePair<string, object?>("move", move), new KeyValuePair<string, object?>("reason_code", reason.Name));
        if (TurnDuration.Enabled) TurnDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("move", move));
        if (simulation is null) return;
        if (Executions.Enabled)
            Executions.Add(1, new KeyValuePair<string, object?>("simulation_id", simulation), new KeyValuePair<string, object?>("outcome", outcome),
                new KeyValuePair<string, object?>("reason_code", reason.Name));
        if (ExecutionDuration.Enabled)
            ExecutionDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("simulation_id", simulation), new KeyValuePair<string, object?>("outcome", outcome));
    }

    private static string Outcome(TurnResult? result, ReasonCode? failure) => failure is not null ? "failed" : result switch
    {
        { Execution.Outcome: ExecutionOutcome.Executed } => "executed",
        { Execution.Outcome: ExecutionOutcome.Replayed } => "replayed",
        { Execution.Outcome: ExecutionOutcome.Refused } or { Kind: TurnOutcomeKind.Decided, FailClosed: true } => "refused",
        // A move that was the legal answer (RESPOND, a tool): decided, nothing refused.
        { Kind: TurnOutcomeKind.Decided } => "decided",
        _ => "invalid",
    };
}
