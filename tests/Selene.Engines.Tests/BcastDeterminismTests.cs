using System.Text.RegularExpressions;
using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

public sealed partial class BcastDeterminismTests
{
    [GeneratedRegex("^bcast_[0-9a-f]{16}$")]
    private static partial Regex BroadcastIdShape();

    private static BcastCommand[] Commands() =>
    [
        Draft(), Deliver(), Deliver(BcastDeliveryMethod.Sms, appUnavailable: true), Defer(handoff: false), Defer(handoff: true), ReminderFired(),
        Ack(), Escalate(), new ExpireBroadcast(BroadcastId, "TIME_UP"), new CancelBroadcast(BroadcastId, "SENDER_CANCELED"),
    ];

    public static TheoryData<BcastRecipientStatus?, int> Cases()
    {
        var data = new TheoryData<BcastRecipientStatus?, int>();
        for (var i = 0; i < Commands().Length; i++)
        {
            data.Add(null, i);
            foreach (var status in Enum.GetValues<BcastRecipientStatus>()) data.Add(status, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_SameInputs_GiveEqualDecisions(BcastRecipientStatus? status, int command)
    {
        // Fresh inputs each time: equal values, not the same instances.
        var first = BcastDecider.Decide(State(status), Commands()[command], Context());
        var second = BcastDecider.Decide(State(status), Commands()[command], Context());

        switch (first, second)
        {
            case (Decision<BcastEvent>.Accepted a, Decision<BcastEvent>.Accepted b):
                Assert.Equal(a.Reason, b.Reason);
                Assert.Equal(a.Events, b.Events);
                Assert.Equal(a.Outbox.Select(Describe), b.Outbox.Select(Describe));
                break;
            case (Decision<BcastEvent>.Rejected a, Decision<BcastEvent>.Rejected b):
                Assert.Equal(a, b);
                break;
            default:
                Assert.Fail($"different outcomes: {first.GetType().Name} and {second.GetType().Name}");
                break;
        }
    }

    [Fact]
    public void Decide_EventTime_IsTheContextClock()
    {
        var e = Assert.Single(Accepted(BcastDecider.Decide(BcastState.Empty, Draft(), Context(now: new UnixNanos(123)))).Events);
        Assert.Equal(123, e.At);
    }

    [Fact]
    public void BroadcastId_IsDerivedFromTenantSenderEnvelopeAndKey()
    {
        var id = Draft().TargetBroadcastId(Context())!;
        Assert.Matches(BroadcastIdShape(), id);
        Assert.True(BcastIds.IsWellFormed(id));
        Assert.Equal(id, Draft().TargetBroadcastId(Context()));
        string[] others =
        [
            Draft().TargetBroadcastId(Context(tenant: "tenant-b"))!,
            Draft().TargetBroadcastId(Context(actor: "other"))!,
            Draft().TargetBroadcastId(Context(key: "key-2"))!,
            Draft(BcastClassification.Emergency).TargetBroadcastId(Context())!,
            Draft(promptKey: "pdk-x").TargetBroadcastId(Context())!,
        ];
        Assert.DoesNotContain(id, others);
        Assert.Equal(others.Length, others.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void EnvelopeHash_EqualContentEqualHash_AnyContentChangeAnother()
    {
        var hash = BcastIds.EnvelopeHash(Draft());
        Assert.Matches("^bcast_env_[0-9a-f]{16}$", hash);
        Assert.Equal(hash, BcastIds.EnvelopeHash(Draft()));
        string[] changed =
        [
            BcastIds.EnvelopeHash(Draft(BcastClassification.Priority)),
            BcastIds.EnvelopeHash(Draft(ack: BcastRequiredAck.Confirm)),
            BcastIds.EnvelopeHash(Draft(expiryAt: Now.Value + 1)),
            BcastIds.EnvelopeHash(Draft(promptKey: "pdk-1")),
            BcastIds.EnvelopeHash(Draft() with { AudienceSpec = "someone else" }),
            BcastIds.EnvelopeHash(Draft() with { ContentPayloadRef = "payload:msg-2" }),
        ];
        Assert.DoesNotContain(hash, changed);
    }

    [Theory]
    [InlineData("bcast_0123456789abcdef", true)]
    [InlineData("bcast_0123456789ABCDEF", false)]
    [InlineData("bcast_0123456789abcde", false)]
    [InlineData("bcast_0123456789abcdef0", false)]
    [InlineData("capreq_0123456789abcdef", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsWellFormed_AcceptsOnlyBcastAnd16LowerHex(string? id, bool expected)
    {
        Assert.Equal(expected, BcastIds.IsWellFormed(id));
    }
}
