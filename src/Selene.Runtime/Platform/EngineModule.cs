using System.Text.Json.Nodes;
using Selene.Postgres;

namespace Selene.Runtime.Platform;

/// <summary>
/// Everything one engine brings, declared in one place: its simulations, its aggregates (store pairs, which the
/// rebuild walks), its reason codes and its HTTP read routes. The registry, the catalog, <c>selene rebuild</c> and
/// the server's read routes derive from <see cref="EngineModules.All"/>.
/// </summary>
/// <param name="Name">Short lower-case name (<c>selene rebuild --engine capreq</c>).</param>
/// <param name="EngineId">The journal's engine id (PH1.CAPREQ): one per engine.</param>
/// <param name="ReasonCodes">The codes the engine declares (its own code class in its pure folder).</param>
/// <param name="RetiredReasonNames">Names its codes carried before a rename; they still resolve (<see cref="ReasonCodeRegistry"/>).</param>
public sealed record EngineModule(
    string Name,
    string EngineId,
    IReadOnlyList<ISimulationHandler> Simulations,
    IReadOnlyList<IAggregate> Aggregates,
    IReadOnlyList<ReasonCode> ReasonCodes,
    IReadOnlyList<ReadRoute> Routes,
    IReadOnlyDictionary<string, ReasonCode>? RetiredReasonNames = null)
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
public sealed record ReadRoute(string Name, string Pattern, string Summary, bool NotFound, ReadQuery Query);

/// <summary>
/// A read: the caller's tenant, the route values and the query string (each parameter's values joined by ','), and the
/// host clock's time of the request (<paramref name="Now"/>: what "expired" means in a read).
/// </summary>
public sealed record ReadRequest(SeleneDatabase Db, TenantId Tenant, IReadOnlyDictionary<string, string> RouteValues, IReadOnlyDictionary<string, string> QueryValues,
    UnixNanos Now);

/// <summary>A query function of a read route.</summary>
public delegate Task<ReadResult> ReadQuery(ReadRequest request, CancellationToken ct);

/// <summary>The answer of a read: a body (the server adds reason_code QUERY_OK) or a reason-coded refusal.</summary>
public abstract record ReadResult
{
    private ReadResult() { }

    public sealed record Ok(JsonObject Body) : ReadResult;

    public sealed record Refused(ReasonCode Reason, string Detail) : ReadResult;
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
    ];

    /// <summary>
    /// The process's reason-code registry: the kernel's codes and every module's, with their retired names. Built
    /// once; it throws (and the process does not start) when two codes clash.
    /// </summary>
    public static ReasonCodeRegistry Reasons { get; } = Selene.Contracts.ReasonCodes.Kernel.Extend(
        All.SelectMany(m => m.ReasonCodes), All.SelectMany(m => m.RetiredReasonNames ?? new Dictionary<string, ReasonCode>()));
}
