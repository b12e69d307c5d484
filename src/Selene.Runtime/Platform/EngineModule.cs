using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Platform;

/// <summary>
/// Everything one engine brings, declared in one place: its simulations, its aggregates (store pairs, which the
/// rebuild walks), its reason codes, its HTTP read routes and the outbox handoffs it consumes. The registry, the
/// catalog, <c>selene rebuild</c>, the server's read routes and the outbox worker's routes derive from <see cref="EngineModules.All"/>.
/// </summary>
/// <param name="Name">Short lower-case name (<c>selene rebuild --engine capreq</c>).</param>
/// <param name="EngineId">The journal's engine id (PH1.CAPREQ): one per engine.</param>
/// <param name="ReasonCodes">The codes the engine declares (its own code class in its pure folder).</param>
/// <param name="RetiredReasonNames">Names its codes carried before a rename; they still resolve (<see cref="ReasonCodeRegistry"/>).</param>
/// <param name="Handoffs">The outbox event types it consumes, each run as one of its simulations by the outbox worker.</param>
public sealed record EngineModule(
    string Name,
    string EngineId,
    IReadOnlyList<ISimulationHandler> Simulations,
    IReadOnlyList<IAggregate> Aggregates,
    IReadOnlyList<ReasonCode> ReasonCodes,
    IReadOnlyList<ReadRoute> Routes,
    IReadOnlyDictionary<string, ReasonCode>? RetiredReasonNames = null,
    IReadOnlyList<HandoffRoute>? Handoffs = null)
{
    /// <summary>True when <paramref name="engine"/> names this module by short name or engine id (case-insensitive).</summary>
    public bool IsNamed(string engine) =>
        string.Equals(engine, Name, StringComparison.OrdinalIgnoreCase) || string.Equals(engine, EngineId, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// One HTTP read route of an engine: a GET under <c>/v1</c> (<paramref name="Pattern"/> in ASP.NET route syntax,
/// e.g. <c>/capreqs/{capreq_id}</c>) answered by a Runtime query function. The server maps every module's routes
/// the same way: authenticated caller, JSON body with the reason code, or a reason-coded problem.
/// </summary>
/// <param name="NotFound">The route answers 404 (for the OpenAPI description).</param>
/// <param name="QueryParameters">The query parameters the route reads (none when null). Any other is refused before
/// <paramref name="Query"/> runs (<see cref="UnknownQueryParameter"/>), on every route alike: a parameter the route
/// does not read is a caller's mistake, never silently ignored.</param>
public sealed record ReadRoute(string Name, string Pattern, string Summary, bool NotFound, ReadQuery Query, IReadOnlyList<string>? QueryParameters = null)
{
    /// <summary>The refusal of a query naming a parameter this route does not read (QUERY_PARAMETER_INVALID), or null.</summary>
    public ReadResult.Refused? UnknownQueryParameter(IEnumerable<string> names) =>
        names.FirstOrDefault(n => !(QueryParameters ?? []).Contains(n, StringComparer.Ordinal)) is { } unknown
            ? new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, $"unknown query parameter '{IdRules.Shorten(unknown)}'")
            : null;
}

/// <summary>
/// A read: the caller's tenant, the route values and the query string (each parameter's values joined by ','), the
/// host clock's time of the request (<paramref name="Now"/>: what "expired" means in a read), and what the host composed
/// beyond the database (<paramref name="Services"/>: the invite link key; none when null).
/// </summary>
public sealed record ReadRequest(SeleneDatabase Db, TenantId Tenant, IReadOnlyDictionary<string, string> RouteValues, IReadOnlyDictionary<string, string> QueryValues,
    UnixNanos Now, HandoffServices? Services = null);

/// <summary>A query function of a read route.</summary>
public delegate Task<ReadResult> ReadQuery(ReadRequest request, CancellationToken ct);

/// <summary>The answer of a read: a body (the server adds reason_code QUERY_OK) or a reason-coded refusal.</summary>
public abstract record ReadResult
{
    private ReadResult() { }

    public sealed record Ok(JsonObject Body) : ReadResult;

    public sealed record Refused(ReasonCode Reason, string Detail) : ReadResult;
}

/// <summary>
/// One outbox event type an engine consumes (ARCHITECTURE.md law 3: engines never call engines, the OS sequences them):
/// a row of <paramref name="EventType"/> runs <paramref name="SimulationId"/> as a turn of the row's originating actor,
/// with the inputs <paramref name="Inputs"/> makes of the row's payload (pure; the payload is the immutable JSON object
/// the producer enqueued). Failures follow <paramref name="Policy"/> (<see cref="HandoffPolicy.Default"/> when null).
/// A route with a <paramref name="Stage"/> prepares each attempt from stored state instead (a work order's step: which
/// simulation, its inputs, the lease it runs under and what commits with its effect); <paramref name="SimulationId"/>
/// and <paramref name="Inputs"/> then only name the route in the journal.
/// </summary>
public sealed record HandoffRoute(string EventType, string SimulationId, Func<JsonObject, JsonObject> Inputs, HandoffPolicy? Policy = null,
    HandoffStage? Stage = null);

/// <summary>
/// The worker a stage prepares an attempt for: its lease owner, how long its holds last, and the services its host
/// composed for stages (delivery providers, …; empty when none).
/// </summary>
public sealed record HandoffWorker(string Owner, TimeSpan LeaseDuration, HandoffServices Services);

/// <summary>
/// What a host gives the runtime beyond the database, one instance per type: its workers' stages (the delivery providers
/// of <c>selene serve --config</c>, a test's providers on 127.0.0.1) and the simulations its executor runs
/// (<see cref="ExecutionContext.Services"/>: the invite link key). Immutable: <see cref="With{T}"/> returns a new set.
/// </summary>
public sealed class HandoffServices
{
    private readonly IReadOnlyDictionary<Type, object> _services;

    private HandoffServices(IReadOnlyDictionary<Type, object> services) => _services = services;

    /// <summary>No services.</summary>
    public static HandoffServices None { get; } = new(new Dictionary<Type, object>());

    /// <summary>This set with <paramref name="service"/> as the one <typeparamref name="T"/>.</summary>
    public HandoffServices With<T>(T service) where T : class =>
        new(new Dictionary<Type, object>(_services) { [typeof(T)] = service });

    /// <summary>The <typeparamref name="T"/> the host composed, or null.</summary>
    public T? Get<T>() where T : class => _services.GetValueOrDefault(typeof(T)) as T;
}

/// <summary>What a route's stage prepared for one attempt of a handoff.</summary>
public abstract record HandoffAttempt
{
    private HandoffAttempt() { }

    /// <summary>Run <paramref name="SimulationId"/> with <paramref name="Inputs"/>, under <paramref name="Lease"/>, committing <paramref name="OnCommit"/> with its effect.</summary>
    public sealed record Run(string SimulationId, JsonObject Inputs, LeaseClaim? Lease, CommitHook? OnCommit) : HandoffAttempt;

    /// <summary>Nothing runs this attempt: a failure like any refusal (PH1.SCHED decides, or a deferral puts the row back).</summary>
    public sealed record Refused(ReasonCode Reason, string Detail) : HandoffAttempt;

    /// <summary>
    /// Nothing is left to run (what the row asked for is moot: a loop step of something that ended): the row is settled
    /// CONFIRMED at once, journaled with <paramref name="Reason"/> (a success code, or the outcome the row's work ended with,
    /// e.g. LINK_INVITE_DELIVERY_FAILED: nothing more will run for it) and <paramref name="Detail"/>. Not a failure of the row.
    /// </summary>
    public sealed record Done(ReasonCode Reason, string Detail) : HandoffAttempt;
}

/// <summary>
/// Prepares one attempt of a handoff from stored state, in transactions of its own (a work order takes its lease and
/// records the step starting), at the worker's time; <paramref name="row"/> is the claimed row, <paramref name="payload"/> its payload.
/// </summary>
public delegate Task<HandoffAttempt> HandoffStage(SeleneDatabase db, OutboxRow row, JsonObject payload, HandoffWorker worker, UnixNanos now, CancellationToken ct);

/// <summary>
/// How PH1.SCHED treats a handoff's failures (reference §11.4, §13.1): at most <paramref name="MaxAttempts"/> attempts
/// (≥ 1), a fixed <paramref name="Backoff"/> between them (0..5 minutes, no jitter), a <paramref name="Timeout"/>
/// counted from the row's creation after which a failure is final, and the retryable reasons: the names in
/// <paramref name="RetryableReasons"/>, or — when null — every code whose <see cref="ReasonCode.Retryable"/> flag is set.
/// </summary>
public sealed record HandoffPolicy(int MaxAttempts, TimeSpan Backoff, TimeSpan Timeout, IReadOnlySet<string>? RetryableReasons = null)
{
    /// <summary>Five attempts 30 seconds apart within a day, retrying what its reason code calls retryable.</summary>
    public static HandoffPolicy Default { get; } = new(5, TimeSpan.FromSeconds(30), TimeSpan.FromDays(1));

    /// <summary>A failure with this reason may be tried again.</summary>
    public bool IsRetryable(ReasonCode reason) => RetryableReasons?.Contains(reason.Name) ?? reason.Retryable;

    /// <summary>Null when the policy is within PH1.SCHED's bounds, else what is wrong.</summary>
    public string? Problem() =>
        MaxAttempts < 1 ? "max attempts is at least 1"
        : Backoff < TimeSpan.Zero || Backoff.TotalMilliseconds > Selene.Kernel.Sched.StepScheduler.MaxRetryBackoffMs ? "backoff is 0..300000 ms"
        : Backoff.Ticks % TimeSpan.TicksPerMillisecond != 0 || Timeout.Ticks % TimeSpan.TicksPerMillisecond != 0 ? "backoff and timeout are whole milliseconds"
        : Timeout < TimeSpan.FromMilliseconds(1) ? "timeout is at least 1 ms"
        : null;
}

/// <summary>
/// The reasons that mean "not now" rather than "this failed": a handoff refused with one of them is put back, due
/// after its policy's backoff, without burning an attempt (the gate switched off, a kill switch or safe mode on).
/// The one place to extend.
/// </summary>
public static class HandoffDeferrals
{
    public static IReadOnlySet<ReasonCode> Reasons { get; } = new HashSet<ReasonCode>
    {
        Selene.Contracts.ReasonCodes.OsNotInvokedDisabled,
        // An operator's incident switches: the handoff waits for them to be lifted, it has not failed.
        Selene.Contracts.ReasonCodes.GovKillSwitchActive,
        Selene.Contracts.ReasonCodes.GovSafeModeActive,
        // Another worker holds the work order's lease: the step waits for it to end (released or expired).
        Selene.Contracts.ReasonCodes.LeaseHeldByOther,
    };
}

/// <summary>The engines this process runs: ONE line per engine.</summary>
public static class EngineModules
{
    public static IReadOnlyList<EngineModule> All { get; } =
    [
        CapReq.CapreqModule.Module,
        Position.PositionModule.Module,
        Access.AccessModule.Module,
        Gov.GovModule.Module,
        Work.WorkModule.Module,
        Bcast.BcastModule.Module,
        Delivery.DeliveryModule.Module,
        Rem.RemModule.Module,
        Link.LinkModule.Module,
        Onb.OnbModule.Module,
        Learn.LearnModule.Module,
    ];

    /// <summary>Every module's handoff routes: the outbox event types this process consumes.</summary>
    public static IReadOnlyList<HandoffRoute> Handoffs { get; } = All.SelectMany(m => m.Handoffs ?? []).ToArray();

    /// <summary>
    /// The process's reason-code registry: the kernel's codes and every module's, with their retired names. Built
    /// once; it throws (and the process does not start) when two codes clash.
    /// </summary>
    public static ReasonCodeRegistry Reasons { get; } = Selene.Contracts.ReasonCodes.Kernel.Extend(
        All.SelectMany(m => m.ReasonCodes), All.SelectMany(m => m.RetiredReasonNames ?? new Dictionary<string, ReasonCode>()));
}
