using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

/// <summary>The fallback policy of reference §8.2, rule by rule, on the pure function and through the decider.</summary>
public sealed class BcastFallbackTests
{
    private const BcastDeliveryMethod App = BcastDeliveryMethod.SeleneApp, Sms = BcastDeliveryMethod.Sms, WhatsApp = BcastDeliveryMethod.Whatsapp,
        WeChat = BcastDeliveryMethod.Wechat, Email = BcastDeliveryMethod.Email;
    private const BcastRecipientRegion G = BcastRecipientRegion.Global, CN = BcastRecipientRegion.China;

    /// <summary>
    /// (previous region, previous step; -1 = first delivery), method, region, app unavailable, expected step (-1 = refused),
    /// and the rule the row checks. Written from §8.2, independently of the product.
    /// </summary>
    public static TheoryData<int, BcastRecipientRegion, BcastDeliveryMethod, BcastRecipientRegion, bool, int, string> Rules() => new()
    {
        // App first: the app is used while it is available, never while it is not.
        { -1, G, App, G, false, 0, "app first" },
        { -1, G, App, G, true, -1, "app needs app_unavailable=false" },
        { 0, G, App, G, false, 0, "app may repeat" },
        // Fallback only when the app is unavailable.
        { -1, G, Sms, G, false, -1, "fallback needs app_unavailable=true" },
        { 0, G, Email, G, false, -1, "fallback needs app_unavailable=true" },
        // Once a fallback started, the app is not used again.
        { 1, G, App, G, false, -1, "no app after fallback started" },
        { 3, CN, App, CN, false, -1, "no app after fallback started" },
        // GLOBAL: SMS(1) → WHATSAPP(2) → EMAIL(3).
        { -1, G, Sms, G, true, 1, "first fallback is step 1" },
        { 0, G, Sms, G, true, 1, "advance one from the app" },
        { 1, G, Sms, G, true, 1, "repeat" },
        { 1, G, WhatsApp, G, true, 2, "advance one" },
        { 2, G, WhatsApp, G, true, 2, "repeat" },
        { 2, G, Email, G, true, 3, "advance one" },
        { 3, G, Email, G, true, 3, "repeat" },
        { -1, G, WhatsApp, G, true, -1, "never skip" },
        { 0, G, Email, G, true, -1, "never skip" },
        { 1, G, Email, G, true, -1, "never skip" },
        { 2, G, Sms, G, true, -1, "never back" },
        { 3, G, WhatsApp, G, true, -1, "never back" },
        { 3, G, Sms, G, true, -1, "never back" },
        { 1, G, WeChat, G, true, -1, "WECHAT is not in the GLOBAL order" },
        // CHINA: SMS(1) → WECHAT(2) → EMAIL(3).
        { -1, CN, Sms, CN, true, 1, "first fallback is step 1" },
        { 1, CN, WeChat, CN, true, 2, "advance one" },
        { 2, CN, WeChat, CN, true, 2, "repeat" },
        { 2, CN, Email, CN, true, 3, "advance one" },
        { -1, CN, WeChat, CN, true, -1, "never skip" },
        { 1, CN, Email, CN, true, -1, "never skip" },
        { 3, CN, WeChat, CN, true, -1, "never back" },
        { 1, CN, WhatsApp, CN, true, -1, "WHATSAPP is not in the CHINA order" },
        // The region stays what the first delivery said.
        { 1, G, Sms, CN, true, -1, "region stable" },
        { 0, CN, App, G, false, -1, "region stable" },
        { 2, CN, Email, G, true, -1, "region stable" },
    };

    private static BcastFallbackPosition? Previous(int step, BcastRecipientRegion region) => step < 0 ? null : new(region, step);

    [Theory]
    [MemberData(nameof(Rules))]
    public void Check_FollowsEveryRule(int previousStep, BcastRecipientRegion previousRegion, BcastDeliveryMethod method, BcastRecipientRegion region,
        bool appUnavailable, int expectedStep, string rule)
    {
        var verdict = BcastFallback.Check(Previous(previousStep, previousRegion), method, region, appUnavailable);

        if (expectedStep < 0)
        {
            Assert.False(verdict.Allowed, rule);
            Assert.Null(verdict.Step);
            Assert.False(string.IsNullOrWhiteSpace(verdict.Refusal));
        }
        else
        {
            Assert.True(verdict.Allowed, $"{rule}: {verdict.Refusal}");
            Assert.Equal(expectedStep, verdict.Step);
        }
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Decide_FallbackRefusal_IsBcastFailFallbackPolicy(int previousStep, BcastRecipientRegion previousRegion, BcastDeliveryMethod method,
        BcastRecipientRegion region, bool appUnavailable, int expectedStep, string rule)
    {
        var state = previousStep < 0 ? State(null) : State(Envelope(), Recipient(BcastRecipientStatus.Waiting, region: previousRegion, step: previousStep));

        var decision = BcastDecider.Decide(state, Deliver(method, region, appUnavailable), Context());

        if (expectedStep < 0) AssertRejected(BcastReasons.BcastFailFallbackPolicy, decision);
        else Assert.Equal(expectedStep, Assert.IsType<BcastRecipientTransitioned>(Accepted(decision).Events[^1]).FallbackStep);
        Assert.NotNull(rule);
    }

    [Fact]
    public void Order_IsSmsThenWhatsAppThenEmail_OrInChinaSmsThenWeChatThenEmail()
    {
        Assert.Equal([Sms, WhatsApp, Email], BcastFallback.Order(G));
        Assert.Equal([Sms, WeChat, Email], BcastFallback.Order(CN));
    }

    [Fact]
    public void Check_EveryCombination_NeverSkipsNeverGoesBackNeverChangesRegion()
    {
        // Exhaustive over positions, methods, regions and availability: whatever is allowed is a repeat or one step on.
        var checkedCount = 0;
        foreach (var previousRegion in Enum.GetValues<BcastRecipientRegion>())
        foreach (var step in new[] { -1, 0, 1, 2, 3 })
        foreach (var method in Enum.GetValues<BcastDeliveryMethod>())
        foreach (var region in Enum.GetValues<BcastRecipientRegion>())
        foreach (var unavailable in new[] { false, true })
        {
            var previous = Previous(step, previousRegion);
            var verdict = BcastFallback.Check(previous, method, region, unavailable);
            checkedCount++;
            if (!verdict.Allowed) continue;
            var from = Math.Max(step, 0);
            if (previous is not null) Assert.Equal(previousRegion, region);
            if (method == App)
            {
                Assert.False(unavailable);
                Assert.Equal(0, from);
            }
            else
            {
                Assert.True(unavailable);
                Assert.Contains(verdict.Step!.Value, new[] { from, from + 1 });
                Assert.Equal(method, BcastFallback.Order(region)[verdict.Step.Value - 1]);
            }
        }
        Assert.Equal(2 * 5 * 5 * 2 * 2, checkedCount);
    }

    [Theory]
    [InlineData(BcastRecipientRegion.Global, BcastDeliveryMethod.Whatsapp)]
    [InlineData(BcastRecipientRegion.China, BcastDeliveryMethod.Wechat)]
    public void Decide_AppUnavailable_WalksTheWholeOrder_OneStepAtATime_AndRecordsIt(BcastRecipientRegion region, BcastDeliveryMethod second)
    {
        var state = State(Envelope(BcastEnvelopeStatus.DraftCreated));
        long id = 10;
        state = Apply(state, BcastDecider.Decide(state, Deliver(App, region), Context(key: "a0")), ref id);
        Assert.Equal(0, state.Recipient(RecipientId)!.FallbackStep);

        // From SMS, EMAIL would skip a step.
        state = Apply(state, BcastDecider.Decide(state, Deliver(Sms, region, appUnavailable: true), Context(key: "a1")), ref id);
        AssertRejected(BcastReasons.BcastFailFallbackPolicy, BcastDecider.Decide(state, Deliver(Email, region, appUnavailable: true), Context(key: "a2")));
        state = Apply(state, BcastDecider.Decide(state, Deliver(second, region, appUnavailable: true), Context(key: "a2")), ref id);
        state = Apply(state, BcastDecider.Decide(state, Deliver(Email, region, appUnavailable: true), Context(key: "a3")), ref id);

        var recipient = state.Recipient(RecipientId)!;
        Assert.Equal((3, Email, 4, region), (recipient.FallbackStep, recipient.LastDeliveryMethod, recipient.AttemptCount, recipient.Region));
        // Never back, never the app again, never another region.
        AssertRejected(BcastReasons.BcastFailFallbackPolicy, BcastDecider.Decide(state, Deliver(Sms, region, appUnavailable: true), Context(key: "a4")));
        AssertRejected(BcastReasons.BcastFailFallbackPolicy, BcastDecider.Decide(state, Deliver(App, region), Context(key: "a4")));
        var other = region == G ? CN : G;
        AssertRejected(BcastReasons.BcastFailFallbackPolicy, BcastDecider.Decide(state, Deliver(Email, other, appUnavailable: true), Context(key: "a4")));
    }
}
