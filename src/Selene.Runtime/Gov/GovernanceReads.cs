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

/// <summary>Reads what PH1.GOV stored for a turn and decides the governance gate inputs (<see cref="GovernanceGate"/>).</summary>
public static class GovernanceReads
{
    /// <summary>The UTC day of an instant: budgets are per day.</summary>
    public static DateOnly DayOf(UnixNanos now) => DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(now.Value / 1_000_000).UtcDateTime);

    /// <summary>The budgets in force: the tenant's own, else the defaults.</summary>
    public static (long Tenant, long User) Limits(GovControlState? tenant) =>
        (tenant?.TenantDailyExecutions ?? GovDecider.DefaultTenantDailyExecutions, tenant?.UserDailyExecutions ?? GovDecider.DefaultUserDailyExecutions);

    /// <param name="record">The requested simulation's catalog record; null when the turn asks to dispatch none (or one the catalog cannot run).</param>
    /// <param name="blueprintId">The blueprint that binds it.</param>
    /// <param name="capabilityScope">For a record with a required capability: the scope its input names.</param>
    /// <param name="replay">The turn retries a request that committed under its key.</param>
    public static async Task<TurnGovernance> ReadAsync(TenantTransaction tx, UserId actor, SimulationRecord? record, string? blueprintId, string? capabilityScope,
        bool toolRequested, bool replay, UnixNanos now, CancellationToken ct)
    {
        var day = DayOf(now);
        var streams = new List<string>(4);
        if (record is not null)
        {
            foreach (var scope in Enum.GetValues<GovScope>())
            {
                streams.Add(GovDecider.DefinitionStream(scope, GovArtifactKind.Simulation, record.SimulationId));
                if (blueprintId is not null) streams.Add(GovDecider.DefinitionStream(scope, GovArtifactKind.Blueprint, blueprintId));
            }
        }
        var capability = replay ? null : record?.RequiredCapability;
        var rows = await GovernanceQueries.FactsAsync(tx, actor.Value, day, streams, capability, capabilityScope, ct);
        var tenant = Read<GovControlState>(rows.TenantControl);
        var global = Read<GovControlState>(rows.GlobalControl);
        var definitions = rows.Definitions.Select(r => Read<GovDefinitionState>(r)!).Where(d => d.Status == GovDefinitionStatus.Deprecated).ToArray();

        // The request found without a lock is locked now and checked again, so the execution fulfils exactly it.
        CapreqState? approved = null;
        if (rows.ApprovedCapreqId is { } capreqId &&
            await CapReq.CapreqModule.Requests.LockAndLoadAsync(tx, capreqId, ct) is { Status: CapreqStatus.Approved } locked)
            approved = locked;

        var (tenantLimit, userLimit) = Limits(tenant);
        var controlPlane = record?.OwningEngine == GovReasons.EngineId;
        var verdict = GovernanceGate.Decide(new GovernanceFacts(
            Switches(global), Switches(tenant),
            record?.Type, toolRequested, controlPlane, replay,
            new QuotaPosture(tenantLimit, rows.TenantUsed, userLimit, rows.UserUsed),
            record?.RequiredCapability, capabilityScope, approved?.CapreqId));
        return new TurnGovernance(verdict,
            definitions.FirstOrDefault(d => d.Kind == GovArtifactKind.Simulation)?.Scope,
            definitions.FirstOrDefault(d => d.Kind == GovArtifactKind.Blueprint)?.Scope,
            tenantLimit, userLimit, day,
            CountsAsExecution: record is not null && !controlPlane && !replay,
            approved);
    }

    private static GovSwitches Switches(GovControlState? s) => new(s?.SafeMode ?? false, s?.KillSwitch ?? false);

    private static T? Read<T>(ProjectionRow? row) where T : class => row is null ? null : JsonSerializer.Deserialize<T>(row.Doc, EngineJson.Options);
}
