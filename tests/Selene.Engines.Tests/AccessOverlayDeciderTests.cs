using Selene.Engines.Access;

namespace Selene.Engines.Tests;

/// <summary>Tenant overlays: op shapes and the DRAFT → ACTIVE → RETIRED lifecycle with one ACTIVE version (reference §7.1, §7.4).</summary>
public sealed class AccessOverlayDeciderTests
{
    private static readonly OverlayContext Ctx = new("acme", "alice", new UnixNanos(1000));
    private static readonly IReadOnlyList<OverlayOp> Ops = [new(OverlayOpKind.AddPermission, CapabilityId: "CAPREQ_SELF_APPROVE")];
    private static readonly IReadOnlyList<OverlayOpText> OpsText = [new("ADD_PERMISSION", CapabilityId: "CAPREQ_SELF_APPROVE")];

    private static OverlayState Overlay(ApLifecycle? v1, ApLifecycle? v2 = null)
    {
        var versions = new Dictionary<int, OverlayVersionState>();
        if (v1 is { } l1) versions[1] = new OverlayVersionState(1, l1, Ops, 1);
        if (v2 is { } l2) versions[2] = new OverlayVersionState(2, l2, Ops, 1);
        return new OverlayState("ov1", versions, v1 == ApLifecycle.Active ? 1 : v2 == ApLifecycle.Active ? 2 : null);
    }

    private static UpdateOverlay Command(OverlayEventAction action, int version = 1) =>
        new("ov1", version, action, action is OverlayEventAction.CreateDraft or OverlayEventAction.UpdateDraft ? OpsText : null, "why");

    public static TheoryData<OverlayEventAction, ApLifecycle?, string?> Lifecycle => new()
    {
        { OverlayEventAction.CreateDraft, null, null },
        { OverlayEventAction.CreateDraft, ApLifecycle.Draft, "ACCESS_AP_TRANSITION_INVALID" },
        { OverlayEventAction.UpdateDraft, null, "ACCESS_OVERLAY_REF_INVALID" },
        { OverlayEventAction.UpdateDraft, ApLifecycle.Draft, null },
        { OverlayEventAction.UpdateDraft, ApLifecycle.Active, "ACCESS_AP_TRANSITION_INVALID" },
        { OverlayEventAction.UpdateDraft, ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
        { OverlayEventAction.Activate, null, "ACCESS_OVERLAY_REF_INVALID" },
        { OverlayEventAction.Activate, ApLifecycle.Draft, null },
        { OverlayEventAction.Activate, ApLifecycle.Active, "ACCESS_AP_TRANSITION_INVALID" },
        { OverlayEventAction.Activate, ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
        { OverlayEventAction.Retire, null, "ACCESS_OVERLAY_REF_INVALID" },
        { OverlayEventAction.Retire, ApLifecycle.Draft, null },
        { OverlayEventAction.Retire, ApLifecycle.Active, null },
        { OverlayEventAction.Retire, ApLifecycle.Retired, "ACCESS_AP_TRANSITION_INVALID" },
    };

    [Theory]
    [MemberData(nameof(Lifecycle))]
    public void Lifecycle_IsMonotone(OverlayEventAction action, ApLifecycle? v1, string? expected)
    {
        var decision = OverlayDecider.Decide(Overlay(v1), Command(action), Ctx);
        Assert.Equal(expected, (decision as Decision<OverlayEvent>.Rejected)?.Reason.Name);
        if (decision is Decision<OverlayEvent>.Accepted a) Assert.Equal(AccessReasons.AccessApOverlayUpdated, a.Reason);
    }

    [Fact]
    public void Activate_RetiresThePreviousActiveVersion_SoOneStaysActive()
    {
        var a = Assert.IsType<Decision<OverlayEvent>.Accepted>(OverlayDecider.Decide(Overlay(ApLifecycle.Active, ApLifecycle.Draft), Command(OverlayEventAction.Activate, 2), Ctx));
        var after = a.Events.Aggregate(Overlay(ApLifecycle.Active, ApLifecycle.Draft), (s, e) => OverlayDecider.Evolve(s, e));
        Assert.Equal((2, ApLifecycle.Retired), (after.ActiveVersionId, after.Versions[1].Lifecycle));
        Assert.Equal(2, Assert.IsType<OverlayVersionRetired>(a.Events[0]).SupersededBy);
        var retire = Assert.IsType<Decision<OverlayEvent>.Accepted>(OverlayDecider.Decide(after, Command(OverlayEventAction.Retire, 2), Ctx));
        Assert.Null(OverlayDecider.Evolve(after, retire.Events[0]).ActiveVersionId);
    }

    public static TheoryData<OverlayOpText, string?> OpShapes => new()
    {
        { new("ADD_PERMISSION", CapabilityId: "CAPREQ_SELF_APPROVE"), null },
        { new("REMOVE_PERMISSION", CapabilityId: "CAPREQ_MANAGE"), null },
        { new("TIGHTEN_CONSTRAINT", ConstraintRef: "weekdays-only"), null },
        { new("SET_ESCALATION_POLICY", EscalationPolicyRef: "board.finance"), null },
        { new("ADD_PERMISSION"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("REMOVE_PERMISSION", ConstraintRef: "x"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("ADD_PERMISSION", CapabilityId: "CAPREQ_MANAGE", EscalationPolicyRef: "x"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("TIGHTEN_CONSTRAINT"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("SET_ESCALATION_POLICY", CapabilityId: "CAPREQ_MANAGE"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("ADD_PERMISSION", CapabilityId: "*"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("ADD_PERMISSION", CapabilityId: "lower_case"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("TIGHTEN_CONSTRAINT", ConstraintRef: "free text"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("GRANT_EVERYTHING", CapabilityId: "CAPREQ_MANAGE"), "ACCESS_OVERLAY_OP_INVALID" },
        { new("AddPermission", CapabilityId: "CAPREQ_MANAGE"), "ACCESS_OVERLAY_OP_INVALID" },
    };

    [Theory]
    [MemberData(nameof(OpShapes))]
    public void Ops_HaveExactlyTheRefTheirKindNeeds(OverlayOpText op, string? expected)
    {
        var (ops, error) = OverlayDecider.ReadOps([op]);
        Assert.Equal(expected, error?.Reason.Name);
        Assert.Equal(expected is null, ops is not null);
    }

    [Fact]
    public void Ops_AreBounded()
    {
        Assert.Equal(AccessReasons.AccessOverlayOpInvalid, OverlayDecider.ReadOps([]).Error?.Reason);
        var many = Enumerable.Range(0, OverlayDecider.MaxOps + 1).Select(i => new OverlayOpText("ADD_PERMISSION", CapabilityId: "C" + i)).ToArray();
        Assert.Equal(AccessReasons.AccessOverlayOpInvalid, OverlayDecider.ReadOps(many).Error?.Reason);
        Assert.Null(OverlayDecider.ReadOps(many[..OverlayDecider.MaxOps]).Error);
    }

    [Theory]
    [InlineData(OverlayEventAction.CreateDraft, false)]
    [InlineData(OverlayEventAction.UpdateDraft, false)]
    [InlineData(OverlayEventAction.Activate, true)]
    [InlineData(OverlayEventAction.Retire, true)]
    public void Ops_GoWithDraftWritesOnly(OverlayEventAction action, bool withOps)
    {
        var command = new UpdateOverlay("ov1", 1, action, withOps ? OpsText : null, "why");
        Assert.Equal(AccessReasons.AccessOverlayOpInvalid, OverlayDecider.Validate(command)?.Reason);
    }
}
