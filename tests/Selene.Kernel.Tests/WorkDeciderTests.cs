using Selene.Kernel.Work;

namespace Selene.Kernel.Tests;

/// <summary>PH1.WORK, pure: fields asked one at a time and never twice, confirmation, steps in order under a lease.</summary>
public sealed class WorkDeciderTests
{
    private static readonly RunBlueprint Blueprint = new("BP", ["a", "b", "c"], ConfirmBeforeExecuting: true,
    [
        new RunStep("one", "SIM_ONE", new Dictionary<string, string> { ["x"] = "a" }, new Dictionary<string, string> { ["out"] = "r.id" }),
        new RunStep("two", "SIM_TWO", new Dictionary<string, string> { ["y"] = "out" }, new Dictionary<string, string>()),
    ]);

    private static WorkContext Ctx(ulong turn = 1, long now = 1_000) => new("acme", "alice", Blueprint, turn, now);

    private static (WorkOrderState State, IReadOnlyList<WorkEvent> Events, IReadOnlyList<OutboxMessage> Outbox) Apply(WorkOrderState? state, WorkCommand command, WorkContext ctx)
    {
        var accepted = Assert.IsType<Decision<WorkEvent>.Accepted>(WorkDecider.Decide(state, command, ctx));
        foreach (var e in accepted.Events) state = WorkDecider.Evolve(state, e);
        return (state!, accepted.Events, accepted.Outbox);
    }

    [Fact]
    public void Fields_AreAskedOneAtATime_NeverTwice_ThenConfirm_ThenTheFirstStepIsDue()
    {
        var (s, _, outbox) = Apply(null, new StartWorkOrder("wo", "BP", new Dictionary<string, string> { ["b"] = "2" }), Ctx(turn: 1));
        Assert.Equal(WorkOrderStatus.Clarify, s.Status);
        Assert.Equal(["a"], s.AskedFields);
        Assert.Empty(outbox);
        var prompt = WorkDecider.PromptOf(s)!;
        Assert.Equal((WorkPromptKind.Clarify, "a", WorkDecider.PromptDedupeKey(1, "a", "wo")), (prompt.Kind, prompt.FieldId, prompt.PromptDedupeKey));

        // Answering c (not asked) asks nothing new about a: a was asked already.
        (s, var events, _) = Apply(s, new SetWorkField("wo", "c", "3"), Ctx(turn: 2));
        Assert.Equal([WorkEventType.FieldSet], events.Select(e => e.Type));
        Assert.Equal(["a"], s.AskedFields);
        Assert.Equal("a", WorkDecider.PromptOf(s)!.FieldId);

        (s, _, outbox) = Apply(s, new SetWorkField("wo", "a", "1"), Ctx(turn: 3));
        Assert.Equal(WorkOrderStatus.Confirm, s.Status);
        Assert.Equal(WorkPromptKind.Confirm, WorkDecider.PromptOf(s)!.Kind);
        Assert.Empty(outbox);

        (s, _, outbox) = Apply(s, new ConfirmWorkOrder("wo"), Ctx(turn: 4));
        Assert.Equal((WorkOrderStatus.Executing, true, 0), (s.Status, s.Confirmed, s.ActiveStep));
        var due = Assert.Single(outbox);
        Assert.Equal((WorkDecider.StepDueEvent, "0"), (due.EventType, due.Payload["step_index"]));
        Assert.Equal(WorkDecider.StepDue("acme", "wo", 0).IdempotencyKey, due.IdempotencyKey);
        Assert.Null(WorkDecider.PromptOf(s));
    }

    [Fact]
    public void Steps_RunInOrderUnderTheLease_TheLastEndsDoneAndReleasesIt()
    {
        var s = Executing();
        var grant = Assert.IsType<Decision<WorkLeaseGrant>.Accepted>(WorkDecider.DecideLease(s, new LeaseWorkOrder("wo", "w1", 60_000, 0), Ctx(now: 10_000))).Events[0];
        Assert.Equal([WorkEventType.LeaseAcquired, WorkEventType.StepStarted], grant.Events.Select(e => e.Type));
        foreach (var e in grant.Events) s = WorkDecider.Evolve(s, e);
        Assert.True(WorkDecider.HoldsLease(s, "w1", grant.Token, 69_999));
        Assert.False(WorkDecider.HoldsLease(s, "w1", grant.Token, 70_000));
        Assert.False(WorkDecider.HoldsLease(s, "w2", grant.Token, 10_001));
        Assert.False(WorkDecider.HoldsLease(s, "w1", "lease_0000000000000000", 10_001));

        // Another worker waits while the lease is live, takes it over from its expiry on.
        var denied = Assert.IsType<Decision<WorkLeaseGrant>.Rejected>(WorkDecider.DecideLease(s, new LeaseWorkOrder("wo", "w2", 60_000, 0), Ctx(now: 69_999)));
        Assert.Equal(ReasonCodes.LeaseHeldByOther, denied.Reason);
        var takeover = Assert.IsType<Decision<WorkLeaseGrant>.Accepted>(WorkDecider.DecideLease(s, new LeaseWorkOrder("wo", "w2", 60_000, 0), Ctx(now: 70_000))).Events[0];
        Assert.True(takeover.ResumeFromLedger);
        Assert.Equal(WorkEventType.LeaseAcquired, takeover.Events[0].Type);

        Assert.IsType<Decision<WorkEvent>.Rejected>(WorkDecider.Decide(s, new FinishWorkStep("wo", 1, new Dictionary<string, string>()), Ctx()));
        var (after, _, outbox) = Apply(s, new FinishWorkStep("wo", 0, new Dictionary<string, string> { ["out"] = "cap_1" }), Ctx());
        Assert.Equal((WorkOrderStatus.Executing, 1, "cap_1"), (after.Status, after.ActiveStep, after.Fields["out"]));
        Assert.Equal("1", Assert.Single(outbox).Payload["step_index"]);

        var (done, events, last) = Apply(after, new FinishWorkStep("wo", 1, new Dictionary<string, string>()), Ctx());
        Assert.Equal(WorkOrderStatus.Done, done.Status);
        Assert.Equal([WorkEventType.StepFinished, WorkEventType.LeaseReleased], events.Select(e => e.Type));
        Assert.Null(done.Lease);
        Assert.Empty(last);
        Assert.Equal(ReasonCodes.WorkOrderClosed, Assert.IsType<Decision<WorkEvent>.Rejected>(WorkDecider.Decide(done, new CancelWorkOrder("wo"), Ctx())).Reason);
    }

    [Fact]
    public void Refusals_HaveTheirReasons()
    {
        Assert.Equal(ReasonCodes.WorkOrderNotFound, Rejected(null, new ConfirmWorkOrder("wo")));
        Assert.Equal(ReasonCodes.WorkBlueprintUnknown, Rejected(null, new StartWorkOrder("wo", "OTHER", new Dictionary<string, string>())));
        Assert.Equal(ReasonCodes.WorkFieldUnknown, Rejected(null, new StartWorkOrder("wo", "BP", new Dictionary<string, string> { ["z"] = "1" })));
        Assert.Equal(ReasonCodes.InputFieldInvalid, Rejected(null, new StartWorkOrder("bad id", "BP", new Dictionary<string, string>())));
        var s = Apply(null, new StartWorkOrder("wo", "BP", new Dictionary<string, string>()), Ctx()).State;
        Assert.Equal(ReasonCodes.WorkOrderExists, Rejected(s, new StartWorkOrder("wo", "BP", new Dictionary<string, string>())));
        Assert.Equal(ReasonCodes.WorkTransitionInvalid, Rejected(s, new ConfirmWorkOrder("wo")));
        Assert.Equal(ReasonCodes.InputFieldInvalid, Rejected(s, new SetWorkField("wo", "a", "")));
        s = Apply(s, new SetWorkField("wo", "a", "1"), Ctx()).State;
        Assert.Equal(ReasonCodes.WorkFieldUnchanged, Rejected(s, new SetWorkField("wo", "a", "1")));
    }

    [Fact]
    public void Replay_FoldingTheSameEventsGivesTheSameState()
    {
        var events = new List<WorkEvent>();
        WorkOrderState? s = null;
        foreach (var command in new WorkCommand[]
        {
            new StartWorkOrder("wo", "BP", new Dictionary<string, string>()), new SetWorkField("wo", "a", "1"), new SetWorkField("wo", "b", "2"),
            new SetWorkField("wo", "c", "3"), new ConfirmWorkOrder("wo"),
        })
        {
            var accepted = Assert.IsType<Decision<WorkEvent>.Accepted>(WorkDecider.Decide(s, command, Ctx()));
            foreach (var e in accepted.Events) { s = WorkDecider.Evolve(s, e); events.Add(e); }
        }
        WorkOrderState? again = null;
        foreach (var e in events) again = WorkDecider.Evolve(again, e);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(s), System.Text.Json.JsonSerializer.Serialize(again));
        Assert.Equal(["a", "b", "c"], s!.AskedFields);
    }

    private static WorkOrderState Executing()
    {
        var s = Apply(null, new StartWorkOrder("wo", "BP", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" }), Ctx()).State;
        return Apply(s, new ConfirmWorkOrder("wo"), Ctx()).State;
    }

    private static ReasonCode Rejected(WorkOrderState? s, WorkCommand c) => Assert.IsType<Decision<WorkEvent>.Rejected>(WorkDecider.Decide(s, c, Ctx())).Reason;
}
