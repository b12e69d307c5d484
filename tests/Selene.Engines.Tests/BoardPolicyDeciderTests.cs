using Selene.Engines.Access;
using Selene.Kernel.Access;

namespace Selene.Engines.Tests;

/// <summary>Board policies as a pure decider: the version lifecycle, member checks, and the fold (supersession, status).</summary>
public sealed class BoardPolicyDeciderTests
{
    private static readonly UnixNanos Now = new(1000);
    private static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal) { "v1", "v2" };
    private static readonly BoardPolicyPayload Payload = new(ApprovalPrimitive.UnanimousBoard, ["v1", "v2"]);

    private static UpdateBoardPolicy Command(PolicyEventAction action, int version = 1, BoardPolicyPayload? payload = null) =>
        new("board", version, action, "why", payload ?? (action is PolicyEventAction.CreateDraft or PolicyEventAction.UpdateDraft ? Payload : null));

    /// <summary>Decides and folds each command in turn, as the pipeline does (event ids 1, 2, …).</summary>
    private static BoardPolicyState? Run(params UpdateBoardPolicy[] commands)
    {
        BoardPolicyState? state = null;
        var id = 0L;
        foreach (var c in commands)
        {
            var accepted = Assert.IsType<Decision<GovernanceEvent>.Accepted>(BoardPolicyDecider.Decide(state, c, Known, "alice", Now));
            state = BoardPolicyDecider.Evolve(state, Assert.IsType<BoardPolicyEvent>(Assert.Single(accepted.Events)), ++id);
        }
        return state;
    }

    [Fact]
    public void Activate_SupersedesTheVersionInForce_AndKeepsItsOwnLastEvent()
    {
        var state = Run(Command(PolicyEventAction.CreateDraft), Command(PolicyEventAction.Activate),
            Command(PolicyEventAction.CreateDraft, 2), Command(PolicyEventAction.Activate, 2))!;
        Assert.Equal((BoardPolicyStatus.Active, 2, 4L), (state.Status, state.ActivePolicyVersionId, state.SourceEventId));
        Assert.Equal([(1, PolicyVersionState.Retired, PolicyEventAction.Activate), (2, PolicyVersionState.Active, PolicyEventAction.Activate)],
            state.Versions.Select(v => (v.PolicyVersionId, v.LifecycleState, v.LastEventAction)));
        Assert.Equal(2, state.Active(json => Payload)!.VersionId);
    }

    [Fact]
    public void RetiringTheVersionInForce_LeavesNone_AndTheStatusFollows()
    {
        var draft = Run(Command(PolicyEventAction.CreateDraft))!;
        Assert.Equal((BoardPolicyStatus.Draft, (int?)null), (draft.Status, draft.ActivePolicyVersionId));
        var retired = Run(Command(PolicyEventAction.CreateDraft), Command(PolicyEventAction.Activate), Command(PolicyEventAction.Retire))!;
        Assert.Equal((BoardPolicyStatus.Retired, (int?)null), (retired.Status, retired.ActivePolicyVersionId));
        Assert.Null(retired.Active(json => Payload));
    }

    [Theory]
    [InlineData(PolicyEventAction.UpdateDraft)]
    [InlineData(PolicyEventAction.Activate)]
    [InlineData(PolicyEventAction.Retire)]
    public void AnActionOnAMissingVersion_IsATransitionRefusal(PolicyEventAction action)
    {
        var refused = Assert.IsType<Decision<GovernanceEvent>.Rejected>(BoardPolicyDecider.Decide(Run(Command(PolicyEventAction.CreateDraft)), Command(action, 2), Known, "alice", Now));
        Assert.Equal(AccessReasons.AccessBoardPolicyTransitionInvalid, refused.Reason);
    }

    [Fact]
    public void AMemberWhoIsNotAUser_IsRefused_AndActivateCarriesTheDraftsPayload()
    {
        var stranger = Command(PolicyEventAction.CreateDraft, payload: new BoardPolicyPayload(ApprovalPrimitive.SingleApprover, ["v1", "ghost"]));
        var refused = Assert.IsType<Decision<GovernanceEvent>.Rejected>(BoardPolicyDecider.Decide(null, stranger, Known, "alice", Now));
        Assert.Equal(AccessReasons.AccessBoardPolicyInvalid, refused.Reason);
        Assert.Contains("ghost", refused.Detail, StringComparison.Ordinal);

        var activated = Assert.IsType<Decision<GovernanceEvent>.Accepted>(
            BoardPolicyDecider.Decide(Run(Command(PolicyEventAction.CreateDraft)), Command(PolicyEventAction.Activate), Known, "alice", Now));
        var e = Assert.IsType<BoardPolicyEvent>(Assert.Single(activated.Events));
        Assert.Equal((PolicyVersionState.Draft, PolicyVersionState.Active, CanonicalJson.SerializeToString(Payload)),
            (e.VersionStateFrom!.Value, e.LifecycleState, e.PolicyPayloadJson));
    }

    [Fact]
    public void Validate_RefusesAPayloadOnActivate_AndAnInvalidThreshold()
    {
        Assert.Equal(ReasonCodes.InputFieldInvalid, BoardPolicyDecider.Validate(Command(PolicyEventAction.Activate, payload: Payload))!.Reason);
        Assert.Equal(AccessReasons.AccessBoardPolicyInvalid, BoardPolicyDecider.Validate(
            Command(PolicyEventAction.CreateDraft, payload: new BoardPolicyPayload(ApprovalPrimitive.NOfM, ["v1"], RequiredApprovals: 3)))!.Reason);
        Assert.Null(BoardPolicyDecider.Validate(Command(PolicyEventAction.CreateDraft)));
    }
}
