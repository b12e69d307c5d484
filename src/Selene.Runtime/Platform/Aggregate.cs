using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Platform;

/// <summary>
/// What the pipeline and the rebuild need of any aggregate without knowing its types: its store pair, which
/// events of the engine are its own, how to fold its ledger, and how to read one stream's status.
/// </summary>
public interface IAggregate
{
    /// <summary>The engine's journal id (PH1.CAPREQ, …).</summary>
    string EngineId { get; }

    /// <summary>The pair this aggregate keeps its ledger and projection in.</summary>
    EngineStore Store { get; }

    /// <summary>Some streams of this aggregate are GLOBAL (kept under <see cref="EngineStore.GlobalTenantKey"/>, read by every tenant).</summary>
    bool HasGlobalStreams { get; }

    /// <summary>The field name of the stream id in journal entries and views (capreq_id, escalation_case_id, …).</summary>
    string StreamField { get; }

    /// <summary>Folds a tenant's ledger (event id order) into the projection rows it implies, in stream id order. Pure.</summary>
    IReadOnlyList<ProjectionRow> Fold(IEnumerable<LedgerEvent> ledger);
}

/// <summary>An aggregate as the pipeline of one engine sees it: events of the engine's event type <typeparamref name="TEvent"/>.</summary>
public interface IAggregate<in TEvent> : IAggregate
{
    /// <summary>This aggregate owns the event (an engine with several aggregates routes its events by type).</summary>
    bool Owns(TEvent e);

    /// <summary>The stream the event belongs to.</summary>
    string StreamOf(TEvent e);

    /// <summary>The store of one stream: <see cref="IAggregate.Store"/>, or its <see cref="EngineStore.Global"/> view for a GLOBAL stream.</summary>
    EngineStore StoreOf(string streamId);

    /// <summary>The event's ledger <c>event_type</c> (UPPER_SNAKE; the idempotency backstop is per type).</summary>
    string EventTypeOf(TEvent e);

    /// <summary>Journal fields the engine adds to the event's STATE_TRANSITION (after the standard ones).</summary>
    IEnumerable<(string Key, string Value)> JournalFieldsOf(TEvent e);

    /// <summary>The stream's status, "NONE" before it exists.</summary>
    string StatusOf(object? state);

    /// <summary>The stream's state from its projection row (null when there is none).</summary>
    object? ReadState(ProjectionRow? row);

    /// <summary>Folds one event into the stream's state (pure).</summary>
    object Evolve(object? state, TEvent e, long eventId);

    /// <summary>The projection row of a state.</summary>
    ProjectionRow ToRow(string streamId, object state, long sourceEventId, long updatedAt);

    /// <summary>The event as the ledger's JSON payload.</summary>
    string WriteEvent(TEvent e);

    /// <summary>
    /// Appends the event to the stream's ledger with the execution's envelope (acting user, <paramref name="reason"/>,
    /// correlation, idempotency key, now) and returns its event id. The one way an event reaches a ledger.
    /// </summary>
    Task<long> AppendAsync(TenantTransaction tx, string streamId, TEvent e, ExecutionContext context, ReasonCode reason, CancellationToken ct);
}

/// <summary>An aggregate with its state type: what a simulation targets and a read route lists.</summary>
public interface IAggregate<TState, in TEvent> : IAggregate<TEvent> where TState : class
{
    /// <summary>The name of the state's view in results and read bodies ("capreq").</summary>
    string ViewName { get; }

    /// <summary>The public JSON view of one stream's state.</summary>
    JsonObject View(TState state);

    /// <summary>Locks the stream (advisory lock, see <see cref="EngineStore"/>) and loads its state: null when it does not exist.</summary>
    Task<TState?> LockAndLoadAsync(TenantTransaction tx, string streamId, CancellationToken ct);

    /// <summary>Loads one stream's state without a lock (reads).</summary>
    Task<TState?> GetAsync(TenantTransaction tx, string streamId, CancellationToken ct);

    /// <summary>Lists states, optionally of one status, in stream id order after <c>after</c> (keyset paging).</summary>
    Task<IReadOnlyList<(string StreamId, TState State)>> ListAsync(TenantTransaction tx, string? status, string? after, int limit, CancellationToken ct,
        string? prefix = null);
}

/// <summary>
/// One aggregate of an engine: its store pair, its state <typeparamref name="TState"/>, its events (a subtype
/// <typeparamref name="TOwn"/> of the engine's event type <typeparamref name="TEvent"/>), the pure fold, the status
/// and the view. State and events are stored as JSON written with the repository's strict snake_case options
/// (<see cref="EngineJson.Options"/>), so an engine writes no mapping code. An aggregate whose events are several
/// records (subtypes of an abstract <typeparamref name="TOwn"/>) names the record of each ledger <c>event_type</c>;
/// an event is stored as its own record, and read back as the record its <c>event_type</c> names.
/// </summary>
public sealed class Aggregate<TState, TOwn, TEvent> : IAggregate<TState, TEvent>
    where TState : class
    where TOwn : class, TEvent
{
    private readonly Func<TOwn, string> _streamOf;
    private readonly Func<TOwn, string> _eventTypeOf;
    private readonly Func<TState?, TOwn, long, TState> _evolve;
    private readonly Func<TState, string> _statusOf;
    private readonly Func<TOwn, IEnumerable<(string, string)>>? _journalFields;
    private readonly Func<TState, JsonObject> _view;
    private readonly IReadOnlyDictionary<string, Type>? _records;
    private readonly Func<string, bool>? _isGlobalStream;

    /// <param name="storeName">The pair's name, as passed to <c>selene.create_engine_store</c> in the migration.</param>
    /// <param name="streamField">The stream id's field name in journal entries (capreq_id, …).</param>
    /// <param name="viewName">The view's name in results and read bodies ("capreq").</param>
    /// <param name="view">The public JSON view of one stream's state (read routes and simulation results).</param>
    /// <param name="eventRecords">
    /// When the aggregate's events are several records: the record of each ledger <c>event_type</c> (each a
    /// <typeparamref name="TOwn"/>). Null when every event is stored as <typeparamref name="TOwn"/> itself.
    /// </param>
    /// <param name="isGlobalStream">
    /// For a pair created with GLOBAL rows (<c>selene.create_engine_store(name, true)</c>): which stream ids are GLOBAL,
    /// kept under the reserved tenant key whatever tenant acts (so the stream id itself must say it). Null: every
    /// stream is the acting tenant's.
    /// </param>
    public Aggregate(string engineId, string storeName, string streamField, string viewName,
        Func<TOwn, string> streamOf, Func<TOwn, string> eventTypeOf, Func<TState?, TOwn, long, TState> evolve,
        Func<TState, string> statusOf, Func<TState, JsonObject> view, Func<TOwn, IEnumerable<(string, string)>>? journalFields = null,
        IReadOnlyDictionary<string, Type>? eventRecords = null, Func<string, bool>? isGlobalStream = null)
    {
        _isGlobalStream = isGlobalStream;
        if (eventRecords?.FirstOrDefault(r => !typeof(TOwn).IsAssignableFrom(r.Value) || r.Value.IsAbstract) is { Key: not null } wrong)
            throw new ArgumentException($"event type {wrong.Key} of {storeName}: {wrong.Value.Name} is not a concrete {typeof(TOwn).Name}", nameof(eventRecords));
        _records = eventRecords;
        EngineId = engineId;
        Store = new EngineStore(new StorePair(storeName));
        StreamField = streamField;
        ViewName = viewName;
        _view = view;
        _streamOf = streamOf;
        _eventTypeOf = eventTypeOf;
        _evolve = evolve;
        _statusOf = statusOf;
        _journalFields = journalFields;
    }

    public string EngineId { get; }

    public EngineStore Store { get; }

    public bool HasGlobalStreams => _isGlobalStream is not null;

    public EngineStore StoreOf(string streamId) => _isGlobalStream?.Invoke(streamId) == true ? Store.Global : Store;

    public string StreamField { get; }

    public string ViewName { get; }

    public JsonObject View(TState state) => _view(state);

    public async Task<TState?> LockAndLoadAsync(TenantTransaction tx, string streamId, CancellationToken ct) =>
        Read(await StoreOf(streamId).LockAndLoadAsync(tx, streamId, ct));

    public async Task<TState?> GetAsync(TenantTransaction tx, string streamId, CancellationToken ct) => Read(await StoreOf(streamId).GetAsync(tx, streamId, ct));

    /// <param name="prefix">Only streams whose id starts with it (the streams of one parent); null: every stream.</param>
    public async Task<IReadOnlyList<(string StreamId, TState State)>> ListAsync(TenantTransaction tx, string? status, string? after, int limit, CancellationToken ct,
        string? prefix = null) =>
        (await Store.ListAsync(tx, status, after, limit, ct, prefix)).Select(r => (r.StreamId, Read(r)!)).ToArray();

    /// <summary>Lists the GLOBAL streams like <see cref="ListAsync"/> lists the tenant's (every tenant sees them).</summary>
    public async Task<IReadOnlyList<(string StreamId, TState State)>> ListGlobalAsync(TenantTransaction tx, string? status, string? after, int limit, CancellationToken ct) =>
        (await Store.Global.ListAsync(tx, status, after, limit, ct)).Select(r => (r.StreamId, Read(r)!)).ToArray();

    public bool Owns(TEvent e) => e is TOwn;

    public string StreamOf(TEvent e) => _streamOf(Own(e));

    public string EventTypeOf(TEvent e) => _eventTypeOf(Own(e));

    public IEnumerable<(string Key, string Value)> JournalFieldsOf(TEvent e) => _journalFields?.Invoke(Own(e)) ?? [];

    public string StatusOf(object? state) => state is null ? "NONE" : _statusOf((TState)state);

    public object? ReadState(ProjectionRow? row) => Read(row);

    public object Evolve(object? state, TEvent e, long eventId) => _evolve((TState?)state, Own(e), eventId);

    public ProjectionRow ToRow(string streamId, object state, long sourceEventId, long updatedAt) =>
        new(streamId, _statusOf((TState)state), JsonSerializer.Serialize((TState)state, EngineJson.Options), sourceEventId, updatedAt);

    // The event's own record, so a subtype of TOwn is stored with every field it has.
    public string WriteEvent(TEvent e) => JsonSerializer.Serialize(Own(e), Own(e).GetType(), EngineJson.Options);

    public Task<long> AppendAsync(TenantTransaction tx, string streamId, TEvent e, ExecutionContext context, ReasonCode reason, CancellationToken ct) =>
        StoreOf(streamId).AppendAsync(tx, new NewLedgerEvent(streamId, EventTypeOf(e), context.Actor.Value, reason.Name, WriteEvent(e), context.Correlation.ToString(),
            context.IdempotencyKey.Value, context.Now.Value), ct);

    /// <summary>
    /// Outside a simulation (the executor opening an escalation case): appends one event to a stream whose lock the
    /// caller holds and whose state before is <paramref name="before"/>, folds it, and writes the projection with the
    /// transaction's next batch. Returns the state after and the event id.
    /// </summary>
    public async Task<(TState State, long EventId)> WriteAsync(TenantTransaction tx, TState? before, TOwn e, ExecutionContext context, ReasonCode reason,
        CancellationToken ct)
    {
        var streamId = _streamOf(e);
        var eventId = await AppendAsync(tx, streamId, e, context, reason, ct);
        var after = _evolve(before, e, eventId);
        StoreOf(streamId).DeferUpsert(tx, ToRow(streamId, after, eventId, context.Now.Value));
        return (after, eventId);
    }

    public IReadOnlyList<ProjectionRow> Fold(IEnumerable<LedgerEvent> ledger)
    {
        var states = new SortedDictionary<string, (TState State, long EventId, long At)>(StringComparer.Ordinal);
        foreach (var row in ledger)
        {
            var e = JsonSerializer.Deserialize(row.Payload, RecordOf(row), EngineJson.Options) as TOwn
                ?? throw new InvalidOperationException($"ledger event {row.EventId} of {Store.Pair.Ledger} has no payload");
            var state = states.TryGetValue(row.StreamId, out var known) ? known.State : null;
            states[row.StreamId] = (_evolve(state, e, row.EventId), row.EventId, row.CreatedAt);
        }
        return states.Select(p => ToRow(p.Key, p.Value.State, p.Value.EventId, p.Value.At)).ToArray();
    }

    private Type RecordOf(LedgerEvent row) =>
        _records is null ? typeof(TOwn)
        : _records.TryGetValue(row.EventType, out var record) ? record
        : throw new InvalidOperationException($"ledger event {row.EventId} of {Store.Pair.Ledger} has an unknown event type {row.EventType}");

    private TState? Read(ProjectionRow? row) => row is null ? null : JsonSerializer.Deserialize<TState>(row.Doc, EngineJson.Options);

    private static TOwn Own(TEvent e) => e as TOwn ?? throw new InvalidOperationException($"event {e?.GetType().Name} is not a {typeof(TOwn).Name}");
}

/// <summary>
/// How engine state and events are stored: the strict snake_case options with every member written, nulls
/// included. A stored document names every field of its type, so reading it back requires all of them. An
/// aggregate whose events are several records names the record of each ledger <c>event_type</c> (<c>eventRecords</c>).
/// </summary>
public static class EngineJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(StrictJson.Options)
        {
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
            // Facts an engine reads may hold read-only sets; a decision record must read them back (replay).
            Converters = { new ReadOnlySetConverter() },
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Reads an <see cref="IReadOnlySet{T}"/> as the JSON array it is written as (System.Text.Json writes one but cannot read one back).</summary>
    private sealed class ReadOnlySetConverter : System.Text.Json.Serialization.JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(IReadOnlySet<>);

        public override System.Text.Json.Serialization.JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (System.Text.Json.Serialization.JsonConverter)Activator.CreateInstance(typeof(Of<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

        private sealed class Of<T> : System.Text.Json.Serialization.JsonConverter<IReadOnlySet<T>>
        {
            public override IReadOnlySet<T>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
                JsonSerializer.Deserialize<List<T>>(ref reader, options) is { } items ? new HashSet<T>(items) : null;

            public override void Write(Utf8JsonWriter writer, IReadOnlySet<T> value, JsonSerializerOptions options) =>
                JsonSerializer.Serialize(writer, value.AsEnumerable(), options);
        }
    }
}
