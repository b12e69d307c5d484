using static Selene.Engines.Tests.CapreqFixture;

namespace Selene.Engines.Tests;

/// <summary>SUBMIT and CANCEL speak for the requester; APPROVE, REJECT and FULFIL may come from anyone else.</summary>
public sealed class CapreqRequesterTests
{
    [Theory]
    [InlineData(CapreqAction.SubmitForApproval, CapreqStatus.Draft)]
    [InlineData(CapreqAction.Cancel, CapreqStatus.Draft)]
    [InlineData(CapreqAction.Cancel, CapreqStatus.PendingApproval)]
    [InlineData(CapreqAction.Cancel, CapreqStatus.Approved)]
    public void Decide_SubmitOrCancelByNonRequester_IsRequesterMismatch(CapreqAction action, CapreqStatus current)
    {
        var rejected = Rejected(CapreqDecider.Decide(State(current), Command(action), Context(actor: Approver)));
        Assert.Equal(CapreqReasons.CapreqRequesterMismatch, rejected.Reason);
    }

    [Theory]
    [InlineData(CapreqAction.Approve, CapreqStatus.PendingApproval, CapreqStatus.Approved)]
    [InlineData(CapreqAction.Reject, CapreqStatus.PendingApproval, CapreqStatus.Rejected)]
    [InlineData(CapreqAction.Fulfill, CapreqStatus.Approved, CapreqStatus.Fulfilled)]
    public void Decide_ApproveRejectFulfillByAnotherUser_IsAccepted(CapreqAction action, CapreqStatus current, CapreqStatus next)
    {
        var e = SingleEvent(CapreqDecider.Decide(State(current), Command(action), Context(actor: Approver)));
        Assert.Equal(next, e.Status);
        Assert.Equal(Approver, e.ActorUserId);
    }

    [Fact]
    public void Decide_CreateDraft_MakesTheActorTheRequester()
    {
        var e = SingleEvent(CapreqDecider.Decide(null, Draft(), Context(actor: Approver)));
        var state = CapreqDecider.Evolve(null, e, 1);
        Assert.Equal(Approver, state.RequesterUserId);
    }

    [Fact]
    public void Decide_RequesterCheck_IsCaseSensitive()
    {
        var rejected = Rejected(CapreqDecider.Decide(State(CapreqStatus.Draft), Command(CapreqAction.SubmitForApproval), Context(actor: "ALICE")));
        Assert.Equal(CapreqReasons.CapreqRequesterMismatch, rejected.Reason);
    }

    [Theory]
    [InlineData(CapreqAction.SubmitForApproval, CapreqStatus.Approved)]
    [InlineData(CapreqAction.Cancel, CapreqStatus.Fulfilled)]
    public void Decide_NonRequesterOnIllegalTransition_IsTransitionInvalid(CapreqAction action, CapreqStatus current)
    {
        // The status guard is checked before the requester rule.
        var rejected = Rejected(CapreqDecider.Decide(State(current), Command(action), Context(actor: Approver)));
        Assert.Equal(CapreqReasons.CapreqTransitionInvalid, rejected.Reason);
    }
}
