using FsCheck;
using FsCheck.Fluent;

namespace Selene.Kernel.Tests;

/// <summary>Threshold status for every primitive, including ties, abstentions, duplicates and non-members.</summary>
public sealed class BoardThresholdTests
{
    private static readonly string[] Board = ["m1", "m2", "m3", "m4"];

    private static BoardVote[] Votes(params string[] script) =>
        script.Select((s, i) => new BoardVote(i + 1, s.Split(':')[0], s.Split(':')[1] switch
        {
            "A" => VoteValue.Approve,
            "R" => VoteValue.Reject,
            "0" => VoteValue.Abstain,
            var x => throw new ArgumentException(x, nameof(script)),
        })).ToArray();

    private static ThresholdStatus Status(BoardPolicy policy, params string[] script) => BoardThreshold.Compute(policy, Votes(script));

    [Theory]
    [InlineData(new string[0], ThresholdStatus.Pending)]
    [InlineData(new[] { "m2:A" }, ThresholdStatus.Satisfied)]
    [InlineData(new[] { "m2:R", "m1:A" }, ThresholdStatus.Rejected)]          // first decisive vote decides
    [InlineData(new[] { "m2:0", "m1:A" }, ThresholdStatus.Satisfied)]         // abstention is not decisive
    [InlineData(new[] { "m1:0", "m2:0", "m3:0", "m4:0" }, ThresholdStatus.Rejected)] // everyone abstained
    [InlineData(new[] { "outsider:A" }, ThresholdStatus.Pending)]             // non-members do not count
    public void SingleApprover(string[] votes, ThresholdStatus expected) =>
        Assert.Equal(expected, Status(new BoardPolicy(ApprovalPrimitive.SingleApprover, Board), votes));

    [Theory]
    [InlineData(new[] { "m1:A" }, ThresholdStatus.Pending)]
    [InlineData(new[] { "m1:A", "m2:A" }, ThresholdStatus.Satisfied)]
    [InlineData(new[] { "m1:A", "m1:A" }, ThresholdStatus.Pending)]                 // a duplicate counts once
    [InlineData(new[] { "m1:R", "m1:A", "m2:A" }, ThresholdStatus.Pending)]          // the first vote of a member counts
    [InlineData(new[] { "m1:R", "m2:R" }, ThresholdStatus.Pending)]                  // 2 of the remaining 2 can still approve
    [InlineData(new[] { "m1:R", "m2:R", "m3:R" }, ThresholdStatus.Rejected)]         // unreachable
    [InlineData(new[] { "m1:R", "m2:0", "m3:R" }, ThresholdStatus.Rejected)]         // abstention does not approve
    [InlineData(new[] { "x:A", "y:A", "m1:A" }, ThresholdStatus.Pending)]            // non-members ignored
    public void NOfM_TwoOfFour(string[] votes, ThresholdStatus expected) =>
        Assert.Equal(expected, Status(new BoardPolicy(ApprovalPrimitive.NOfM, Board, RequiredApprovals: 2), votes));

    [Theory]
    [InlineData(50, new[] { "m1:A", "m2:A", "m3:R", "m4:R" }, ThresholdStatus.Satisfied)] // a 2-2 tie meets 50 %
    [InlineData(51, new[] { "m1:A", "m2:A", "m3:R", "m4:R" }, ThresholdStatus.Rejected)]  // but not 51 % (needs 3)
    [InlineData(51, new[] { "m1:A", "m2:A", "m3:R" }, ThresholdStatus.Pending)]
    [InlineData(75, new[] { "m1:A", "m2:A", "m3:A" }, ThresholdStatus.Satisfied)]
    [InlineData(100, new[] { "m1:A", "m2:A", "m3:A", "m4:0" }, ThresholdStatus.Rejected)]
    [InlineData(1, new[] { "m1:A" }, ThresholdStatus.Satisfied)]
    public void QuorumPercent(int percent, string[] votes, ThresholdStatus expected) =>
        Assert.Equal(expected, Status(new BoardPolicy(ApprovalPrimitive.BoardQuorumPercent, Board, QuorumPercent: percent), votes));

    [Theory]
    [InlineData(new[] { "m1:A", "m2:A", "m3:A" }, ThresholdStatus.Pending)]
    [InlineData(new[] { "m1:A", "m2:A", "m3:A", "m4:A" }, ThresholdStatus.Satisfied)]
    [InlineData(new[] { "m1:A", "m2:R" }, ThresholdStatus.Rejected)]
    [InlineData(new[] { "m1:0" }, ThresholdStatus.Rejected)]
    [InlineData(new[] { "m1:A", "m2:A", "m3:A", "m3:R", "m4:A" }, ThresholdStatus.Satisfied)] // a later change of mind is a duplicate
    public void Unanimous(string[] votes, ThresholdStatus expected) =>
        Assert.Equal(expected, Status(new BoardPolicy(ApprovalPrimitive.UnanimousBoard, Board), votes));

    [Theory]
    [InlineData(new[] { "m1:A", "m2:A" }, ThresholdStatus.Pending)]          // 2 of 4 reached, CFO silent
    [InlineData(new[] { "m1:A", "m4:A" }, ThresholdStatus.Satisfied)]        // 2 of 4 and the CFO (m4)
    [InlineData(new[] { "m4:A" }, ThresholdStatus.Pending)]                  // CFO alone is not enough
    [InlineData(new[] { "m1:A", "m2:A", "m4:R" }, ThresholdStatus.Rejected)] // CFO rejects
    [InlineData(new[] { "m1:R", "m2:R", "m3:R" }, ThresholdStatus.Rejected)] // count unreachable
    public void Mixed_TwoOfFourAndCfo(string[] votes, ThresholdStatus expected) =>
        Assert.Equal(expected, Status(new BoardPolicy(ApprovalPrimitive.Mixed, Board, RequiredApprovals: 2, RequiredApproverUserId: "m4"), votes));

    [Fact]
    public void Mixed_QuorumAndCount_BothMustHold()
    {
        var policy = new BoardPolicy(ApprovalPrimitive.Mixed, Board, RequiredApprovals: 2, QuorumPercent: 75);
        Assert.Equal(ThresholdStatus.Pending, Status(policy, "m1:A", "m2:A"));
        Assert.Equal(ThresholdStatus.Satisfied, Status(policy, "m1:A", "m2:A", "m3:A"));
        Assert.Equal(ThresholdStatus.Rejected, Status(policy, "m1:A", "m2:R", "m3:R"));
    }

    public static TheoryData<BoardPolicy> InvalidPolicies => new()
    {
        new BoardPolicy(ApprovalPrimitive.NOfM, Board, RequiredApprovals: 0),
        new BoardPolicy(ApprovalPrimitive.NOfM, Board, RequiredApprovals: 5),
        new BoardPolicy(ApprovalPrimitive.NOfM, Board),
        new BoardPolicy(ApprovalPrimitive.BoardQuorumPercent, Board, QuorumPercent: 0),
        new BoardPolicy(ApprovalPrimitive.BoardQuorumPercent, Board, QuorumPercent: 101),
        new BoardPolicy(ApprovalPrimitive.UnanimousBoard, Board, RequiredApprovals: 2),
        new BoardPolicy(ApprovalPrimitive.SingleApprover, Board, QuorumPercent: 10),
        new BoardPolicy(ApprovalPrimitive.Mixed, Board),
        new BoardPolicy(ApprovalPrimitive.Mixed, Board, RequiredApproverUserId: "outsider"),
        new BoardPolicy(ApprovalPrimitive.NOfM, [], RequiredApprovals: 1),
        new BoardPolicy(ApprovalPrimitive.NOfM, ["m1", "m1"], RequiredApprovals: 1),
    };

    [Theory]
    [MemberData(nameof(InvalidPolicies))]
    public void InvalidPolicy_IsRejectedByValidate_AndNeverSatisfied(BoardPolicy policy)
    {
        Assert.NotNull(BoardThreshold.Validate(policy));
        Assert.Equal(ThresholdStatus.Pending, BoardThreshold.Compute(policy, Votes("m1:A", "m2:A", "m3:A", "m4:A")));
    }

    [Fact]
    public void Compute_IgnoresTheOrderVotesAreHandedIn_AndIsMonotoneInApprovals()
    {
        var policies = Gen.Elements(
            new BoardPolicy(ApprovalPrimitive.SingleApprover, Board),
            new BoardPolicy(ApprovalPrimitive.NOfM, Board, RequiredApprovals: 3),
            new BoardPolicy(ApprovalPrimitive.BoardQuorumPercent, Board, QuorumPercent: 60),
            new BoardPolicy(ApprovalPrimitive.UnanimousBoard, Board),
            new BoardPolicy(ApprovalPrimitive.Mixed, Board, RequiredApprovals: 2, QuorumPercent: 50, RequiredApproverUserId: "m2"));
        var vote = from voter in Gen.Elements("m1", "m2", "m3", "m4", "x")
                   from value in Gen.Elements(VoteValue.Approve, VoteValue.Reject, VoteValue.Abstain)
                   select (voter, value);
        var cases = from policy in policies
                    from count in Gen.Choose(0, 8)
                    from list in Gen.ArrayOf(vote, count)
                    from seed in Gen.Choose(0, 1000)
                    select (policy, votes: list.Select((v, i) => new BoardVote(i + 1, v.voter, v.value)).ToArray(), seed);

        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var status = BoardThreshold.Compute(c.policy, c.votes);
            var shuffled = c.votes.OrderBy(v => (v.Sequence * 7919 + c.seed) % 101).ToArray();
            // Turning every counted reject or abstention into an approval can only help.
            var kinder = c.votes.Select(v => v with { Value = VoteValue.Approve }).ToArray();
            var kinderStatus = BoardThreshold.Compute(c.policy, kinder);
            return status == BoardThreshold.Compute(c.policy, shuffled) &&
                   (status != ThresholdStatus.Satisfied || kinderStatus == ThresholdStatus.Satisfied);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000).WithReplay(7UL, 1UL));
    }
}
