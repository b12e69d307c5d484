using FsCheck;
using FsCheck.Fluent;

namespace Selene.Kernel.Tests;

/// <summary>FsCheck properties over random gate inputs, with a fixed seed so a failure replays.</summary>
public sealed class AccessGateProperties
{
    private static readonly Config Seeded = Config.QuickThrowOnFailure.WithMaxTest(2000).WithReplay(20261121UL, 1UL);

    private static Gen<AccessGateRequest> Requests()
    {
        var modes = Gen.Elements(AccessMode.R, AccessMode.W, AccessMode.A, AccessMode.X);
        var trust = Gen.Elements(DeviceTrustLevel.Dtl1, DeviceTrustLevel.Dtl2, DeviceTrustLevel.Dtl3, DeviceTrustLevel.Dtl4);
        var actions = Gen.Elements("CAPREQ_MANAGE", "POSITION_MANAGE", "ACCESS_ESCALATION_VOTE");
        var allowLists = Gen.OneOf(
            Gen.Constant<IReadOnlyList<string>?>(null),
            Gen.Constant<IReadOnlyList<string>?>(["*"]),
            Gen.SubListOf("CAPREQ_MANAGE", "POSITION_MANAGE", "ACCESS_ESCALATION_VOTE").Select(l => (IReadOnlyList<string>?)l.ToArray()));
        var instances =
            from mode in modes
            from allow in allowLists
            from financial in ArbMap.Default.GeneratorFor<bool>()
            from verified in ArbMap.Default.GeneratorFor<bool>()
            from device in trust
            from lifecycle in Gen.Elements(AccessLifecycle.Restricted, AccessLifecycle.Active, AccessLifecycle.Suspended)
            from user in Gen.Elements("alice", "bob")
            select new AccessInstanceView("ai", "acme", user, mode, allow, financial, verified, device, lifecycle);
        var overrides =
            from type in Gen.Elements(OverrideType.OneShot, OverrideType.Temporary, OverrideType.Permanent, OverrideType.Revoke)
            from scope in Gen.Elements("*", "CAPREQ_MANAGE", "POSITION_MANAGE")
            from grant in Gen.OneOf(Gen.Constant<AccessMode?>(null), modes.Select(m => (AccessMode?)m))
            from status in Gen.Elements(OverrideStatus.Active, OverrideStatus.Expired, OverrideStatus.Revoked)
            from starts in Gen.Choose(0, 20)
            from length in Gen.Choose(-1, 20)
            select new AccessOverrideView("ov", type, scope, grant, status, starts, length < 0 ? null : starts + length);
        return
            from instance in Gen.OneOf(Gen.Constant<AccessInstanceView?>(null), instances.Select(i => (AccessInstanceView?)i))
            from count in Gen.Choose(0, 3)
            from list in Gen.ArrayOf(overrides, count)
            from action in actions
            from requested in modes
            from caller in trust
            from sensitive in ArbMap.Default.GeneratorFor<bool>()
            from now in Gen.Choose(0, 30)
            select new AccessGateRequest("alice", instance, list.ToArray(), action, requested, caller, sensitive, new UnixNanos(now));
    }

    [Fact]
    public void Decide_SameInputs_SameDecision() =>
        Prop.ForAll(Requests().ToArbitrary(), r =>
        {
            var a = AccessGate.Decide(r);
            var b = AccessGate.Decide(r with { Overrides = r.Overrides.ToArray() });
            return a.Decision == b.Decision && a.Reason == b.Reason && a.Step == b.Step && a.EffectiveMode == b.EffectiveMode &&
                   a.RestrictionFlags.SequenceEqual(b.RestrictionFlags) && a.Trigger == b.Trigger;
        }).Check(Seeded);

    [Fact]
    public void Decide_WithoutAnActiveInstance_NeverAllows() =>
        Prop.ForAll(Requests().ToArbitrary(), r =>
            r.Instance is { Lifecycle: AccessLifecycle.Active } || AccessGate.Decide(r).Decision != AccessDecisionKind.Allow).Check(Seeded);

    [Fact]
    public void Decide_ApprovableAction_IsNeverASilentDeny() =>
        // Approvable: the user's own ACTIVE, verified instance names the action, and nothing sensitive is asked
        // without authorization. Then a shortfall of mode or trust escalates, it never denies.
        Prop.ForAll(Requests().ToArbitrary(), r =>
        {
            var approvable = r.Instance is { Lifecycle: AccessLifecycle.Active, IdentityVerified: true } i && i.UserId == r.UserId &&
                             AccessGate.AllowListCovers(i.AllowList, r.RequestedAction) && (!r.SensitiveDataRequest || i.FinancialAuth);
            return !approvable || AccessGate.Decide(r).Decision != AccessDecisionKind.Deny;
        }).Check(Seeded);

    [Fact]
    public void Decide_Allow_OnlyWhenTheRequestedModeIsWithinTheEffectiveMode() =>
        Prop.ForAll(Requests().ToArbitrary(), r =>
        {
            var d = AccessGate.Decide(r);
            return d.Decision != AccessDecisionKind.Allow || (d.EffectiveMode is { } e && r.RequestedMode <= e && d.Reason == ReasonCodes.AccessAllowed);
        }).Check(Seeded);
}
