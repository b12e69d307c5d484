using FsCheck;
using FsCheck.Fluent;
using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

/// <summary>
/// FsCheck properties over random command sequences on one broadcast (three recipients, both regions, every method),
/// with a fixed seed so a failure replays.
/// </summary>
public sealed class BcastProperties
{
    private static readonly Config Seeded = Config.QuickThrowOnFailure.WithMaxTest(500).WithReplay(20261129UL, 1UL);

    private static readonly string[] Recipients = ["ann", "ben", "cid"];

    /// <summary>One step: which command, for which recipient, with which channel and region, how much later.</summary>
    public sealed record Step(int Kind, int Recipient, BcastDeliveryMethod Method, BcastRecipientRegion Region, bool AppUnavailable, long Advance, BcastAckType Ack);

    private static Gen<Step[]> Walks()
    {
        var step =
            from kind in Gen.Choose(0, 9)
            from recipient in Gen.Choose(0, Recipients.Length - 1)
            from method in Gen.Elements(Enum.GetValues<BcastDeliveryMethod>())
            from region in Gen.Elements(BcastRecipientRegion.Global, BcastRecipientRegion.Global, BcastRecipientRegion.China)
            from unavailable in ArbMap.Default.GeneratorFor<bool>()
            from advance in Gen.Elements(0L, 1_000_000_000L, BcastDecider.WaitingWindowNs, 2 * BcastDecider.WaitingWindowNs)
            from ack in Gen.Elements(Enum.GetValues<BcastAckType>())
            select new Step(kind, recipient, method, region, unavailable, advance, ack);
        return Gen.Choose(1, 30).SelectMany(n => Gen.ArrayOf(step, n)).Select(a => a.ToArray());
    }

    private static BcastCommand CommandOf(Step s, long now)
    {
        var r = Recipients[s.Recipient];
        return s.Kind switch
        {
            0 or 1 or 2 => new DeliverToRecipient(BroadcastId, r, s.Method, s.Region, s.AppUnavailable, Plan, SimContext),
            3 => new DeferRecipient(BroadcastId, r, now + 60_000_000_000, null, s.AppUnavailable),
            4 => new RecordReminderFired(BroadcastId, r, "rem-" + r),
            5 => new RecordAck(BroadcastId, r, s.Ack),
            6 or 7 => new EscalateRecipient(BroadcastId, r, "NO_ANSWER"),
            8 => new ExpireBroadcast(BroadcastId, "TIME_UP"),
            _ => new CancelBroadcast(BroadcastId, "SENDER_CANCELED"),
        };
    }

    /// <summary>Runs a walk from a fresh draft, checking every decision as it goes; returns the live state and the ledger.</summary>
    private static (BcastState Live, List<(BcastEvent, long)> Ledger) Run(Step[] walk, Action<BcastState, BcastCommand, Decision<BcastEvent>>? check = null)
    {
        var state = BcastState.Empty;
        var ledger = new List<(BcastEvent, long)>();
        long id = 1, now = Now.Value;
        void Apply(BcastCommand command, string key)
        {
            var decision = BcastDecider.Decide(state, command, Context(now: new UnixNanos(now), key: key, actor: ActorOf(command)));
            check?.Invoke(state, command, decision);
            if (decision is not Decision<BcastEvent>.Accepted accepted) return;
            foreach (var e in accepted.Events)
            {
                ledger.Add((e, id));
                state = BcastDecider.Evolve(state, e, id++);
            }
        }
        Apply(Draft(), Key);
        for (var i = 0; i < walk.Length; i++)
        {
            now += walk[i].Advance;
            Apply(CommandOf(walk[i], now), "k" + i);
        }
        return (state, ledger);
    }

    [Fact]
    public void Walk_RebuildFromTheLedger_EqualsTheLiveState() =>
        Prop.ForAll(Walks().ToArbitrary(), walk =>
        {
            var (live, ledger) = Run(walk);
            var rebuilt = ledger.Aggregate(BcastState.Empty, (s, l) => BcastDecider.Evolve(s, l.Item1, l.Item2));
            return live.SameAs(rebuilt);
        }).Check(Seeded);

    [Fact]
    public void Walk_EveryDecision_IsTheSameTwice() =>
        Prop.ForAll(Walks().ToArbitrary(), walk =>
        {
            var same = true;
            Run(walk, (state, command, decision) =>
            {
                var again = BcastDecider.Decide(state, command, Context(now: new UnixNanos(Now.Value), key: "x"));
                var first = BcastDecider.Decide(state, command, Context(now: new UnixNanos(Now.Value), key: "x"));
                same &= (again, first) switch
                {
                    (Decision<BcastEvent>.Accepted a, Decision<BcastEvent>.Accepted b) =>
                        a.Reason == b.Reason && a.Events.SequenceEqual(b.Events) && a.Outbox.Select(Describe).SequenceEqual(b.Outbox.Select(Describe)),
                    (Decision<BcastEvent>.Rejected a, Decision<BcastEvent>.Rejected b) => a == b,
                    _ => false,
                };
            });
            return same;
        }).Check(Seeded);

    [Fact]
    public void Walk_Deliveries_KeepTheFallbackAndTerminalRules() =>
        Prop.ForAll(Walks().ToArbitrary(), walk =>
        {
            var ok = true;
            Run(walk, (state, command, decision) =>
            {
                if (command is not DeliverToRecipient d || decision is not Decision<BcastEvent>.Accepted accepted) return;
                var before = state.Recipient(d.RecipientId);
                var e = (BcastRecipientTransitioned)accepted.Events[^1];
                var from = before?.FallbackStep ?? 0;
                // No delivery to a terminal recipient or on an ended envelope; the region never changes;
                // a fallback is a repeat or one step on; the app only while available and before any fallback.
                ok &= before is null || !BcastDecider.IsTerminal(before.Status);
                ok &= !BcastDecider.IsTerminal(state.Envelope!.Status);
                ok &= before is null || before.Region == d.RecipientRegion;
                ok &= d.DeliveryMethod == BcastDeliveryMethod.SeleneApp
                    ? !d.AppUnavailable && from == 0 && e.FallbackStep == 0
                    : d.AppUnavailable && (e.FallbackStep == from || e.FallbackStep == from + 1);
                ok &= accepted.Outbox.Count == 1 && accepted.Outbox[0].EventType == BcastHandoffs.DeliverySendRequested;
            });
            return ok;
        }).Check(Seeded);

    [Fact]
    public void Walk_EscalationFromWaiting_NeverBeforeTheWindowEnds() =>
        Prop.ForAll(Walks().ToArbitrary(), walk =>
        {
            var ok = true;
            long now = Now.Value;
            var i = -1;
            Run(walk, (state, command, decision) =>
            {
                if (i >= 0) now += walk[i].Advance;
                i++;
                if (command is not EscalateRecipient x || state.Recipient(x.RecipientId) is not { Status: BcastRecipientStatus.Waiting } r) return;
                ok &= decision is Decision<BcastEvent>.Accepted == (now >= r.WaitUntil);
            });
            return ok;
        }).Check(Seeded);
}
