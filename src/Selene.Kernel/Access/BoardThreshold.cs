namespace Selene.Kernel.Access;

/// <summary>The five approval primitives (reference §7.1).</summary>
public enum ApprovalPrimitive
{
    /// <summary>One approval by any listed approver decides; the first decisive vote wins.</summary>
    SingleApprover,
    /// <summary>At least N of the M members approve.</summary>
    NOfM,
    /// <summary>At least the given percentage of the members approve (rounded up).</summary>
    BoardQuorumPercent,
    /// <summary>Every member approves.</summary>
    UnanimousBoard,
    /// <summary>Every configured signal holds (N of M, quorum percent, named approver such as the CFO).</summary>
    Mixed,
}

/// <summary>What a vote says. Abstaining is explicit and counts as not approving.</summary>
public enum VoteValue
{
    /// <summary>For.</summary>
    Approve,
    /// <summary>Against.</summary>
    Reject,
    /// <summary>Present, neither for nor against.</summary>
    Abstain,
}

/// <summary>Where an escalation case's vote stands.</summary>
public enum ThresholdStatus
{
    /// <summary>Not decided yet: the threshold can still be reached and has not been.</summary>
    Pending,
    /// <summary>The threshold is reached.</summary>
    Satisfied,
    /// <summary>The threshold can no longer be reached.</summary>
    Rejected,
}

/// <summary>An active board policy version.</summary>
/// <param name="Members">The board (approvers); only their votes count.</param>
/// <param name="RequiredApprovals">N for N_OF_M, and for MIXED when set.</param>
/// <param name="QuorumPercent">1..100 for BOARD_QUORUM_PERCENT, and for MIXED when set.</param>
/// <param name="RequiredApproverUserId">MIXED: a named member who must approve (require_cfo_approval).</param>
public sealed record BoardPolicy(
    ApprovalPrimitive Primitive,
    IReadOnlyList<string> Members,
    int? RequiredApprovals = null,
    int? QuorumPercent = null,
    string? RequiredApproverUserId = null);

/// <summary>One recorded vote, in ledger order (<see cref="Sequence"/>).</summary>
public sealed record BoardVote(long Sequence, string VoterUserId, VoteValue Value);

/// <summary>
/// The threshold computation the original design specified but never implemented (reference §15.5), pure and
/// order-independent apart from one rule: a member's <b>first</b> vote is the one that counts (later votes by
/// the same member are duplicates and are ignored; the vote simulation refuses them). Votes from non-members are
/// ignored. docs/access-approvals.md states the rules; tests cover every primitive.
/// </summary>
public static class BoardThreshold
{
    /// <summary>Null when the policy is well-formed, else why not (ACCESS_BOARD_POLICY_INVALID).</summary>
    public static string? Validate(BoardPolicy policy)
    {
        if (policy.Members.Count == 0) return "a board policy needs at least one member";
        if (policy.Members.Distinct(StringComparer.Ordinal).Count() != policy.Members.Count) return "board members must be distinct";
        var m = policy.Members.Count;
        switch (policy.Primitive)
        {
            case ApprovalPrimitive.SingleApprover or ApprovalPrimitive.UnanimousBoard:
                return policy.RequiredApprovals is null && policy.QuorumPercent is null && policy.RequiredApproverUserId is null
                    ? null : $"{policy.Primitive} takes no numbers";
            case ApprovalPrimitive.NOfM:
                return policy.RequiredApprovals is { } n && n >= 1 && n <= m && policy.QuorumPercent is null && policy.RequiredApproverUserId is null
                    ? null : "N_OF_M needs 1 <= n <= m and nothing else";
            case ApprovalPrimitive.BoardQuorumPercent:
                return policy.QuorumPercent is >= 1 and <= 100 && policy.RequiredApprovals is null && policy.RequiredApproverUserId is null
                    ? null : "BOARD_QUORUM_PERCENT needs 1..100 and nothing else";
            case ApprovalPrimitive.Mixed:
                if (policy.RequiredApprovals is null && policy.QuorumPercent is null && policy.RequiredApproverUserId is null)
                    return "MIXED needs at least one signal";
                if (policy.RequiredApprovals is { } mn && (mn < 1 || mn > m)) return "MIXED n must be 1..m";
                if (policy.QuorumPercent is { } mq && (mq < 1 || mq > 100)) return "MIXED quorum must be 1..100";
                if (policy.RequiredApproverUserId is { } cfo && !policy.Members.Contains(cfo, StringComparer.Ordinal))
                    return "MIXED's required approver must be a member";
                return null;
            default:
                return "unknown primitive";
        }
    }

    /// <summary>Computes the status of a case from its votes under the active policy.</summary>
    public static ThresholdStatus Compute(BoardPolicy policy, IEnumerable<BoardVote> votes)
    {
        if (Validate(policy) is not null) return ThresholdStatus.Pending;
        var members = new HashSet<string>(policy.Members, StringComparer.Ordinal);
        var counted = new Dictionary<string, BoardVote>(StringComparer.Ordinal);
        foreach (var vote in votes.OrderBy(v => v.Sequence))
        {
            if (members.Contains(vote.VoterUserId)) counted.TryAdd(vote.VoterUserId, vote);
        }

        var m = members.Count;
        var approvals = counted.Values.Count(v => v.Value == VoteValue.Approve);
        var notYetVoted = m - counted.Count;
        return policy.Primitive switch
        {
            ApprovalPrimitive.SingleApprover => counted.Values.OrderBy(v => v.Sequence)
                .Where(v => v.Value != VoteValue.Abstain)
                .Select(v => v.Value == VoteValue.Approve ? ThresholdStatus.Satisfied : ThresholdStatus.Rejected)
                .FirstOrDefault(notYetVoted == 0 ? ThresholdStatus.Rejected : ThresholdStatus.Pending),
            ApprovalPrimitive.NOfM => AtLeast(policy.RequiredApprovals!.Value, approvals, notYetVoted),
            ApprovalPrimitive.BoardQuorumPercent => AtLeast(RequiredForPercent(policy.QuorumPercent!.Value, m), approvals, notYetVoted),
            ApprovalPrimitive.UnanimousBoard => AtLeast(m, approvals, notYetVoted),
            ApprovalPrimitive.Mixed => Combine(
                policy.RequiredApprovals is { } n ? AtLeast(n, approvals, notYetVoted) : ThresholdStatus.Satisfied,
                policy.QuorumPercent is { } q ? AtLeast(RequiredForPercent(q, m), approvals, notYetVoted) : ThresholdStatus.Satisfied,
                policy.RequiredApproverUserId is { } named ? Named(counted, named) : ThresholdStatus.Satisfied),
            _ => ThresholdStatus.Pending,
        };
    }

    /// <summary>ceil(percent × m / 100): 50 % of 4 is 2 (a 2–2 tie satisfies a 50 % quorum), 51 % of 4 is 3.</summary>
    public static int RequiredForPercent(int percent, int members) => (percent * members + 99) / 100;

    private static ThresholdStatus AtLeast(int required, int approvals, int notYetVoted) =>
        approvals >= required ? ThresholdStatus.Satisfied
        : approvals + notYetVoted < required ? ThresholdStatus.Rejected
        : ThresholdStatus.Pending;

    private static ThresholdStatus Named(Dictionary<string, BoardVote> counted, string named) =>
        !counted.TryGetValue(named, out var vote) ? ThresholdStatus.Pending
        : vote.Value == VoteValue.Approve ? ThresholdStatus.Satisfied
        : ThresholdStatus.Rejected;

    private static ThresholdStatus Combine(params ThresholdStatus[] signals) =>
        signals.Contains(ThresholdStatus.Rejected) ? ThresholdStatus.Rejected
        : signals.All(s => s == ThresholdStatus.Satisfied) ? ThresholdStatus.Satisfied
        : ThresholdStatus.Pending;
}
