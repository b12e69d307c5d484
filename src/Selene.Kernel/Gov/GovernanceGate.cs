using Selene.Kernel.Os;

namespace Selene.Kernel.Gov;

/// <summary>The two incident switches of one scope (a tenant, or the whole platform).</summary>
/// <param name="SafeMode">Only reads and DRAFT simulations run.</param>
/// <param name="KillSwitch">No dispatch runs at all (simulations and tools).</param>
public readonly record struct GovSwitches(bool SafeMode, bool KillSwitch);

/// <summary>Today's executions against the day's budgets (UTC day), for the tenant and for the acting user.</summary>
public readonly record struct QuotaPosture(long TenantLimit, long TenantUsed, long UserLimit, long UserUsed);

/// <summary>
/// What the governance gate decides on for one turn, read by the runtime inside the turn's transaction.
/// </summary>
/// <param name="Global">The platform's switches (set by a platform operator).</param>
/// <param name="Tenant">The tenant's own switches.</param>
/// <param name="Simulation">The type of the simulation the turn asks to dispatch; null when it asks for none.</param>
/// <param name="ToolRequested">The turn asks to dispatch a tool.</param>
/// <param name="ControlPlane">
/// The simulation is one of PH1.GOV's own (switches, quotas, definitions): neither switch nor quota blocks it, or an
/// operator could not lift them.
/// </param>
/// <param name="Replay">
/// The turn is a retry of a request that committed under its key: it executes nothing, so it spends no quota and
/// needs no approval (the original decision is on record); the switches still apply.
/// </param>
/// <param name="Quota">Today's use and budgets.</param>
/// <param name="RequiredCapability">The capability the simulation's catalog record requires an APPROVED request for; null: none.</param>
/// <param name="CapabilityScope">The scope that request must name (from the simulation's input).</param>
/// <param name="ApprovedCapreqId">The acting user's APPROVED request for exactly that capability and scope; null: none.</param>
public sealed record GovernanceFacts(
    GovSwitches Global,
    GovSwitches Tenant,
    SimulationType? Simulation,
    bool ToolRequested,
    bool ControlPlane,
    bool Replay,
    QuotaPosture Quota,
    string? RequiredCapability = null,
    string? CapabilityScope = null,
    string? ApprovedCapreqId = null);

/// <summary>The six governance decisions of the gate, with the cause of the first refusal (null when all ALLOW).</summary>
public sealed record GovernanceVerdict(OsGovernanceDecisions Decisions, ReasonCode? Cause, string? Detail)
{
    public bool AllAllow => Cause is null;
}

/// <summary>
/// PH1.GOV's part of the turn gate, pure: the six governance decisions (policy, tenant, gov, quota, work, capreq) from
/// stored governance state. GOV: the kill switch (global or tenant) refuses every dispatch; safe mode refuses every
/// simulation that is not DRAFT (reads, tools and drafts run). QUOTA: a simulation dispatch refuses once the tenant's
/// or the user's executions of the day reached the budget. CAPREQ: a simulation whose catalog record requires a
/// capability runs only with the actor's APPROVED request for exactly that capability and scope. POLICY, TENANT and
/// WORK have no stored source yet and ALLOW (docs/decisions.md): nothing here is a constant of the turn path.
/// </summary>
public static class GovernanceGate
{
    public static GovernanceVerdict Decide(GovernanceFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var gov = OsGateDecision.Allow;
        var quota = OsGateDecision.Allow;
        var capreq = OsGateDecision.Allow;
        ReasonCode? cause = null;
        string? detail = null;

        var dispatch = facts.Simulation is not null || facts.ToolRequested;
        if (dispatch && !facts.ControlPlane)
        {
            if (facts.Global.KillSwitch || facts.Tenant.KillSwitch)
                (gov, cause, detail) = (OsGateDecision.Deny, ReasonCodes.GovKillSwitchActive,
                    $"the {ScopeOf(facts.Global.KillSwitch)} kill switch is on: nothing is dispatched until an operator turns it off");
            else if (facts.Simulation is { } type && type != SimulationType.Draft && (facts.Global.SafeMode || facts.Tenant.SafeMode))
                (gov, cause, detail) = (OsGateDecision.Deny, ReasonCodes.GovSafeModeActive,
                    $"{ScopeOf(facts.Global.SafeMode)} safe mode is on: only reads and DRAFT simulations run, this one is {WireNames.Of(type)}");
        }

        if (facts.Simulation is not null && !facts.ControlPlane && !facts.Replay)
        {
            var q = facts.Quota;
            if (q.TenantUsed >= q.TenantLimit)
            {
                quota = OsGateDecision.Deny;
                if (cause is null)
                    (cause, detail) = (ReasonCodes.QuotaTenantDailyExceeded, $"the tenant used its {q.TenantLimit} executions of the day (UTC)");
            }
            else if (q.UserUsed >= q.UserLimit)
            {
                quota = OsGateDecision.Deny;
                if (cause is null)
                    (cause, detail) = (ReasonCodes.QuotaUserDailyExceeded, $"this user used their {q.UserLimit} executions of the day (UTC)");
            }
        }

        if (facts.RequiredCapability is { } capability && !facts.Replay && facts.ApprovedCapreqId is null)
        {
            capreq = OsGateDecision.Deny;
            if (cause is null)
                (cause, detail) = (ReasonCodes.GovCapreqApprovalMissing,
                    $"this simulation needs your APPROVED capability request for {capability} on {facts.CapabilityScope}");
        }

        var decisions = new OsGovernanceDecisions(OsGateDecision.Allow, OsGateDecision.Allow, gov, quota, OsGateDecision.Allow, capreq);
        return new GovernanceVerdict(decisions, cause, detail);
    }

    private static string ScopeOf(bool global) => global ? "platform-wide" : "tenant's";
}
