using static Selene.Engines.Tests.CapreqFixture;

namespace Selene.Engines.Tests;

/// <summary>Every (current status, action) pair against the exact guards of reference §6.2.</summary>
public sealed class CapreqDeciderTableTests
{
    /// <summary>Reference §6.2, written out independently of the product's own tables.</summary>
    private static readonly Dictionary<CapreqAction, (CapreqStatus?[] Required, CapreqStatus Next, string Reason)> Guards = new()
    {
        [CapreqAction.CreateDraft] = ([null], CapreqStatus.Draft, "CAPREQ_OK_CREATE_DRAFT"),
        [CapreqAction.SubmitForApproval] = ([CapreqStatus.Draft], CapreqStatus.PendingApproval, "CAPREQ_OK_SUBMIT_FOR_APPROVAL"),
        [CapreqAction.Approve] = ([CapreqStatus.PendingApproval], CapreqStatus.Approved, "CAPREQ_OK_APPROVE"),
        [CapreqAction.Reject] = ([CapreqStatus.PendingApproval], CapreqStatus.Rejected, "CAPREQ_OK_REJECT"),
        [CapreqAction.Fulfill] = ([CapreqStatus.Approved], CapreqStatus.Fulfilled, "CAPREQ_OK_FULFILL"),
        [CapreqAction.Cancel] = ([CapreqStatus.Draft, CapreqStatus.PendingApproval, CapreqStatus.Approved], CapreqStatus.Canceled, "CAPREQ_OK_CANCEL"),
    };

    private static readonly CapreqStatus?[] Currents =
    [
        null, CapreqStatus.Draft, CapreqStatus.PendingApproval, CapreqStatus.Approved,
        CapreqStatus.Rejected, CapreqStatus.Fulfilled, CapreqStatus.Canceled,
    ];

    public static TheoryData<CapreqStatus?, CapreqAction> AllPairs()
    {
        var data = new TheoryData<CapreqStatus?, CapreqAction>();
        foreach (var current in Currents)
        {
            foreach (var action in Enum.GetValues<CapreqAction>()) data.Add(current, action);
        }
        return data;
    }

    [Fact]
    public void AllPairs_Covers7StatusesTimes6Actions()
    {
        Assert.Equal(6, Enum.GetValues<CapreqAction>().Length);
        Assert.Equal(6, Enum.GetValues<CapreqStatus>().Length);
        Assert.Equal(42, AllPairs().Count());
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Decide_StatusAndAction_FollowsReferenceGuards(CapreqStatus? current, CapreqAction action)
    {
        var state = current is { } s ? State(s) : null;
        var command = Command(action);

        var decision = CapreqDecider.Decide(state, command, ContextFor(action));

        var (required, next, reason) = Guards[action];
        if (required.Contains(current))
        {
            var accepted = Accepted(decision);
            Assert.Equal(reason, accepted.Reason.Name);
            Assert.Empty(accepted.Outbox);
            var e = Assert.Single(accepted.Events);
            Assert.Equal(next, e.Status);
            Assert.Equal(action, e.Action);
            Assert.Equal(reason, e.ReasonCode);
            Assert.Equal(Tenant, e.TenantId);
            Assert.Equal(CapreqId(), e.CapreqId);
            Assert.Equal(ContextFor(action).ActorUserId, e.ActorUserId);
            Assert.Equal(Now.Value, e.CreatedAt);
        }
        else
        {
            var rejected = Rejected(decision);
            var expected = current is null ? "CAPREQ_NOT_FOUND" : "CAPREQ_TRANSITION_INVALID";
            Assert.Equal(expected, rejected.Reason.Name);
            Assert.False(string.IsNullOrWhiteSpace(rejected.Detail));
        }
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void ProductGuardTables_MatchReference(CapreqStatus? current, CapreqAction action)
    {
        var (required, next, reason) = Guards[action];
        var productAllows = current is null
            ? action == CapreqAction.CreateDraft
            : action != CapreqAction.CreateDraft && CapreqDecider.RequiredStatuses(action).Contains(current.Value);
        Assert.Equal(required.Contains(current), productAllows);
        Assert.Equal(next, CapreqDecider.NextStatus(action));
        Assert.Equal(reason, CapreqDecider.SuccessReason(action).Name);
    }

    [Theory]
    [InlineData(CapreqAction.CreateDraft, CapreqStatus.Draft)]
    [InlineData(CapreqAction.SubmitForApproval, CapreqStatus.PendingApproval)]
    [InlineData(CapreqAction.Approve, CapreqStatus.Approved)]
    [InlineData(CapreqAction.Reject, CapreqStatus.Rejected)]
    [InlineData(CapreqAction.Fulfill, CapreqStatus.Fulfilled)]
    [InlineData(CapreqAction.Cancel, CapreqStatus.Canceled)]
    public void Decide_CreateDraft_CarriesContentAndTransitions_CarryReference(CapreqAction action, CapreqStatus next)
    {
        CapreqStatus? from = Guards[action].Required[0];
        var e = SingleEvent(CapreqDecider.Decide(from is { } s ? State(s) : null, Command(action, "route-7"), ContextFor(action)));

        Assert.Equal(next, e.Status);
        if (action == CapreqAction.CreateDraft)
        {
            Assert.Equal((Capability, Scope, Justification, (string?)null), (e.RequestedCapabilityId, e.TargetScopeRef, e.Justification, e.Reference));
        }
        else
        {
            Assert.Equal((null, null, null, "route-7"), (e.RequestedCapabilityId, e.TargetScopeRef, e.Justification, e.Reference));
        }
    }

    [Theory]
    [InlineData(CapreqStatus.Rejected)]
    [InlineData(CapreqStatus.Fulfilled)]
    [InlineData(CapreqStatus.Canceled)]
    public void Decide_TerminalStatus_RefusesEveryAction(CapreqStatus terminal)
    {
        Assert.All(Enum.GetValues<CapreqAction>(), action =>
            Assert.Equal(CapreqReasons.CapreqTransitionInvalid, Rejected(CapreqDecider.Decide(State(terminal), Command(action), ContextFor(action))).Reason));
    }

    [Fact]
    public void Approve_ByTheRequester_IsRefusedUnlessTheTenantAllowsSelfApproval()
    {
        var pending = State(CapreqStatus.PendingApproval);
        var own = Rejected(CapreqDecider.Decide(pending, Command(CapreqAction.Approve), Context(Requester)));
        Assert.Equal(CapreqReasons.CapreqSelfApprovalForbidden, own.Reason);

        var allowed = SingleEvent(CapreqDecider.Decide(pending, Command(CapreqAction.Approve), Context(Requester) with { SelfApprovalAllowed = true }));
        Assert.Equal(CapreqStatus.Approved, allowed.Status);
        Assert.Equal(CapreqStatus.Approved, SingleEvent(CapreqDecider.Decide(pending, Command(CapreqAction.Approve), Context(Approver))).Status);
    }
}
