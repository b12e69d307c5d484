using System.Text.RegularExpressions;
using static Selene.Engines.Tests.CapreqFixture;

namespace Selene.Engines.Tests;

public sealed partial class CapreqDeterminismTests
{
    [GeneratedRegex("^capreq_[0-9a-f]{16}$")]
    private static partial Regex CapreqIdShape();

    [GeneratedRegex("^capreq_payload_[0-9a-f]{16}$")]
    private static partial Regex PayloadHashShape();

    private static void AssertSameDecision(Decision<CapreqEvent> a, Decision<CapreqEvent> b)
    {
        switch (a, b)
        {
            case (Decision<CapreqEvent>.Accepted x, Decision<CapreqEvent>.Accepted y):
                Assert.Equal(x.Reason, y.Reason);
                Assert.Equal(x.Events, y.Events);
                Assert.Equal(x.Outbox, y.Outbox);
                break;
            case (Decision<CapreqEvent>.Rejected x, Decision<CapreqEvent>.Rejected y):
                Assert.Equal(x, y);
                break;
            default:
                Assert.Fail($"different outcomes: {a.GetType().Name} and {b.GetType().Name}");
                break;
        }
    }

    public static TheoryData<CapreqStatus?, CapreqAction> Cases()
    {
        var data = new TheoryData<CapreqStatus?, CapreqAction>();
        foreach (var action in Enum.GetValues<CapreqAction>())
        {
            data.Add(null, action);
            foreach (var status in Enum.GetValues<CapreqStatus>()) data.Add(status, action);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_SameInputs_GiveEqualDecisions(CapreqStatus? current, CapreqAction action)
    {
        var first = CapreqDecider.Decide(current is { } s ? State(s) : null, Command(action), ContextFor(action));
        var second = CapreqDecider.Decide(current is { } t ? State(t) : null, Command(action), ContextFor(action));
        AssertSameDecision(first, second);
    }

    [Fact]
    public void Decide_EventTime_IsTheContextClock()
    {
        var e = SingleEvent(CapreqDecider.Decide(null, Draft(), Context(now: new UnixNanos(123))));
        Assert.Equal(123, e.CreatedAt);
    }

    [Fact]
    public void Derive_SameContent_GivesSameWellFormedId()
    {
        var id = CapreqIds.Derive(Tenant, Capability, Scope, Justification);
        Assert.Equal(id, CapreqIds.Derive(Tenant, Capability, Scope, Justification));
        Assert.Matches(CapreqIdShape(), id);
        Assert.True(CapreqIds.IsWellFormed(id));
        Assert.Equal(id, Draft().TargetCapreqId(Tenant));
    }

    [Fact]
    public void Derive_SameContentInTwoTenants_GivesDifferentIds()
    {
        Assert.NotEqual(CapreqIds.Derive("tenant-a", Capability, Scope, Justification), CapreqIds.Derive("tenant-b", Capability, Scope, Justification));
        var a = SingleEvent(CapreqDecider.Decide(null, Draft(), Context(tenant: "tenant-a")));
        var b = SingleEvent(CapreqDecider.Decide(null, Draft(), Context(tenant: "tenant-b")));
        Assert.NotEqual(a.CapreqId, b.CapreqId);
    }

    [Fact]
    public void Derive_AnyContentChange_GivesDifferentIds()
    {
        string[] ids =
        [
            CapreqIds.Derive(Tenant, Capability, Scope, Justification),
            CapreqIds.Derive(Tenant, Capability + "x", Scope, Justification),
            CapreqIds.Derive(Tenant, Capability, Scope + "x", Justification),
            CapreqIds.Derive(Tenant, Capability, Scope, Justification + "x"),
            CapreqIds.Derive(Tenant, "ab", "c", Justification),
            CapreqIds.Derive(Tenant, "a", "bc", Justification),
        ];
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Derive_DoesNotDependOnTheActor()
    {
        var a = SingleEvent(CapreqDecider.Decide(null, Draft(), Context(actor: Requester)));
        var b = SingleEvent(CapreqDecider.Decide(null, Draft(), Context(actor: Approver)));
        Assert.Equal(a.CapreqId, b.CapreqId);
    }

    [Fact]
    public void PayloadHash_DiffersPerAction()
    {
        var hashes = Enum.GetValues<CapreqAction>()
            .Select(a => CapreqIds.PayloadHash(a, Tenant, CapreqId(), Capability, Scope, Justification))
            .ToArray();
        Assert.All(hashes, h => Assert.Matches(PayloadHashShape(), h));
        Assert.Equal(hashes.Length, hashes.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Decide_EachActionOnItsLegalStatus_GivesDistinctPayloadHashes()
    {
        var hashes = Enum.GetValues<CapreqAction>()
            .Select(a =>
            {
                var required = CapreqDecider.RequiredStatuses(a);
                var state = required.Count == 0 ? null : State(required[0]);
                return SingleEvent(CapreqDecider.Decide(state, Command(a), ContextFor(a))).PayloadHash;
            })
            .ToArray();
        Assert.Equal(hashes.Length, hashes.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void PayloadHash_MissingContentEqualsEmptyContent()
    {
        // Reference §6.1: requested_capability_id|"", target_scope_ref|"", justification|"".
        Assert.Equal(
            CapreqIds.PayloadHash(CapreqAction.Approve, Tenant, CapreqId(), null, null, null),
            CapreqIds.PayloadHash(CapreqAction.Approve, Tenant, CapreqId(), "", "", ""));
    }

    [Theory]
    [InlineData("capreq_0123456789abcdef", true)]
    [InlineData("capreq_0123456789ABCDEF", false)]
    [InlineData("capreq_0123456789abcde", false)]
    [InlineData("capreq_0123456789abcdef0", false)]
    [InlineData("capreq_0123456789abcdeg", false)]
    [InlineData("CAPREQ_0123456789abcdef", false)]
    [InlineData("capreq-0123456789abcdef", false)]
    [InlineData(" capreq_0123456789abcde", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsWellFormed_AcceptsOnlyCapreqAnd16LowerHex(string? id, bool expected)
    {
        Assert.Equal(expected, CapreqIds.IsWellFormed(id));
    }
}
