using System.Collections.Immutable;
using Selene.Engines.Bcast;

namespace Selene.Engines.Tests;

/// <summary>Shared BCAST inputs: one tenant, a sender and a recipient, a fixed clock.</summary>
internal static class BcastFixture
{
    public const string Tenant = "tenant-a";
    public const string Sender = "sam";
    public const string RecipientId = "rita";
    public const string Key = "key-1";
    public const string Plan = "plan-1";
    public const string SimContext = "sim-ctx-1";

    public static readonly UnixNanos Now = new(1_750_000_000_000_000_000);

    public static BcastContext Context(UnixNanos? now = null, string key = Key, string actor = Sender, string tenant = Tenant) =>
        new(tenant, actor, now ?? Now, key);

    /// <summary>Who sends <paramref name="command"/>: the recipient acknowledges their own message, the sender does the rest.</summary>
    public static string ActorOf(BcastCommand command) => command is RecordAck a ? a.RecipientId! : Sender;

    public static CreateBroadcastDraft Draft(BcastClassification classification = BcastClassification.Simple, BcastRequiredAck ack = BcastRequiredAck.None,
        long? expiryAt = null, string? promptKey = null) =>
        new(classification, "position:pos_1/staff", "payload:msg-1", ack, expiryAt, promptKey);

    /// <summary>The id of the fixture's draft (created by <see cref="Sender"/> with <see cref="Key"/>).</summary>
    public static string BroadcastId => Draft().TargetBroadcastId(Context())!;

    public static BcastEnvelope Envelope(BcastEnvelopeStatus status = BcastEnvelopeStatus.Sent, BcastClassification classification = BcastClassification.Simple,
        BcastRequiredAck ack = BcastRequiredAck.None, long? expiryAt = null) =>
        new(Tenant, BroadcastId, Sender, classification, "position:pos_1/staff", "payload:msg-1", ack, expiryAt, "pdk-1", "bcast_env_0000000000000000",
            status, status == BcastEnvelopeStatus.DraftCreated ? null : Now.Value - 5000, "BCAST_DELIVERED", 3, Now.Value - 9000, Now.Value - 5000);

    /// <summary>A recipient row in <paramref name="status"/>; its window ended a nanosecond ago unless told otherwise; a fired reminder is rem-1.</summary>
    public static BcastRecipient Recipient(BcastRecipientStatus status, string id = RecipientId, BcastRecipientRegion region = BcastRecipientRegion.Global,
        int step = 0, long? waitUntil = null, string? reminderRef = null) =>
        new(Tenant, BroadcastId, id, status, region, step == 0 ? BcastDeliveryMethod.SeleneApp : BcastFallback.Order(region)[step - 1], step, 1,
            "delivery_0000000000000000", waitUntil ?? Now.Value - 1, false, null, null,
            reminderRef ?? (status == BcastRecipientStatus.ReminderFired ? "rem-1" : null), null, null, null, null, null, 2,
            BcastAction.DeliverCommit, "BCAST_DELIVERED", 4, Now.Value - 5000, Now.Value - 5000);

    public static BcastState State(BcastEnvelope? envelope, params BcastRecipient[] recipients) =>
        new(envelope, recipients.Aggregate(ImmutableSortedDictionary.Create<string, BcastRecipient>(StringComparer.Ordinal), (d, r) => d.Add(r.RecipientId, r)));

    public static BcastState State(BcastRecipientStatus? status, BcastEnvelope? envelope = null) =>
        status is { } s ? State(envelope ?? Envelope(), Recipient(s)) : State(envelope ?? Envelope());

    public static DeliverToRecipient Deliver(BcastDeliveryMethod method = BcastDeliveryMethod.SeleneApp, BcastRecipientRegion region = BcastRecipientRegion.Global,
        bool appUnavailable = false, string recipient = RecipientId, string? simulationContext = SimContext, string plan = Plan) =>
        new(BroadcastId, recipient, method, region, appUnavailable, plan, simulationContext);

    public static DeferRecipient Defer(bool handoff, long? until = null, long? durationMs = null) =>
        new(BroadcastId, RecipientId, until ?? (durationMs is null ? Now.Value + 60_000_000_000 : null), durationMs, handoff);

    public static RecordReminderFired ReminderFired(string reminderRef = "rem-1") => new(BroadcastId, RecipientId, reminderRef);

    public static RecordAck Ack(BcastAckType type = BcastAckType.Read) => new(BroadcastId, RecipientId, type);

    public static EscalateRecipient Escalate() => new(BroadcastId, RecipientId, "NO_ANSWER");

    public static Decision<BcastEvent>.Accepted Accepted(Decision<BcastEvent> d) => Assert.IsType<Decision<BcastEvent>.Accepted>(d);

    public static Decision<BcastEvent>.Rejected Rejected(Decision<BcastEvent> d) => Assert.IsType<Decision<BcastEvent>.Rejected>(d);

    public static void AssertRejected(ReasonCode expected, Decision<BcastEvent> d)
    {
        var rejected = Rejected(d);
        Assert.Equal(expected, rejected.Reason);
        Assert.False(string.IsNullOrWhiteSpace(rejected.Detail));
    }

    /// <summary>Folds a decision's events into <paramref name="state"/>, numbering them from <paramref name="nextId"/>.</summary>
    public static BcastState Apply(BcastState state, Decision<BcastEvent> decision, ref long nextId)
    {
        foreach (var e in Accepted(decision).Events) state = BcastDecider.Evolve(state, e, nextId++);
        return state;
    }

    /// <summary>Outbox messages compared by content (their payload dictionaries compare by reference otherwise).</summary>
    public static string Describe(OutboxMessage m) =>
        $"{m.OperationType}|{m.IdempotencyKey}|{m.EventType}|{string.Join(",", m.Payload.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))}";
}
