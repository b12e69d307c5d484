using Selene.Kernel.Gov;
using Selene.Kernel.Os;

namespace Selene.Kernel.Tests;

/// <summary>PH1.GOV's gate inputs, pure: which of the six decisions each stored fact refuses, and the cause named.</summary>
public sealed class GovernanceGateTests
{
    private static readonly QuotaPosture Plenty = new(100, 0, 10, 0);

    private static GovernanceFacts Facts(SimulationType? simulation = SimulationType.Commit, bool tool = false) =>
        new(default, default, simulation, tool, ControlPlane: false, Replay: false, Plenty);

    [Fact]
    public void NothingStored_AllSixAllow()
    {
        var verdict = GovernanceGate.Decide(Facts());
        Assert.Equal(OsGovernanceDecisions.AllAllow, verdict.Decisions);
        Assert.True(verdict.AllAllow);
        Assert.Null(verdict.Detail);
    }

    public static TheoryData<bool, bool, SimulationType?, bool, bool> Switches => new()
    {
        // tenant kill, global safe, simulation type, tool, refused
        { true, false, SimulationType.Draft, false, true },
        { true, false, null, true, true },
        { true, false, null, false, false },
        { false, true, SimulationType.Draft, false, false },
        { false, true, null, true, false },
        { false, true, SimulationType.Commit, false, true },
        { false, true, SimulationType.Revoke, false, true },
    };

    [Theory]
    [MemberData(nameof(Switches))]
    public void KillSwitch_RefusesEveryDispatch_SafeMode_OnlyNonDrafts(bool tenantKill, bool globalSafe, SimulationType? type, bool tool, bool refused)
    {
        var verdict = GovernanceGate.Decide(Facts(type, tool) with { Tenant = new GovSwitches(false, tenantKill), Global = new GovSwitches(globalSafe, false) });
        Assert.Equal(refused ? OsGateDecision.Deny : OsGateDecision.Allow, verdict.Decisions.Gov);
        Assert.Equal(refused ? (tenantKill ? ReasonCodes.GovKillSwitchActive : ReasonCodes.GovSafeModeActive) : null, verdict.Cause);
        Assert.Equal(OsGateDecision.Allow, verdict.Decisions.Quota);
    }

    [Fact]
    public void ControlPlane_IsNeverBlockedBySwitchesOrBudgets()
    {
        var verdict = GovernanceGate.Decide(Facts() with
        {
            ControlPlane = true, Tenant = new GovSwitches(true, true), Global = new GovSwitches(true, true), Quota = new QuotaPosture(1, 1, 1, 1),
        });
        Assert.True(verdict.AllAllow);
    }

    [Theory]
    [InlineData(100, 100, 10, 0, "QUOTA_TENANT_DAILY_EXCEEDED")]
    [InlineData(100, 99, 10, 10, "QUOTA_USER_DAILY_EXCEEDED")]
    [InlineData(100, 101, 10, 11, "QUOTA_TENANT_DAILY_EXCEEDED")]
    [InlineData(100, 99, 10, 9, null)]
    public void Quota_RefusesAtTheBudget_TenantFirst(long tenantLimit, long tenantUsed, long userLimit, long userUsed, string? cause)
    {
        var verdict = GovernanceGate.Decide(Facts() with { Quota = new QuotaPosture(tenantLimit, tenantUsed, userLimit, userUsed) });
        Assert.Equal(cause, verdict.Cause?.Name);
        Assert.Equal(cause is null ? OsGateDecision.Allow : OsGateDecision.Deny, verdict.Decisions.Quota);
        // A chat or a tool executes nothing and spends nothing; a replay neither.
        Assert.True(GovernanceGate.Decide(Facts(null, tool: true) with { Quota = new QuotaPosture(tenantLimit, tenantUsed, userLimit, userUsed) }).AllAllow);
        Assert.True(GovernanceGate.Decide(Facts() with { Replay = true, Quota = new QuotaPosture(tenantLimit, tenantUsed, userLimit, userUsed) }).AllAllow);
    }

    [Fact]
    public void Capreq_RequiredCapability_NeedsTheApprovedRequest_ReplaysDoNot()
    {
        var required = Facts() with { RequiredCapability = "GOV_DEFINITION_CHANGE", CapabilityScope = "SIMULATION:X" };
        var refused = GovernanceGate.Decide(required);
        Assert.Equal(OsGateDecision.Deny, refused.Decisions.Capreq);
        Assert.Equal(ReasonCodes.GovCapreqApprovalMissing, refused.Cause);
        Assert.Contains("SIMULATION:X", refused.Detail, StringComparison.Ordinal);
        Assert.True(GovernanceGate.Decide(required with { ApprovedCapreqId = "capreq_0123456789abcdef" }).AllAllow);
        Assert.True(GovernanceGate.Decide(required with { Replay = true }).AllAllow);
    }

    [Fact]
    public void SeveralRefusals_EachGateDenies_TheCauseIsTheFirstInGatePrecedence()
    {
        var verdict = GovernanceGate.Decide(Facts() with
        {
            Tenant = new GovSwitches(true, false), Quota = new QuotaPosture(1, 1, 1, 1), RequiredCapability = "C", CapabilityScope = "S",
        });
        Assert.Equal(new OsGovernanceDecisions(OsGateDecision.Allow, OsGateDecision.Allow, OsGateDecision.Deny, OsGateDecision.Deny, OsGateDecision.Allow,
            OsGateDecision.Deny), verdict.Decisions);
        Assert.Equal(ReasonCodes.GovSafeModeActive, verdict.Cause);
        var policy = OsGate.PolicyEvaluate(OsFixtures.Policy(simulation: true) with { Governance = verdict.Decisions }, OsConfig.Mvp);
        Assert.Equal(ReasonCodes.OsFailGovGate, policy.Reason);
    }
}
