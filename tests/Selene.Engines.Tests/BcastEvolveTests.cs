using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

public sealed class BcastEvolveTests
{
    /// <summary>
    /// Drives one broadcast through the lifecycle of issue 12's scenario — one recipient acknowledges in the app, one
    /// walks the fallback order, one waits out the window, is escalated, deferred with a reminder, and the reminder
    /// fires — and returns the state and the ledger (events in id order).
    /// </summary>
    private static (BcastState State, List<(BcastEvent Event, long Id)> Ledger) Lifecycle()
    {
        var state = BcastState.Empty;
        var ledger = new List<(BcastEvent, long)>();
        long id = 1;
        long t = Now.Value;
        void Step(BcastCommand command, string key, long at)
        {
            var decision = BcastDecider.Decide(state, command, Context(now: new UnixNanos(at), key: key, actor: ActorOf(command)));
            foreach (var e in Accepted(decision).Events)
            {
                ledger.Add((e, id));
                state = BcastDecider.Evolve(state, e, id++);
            }
        }

        Step(Draft(), Key, t);
        Step(Deliver(recipient: "ann"), "d-ann", t + 1);
        Step(new RecordAck(BroadcastId, "ann", BcastAckType.Read), "ack-ann", t + 2);
        Step(Deliver(recipient: "ben"), "d-ben-0", t + 3);
        Step(Deliver(BcastDeliveryMethod.Sms, appUnavailable: true, recipient: "ben"), "d-ben-1", t + 4);
        Step(Deliver(BcastDeliveryMethod.Whatsapp, appUnavailable: true, recipient: "ben"), "d-ben-2", t + 5);
        Step(Deliver(BcastDeliveryMethod.Email, appUnavailable: true, recipient: "ben"), "d-ben-3", t + 6);
        Step(Deliver(recipient: "cid"), "d-cid", t + 7);
        var afterWindow = t + 7 + BcastDecider.WaitingWindowNs;
        Step(new EscalateRecipient(BroadcastId, "cid", "NO_ANSWER"), "e-cid", afterWindow);
        Step(new DeferRecipient(BroadcastId, "cid", afterWindow + 1_000_000_000, null, true), "r-cid", afterWindow + 1);
        Step(new RecordReminderFired(BroadcastId, "cid", "rem-cid"), "f-cid", afterWindow + 1_000_000_000);
        return (state, ledger);
    }

    [Fact]
    public void Lifecycle_EndsWhereTheReferenceSays()
    {
        var (state, _) = Lifecycle();

        Assert.Equal(BcastEnvelopeStatus.Sent, state.Envelope!.Status);
        Assert.Equal(Now.Value + 1, state.Envelope.SentAt);
        Assert.Equal((BcastRecipientStatus.Concluded, (BcastAckType?)BcastAckType.Read), (state.Recipients["ann"].Status, state.Recipients["ann"].AckType));
        Assert.Equal((BcastRecipientStatus.Waiting, 3, BcastDeliveryMethod.Email, 4), (state.Recipients["ben"].Status, state.Recipients["ben"].FallbackStep,
            state.Recipients["ben"].LastDeliveryMethod, state.Recipients["ben"].AttemptCount));
        var cid = state.Recipients["cid"];
        Assert.Equal((BcastRecipientStatus.ReminderFired, "rem-cid", 4), (cid.Status, cid.ReminderRef, cid.Version));
        Assert.NotNull(cid.SenderNoticeRef);
    }

    [Fact]
    public void Rebuild_FoldingTheLedgerInIdOrder_GivesTheSameState()
    {
        var (live, ledger) = Lifecycle();

        var rebuilt = ledger.OrderBy(l => l.Id).Aggregate(BcastState.Empty, (s, l) => BcastDecider.Evolve(s, l.Event, l.Id));

        Assert.True(live.SameAs(rebuilt));
        Assert.Equal(live.Envelope, rebuilt.Envelope);
        Assert.Equal(live.Recipients.Keys, rebuilt.Recipients.Keys);
        Assert.All(live.Recipients, r => Assert.Equal(r.Value, rebuilt.Recipients[r.Key]));
    }

    [Fact]
    public void Envelope_ContentIsTheDraftsAfterEveryEvent()
    {
        // Immutable after sending: only status, sent_at and bookkeeping move (KC.18).
        var (state, ledger) = Lifecycle();
        var drafted = BcastDecider.EvolveEnvelope(null, (BcastEnvelopeEvent)ledger[0].Event, ledger[0].Id);

        Assert.Equal(drafted with
        {
            Status = state.Envelope!.Status,
            SentAt = state.Envelope.SentAt,
            LastReasonCode = state.Envelope.LastReasonCode,
            SourceEventId = state.Envelope.SourceEventId,
            UpdatedAt = state.Envelope.UpdatedAt,
        }, state.Envelope);
    }

    [Fact]
    public void Envelope_OnlyTheDraftEventCarriesContent()
    {
        string[] content = ["Classification", "AudienceSpec", "ContentPayloadRef", "RequiredAck", "ExpiryAt", "PromptDedupeKey", "EnvelopeHash"];
        Assert.All(content, p => Assert.NotNull(typeof(BroadcastDraftCreated).GetProperty(p)));
        Assert.All(content, p => Assert.Null(typeof(BroadcastStatusChanged).GetProperty(p)));
        // A recipient row has a prompt_dedupe_key of its own (§8.4, the envelope's key per recipient); nothing else of the envelope.
        Assert.All(content.Where(p => p != "PromptDedupeKey"), p => Assert.Null(typeof(BcastRecipientTransitioned).GetProperty(p)));
    }

    [Fact]
    public void Evolve_SecondDraftOfAnExistingBroadcast_Throws()
    {
        var draft = (BcastEnvelopeEvent)Assert.Single(Accepted(BcastDecider.Decide(BcastState.Empty, Draft(), Context())).Events);
        var state = BcastDecider.Evolve(BcastState.Empty, draft, 1);
        var ex = Assert.Throws<InvalidOperationException>(() => BcastDecider.Evolve(state, draft with { ReasonCode = "BCAST_DRAFT_CREATED" }, 2));
        Assert.Contains("immutable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evolve_RecipientEventBeforeItsFirstDelivery_Throws()
    {
        var ack = Accepted(BcastDecider.Decide(State(BcastRecipientStatus.Waiting), Ack(), Context(actor: RecipientId))).Events.Single();
        var ex = Assert.Throws<InvalidOperationException>(() => BcastDecider.Evolve(State(Envelope()), ack, 9));
        Assert.Contains("9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evolve_EventFromAnotherStatus_Throws()
    {
        // A corrupt or reordered ledger must not silently move a recipient.
        var escalate = Accepted(BcastDecider.Decide(State(BcastRecipientStatus.Waiting), Escalate(), Context())).Events.Single();
        Assert.Throws<InvalidOperationException>(() => BcastDecider.Evolve(State(BcastRecipientStatus.Concluded), escalate, 9));
        var expire = Accepted(BcastDecider.Decide(State(Envelope()), new ExpireBroadcast(BroadcastId, "TIME_UP"), Context())).Events.Single();
        Assert.Throws<InvalidOperationException>(() => BcastDecider.Evolve(State(Envelope(BcastEnvelopeStatus.Canceled)), expire, 9));
    }

    [Fact]
    public void PromptDedupe_RepeatIsSuppressedUnlessTheStateChanged()
    {
        var state = State(Envelope(), Recipient(BcastRecipientStatus.ReminderSet));
        var first = Accepted(BcastDecider.Decide(state, ReminderFired(), Context(key: "f1")));
        var again = Accepted(BcastDecider.Decide(state, ReminderFired(), Context(key: "f2")));
        // The same prompt from the same state carries the same outbox key, whatever the request key: the outbox keeps one.
        Assert.Equal(Assert.Single(first.Outbox).IdempotencyKey, Assert.Single(again.Outbox).IdempotencyKey);
        Assert.Equal(BcastHandoffs.FollowupPromptDue, first.Outbox[0].EventType);

        long id = 20;
        var fired = Apply(state, first, ref id);
        var key = BcastDecider.PromptKey(fired.Envelope!, RecipientId);
        Assert.True(BcastDecider.IsRepeatPrompt(fired.Recipient(RecipientId)!, key));
        Assert.Empty(Accepted(BcastDecider.Decide(fired, ReminderFired(), Context(key: "f3"))).Outbox);

        // Deferred with a reminder again and fired again: the state changed, so the prompt is new.
        var reset = Apply(fired, BcastDecider.Decide(fired, Defer(handoff: true), Context(key: "r2")), ref id);
        Assert.False(BcastDecider.IsRepeatPrompt(reset.Recipient(RecipientId)!, key));
        var second = Accepted(BcastDecider.Decide(reset, ReminderFired("rem-2"), Context(key: "f4")));
        Assert.NotEqual(first.Outbox[0].IdempotencyKey, Assert.Single(second.Outbox).IdempotencyKey);
        Assert.Equal(key, second.Outbox[0].Payload["prompt_dedupe_key"]);
    }
}
