using System.Text.Json;
using Selene.Engines.CapReq;
using Selene.Engines.Gov;
using Selene.Kernel.Gov;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Gov;

/// <summary>
/// The governance side of one turn, read in the turn's transaction: the gate's six governance decisions
/// (<see cref="Verdict"/>), whether governance deprecated the requested simulation or its blueprint (the catalog
/// and blueprint gates), the budgets to count an execution against, and the APPROVED capability request (locked)
/// that an execution fulfils.
/// </summary>
public sealed record TurnGovernance(
    GovernanceVerdict Verdict,
    GovScope? SimulationDeprecatedIn,
    GovScope? BlueprintDeprecatedIn,
    long TenantLimit,
    long UserLimit,
    DateOnly Day,
    bool CountsAsExecution,
    CapreqState? ApprovedCapreq);

/// <summary>What a turn's governance reads: the UTC day, the definition streams, and the required capability and its scope (null: none).</summary>
public sealed record GovernanceQuery(DateOnly Day, IReadOnlyList<string> DefinitionStreams, string? Capability, string? CapabilityScope);

/// <summary>Reads what PH1.GOV stored for a turn and decides the governance gate inputs (<see cref="GovernanceGate"/>).</summary>
public static class GovernanceReads
{
    /// <summary>The UTC day of an instant: budgets are per day.</summary>
    public static DateOnly DayOf(UnixNanos now) => DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(now.Value / 1_000_000).UtcDateTime);

    /// <summary>The budgets in force: the tenant's own, else the defaults.</summary>
    public static (long Tenant, long User) Limits(GovControlState? tenant) =>
        (tenant?.TenantDailyExecutions ?? GovDecider.DefaultTenantDailyExecutions, tenant?.UserDailyExecutions ?? GovDecider.DefaultUserDailyExecutions);

    /// <summary>What to read for a turn's governance (<see cref="GovernanceQueries.TurnFactsAsync"/>), decided before any read.</summary>
    /// <param name="record">The requested simulation's catalog record; null when the turn asks to dispatch none (or one the catalog cannot run).</param>
    /// <param name="blueprintId">The blueprint that binds it.</param>
    /// <param name="capabilityScope">For a record with a required capability: the scope its input names.</param>
    /// <param name="replay">The turn retries a request that committed under its key: no approval is looked for.</param>
    public static GovernanceQuery Query(SimulationRecord? record, string? blueprintId, string? capabilityScope, bool replay, UnixNanos now)
    {
        var streams = new List<string>(4);
        if (record is not null)
        {
            foreach (var scope in Enum.GetValues<GovScope>())
            {
                streams.Add(GovDecider.DefinitionStream(scope, GovArtifactKind.Simulation, record.SimulationId));
                if (blueprintId is not null) streams.Add(GovDecider.DefinitionStream(scope, GovArtifactKind.Blueprint, blueprintId));
            }
        }
        // A scope-less input of a policy-governed record is outside the governed kind (docs/decisions.md): nothing to look for.
        return new GovernanceQuery(DayOf(now), streams, replay || capabilityScope is null ? null : record?.RequiredCapability, capabilityScope);
    }

    /// <summary>
    /// Decides the governance side of a turn from the rows <paramref name="query"/> read; a required approval that was
    /// found is locked and checked again here, so the execution fulfils exactly it.
    /// </summary>
    public static async Task<TurnGovernance> DecideAsync(TenantTransaction tx, GovernanceRows rows, GovernanceQuery query, SimulationRecord? record,
        bool toolRequested, bool replay, CancellationToken ct)
    {
        var tenant = Read<GovControlState>(rows.TenantControl);
        var global = Read<GovControlState>(rows.GlobalControl);
        var definitions = rows.Definitions.Select(r => Read<GovDefinitionState>(r)!).Where(d => d.Status == GovDefinitionStatus.Deprecated).ToArray();

        // A policy-governed capability is required only where the tenant's or the platform's approval policy names it;
        // an approval that is not required is neither locked nor spent.
        var required = query.Capability is { } capability &&
            (record is not { CapabilityByTenantPolicy: true } || (tenant?.RequiresApproval(capability) ?? false) || (global?.RequiresApproval(capability) ?? false))
            ? query.Capability : null;
        CapreqState? approved = null;
        if (required is not null && rows.ApprovedCapreqId is { } capreqId &&
            await CapReq.CapreqModule.Requests.LockAndLoadAsync(tx, capreqId, ct) is { Status: CapreqStatus.Approved } locked)
            approved = locked;

        var (tenantLimit, userLimit) = Limits(tenant);
        var controlPlane = record?.OwningEngine == GovReasons.EngineId;
        var verdict = GovernanceGate.Decide(new GovernanceFacts(
            Switches(global), Switches(tenant),
            record?.Type, toolRequested, controlPlane, replay,
            new QuotaPosture(tenantLimit, rows.TenantUsed, userLimit, rows.UserUsed),
            required, query.CapabilityScope, approved?.CapreqId));
        return new TurnGovernance(verdict,
            definitions.FirstOrDefault(d => d.Kind == GovArtifactKind.Simulation)?.Scope,
            definitions.FirstOrDefault(d => d.Kind == GovArtifactKind.Blueprint)?.Scope,
            tenantLimit, userLimit, query.Day,
            CountsAsExecution: record is not null && !controlPlane && !replay,
            approved);
    }

    private static GovSwitches Switches(GovControlState? s) => new(s?.SafeMode ?? false, s?.KillSwitch ?? false);

    private static T? Read<T>(ProjectionRow? row) where T : class => row is null ? null : JsonSerializer.Deserialize<T>(row.Doc, EngineJson.Options);
}
