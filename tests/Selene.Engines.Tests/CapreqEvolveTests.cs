using static Selene.Engines.Tests.CapreqFixture;

namespace Selene.Engines.Tests;

public sealed class CapreqEvolveTests
{
    private static CapreqEvent Decided(CapreqState? state, CapreqCommand command, string actor, long at) =>
        SingleEvent(CapreqDecider.Decide(state, command, Context(actor: actor, now: new UnixNanos(at))));

    [Fact]
    public void Evolve_CreateDraftOnNull_BuildsTheDraftProjection()
    {
        var e = Decided(null, Draft(), Requester, 100);

        var state = CapreqDecider.Evolve(null, e, 11);

        Assert.Equal(new CapreqState(Tenant, CapreqId(), Requester, Capability, Scope, Justification, CapreqStatus.Draft,
            CapreqAction.CreateDraft, Requester, e.PayloadHash, 11, "CAPREQ_OK_CREATE_DRAFT", 100, 100), state);
    }

    [Fact]
    public void Evolve_Transition_UpdatesSourceEventLastActionStatusAndUpdatedAt()
    {
        var created = CapreqDecider.Evolve(null, Decided(null, Draft(), Requester, 100), 11);
        var submit = Decided(created, new CapreqTransition(CapreqAction.SubmitForApproval, CapreqId(), "route"), Requester, 200);

        var state = CapreqDecider.Evolve(created, submit, 12);

        Assert.Equal(created with
        {
            Status = CapreqStatus.PendingApproval,
            LastAction = CapreqAction.SubmitForApproval,
            LastActorUserId = Requester,
            PayloadHash = submit.PayloadHash,
            SourceEventId = 12,
            LastReasonCode = "CAPREQ_OK_SUBMIT_FOR_APPROVAL",
            UpdatedAt = 200,
        }, state);
    }

    [Fact]
    public void Evolve_Transition_KeepsRequesterContentAndCreatedAt()
    {
        var created = CapreqDecider.Evolve(null, Decided(null, Draft(), Requester, 100), 1);
        var submitted = CapreqDecider.Evolve(created, Decided(created, Command(CapreqAction.SubmitForApproval), Requester, 200), 2);
        var approved = CapreqDecider.Evolve(submitted, Decided(submitted, Command(CapreqAction.Approve), Approver, 300), 3);

        Assert.Equal((Requester, Capability, Scope, Justification, 100L), (approved.RequesterUserId, approved.RequestedCapabilityId, approved.TargetScopeRef, approved.Justification, approved.CreatedAt));
        Assert.Equal((CapreqStatus.Approved, CapreqAction.Approve, Approver, 3L, 300L), (approved.Status, approved.LastAction, approved.LastActorUserId, approved.SourceEventId, approved.UpdatedAt));
    }

    [Fact]
    public void DecideThenEvolve_FullLifecycle_EndsFulfilledAndReplaysIdentically()
    {
        var steps = new (CapreqCommand Command, string Actor)[]
        {
            (Draft(), Requester),
            (Command(CapreqAction.SubmitForApproval), Requester),
            (Command(CapreqAction.Approve), Approver),
            (Command(CapreqAction.Fulfill), Approver),
        };
        CapreqState? state = null;
        var ledger = new List<CapreqEvent>();
        for (var i = 0; i < steps.Length; i++)
        {
            var e = Decided(state, steps[i].Command, steps[i].Actor, 1000 + i);
            ledger.Add(e);
            state = CapreqDecider.Evolve(state, e, i + 1);
        }

        Assert.NotNull(state);
        Assert.Equal(CapreqStatus.Fulfilled, state.Status);
        Assert.Equal(4, state.SourceEventId);

        // Rebuild = fold the ledger in id order.
        CapreqState? replayed = null;
        for (var i = 0; i < ledger.Count; i++) replayed = CapreqDecider.Evolve(replayed, ledger[i], i + 1);
        Assert.Equal(state, replayed);

        // After a terminal status nothing more is accepted.
        Assert.IsType<Decision<CapreqEvent>.Rejected>(CapreqDecider.Decide(state, Command(CapreqAction.Cancel), Context()));
    }

    [Theory]
    [InlineData(CapreqAction.SubmitForApproval)]
    [InlineData(CapreqAction.Approve)]
    [InlineData(CapreqAction.Reject)]
    [InlineData(CapreqAction.Fulfill)]
    [InlineData(CapreqAction.Cancel)]
    public void Evolve_NonCreateEventOnNullState_Throws(CapreqAction action)
    {
        var e = SingleEvent(CapreqDecider.Decide(State(Guards(action)), Command(action), ContextFor(action)));
        var ex = Assert.Throws<InvalidOperationException>(() => CapreqDecider.Evolve(null, e, 5));
        Assert.Contains("5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evolve_SecondCreateForAnExistingRequest_Throws()
    {
        // A corrupt ledger must not silently turn a finished request back into a draft on rebuild.
        var create = Decided(null, Draft(), Requester, 100);
        var created = CapreqDecider.Evolve(null, create, 11);
        var ex = Assert.Throws<InvalidOperationException>(() => CapreqDecider.Evolve(created, create, 12));
        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
    }

    private static CapreqStatus Guards(CapreqAction action) => CapreqDecider.RequiredStatuses(action)[0];
}
