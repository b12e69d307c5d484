namespace Selene.Kernel.Tests;

/// <summary>Each of the ten steps of reference §7.2, alone and in precedence.</summary>
public sealed class AccessGateTests
{
    private static readonly UnixNanos Now = new(1_000_000);

    internal static AccessInstanceView Instance(
        AccessMode mode = AccessMode.W, IReadOnlyList<string>? allow = null, bool financial = false, bool verified = true,
        DeviceTrustLevel device = DeviceTrustLevel.Dtl4, AccessLifecycle lifecycle = AccessLifecycle.Active, string user = "alice") =>
        new("ai_1", "acme", user, mode, allow ?? ["CAPREQ_MANAGE"], financial, verified, device, lifecycle);

    internal static AccessGateRequest Request(
        AccessInstanceView? instance, AccessMode requested = AccessMode.W, string action = "CAPREQ_MANAGE",
        DeviceTrustLevel caller = DeviceTrustLevel.Dtl4, bool sensitive = false, IReadOnlyList<AccessOverrideView>? overrides = null,
        string user = "alice") =>
        new(user, instance, overrides ?? [], action, requested, caller, sensitive, Now);

    private static AccessOverrideView Grant(AccessMode mode, string scope = "CAPREQ_MANAGE", long starts = 0, long? expires = null,
        OverrideStatus status = OverrideStatus.Active, OverrideType type = OverrideType.Temporary) =>
        new("ov_1", type, scope, mode, status, starts, expires);

    private static void AssertDecision(AccessGateDecision d, AccessDecisionKind kind, ReasonCode reason, int step, RestrictionFlag? flag = null, EscalationTrigger? trigger = null)
    {
        Assert.Equal(kind, d.Decision);
        Assert.Equal(reason, d.Reason);
        Assert.Equal(step, d.Step);
        if (flag is { } f) Assert.Contains(f, d.RestrictionFlags);
        Assert.Equal(trigger, d.Trigger);
    }

    [Fact]
    public void Step1_NoInstance_DeniesInstanceMissing() =>
        AssertDecision(AccessGate.Decide(Request(null)), AccessDecisionKind.Deny, ReasonCodes.AccessInstanceMissing, 1, RestrictionFlag.InstanceMissing);

    [Fact]
    public void Step2_InstanceOfAnotherUser_DeniesScopeMismatch() =>
        AssertDecision(AccessGate.Decide(Request(Instance(user: "bob"))), AccessDecisionKind.Deny, ReasonCodes.AccessScopeMismatch, 2, RestrictionFlag.UserScopeMismatch);

    [Fact]
    public void Step3_EffectiveMode_IsTheHighestGrantInForceAndInScope()
    {
        var instance = Instance(AccessMode.R);
        AccessOverrideView[] overrides =
        [
            Grant(AccessMode.W),
            Grant(AccessMode.X, scope: "POSITION_MANAGE"),            // other scope
            Grant(AccessMode.X, expires: Now.Value),                  // window ended (exclusive end)
            Grant(AccessMode.X, starts: Now.Value + 1),               // not started
            Grant(AccessMode.X, status: OverrideStatus.Revoked),      // revoked
            Grant(AccessMode.X, type: OverrideType.Revoke),           // revocation row
            Grant(AccessMode.A, scope: "*", expires: Now.Value + 1),  // in force, wildcard
        ];
        Assert.Equal(AccessMode.A, AccessGate.EffectiveMode(instance, overrides, "CAPREQ_MANAGE", Now));
        Assert.Equal(AccessMode.R, AccessGate.EffectiveMode(instance, [], "CAPREQ_MANAGE", Now));
    }

    [Fact]
    public void Step4_Suspended_Denies() =>
        AssertDecision(AccessGate.Decide(Request(Instance(lifecycle: AccessLifecycle.Suspended))), AccessDecisionKind.Deny, ReasonCodes.AccessDenied, 4, RestrictionFlag.InstanceSuspended);

    [Theory]
    [InlineData(AccessLifecycle.Restricted, true)]
    [InlineData(AccessLifecycle.Active, false)]
    public void Step5_RestrictedOrUnverified_EscalatesForStepUp(AccessLifecycle lifecycle, bool verified) =>
        AssertDecision(AccessGate.Decide(Request(Instance(lifecycle: lifecycle, verified: verified))), AccessDecisionKind.Escalate,
            ReasonCodes.AccessEscalateRequired, 5, trigger: EscalationTrigger.StepUpProofRequired);

    [Theory]
    [InlineData(new[] { "POSITION_MANAGE" }, "CAPREQ_MANAGE", false)]
    [InlineData(new[] { "capreq_manage" }, "CAPREQ_MANAGE", true)]
    [InlineData(new[] { "*" }, "ANYTHING", true)]
    [InlineData(new string[0], "CAPREQ_MANAGE", false)]
    public void Step6_AllowList_DeniesActionsItDoesNotName(string[] allow, string action, bool allowed)
    {
        var d = AccessGate.Decide(Request(Instance(allow: allow), action: action));
        if (allowed) Assert.Equal(AccessDecisionKind.Allow, d.Decision);
        else AssertDecision(d, AccessDecisionKind.Deny, ReasonCodes.AccessDenied, 6, RestrictionFlag.ActionNotAllowed);
    }

    [Fact]
    public void Step6_NoAllowList_IsLegacyAllow() =>
        Assert.Equal(AccessDecisionKind.Allow, AccessGate.Decide(Request(Instance() with { AllowList = null }, action: "WHATEVER")).Decision);

    [Fact]
    public void Step6_ActionOutsideTheListButGrantedByAnOverride_PassesTheListCheck()
    {
        var d = AccessGate.Decide(Request(Instance(allow: ["OTHER"]), overrides: [Grant(AccessMode.W)]));
        Assert.Equal(AccessDecisionKind.Allow, d.Decision);
    }

    [Fact]
    public void Step7_SensitiveWithoutFinancialAuth_Denies()
    {
        AssertDecision(AccessGate.Decide(Request(Instance(), sensitive: true)), AccessDecisionKind.Deny, ReasonCodes.AccessSensitiveDeny, 7, RestrictionFlag.SensitiveFieldsBlocked);
        Assert.Equal(AccessDecisionKind.Allow, AccessGate.Decide(Request(Instance(financial: true), sensitive: true)).Decision);
    }

    [Theory]
    [InlineData(DeviceTrustLevel.Dtl2, DeviceTrustLevel.Dtl4, AccessMode.A, true)]
    [InlineData(DeviceTrustLevel.Dtl4, DeviceTrustLevel.Dtl1, AccessMode.X, true)]
    [InlineData(DeviceTrustLevel.Dtl3, DeviceTrustLevel.Dtl3, AccessMode.A, false)]
    [InlineData(DeviceTrustLevel.Dtl1, DeviceTrustLevel.Dtl1, AccessMode.W, false)]
    public void Step8_LowDeviceTrustForApproveOrExecute_Escalates(DeviceTrustLevel caller, DeviceTrustLevel instanceTrust, AccessMode requested, bool escalates)
    {
        var d = AccessGate.Decide(Request(Instance(AccessMode.X, device: instanceTrust), requested, caller: caller));
        if (escalates) AssertDecision(d, AccessDecisionKind.Escalate, ReasonCodes.AccessDeviceUntrusted, 8, RestrictionFlag.DeviceUntrusted, EscalationTrigger.StepUpProofRequired);
        else Assert.Equal(AccessDecisionKind.Allow, d.Decision);
    }

    [Theory]
    [InlineData(AccessMode.W, AccessMode.R)]
    [InlineData(AccessMode.W, AccessMode.W)]
    [InlineData(AccessMode.X, AccessMode.A)]
    public void Step9_RequestedWithinEffective_Allows(AccessMode have, AccessMode want) =>
        AssertDecision(AccessGate.Decide(Request(Instance(have), want)), AccessDecisionKind.Allow, ReasonCodes.AccessAllowed, 9);

    [Fact]
    public void Step10_RequestedAboveEffective_EscalatesForApproval() =>
        AssertDecision(AccessGate.Decide(Request(Instance(AccessMode.W), AccessMode.A)), AccessDecisionKind.Escalate,
            ReasonCodes.AccessApRequired, 10, RestrictionFlag.ModeUpgradeRequired, EscalationTrigger.ApApprovalRequired);

    [Fact]
    public void Step10_ResolvedByAnOverride_Allows() =>
        AssertDecision(AccessGate.Decide(Request(Instance(AccessMode.W), AccessMode.A, overrides: [Grant(AccessMode.A)])),
            AccessDecisionKind.Allow, ReasonCodes.AccessAllowed, 9);

    // Precedence: when several steps would fire, the earliest decides.
    public static TheoryData<string, int> Precedence => new()
    {
        { "missing beats everything", 1 },
        { "user mismatch beats suspended", 2 },
        { "suspended beats restricted", 4 },
        { "restricted beats allow-list", 5 },
        { "allow-list beats sensitive", 6 },
        { "sensitive beats device", 7 },
        { "device beats mode", 8 },
    };

    [Theory]
    [MemberData(nameof(Precedence))]
    public void Precedence_EarlierStepWins(string scenario, int expectedStep)
    {
        var everythingWrong = Instance(AccessMode.R, allow: ["OTHER"], verified: false, device: DeviceTrustLevel.Dtl1, lifecycle: AccessLifecycle.Suspended);
        var instance = expectedStep switch
        {
            1 => null,
            2 => everythingWrong with { UserId = "bob" },
            4 => everythingWrong,
            5 => everythingWrong with { Lifecycle = AccessLifecycle.Restricted },
            6 => everythingWrong with { Lifecycle = AccessLifecycle.Active, IdentityVerified = true },
            7 => everythingWrong with { Lifecycle = AccessLifecycle.Active, IdentityVerified = true, AllowList = ["*"] },
            8 => everythingWrong with { Lifecycle = AccessLifecycle.Active, IdentityVerified = true, AllowList = ["*"], FinancialAuth = true },
            _ => throw new ArgumentOutOfRangeException(nameof(expectedStep)),
        };
        var d = AccessGate.Decide(Request(instance, AccessMode.X, caller: DeviceTrustLevel.Dtl1, sensitive: true));
        Assert.True(expectedStep == d.Step, $"{scenario}: decided at step {d.Step} ({d.Rule})");
    }
}
