using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

/// <summary>Every (recipient status, action) and (envelope status, action) pair against reference §8.2.</summary>
public sealed class BcastDeciderTableTests
{
    /// <summary>The recipient moves of §8.2 (DEFER split by its handoff flag).</summary>
    public enum Move { Deliver, DeferPlain, DeferWithReminder, ReminderFired, Escalate, Ack }

    private const BcastRecipientStatus W = BcastRecipientStatus.Waiting, F = BcastRecipientStatus.Followup, RS = BcastRecipientStatus.ReminderSet,
        RF = BcastRecipientStatus.ReminderFired, D = BcastRecipientStatus.Deferred, C = BcastRecipientStatus.Concluded;

    /// <summary>Reference §8.2, written out independently of the product's own tables: allowed from (null = new), to, reason.</summary>
    private static readonly Dictionary<Move, (BcastRecipientStatus?[] From, BcastRecipientStatus To, string Reason)> Table = new()
    {
        [Move.Deliver] = ([null, W, F, RS, RF, D], W, "BCAST_DELIVERED"),
        [Move.DeferPlain] = ([W, F, RF], D, "BCAST_DEFERRED"),
        [Move.DeferWithReminder] = ([F, RF], RS, "BCAST_REMINDER_SET"),
        [Move.ReminderFired] = ([RS], RF, "BCAST_REMINDER_FIRED"),
        [Move.Escalate] = ([W, D], F, "BCAST_ESCALATED"),
        [Move.Ack] = ([W, F, RS, RF, D, C], C, "BCAST_ACK_RECORDED"),
    };

    private static BcastCommand CommandFor(Move move) => move switch
    {
        Move.Deliver => Deliver(),
        Move.DeferPlain => Defer(handoff: false),
        Move.DeferWithReminder => Defer(handoff: true),
        Move.ReminderFired => ReminderFired(),
        Move.Escalate => Escalate(),
        Move.Ack => Ack(),
        _ => throw new ArgumentOutOfRangeException(nameof(move)),
    };

    public static TheoryData<BcastRecipientStatus?, Move> AllPairs()
    {
        var data = new TheoryData<BcastRecipientStatus?, Move>();
        foreach (var from in new BcastRecipientStatus?[] { null }.Concat(Enum.GetValues<BcastRecipientStatus>().Cast<BcastRecipientStatus?>()))
        {
            foreach (var move in Enum.GetValues<Move>()) data.Add(from, move);
        }
        return data;
    }

    [Fact]
    public void AllPairs_Covers9RecipientStatesTimes6Moves()
    {
        Assert.Equal(8, Enum.GetValues<BcastRecipientStatus>().Length);
        Assert.Equal(54, AllPairs().Count());
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Decide_RecipientStatusAndMove_FollowsReference(BcastRecipientStatus? from, Move move)
    {
        var command = CommandFor(move);
        var decision = BcastDecider.Decide(State(from), command, Context(actor: ActorOf(command)));

        var (allowed, to, reason) = Table[move];
        if (move == Move.ReminderFired && from == RF)
        {
            // The same firing again: accepted, nothing appended, nothing handed on (idempotent).
            var repeat = Accepted(decision);
            Assert.Equal("BCAST_REMINDER_FIRED", repeat.Reason.Name);
            Assert.Empty(repeat.Events);
            Assert.Empty(repeat.Outbox);
        }
        else if (allowed.Contains(from))
        {
            var accepted = Accepted(decision);
            Assert.Equal(reason, accepted.Reason.Name);
            var e = Assert.IsType<BcastRecipientTransitioned>(accepted.Events[^1]);
            Assert.Equal((from, to, reason), (e.From, e.To, e.ReasonCode));
            Assert.Equal((Tenant, BroadcastId, RecipientId, ActorOf(command), Now.Value), (e.TenantId, e.BroadcastId, e.RecipientId, e.ActorUserId, e.At));
        }
        else
        {
            AssertRejected(from is null ? BcastReasons.BcastFailNotFound : BcastReasons.BcastFailStateTransitionInvalid, decision);
        }
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void AllowedFrom_ProductTable_MatchesReference(BcastRecipientStatus? from, Move move)
    {
        var (action, handoff) = move switch
        {
            Move.Deliver => (BcastAction.DeliverCommit, false),
            Move.DeferPlain => (BcastAction.DeferCommit, false),
            Move.DeferWithReminder => (BcastAction.DeferCommit, true),
            Move.ReminderFired => (BcastAction.ReminderFiredCommit, false),
            Move.Escalate => (BcastAction.EscalateCommit, false),
            _ => (BcastAction.AckCommit, false),
        };
        var reference = Table[move].From.Contains(from) || (move == Move.ReminderFired && from == RF);
        Assert.Equal(reference, BcastDecider.AllowedFrom(action, handoff).Contains(from));
    }

    [Theory]
    [InlineData(BcastRecipientStatus.Concluded)]
    [InlineData(BcastRecipientStatus.Canceled)]
    [InlineData(BcastRecipientStatus.Expired)]
    public void Deliver_TerminalRecipient_IsRefusedWithEveryMethod(BcastRecipientStatus terminal)
    {
        // AT-BCAST-15: a terminal recipient takes no new delivery, whatever the channel.
        Assert.True(BcastDecider.IsTerminal(terminal));
        foreach (var (method, unavailable) in new[] { (BcastDeliveryMethod.SeleneApp, false), (BcastDeliveryMethod.Sms, true) })
            AssertRejected(BcastReasons.BcastFailStateTransitionInvalid, BcastDecider.Decide(State(terminal), Deliver(method, appUnavailable: unavailable), Context()));
    }

    [Theory]
    [InlineData(BcastClassification.Simple)]
    [InlineData(BcastClassification.Priority)]
    public void Deliver_NonUrgent_WaitsFiveMinutes(BcastClassification classification)
    {
        var accepted = Accepted(BcastDecider.Decide(State(null, Envelope(classification: classification)), Deliver(), Context()));

        Assert.Equal(BcastReasons.BcastDelivered, accepted.Reason);
        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.Equal(BcastRecipientStatus.Waiting, e.To);
        Assert.Equal(Now.Value + 300_000_000_000, e.WaitUntil);
        Assert.False(e.FollowupImmediate);
    }

    [Fact]
    public void Deliver_Emergency_GoesToFollowupImmediately()
    {
        var accepted = Accepted(BcastDecider.Decide(State(null, Envelope(classification: BcastClassification.Emergency)), Deliver(), Context()));

        Assert.Equal(BcastReasons.BcastFollowupImmediateUrgent, accepted.Reason);
        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.Equal(BcastRecipientStatus.Followup, e.To);
        Assert.True(e.FollowupImmediate);
        Assert.Null(e.WaitUntil);
    }

    [Fact]
    public void Deliver_HandsTheSendToDeliveryThroughTheOutbox_KeyedByTheDeliveryRequestRef()
    {
        var accepted = Accepted(BcastDecider.Decide(State(null), Deliver(), Context()));

        var expectedRef = BcastIds.DeliveryRequestRef(BroadcastId, RecipientId, Plan, Key);
        Assert.Matches("^delivery_[0-9a-f]{16}$", expectedRef);
        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.Equal(expectedRef, e.DeliveryRequestRef);
        var send = Assert.Single(accepted.Outbox);
        Assert.Equal((BcastHandoffs.OperationType, expectedRef, BcastHandoffs.DeliverySendRequested), (send.OperationType, send.IdempotencyKey, send.EventType));
        Assert.Equal("SELENE_APP", send.Payload["delivery_method"]);
        Assert.Equal("GLOBAL", send.Payload["recipient_region"]);
        Assert.Equal(expectedRef, send.Payload["delivery_request_ref"]);
        Assert.Equal("payload:msg-1", send.Payload["content_payload_ref"]);
    }

    [Fact]
    public void Deliver_SameKey_SameDeliveryRequestRef_OtherKey_Another()
    {
        var a = Assert.Single(Accepted(BcastDecider.Decide(State(null), Deliver(), Context(key: "k1"))).Outbox).IdempotencyKey;
        var b = Assert.Single(Accepted(BcastDecider.Decide(State(null), Deliver(), Context(key: "k1"))).Outbox).IdempotencyKey;
        var c = Assert.Single(Accepted(BcastDecider.Decide(State(null), Deliver(), Context(key: "k2"))).Outbox).IdempotencyKey;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Deliver_WithoutSimulationContext_IsRefused(string? simulationContext)
    {
        AssertRejected(BcastReasons.BcastFailSimulationContextMissing,
            BcastDecider.Decide(State(null), Deliver(simulationContext: simulationContext), Context()));
    }

    [Fact]
    public void Escalate_Waiting_OnlyOnceTheWindowHasElapsed()
    {
        var waitUntil = Now.Value + 1;
        var state = State(Envelope(), Recipient(W, waitUntil: waitUntil));

        var early = Rejected(BcastDecider.Decide(state, Escalate(), Context(now: new UnixNanos(waitUntil - 1))));
        Assert.Equal(BcastReasons.BcastFailWaitingWindowNotElapsed, early.Reason);
        Assert.True(early.Reason.Retryable);

        // now ≥ wait_until: at the very end of the window escalation is allowed.
        var onTime = Accepted(BcastDecider.Decide(state, Escalate(), Context(now: new UnixNanos(waitUntil))));
        Assert.Equal(F, Assert.IsType<BcastRecipientTransitioned>(Assert.Single(onTime.Events)).To);
    }

    [Fact]
    public void Escalate_FromDeferred_DoesNotWaitForAWindow()
    {
        var state = State(Envelope(), Recipient(D, waitUntil: Now.Value + 1_000_000));
        Assert.Equal(BcastReasons.BcastEscalated, Accepted(BcastDecider.Decide(state, Escalate(), Context())).Reason);
    }

    [Fact]
    public void Escalate_RecordsTheSenderNoticeOnTheRecipient_AndHandsNothingOn()
    {
        var accepted = Accepted(BcastDecider.Decide(State(W), Escalate(), Context()));

        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.StartsWith(BcastIds.SenderNoticePrefix, e.SenderNoticeRef);
        Assert.Empty(accepted.Outbox);
        Assert.Equal("NO_ANSWER", e.Reference);
    }

    [Fact]
    public void Defer_WithoutHandoff_SetsRetryAt_AndHandsNothingOn()
    {
        var until = Now.Value + 60_000_000_000;
        var accepted = Accepted(BcastDecider.Decide(State(W), Defer(handoff: false, until: until), Context()));

        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.Equal((D, (long?)until, (long?)null), (e.To, e.RetryAt, e.ReminderDueAt));
        Assert.Empty(accepted.Outbox);
    }

    [Fact]
    public void Defer_WithHandoff_AsksRemToScheduleTheFollowup()
    {
        var accepted = Accepted(BcastDecider.Decide(State(F, Envelope(classification: BcastClassification.Priority)), Defer(handoff: true, durationMs: 90_000), Context()));

        var due = Now.Value + 90_000L * 1_000_000;
        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.Equal((RS, (long?)due), (e.To, e.ReminderDueAt));
        var schedule = Assert.Single(accepted.Outbox);
        Assert.Equal(BcastHandoffs.ReminderScheduleRequested, schedule.EventType);
        Assert.Equal("BCAST_MHP_FOLLOWUP", schedule.Payload["reminder_type"]);
        Assert.Equal("PRIORITY", schedule.Payload["priority"]);
        Assert.Equal(due.ToString(System.Globalization.CultureInfo.InvariantCulture), schedule.Payload["due_at"]);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(BcastDecider.MaxDeferNs + 1)]
    public void Defer_OutOfBounds_IsRefused(long offset)
    {
        AssertRejected(BcastReasons.BcastFailSchemaInvalid, BcastDecider.Decide(State(W), Defer(handoff: false, until: Now.Value + offset), Context()));
    }

    [Fact]
    public void ReminderFired_AgainWithAnotherRef_IsRefused()
    {
        var state = State(Envelope(), Recipient(RF, reminderRef: "rem-1"));
        Assert.Empty(Accepted(BcastDecider.Decide(state, ReminderFired("rem-1"), Context())).Events);
        AssertRejected(BcastReasons.BcastFailStateTransitionInvalid, BcastDecider.Decide(state, ReminderFired("rem-2"), Context()));
    }

    /// <summary>KC.18 required_ack against the acknowledgement given, written out independently.</summary>
    public static TheoryData<BcastRequiredAck, BcastAckType, bool> AckTable() => new()
    {
        { BcastRequiredAck.None, BcastAckType.Read, true },
        { BcastRequiredAck.None, BcastAckType.Confirm, true },
        { BcastRequiredAck.None, BcastAckType.ActionConfirm, true },
        { BcastRequiredAck.None, BcastAckType.Declined, true },
        { BcastRequiredAck.Read, BcastAckType.Read, true },
        { BcastRequiredAck.Read, BcastAckType.Confirm, true },
        { BcastRequiredAck.Read, BcastAckType.ActionConfirm, true },
        { BcastRequiredAck.Read, BcastAckType.Declined, true },
        { BcastRequiredAck.Confirm, BcastAckType.Read, false },
        { BcastRequiredAck.Confirm, BcastAckType.Confirm, true },
        { BcastRequiredAck.Confirm, BcastAckType.ActionConfirm, true },
        { BcastRequiredAck.Confirm, BcastAckType.Declined, true },
        { BcastRequiredAck.ActionConfirm, BcastAckType.Read, false },
        { BcastRequiredAck.ActionConfirm, BcastAckType.Confirm, false },
        { BcastRequiredAck.ActionConfirm, BcastAckType.ActionConfirm, true },
        { BcastRequiredAck.ActionConfirm, BcastAckType.Declined, true },
    };

    [Theory]
    [MemberData(nameof(AckTable))]
    public void Ack_MustSatisfyTheRequiredAck(BcastRequiredAck required, BcastAckType given, bool concludes)
    {
        Assert.Equal(concludes, BcastDecider.Satisfies(given, required));
        var decision = BcastDecider.Decide(State(W, Envelope(ack: required)), Ack(given), Context(actor: RecipientId));
        if (concludes)
        {
            var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(Accepted(decision).Events));
            Assert.Equal((C, (BcastAckType?)given), (e.To, e.AckType));
            Assert.Matches("^bcast_ack_[0-9a-f]{16}$", e.AckRecordId);
        }
        else
        {
            AssertRejected(BcastReasons.BcastFailAckRequirementNotMet, decision);
        }
    }

    // ---- the envelope: DRAFT_CREATE, EXPIRE, CANCEL and a first delivery, by envelope status ----

    public enum EnvelopeMove { Draft, Expire, Cancel, DeliverNew }

    public static TheoryData<BcastEnvelopeStatus?, EnvelopeMove> EnvelopePairs()
    {
        var data = new TheoryData<BcastEnvelopeStatus?, EnvelopeMove>();
        foreach (var from in new BcastEnvelopeStatus?[] { null }.Concat(Enum.GetValues<BcastEnvelopeStatus>().Cast<BcastEnvelopeStatus?>()))
        {
            foreach (var move in Enum.GetValues<EnvelopeMove>()) data.Add(from, move);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EnvelopePairs))]
    public void Decide_EnvelopeStatusAndMove_FollowsReference(BcastEnvelopeStatus? from, EnvelopeMove move)
    {
        var state = from is { } s ? State(Envelope(s)) : BcastState.Empty;
        BcastCommand command = move switch
        {
            EnvelopeMove.Draft => Draft(),
            EnvelopeMove.Expire => new ExpireBroadcast(BroadcastId, "TIME_UP"),
            EnvelopeMove.Cancel => new CancelBroadcast(BroadcastId, "SENDER_CANCELED"),
            _ => Deliver(),
        };
        var decision = BcastDecider.Decide(state, command, Context());

        var terminal = from is BcastEnvelopeStatus.Expired or BcastEnvelopeStatus.Canceled;
        switch (move)
        {
            case EnvelopeMove.Draft when from is null:
                var created = Assert.IsType<BroadcastDraftCreated>(Assert.Single(Accepted(decision).Events));
                Assert.Equal((BroadcastId, Sender, "BCAST_DRAFT_CREATED"), (created.BroadcastId, created.ActorUserId, created.ReasonCode));
                break;
            case EnvelopeMove.Draft:
                AssertRejected(BcastReasons.BcastFailStateTransitionInvalid, decision);
                break;
            case var _ when from is null:
                AssertRejected(BcastReasons.BcastFailNotFound, decision);
                break;
            case var _ when terminal:
                AssertRejected(BcastReasons.BcastFailStateTransitionInvalid, decision);
                break;
            case EnvelopeMove.Expire or EnvelopeMove.Cancel:
                var changed = Assert.IsType<BroadcastStatusChanged>(Assert.Single(Accepted(decision).Events));
                var to = move == EnvelopeMove.Expire ? BcastEnvelopeStatus.Expired : BcastEnvelopeStatus.Canceled;
                Assert.Equal((from, to), ((BcastEnvelopeStatus?)changed.From, changed.To));
                Assert.Equal(move == EnvelopeMove.Expire ? "BCAST_EXPIRED" : "BCAST_CANCELED", Accepted(decision).Reason.Name);
                break;
            default:
                // A first delivery sends a drafted envelope (SENT) before moving the recipient.
                var events = Accepted(decision).Events;
                if (from == BcastEnvelopeStatus.DraftCreated)
                {
                    Assert.Equal(2, events.Count);
                    var sent = Assert.IsType<BroadcastStatusChanged>(events[0]);
                    Assert.Equal((BcastEnvelopeStatus.DraftCreated, BcastEnvelopeStatus.Sent), (sent.From, sent.To));
                }
                else
                {
                    Assert.Single(events);
                }
                Assert.Equal(W, Assert.IsType<BcastRecipientTransitioned>(events[^1]).To);
                break;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExpireOrCancel_MovesEveryOpenRecipient_InIdOrder_AndKeepsConcludedOnes(bool expire)
    {
        var state = State(Envelope(), Recipient(W, "zed"), Recipient(C, "amy"), Recipient(RS, "bob"), Recipient(D, "cat"));
        BcastCommand command = expire ? new ExpireBroadcast(BroadcastId, "TIME_UP") : new CancelBroadcast(BroadcastId, "SENDER_CANCELED");

        var accepted = Accepted(BcastDecider.Decide(state, command, Context()));

        var to = expire ? BcastRecipientStatus.Expired : BcastRecipientStatus.Canceled;
        Assert.IsType<BroadcastStatusChanged>(accepted.Events[0]);
        var moved = accepted.Events.Skip(1).Cast<BcastRecipientTransitioned>().ToArray();
        Assert.Equal(["bob", "cat", "zed"], moved.Select(m => m.RecipientId));
        Assert.All(moved, m => Assert.Equal(to, m.To));
        Assert.Empty(accepted.Outbox);
    }

    [Fact]
    public void Expire_BeforeExpiryAt_IsRefused_AtExpiryAt_Accepted()
    {
        var expiry = Now.Value + 10;
        var state = State(Envelope(expiryAt: expiry));
        AssertRejected(BcastReasons.BcastFailStateTransitionInvalid, BcastDecider.Decide(state, new ExpireBroadcast(BroadcastId, "TIME_UP"), Context(now: new UnixNanos(expiry - 1))));
        Assert.Equal(BcastReasons.BcastExpired, Accepted(BcastDecider.Decide(state, new ExpireBroadcast(BroadcastId, "TIME_UP"), Context(now: new UnixNanos(expiry)))).Reason);
    }

    [Fact]
    public void Deliver_AfterExpiryAt_IsRefused()
    {
        var state = State(Envelope(expiryAt: Now.Value));
        AssertRejected(BcastReasons.BcastFailStateTransitionInvalid, BcastDecider.Decide(state, Deliver(), Context()));
    }
}
