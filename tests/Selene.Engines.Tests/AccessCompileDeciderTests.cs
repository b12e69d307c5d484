using Selene.Engines.Access;
using Selene.Kernel.Access;

namespace Selene.Engines.Tests;

/// <summary>Compiling an access instance: the permission chain global AP → tenant AP → overlays (docs/access-approvals.md).</summary>
public sealed class AccessCompileDeciderTests
{
    private static readonly CompileContext Ctx = new("acme", "alice", new UnixNanos(5000));

    private static ApProfileState Profile(int activeVersion, string[] allow, AccessMode mode, bool financial, int? draftVersion = null)
    {
        var versions = new Dictionary<int, ApVersionState>
        {
            [activeVersion] = new(activeVersion, ApLifecycle.Active, new ApProfilePayload("p", allow, mode, financial), 1),
        };
        if (draftVersion is { } d) versions[d] = new(d, ApLifecycle.Draft, new ApProfilePayload("p", allow, mode, financial), 1);
        return new ApProfileState(versions, activeVersion);
    }

    private static OverlayState Overlay(int active, params OverlayOp[] ops) =>
        new("ov", new Dictionary<int, OverlayVersionState> { [active] = new(active, ApLifecycle.Active, ops, 1), [active + 1] = new(active + 1, ApLifecycle.Draft, ops, 1) }, active);

    private static OverlayOp Add(string c) => new(OverlayOpKind.AddPermission, CapabilityId: c);
    private static OverlayOp Remove(string c) => new(OverlayOpKind.RemovePermission, CapabilityId: c);

    private static CompileInstance Compile(int global = 1, int? tenant = null, string? position = null, params OverlayVersionRef[] overlays) =>
        new("dave", "ap1", global, tenant, overlays, position, "new hire");

    private static CompileFacts Facts(ApProfileState? global = null, ApProfileState? tenant = null, Dictionary<string, OverlayState>? overlays = null,
        bool position = false, ExistingInstance? existing = null) =>
        new(global ?? Profile(1, ["A", "B", "C"], AccessMode.X, true), tenant ?? ApProfileState.Empty, overlays ?? [], position, existing);

    private static InstanceCompiled Accepted(Decision<InstanceCompiled> d) =>
        Assert.IsType<InstanceCompiled>(Assert.Single(Assert.IsType<Decision<InstanceCompiled>.Accepted>(d).Events));

    public static TheoryData<string[], AccessMode, bool, string[], AccessMode, bool, string[], AccessMode, bool> Chains => new()
    {
        // global allow, mode, financial | tenant allow, mode, financial | compiled allow, mode, financial
        { ["A", "B", "C"], AccessMode.X, true, ["B", "C", "D"], AccessMode.A, true, ["B", "C"], AccessMode.A, true },
        { ["A", "B"], AccessMode.R, true, ["A", "B"], AccessMode.X, false, ["A", "B"], AccessMode.R, false },
        { ["*"], AccessMode.W, false, ["B", "A"], AccessMode.W, true, ["A", "B"], AccessMode.W, false },
        { ["B", "A"], AccessMode.W, true, ["*"], AccessMode.X, true, ["A", "B"], AccessMode.W, true },
        { ["*"], AccessMode.X, true, ["*"], AccessMode.A, true, ["*"], AccessMode.A, true },
        { ["A"], AccessMode.X, true, ["B"], AccessMode.X, true, [], AccessMode.X, true },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void TenantProfile_OnlyNarrowsTheGlobalOne(string[] gAllow, AccessMode gMode, bool gFin, string[] tAllow, AccessMode tMode, bool tFin,
        string[] allow, AccessMode mode, bool financial)
    {
        var c = Accepted(CompileDecider.Decide(Compile(tenant: 4), Facts(Profile(1, gAllow, gMode, gFin), Profile(4, tAllow, tMode, tFin)), Ctx));
        Assert.Equal(allow, c.Allow);
        Assert.Equal((mode, financial), (c.Mode, c.FinancialAuth));
        Assert.Equal(new CompiledLineage("ap1", 1, "ap1", 4, null, null), c.Lineage);
    }

    [Fact]
    public void Overlays_AddThenRemove_RemovalWinsWhateverTheOrder()
    {
        var overlays = new Dictionary<string, OverlayState>
        {
            ["z-adds"] = Overlay(1, Add("D"), Add("E"), new OverlayOp(OverlayOpKind.TightenConstraint, ConstraintRef: "k2")),
            ["a-removes"] = Overlay(3, Remove("E"), Remove("A"), new OverlayOp(OverlayOpKind.SetEscalationPolicy, EscalationPolicyRef: "board"),
                new OverlayOp(OverlayOpKind.TightenConstraint, ConstraintRef: "k1")),
        };
        var refs = new[] { new OverlayVersionRef("z-adds", 1), new OverlayVersionRef("a-removes", 3) };
        var c = Accepted(CompileDecider.Decide(Compile(overlays: refs), Facts(overlays: overlays), Ctx));
        Assert.Equal(["B", "C", "D"], c.Allow);
        Assert.Equal(["k1", "k2"], c.ConstraintRefs);
        Assert.Equal(["board"], c.EscalationPolicyRefs);
        Assert.Equal(CompileDecider.OverlaySetRef(refs), c.Lineage.OverlaySetRef);
        var reversed = Accepted(CompileDecider.Decide(Compile(overlays: [.. refs.Reverse()]), Facts(overlays: overlays), Ctx));
        Assert.Equal(c.Allow, reversed.Allow);
        Assert.Equal(c.Lineage, reversed.Lineage);
    }

    [Fact]
    public void WildcardBase_IgnoresAdds_ButCannotLoseAToken()
    {
        var global = Profile(1, ["*"], AccessMode.A, false);
        var adds = new Dictionary<string, OverlayState> { ["o"] = Overlay(1, Add("D")) };
        Assert.Equal(["*"], Accepted(CompileDecider.Decide(Compile(overlays: new OverlayVersionRef("o", 1)), Facts(global, overlays: adds), Ctx)).Allow);
        var removes = new Dictionary<string, OverlayState> { ["o"] = Overlay(1, Remove("D")) };
        var refused = Assert.IsType<Decision<InstanceCompiled>.Rejected>(CompileDecider.Decide(Compile(overlays: new OverlayVersionRef("o", 1)), Facts(global, overlays: removes), Ctx));
        Assert.Equal(AccessReasons.AccessOverlayOpInvalid, refused.Reason);
    }

    public static TheoryData<string, string> Refs => new()
    {
        { "global-missing", "ACCESS_SCHEMA_REF_MISSING" },
        { "global-draft", "ACCESS_PROFILE_NOT_ACTIVE" },
        { "tenant-missing", "ACCESS_SCHEMA_REF_MISSING" },
        { "tenant-draft", "ACCESS_PROFILE_NOT_ACTIVE" },
        { "overlay-missing", "ACCESS_OVERLAY_REF_INVALID" },
        { "overlay-version-missing", "ACCESS_OVERLAY_REF_INVALID" },
        { "overlay-draft", "ACCESS_OVERLAY_REF_INVALID" },
        { "position-missing", "ACCESS_POSITION_REF_MISSING" },
    };

    [Theory]
    [MemberData(nameof(Refs))]
    public void EveryRef_MustResolveToSomethingActive(string scenario, string expected)
    {
        var facts = Facts(Profile(1, ["A"], AccessMode.R, false, draftVersion: 2), Profile(1, ["A"], AccessMode.R, false, draftVersion: 2),
            new Dictionary<string, OverlayState> { ["o"] = Overlay(1, Add("B")) });
        var command = scenario switch
        {
            "global-missing" => Compile(global: 9),
            "global-draft" => Compile(global: 2),
            "tenant-missing" => Compile(tenant: 9),
            "tenant-draft" => Compile(tenant: 2),
            "overlay-missing" => Compile(overlays: new OverlayVersionRef("x", 1)),
            "overlay-version-missing" => Compile(overlays: new OverlayVersionRef("o", 7)),
            "overlay-draft" => Compile(overlays: new OverlayVersionRef("o", 2)),
            _ => Compile(position: "pos_1"),
        };
        Assert.Equal(expected, Assert.IsType<Decision<InstanceCompiled>.Rejected>(CompileDecider.Decide(command, facts, Ctx)).Reason.Name);
    }

    [Fact]
    public void Posture_DefaultsForANewInstance_IsKeptByAnExistingOne_AndGivenValuesWin()
    {
        var fresh = Accepted(CompileDecider.Decide(Compile(), Facts(), Ctx));
        Assert.Equal((AccessLifecycle.Active, true, VerificationLevel.PasscodeTime, DeviceTrustLevel.Dtl3, true),
            (fresh.Lifecycle, fresh.IdentityVerified, fresh.VerificationLevel, fresh.DeviceTrust, fresh.NewInstance));

        var existing = new ExistingInstance(AccessLifecycle.Suspended, false, VerificationLevel.Biometric, DeviceTrustLevel.Dtl1);
        var kept = Accepted(CompileDecider.Decide(Compile(), Facts(existing: existing), Ctx));
        Assert.Equal((AccessLifecycle.Suspended, false, VerificationLevel.Biometric, DeviceTrustLevel.Dtl1, false),
            (kept.Lifecycle, kept.IdentityVerified, kept.VerificationLevel, kept.DeviceTrust, kept.NewInstance));

        var given = Accepted(CompileDecider.Decide(Compile() with { Lifecycle = AccessLifecycle.Active, DeviceTrust = DeviceTrustLevel.Dtl4 }, Facts(existing: existing), Ctx));
        Assert.Equal((AccessLifecycle.Active, DeviceTrustLevel.Dtl4, VerificationLevel.Biometric), (given.Lifecycle, given.DeviceTrust, given.VerificationLevel));
    }

    [Theory]
    [InlineData("not a user", 1, null)]
    [InlineData("dave", 0, null)]
    [InlineData("dave", 1, 0)]
    public void Command_Bounds_AreContractFailures(string user, int global, int? tenant) =>
        Assert.Equal(AccessReasons.AccessContractValidationFailed, CompileDecider.Validate(Compile(global, tenant) with { TargetUserId = user })?.Reason);

    [Fact]
    public void OverlayRefs_AreBoundedAndDistinct()
    {
        var many = Enumerable.Range(0, CompileDecider.MaxOverlayRefs + 1).Select(i => new OverlayVersionRef("o" + i, 1)).ToArray();
        Assert.Equal(AccessReasons.AccessContractValidationFailed, CompileDecider.Validate(Compile(overlays: many))?.Reason);
        Assert.Equal(AccessReasons.AccessContractValidationFailed, CompileDecider.Validate(Compile(overlays: [new("o", 1), new("o", 2)]))?.Reason);
        Assert.Null(CompileDecider.OverlaySetRef([]));
        Assert.Matches("^ovs_[0-9a-f]{32}$", CompileDecider.OverlaySetRef([new("o", 1)]));
    }
}
