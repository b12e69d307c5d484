using Selene.Engines.Gov;

namespace Selene.Engines.Tests;

/// <summary>PH1.GOV's control plane, pure: switches, budgets and definition governance with its rollback history.</summary>
public sealed class GovDeciderTests
{
    private static readonly GovContext Tenant = new("acme", "alice", new UnixNanos(1_000), PlatformOperator: false);
    private static readonly GovContext Known = Tenant with { ArtifactKnown = true };

    [Fact]
    public void Switch_OnThenOff_FoldsToTheStatus_ASecondOnIsUnchanged()
    {
        var on = Accepted(GovDecider.DecideControl(null, new SetSwitch(GovScope.Tenant, GovSwitch.SafeMode, true, "drill"), Tenant));
        var state = GovDecider.EvolveControl(null, on, 1);
        Assert.Equal(GovControlStatus.SafeMode, GovDecider.StatusOf(state));
        var again = Assert.IsType<Decision<GovControlEvent>.Rejected>(GovDecider.DecideControl(state, new SetSwitch(GovScope.Tenant, GovSwitch.SafeMode, true, "drill"), Tenant));
        Assert.Equal(GovReasons.GovSwitchUnchanged, again.Reason);

        var kill = GovDecider.EvolveControl(state, Accepted(GovDecider.DecideControl(state, new SetSwitch(GovScope.Tenant, GovSwitch.KillSwitch, true, "stop"), Tenant)), 2);
        Assert.Equal(GovControlStatus.KillSwitch, GovDecider.StatusOf(kill));
        Assert.True(kill.SafeMode);
        var off = GovDecider.EvolveControl(kill, Accepted(GovDecider.DecideControl(kill, new SetSwitch(GovScope.Tenant, GovSwitch.KillSwitch, false, "resume"), Tenant)), 3);
        Assert.Equal(GovControlStatus.SafeMode, GovDecider.StatusOf(off));
        Assert.Equal("resume", off.LastNote);
    }

    [Fact]
    public void ApprovalPolicy_RequiredThenNot_FoldsToASortedSet_UnchangedAndUngovernedAreRefused()
    {
        var governed = Tenant with { CapabilityGoverned = true };
        var unknown = Assert.IsType<Decision<GovControlEvent>.Rejected>(GovDecider.DecideControl(null, new SetApprovalPolicy(GovScope.Tenant, "B_CAP", true, "why"), Tenant));
        Assert.Equal(GovReasons.GovApprovalCapabilityUnknown, unknown.Reason);
        // Nothing is required until a policy says so: "not required" is unchanged on a fresh scope.
        Assert.Equal(GovReasons.GovApprovalPolicyUnchanged, Assert.IsType<Decision<GovControlEvent>.Rejected>(
            GovDecider.DecideControl(null, new SetApprovalPolicy(GovScope.Tenant, "B_CAP", false, "why"), governed)).Reason);

        var state = GovDecider.EvolveControl(null, Accepted(GovDecider.DecideControl(null, new SetApprovalPolicy(GovScope.Tenant, "B_CAP", true, "why"), governed)), 1);
        state = GovDecider.EvolveControl(state, Accepted(GovDecider.DecideControl(state, new SetApprovalPolicy(GovScope.Tenant, "A_CAP", true, "why"), governed)), 2);
        Assert.Equal(["A_CAP", "B_CAP"], state.ApprovalRequired!);
        Assert.True(state.RequiresApproval("B_CAP"));
        Assert.Equal(GovControlStatus.Normal, GovDecider.StatusOf(state));
        Assert.Equal(GovReasons.GovApprovalPolicyUnchanged, Assert.IsType<Decision<GovControlEvent>.Rejected>(
            GovDecider.DecideControl(state, new SetApprovalPolicy(GovScope.Tenant, "A_CAP", true, "again"), governed)).Reason);

        var off = GovDecider.EvolveControl(state, Accepted(GovDecider.DecideControl(state, new SetApprovalPolicy(GovScope.Tenant, "B_CAP", false, "lifted"), governed)), 3);
        Assert.Equal(["A_CAP"], off.ApprovalRequired!);
        Assert.False(off.RequiresApproval("B_CAP"));
        Assert.Equal(GovReasons.GovGlobalScopeForbidden, Assert.IsType<Decision<GovControlEvent>.Rejected>(
            GovDecider.DecideControl(null, new SetApprovalPolicy(GovScope.Global, "B_CAP", true, "why"), governed)).Reason);
    }

    [Fact]
    public void Global_OnlyAPlatformOperator()
    {
        var command = new SetSwitch(GovScope.Global, GovSwitch.KillSwitch, true, "platform");
        Assert.Equal(GovReasons.GovGlobalScopeForbidden, Assert.IsType<Decision<GovControlEvent>.Rejected>(GovDecider.DecideControl(null, command, Tenant)).Reason);
        var e = Accepted(GovDecider.DecideControl(null, command, Tenant with { PlatformOperator = true }));
        Assert.Equal(GovDecider.GlobalStream, GovDecider.ControlStream(e.Scope));
        Assert.True(GovDecider.IsGlobalStream(GovDecider.GlobalStream));
        Assert.False(GovDecider.IsGlobalStream(GovDecider.TenantStream));
    }

    [Theory]
    [InlineData(0L, null)]
    [InlineData(null, 0L)]
    [InlineData(100_000_001L, null)]
    [InlineData(-5L, 5L)]
    public void Quota_OutOfBounds_IsInvalid(long? tenantDaily, long? userDaily) =>
        Assert.Equal(ReasonCodes.InputFieldInvalid, GovDecider.Validate(new SetQuota(tenantDaily, userDaily, "budget"))!.Reason);

    [Fact]
    public void Validate_NoteIsRequiredAndBounded()
    {
        Assert.NotNull(GovDecider.Validate(new SetSwitch(GovScope.Tenant, GovSwitch.SafeMode, true, "")));
        Assert.NotNull(GovDecider.Validate(new SetSwitch(GovScope.Tenant, GovSwitch.SafeMode, true, new string('x', 257))));
        Assert.Null(GovDecider.Validate(new SetSwitch(GovScope.Tenant, GovSwitch.SafeMode, true, "why")));
        Assert.NotNull(GovDecider.Validate(new SetDefinition(GovScope.Tenant, GovArtifactKind.Simulation, "BAD ID", GovDefinitionAction.Deprecate, "why")));
    }

    [Fact]
    public void Definition_DeprecateActivateRollback_UndoesOneChangeAtATime()
    {
        SetDefinition Change(GovDefinitionAction action) => new(GovScope.Tenant, GovArtifactKind.Simulation, "CAPREQ_CANCEL_REVOKE", action, "why");
        Assert.Equal(GovReasons.GovDefinitionTransitionInvalid, Rejected(GovDecider.DecideDefinition(null, Change(GovDefinitionAction.Activate), Known)));
        Assert.Equal(GovReasons.GovDefinitionTransitionInvalid, Rejected(GovDecider.DecideDefinition(null, Change(GovDefinitionAction.Rollback), Known)));

        var deprecated = GovDecider.EvolveDefinition(null, Accepted(GovDecider.DecideDefinition(null, Change(GovDefinitionAction.Deprecate), Known)), 1);
        Assert.Equal(GovDefinitionStatus.Deprecated, deprecated.Status);
        var active = GovDecider.EvolveDefinition(deprecated, Accepted(GovDecider.DecideDefinition(deprecated, Change(GovDefinitionAction.Activate), Known)), 2);
        Assert.Equal(GovDefinitionStatus.Active, active.Status);
        Assert.Equal([GovDefinitionStatus.Active, GovDefinitionStatus.Deprecated], active.History);

        var back = GovDecider.EvolveDefinition(active, Accepted(GovDecider.DecideDefinition(active, Change(GovDefinitionAction.Rollback), Known)), 3);
        Assert.Equal(GovDefinitionStatus.Deprecated, back.Status);
        var first = GovDecider.EvolveDefinition(back, Accepted(GovDecider.DecideDefinition(back, Change(GovDefinitionAction.Rollback), Known)), 4);
        Assert.Equal(GovDefinitionStatus.Active, first.Status);
        Assert.Empty(first.History);
        Assert.Equal(4, first.Version);
        Assert.Equal(GovReasons.GovDefinitionTransitionInvalid, Rejected(GovDecider.DecideDefinition(first, Change(GovDefinitionAction.Rollback), Known)));
    }

    [Fact]
    public void Definition_UnknownOrGovernancesOwn_IsRefused()
    {
        var change = new SetDefinition(GovScope.Tenant, GovArtifactKind.Blueprint, "GOV_CONTROL", GovDefinitionAction.Deprecate, "why");
        Assert.Equal(GovReasons.GovDefinitionUnknown, Rejected(GovDecider.DecideDefinition(null, change, Tenant)));
        Assert.Equal(GovReasons.GovDefinitionProtected, Rejected(GovDecider.DecideDefinition(null, change, Known with { ArtifactProtected = true })));
        Assert.Equal("BLUEPRINT:GOV_CONTROL", GovDecider.CapabilityScope(change));
        Assert.Equal("GLOBAL:BLUEPRINT:GOV_CONTROL", GovDecider.CapabilityScope(change with { Scope = GovScope.Global }));
    }

    private static T Accepted<T>(Decision<T> decision) => Assert.Single(Assert.IsType<Decision<T>.Accepted>(decision).Events);

    private static ReasonCode Rejected<T>(Decision<T> decision) => Assert.IsType<Decision<T>.Rejected>(decision).Reason;
}
