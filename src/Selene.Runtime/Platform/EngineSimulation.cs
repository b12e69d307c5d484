using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Postgres;

namespace Selene.Runtime.Platform;

/// <summary>
/// The one execution pipeline of an engine simulation. The engine supplies only what is its own: how its input
/// becomes a command (and the pure checks before any storage), the target stream, an optional read of other facts,
/// the pure <c>Decide</c>, and its aggregates (fold, status, view). The pipeline locks and loads the target,
/// decides, appends each event to the ledger of the aggregate that owns it (locking and loading any other stream
/// on first touch), evolves, upserts every touched projection, journals one STATE_TRANSITION per event (or one
/// SIMULATION_REFUSED) under the engine's id, and renders the result.
/// </summary>
/// <remarks>
/// A decision may append to several aggregates of the same engine (the constructor's <c>others</c>): an event is routed
/// to the first aggregate that <see cref="IAggregate{TEvent}.Owns"/> it, the target first. Streams are locked in
/// the order they are first touched (target, then what <c>readFacts</c> locks, then event order), so an engine that
/// locks several streams must do so in an order every simulation shares.
/// </remarks>
public sealed class EngineSimulation<TInput, TCommand, TState, TEvent, TFacts> : ISimulationHandler, IReplayableSimulation
    where TInput : class
    where TCommand : class
    where TState : class
{
    /// <summary>Reads facts beyond the target's state inside the transaction (other aggregates, policies).</summary>
    public delegate Task<TFacts> ReadFacts(TenantTransaction tx, TCommand command, TState? state, ExecutionContext context, CancellationToken ct);

    private readonly IAggregate<TState, TEvent> _target;
    private readonly IReadOnlyList<IAggregate<TEvent>> _aggregates;
    private readonly Func<TInput, TCommand> _toCommand;
    private readonly Func<TCommand, JsonInputError?> _validate;
    private readonly Func<TCommand, ExecutionContext, string> _targetOf;
    private readonly ReadFacts? _readFacts;
    private readonly Func<TState?, TCommand, TFacts, ExecutionContext, Decision<TEvent>> _decide;
    private readonly Func<TState?, TCommand, TFacts, IReadOnlyList<TEvent>, JsonObject>? _result;
    private readonly Func<TCommand, string?>? _capabilityScope;
    private readonly Effects? _effects;

    /// <summary>
    /// Writes that commit with an accepted decision beyond the ledgers and projections (an index row, another engine's
    /// decision taken through that engine's own decider and stores), in the same transaction; a refusal it returns rolls
    /// everything back like the decider's own. What it writes to another engine's ledger it journals under that engine's
    /// id by adding to <paramref name="journal"/> (after the decision's own entries).
    /// </summary>
    public delegate Task<Decision<TEvent>.Rejected?> Effects(TenantTransaction tx, IReadOnlyList<TEvent> events, ExecutionContext context,
        ICollection<JournalDraft> journal, CancellationToken ct);

    /// <param name="validate">Pure bounds and shapes of the command, checked before any storage (null when valid).</param>
    /// <param name="targetOf">The stream the command acts on (the target aggregate's stream id).</param>
    /// <param name="others">The engine's other aggregates a decision may append to.</param>
    /// <param name="result">
    /// The result of an accepted decision, from the target's state after it, the command, the facts and the events
    /// (pure). Null for the standard result: <c>{&lt;view name&gt;: view, ledger_event_id}</c>.
    /// </param>
    /// <param name="capabilityScope">
    /// For a record with a required capability: the scope its APPROVED request must name (pure); null for an input a
    /// policy-governed record does not govern (<see cref="SimulationRecord.CapabilityByTenantPolicy"/>).
    /// </param>
    /// <param name="effects">Writes beyond ledgers and projections that commit with an accepted decision (<see cref="Effects"/>).</param>
    public EngineSimulation(SimulationRecord record, IAggregate<TState, TEvent> target,
        Func<TInput, TCommand> toCommand, Func<TCommand, JsonInputError?> validate, Func<TCommand, ExecutionContext, string> targetOf,
        Func<TState?, TCommand, TFacts, ExecutionContext, Decision<TEvent>> decide, ReadFacts? readFacts = null,
        IReadOnlyList<IAggregate<TEvent>>? others = null, Func<TState?, TCommand, TFacts, IReadOnlyList<TEvent>, JsonObject>? result = null,
        Func<TCommand, string?>? capabilityScope = null, Effects? effects = null)
    {
        _effects = effects;
        if ((record.RequiredCapability is null) != (capabilityScope is null))
            throw new ArgumentException($"{record.SimulationId}: a required capability and its scope come together", nameof(capabilityScope));
        _capabilityScope = capabilityScope;
        _result = result;
        Record = record;
        _target = target;
        _aggregates = [target, .. others ?? []];
        _toCommand = toCommand;
        _validate = validate;
        _targetOf = targetOf;
        _decide = decide;
        _readFacts = readFacts;
    }

    public SimulationRecord Record { get; }

    public bool TryPrepare(JsonElement body, out object? input, out JsonInputError? error)
    {
        input = null;
        if (!StrictJson.TryRead<TInput>(body, out var parsed, out error)) return false;
        var command = _toCommand(parsed!);
        error = _validate(command);
        if (error is not null) return false;
        input = command;
        return true;
    }

    public string? CapabilityScopeOf(object input) => _capabilityScope?.Invoke((TCommand)input);

    public (Selene.Postgres.Stores.EngineStore Store, string StreamId)? FirstStream(object input, ExecutionContext context)
    {
        var targetId = _targetOf((TCommand)input, context);
        return (_target.StoreOf(targetId), targetId);
    }

    public async Task<HandlerOutcome> ExecuteAsync(TenantTransaction tx, object input, ExecutionContext context, CancellationToken ct)
    {
        var command = (TCommand)input;
        var targetId = _targetOf(command, context);
        var state = await _target.LockAndLoadAsync(tx, targetId, ct);
        var facts = _readFacts is null ? default! : await _readFacts(tx, command, state, context, ct);

        HandlerOutcome.Rejected Refused(Decision<TEvent>.Rejected rejected) =>
            new(rejected.Reason, rejected.Detail, new JournalDraft(
                _target.EngineId, JournalEventTypes.SimulationRefused, rejected.Reason,
                JournalPayload.Create(
                    ("simulation_id", Record.SimulationId),
                    (_target.StreamField, targetId),
                    ("state", _target.StatusOf(state)))));

        var decision = _decide(state, command, facts, context);
        context.DecisionInput = DecisionRecord.Write(Record.SimulationId, targetId, command, state is null ? null : _target.ToRow(targetId, state, 0, 0).Doc,
            facts, context, Outcome(decision));
        switch (decision)
        {
            case Decision<TEvent>.Rejected rejected:
                return Refused(rejected);

            case Decision<TEvent>.Accepted accepted:
                var touched = new List<Touched> { new(_target, targetId, state, 0) };
                var journal = new List<JournalDraft>();
                foreach (var e in accepted.Events)
                {
                    var aggregate = _aggregates.FirstOrDefault(a => a.Owns(e))
                        ?? throw new InvalidOperationException($"{Record.SimulationId}: no aggregate owns {e?.GetType().Name}");
                    var streamId = aggregate.StreamOf(e);
                    var index = touched.FindIndex(t => ReferenceEquals(t.Aggregate, aggregate) && t.StreamId == streamId);
                    if (index < 0)
                    {
                        touched.Add(new Touched(aggregate, streamId, aggregate.ReadState(await aggregate.StoreOf(streamId).LockAndLoadAsync(tx, streamId, ct)), 0));
                        index = touched.Count - 1;
                    }
                    var before = touched[index].State;
                    var eventId = await aggregate.AppendAsync(tx, streamId, e, context, accepted.Reason, ct);
                    var after = aggregate.Evolve(before, e, eventId);
                    touched[index] = touched[index] with { State = after, LastEventId = eventId };
                    journal.Add(new JournalDraft(aggregate.EngineId, JournalEventTypes.StateTransition, accepted.Reason,
                        JournalPayload.Create([
                            ("simulation_id", Record.SimulationId),
                            (aggregate.StreamField, streamId),
                            ("state_from", aggregate.StatusOf(before)),
                            ("state_to", aggregate.StatusOf(after)),
                            ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture)),
                            .. aggregate.JournalFieldsOf(e)])));
                }
                foreach (var t in touched.Where(t => t.LastEventId > 0))
                    t.Aggregate.StoreOf(t.StreamId).DeferUpsert(tx, t.Aggregate.ToRow(t.StreamId, t.State!, t.LastEventId, context.Now.Value));
                if (_effects is not null && await _effects(tx, accepted.Events, context, journal, ct) is { } refused) return Refused(refused);

                var primary = touched[0];
                JsonObject result;
                if (_result is not null) result = _result(primary.State as TState, command, facts, accepted.Events);
                else
                {
                    result = new JsonObject();
                    if (primary.State is TState s) result[_target.ViewName] = _target.View(s);
                    result["ledger_event_id"] = touched.Max(t => t.LastEventId);
                }
                return new HandlerOutcome.Accepted(accepted.Reason, result, journal, accepted.Outbox);

            default:
                throw new InvalidOperationException("unknown decision");
        }
    }

    /// <summary>The decision as replay compares it: its reason, and for an acceptance every event as the ledger would store it.</summary>
    private (string Reason, string Hash) Outcome(Decision<TEvent> decision) => decision switch
    {
        Decision<TEvent>.Accepted a => (a.Reason.Name, DecisionRecord.OutcomeHash(a.Reason.Name, a.Events.Select(e =>
        {
            var aggregate = _aggregates.First(x => x.Owns(e));
            return (aggregate.EventTypeOf(e), aggregate.WriteEvent(e));
        }))),
        Decision<TEvent>.Rejected r => (r.Reason.Name, DecisionRecord.OutcomeHash(r.Reason.Name, null)),
        _ => throw new InvalidOperationException("unknown decision"),
    };

    /// <summary>Decides a recorded execution again from its recorded command, state and facts (no storage): see <see cref="DecisionRecord"/>.</summary>
    public ReplayedDecision Replay(JsonObject recorded)
    {
        var targetId = (string)recorded["target"]!;
        var command = (TCommand)DecisionRecord.Read(recorded, "command", typeof(TCommand))!;
        var state = recorded["state"] is JsonObject doc
            ? (TState?)_target.ReadState(new Selene.Postgres.Stores.ProjectionRow(targetId, "", doc.ToJsonString(), 0, 0))
            : null;
        var facts = (TFacts)DecisionRecord.Read(recorded, "facts", typeof(TFacts))!;
        var (reason, hash) = Outcome(_decide(state, command, facts, DecisionRecord.ContextOf(recorded)));
        return new ReplayedDecision(reason, hash);
    }

    private sealed record Touched(IAggregate<TEvent> Aggregate, string StreamId, object? State, long LastEventId);
}
