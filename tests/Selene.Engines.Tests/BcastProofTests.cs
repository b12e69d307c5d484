using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

/// <summary>
/// DELIVERY's proofs coming back into BCAST (BCAST_DELIVERY_PROOF_COMMIT) and the fallback walk a failure causes;
/// who may acknowledge; the envelope's message text; the follow-up's channel after a firing.
/// </summary>
public sealed class BcastProofTests
{
    private const string Attempt = "delivery_attempt_1";

    private static RecordDeliveryProof Proof(BcastDeliveryOutcome outcome, string requestRef = "delivery_0000000000000000") =>
        new(BroadcastId, RecipientId, requestRef, Attempt, "SMS", outcome, outcome == BcastDeliveryOutcome.Sent ? "proof:abc" : null,
            outcome == BcastDeliveryOutcome.Sent ? "DELIVERY_OK_SEND" : "DELIVERY_PROVIDER_SEND_FAILED");

    [Fact]
    public void Sent_IsRecordedOnTheRecipient_WithoutAStatusChangeOrHandoff()
    {
        var accepted = Accepted(BcastDecider.Decide(State(BcastRecipientStatus.Waiting), Proof(BcastDeliveryOutcome.Sent), Context(key: "p1")));

        Assert.Equal(BcastReasons.BcastDeliveryProofRecorded, accepted.Reason);
        Assert.Empty(accepted.Outbox);
        var e = Assert.IsType<BcastRecipientTransitioned>(Assert.Single(accepted.Events));
        Assert.Equal((BcastAction.DeliveryProofCommit, (BcastRecipientStatus?)BcastRecipientStatus.Waiting, BcastRecipientStatus.Waiting), (e.Action, e.From, e.To));
        var after = BcastDecider.EvolveRecipient(Recipient(BcastRecipientStatus.Waiting), e, 10);
        Assert.Equal((Attempt, (BcastDeliveryOutcome?)BcastDeliveryOutcome.Sent, "proof:abc", 0), (after.LastDeliveryAttemptId, after.LastDeliveryOutcome,
            after.LastDeliveryProofRef, after.FailedAttemptCount));
    }

    public static TheoryData<BcastRecipientRegion, int, BcastDeliveryMethod?> Walks() => new()
    {
        // From the app (step 0: a failed app delivery means the app is unavailable), one step at a time, never skipping.
        { BcastRecipientRegion.Global, 0, BcastDeliveryMethod.Sms },
        { BcastRecipientRegion.Global, 1, BcastDeliveryMethod.Whatsapp },
        { BcastRecipientRegion.Global, 2, BcastDeliveryMethod.Email },
        { BcastRecipientRegion.Global, 3, null },
        { BcastRecipientRegion.China, 0, BcastDeliveryMethod.Sms },
        { BcastRecipientRegion.China, 1, BcastDeliveryMethod.Wechat },
        { BcastRecipientRegion.China, 2, BcastDeliveryMethod.Email },
        { BcastRecipientRegion.China, 3, null },
    };

    [Theory]
    [MemberData(nameof(Walks))]
    public void Failed_LatestDelivery_WalksTheFallbackOneStep_UntilTheLast(BcastRecipientRegion region, int step, BcastDeliveryMethod? next)
    {
        var state = State(Envelope(), Recipient(BcastRecipientStatus.Waiting, region: region, step: step));
        var accepted = Accepted(BcastDecider.Decide(state, Proof(BcastDeliveryOutcome.Failed), Context(key: "p1")));

        if (next is null)
        {
            Assert.Equal(BcastReasons.BcastDeliveryProofRecorded, accepted.Reason);
            Assert.Single(accepted.Events);
            Assert.Empty(accepted.Outbox);
            return;
        }
        Assert.Equal(BcastReasons.BcastFallbackAdvanced, accepted.Reason);
        Assert.Equal(2, accepted.Events.Count);
        var delivery = Assert.IsType<BcastRecipientTransitioned>(accepted.Events[1]);
        Assert.Equal((BcastAction.DeliverCommit, next, step + 1, region), (delivery.Action, delivery.DeliveryMethod, delivery.FallbackStep, delivery.Region));
        var send = Assert.Single(accepted.Outbox);
        Assert.Equal((BcastHandoffs.DeliverySendRequested, WireNames.Of(next.Value), delivery.DeliveryRequestRef),
            (send.EventType, send.Payload["delivery_method"], send.IdempotencyKey));

        // The walk's events fold like any others, and the new delivery passes the fallback policy it was decided by.
        var folded = accepted.Events.Aggregate(state, (s, e) => BcastDecider.Evolve(s, e, 20));
        Assert.Equal((step + 1, 1), (folded.Recipient(RecipientId)!.FallbackStep, folded.Recipient(RecipientId)!.FailedAttemptCount));
        Assert.True(BcastFallback.Check(new BcastFallbackPosition(region, step), next.Value, region, appUnavailable: true).Allowed);
    }

    [Fact]
    public void Failed_OlderDelivery_OrClosedRecipient_OnlyRecordsTheOutcome()
    {
        var older = Accepted(BcastDecider.Decide(State(BcastRecipientStatus.Waiting), Proof(BcastDeliveryOutcome.Failed, "delivery_1111111111111111"), Context()));
        Assert.Equal((BcastReasons.BcastDeliveryProofRecorded, 1, 0), (older.Reason, older.Events.Count, older.Outbox.Count));

        var concluded = Accepted(BcastDecider.Decide(State(BcastRecipientStatus.Concluded), Proof(BcastDeliveryOutcome.Failed), Context()));
        Assert.Equal((BcastReasons.BcastDeliveryProofRecorded, 1, 0), (concluded.Reason, concluded.Events.Count, concluded.Outbox.Count));

        var canceled = Accepted(BcastDecider.Decide(State(Envelope(BcastEnvelopeStatus.Canceled), Recipient(BcastRecipientStatus.Canceled)),
            Proof(BcastDeliveryOutcome.Failed), Context()));
        Assert.Equal((BcastReasons.BcastDeliveryProofRecorded, 0), (canceled.Reason, canceled.Outbox.Count));
    }

    [Theory]
    [InlineData(BcastRecipientStatus.Waiting, true)]
    [InlineData(BcastRecipientStatus.Followup, true)]
    [InlineData(BcastRecipientStatus.ReminderSet, false)]
    [InlineData(BcastRecipientStatus.ReminderFired, false)]
    [InlineData(BcastRecipientStatus.Deferred, false)]
    [InlineData(BcastRecipientStatus.Concluded, false)]
    public void Failed_LatestDelivery_WalksOnlyWhileTheRecipientStandsWhereThatDeliveryPutIt(BcastRecipientStatus status, bool walks)
    {
        // A recipient deferred or reminded since the delivery has moved on: its failure is recorded, nothing pulls it back.
        var accepted = Accepted(BcastDecider.Decide(State(status), Proof(BcastDeliveryOutcome.Failed), Context()));
        Assert.Equal(walks ? BcastReasons.BcastFallbackAdvanced : BcastReasons.BcastDeliveryProofRecorded, accepted.Reason);
        Assert.Equal(walks ? 1 : 0, accepted.Outbox.Count);
    }

    [Fact]
    public void Proof_ForANeverDeliveredRecipient_IsNotFound_AndASentProofNeedsItsProofRef()
    {
        AssertRejected(BcastReasons.BcastFailNotFound, BcastDecider.Decide(State(Envelope()), Proof(BcastDeliveryOutcome.Sent), Context()));
        AssertRejected(BcastReasons.BcastFailSchemaInvalid, BcastDecider.Decide(State(BcastRecipientStatus.Waiting),
            Proof(BcastDeliveryOutcome.Sent) with { ProofRef = null }, Context()));
        AssertRejected(BcastReasons.BcastFailSchemaInvalid, BcastDecider.Decide(State(BcastRecipientStatus.Waiting),
            Proof(BcastDeliveryOutcome.Failed) with { ProofRef = "proof:x" }, Context()));
    }

    [Fact]
    public void Ack_ByAnyoneButTheRecipient_IsRefused()
    {
        AssertRejected(BcastReasons.BcastFailAckNotRecipient, BcastDecider.Decide(State(BcastRecipientStatus.Waiting), Ack(), Context(actor: Sender)));
        Assert.Equal(BcastReasons.BcastAckRecorded, Accepted(BcastDecider.Decide(State(BcastRecipientStatus.Waiting), Ack(), Context(actor: RecipientId))).Reason);
    }

    [Theory]
    [InlineData("Shift change\nFrom Monday the night shift starts at 22:00.\tThanks.", true)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData("bell\u0007", false)]
    [InlineData("nul\u0000", false)]
    public void ContentText_IsTextWithLineBreaks_NoOtherControlCharacters(string text, bool valid)
    {
        var decision = BcastDecider.Decide(BcastState.Empty, Draft() with { ContentText = text }, Context());
        if (valid) Assert.Equal(text, Assert.IsType<BroadcastDraftCreated>(Assert.Single(Accepted(decision).Events)).ContentText);
        else AssertRejected(BcastReasons.BcastFailSchemaInvalid, decision);
        Assert.Equal(valid, BcastDecider.IsMessageText(text));
    }

    [Fact]
    public void ContentText_IsBounded_AndPartOfTheEnvelopeHash()
    {
        Assert.True(BcastDecider.IsMessageText(new string('a', BcastDecider.MaxContentTextLength)));
        Assert.False(BcastDecider.IsMessageText(new string('a', BcastDecider.MaxContentTextLength + 1)));
        Assert.NotEqual(BcastIds.EnvelopeHash(Draft() with { ContentText = "a" }), BcastIds.EnvelopeHash(Draft() with { ContentText = "b" }));
    }

    [Theory]
    [InlineData(0, "SELENE_APP", "false")]
    [InlineData(2, "WHATSAPP", "true")]
    public void FollowupAfterAFiring_UsesTheAppOrTheFallbackStepReached(int step, string method, string appUnavailable)
    {
        var state = State(Envelope(), Recipient(BcastRecipientStatus.ReminderSet, step: step));
        var prompt = Assert.Single(Accepted(BcastDecider.Decide(state, ReminderFired(), Context())).Outbox);
        Assert.Equal((BcastHandoffs.FollowupPromptDue, method, appUnavailable, "GLOBAL"),
            (prompt.EventType, prompt.Payload["delivery_method"], prompt.Payload["app_unavailable"], prompt.Payload["recipient_region"]));
    }
}
