namespace Selene.Engines.Bcast;

/// <summary>Where a recipient stands in the fallback order: its region (fixed) and the furthest step used (0: the app).</summary>
public sealed record BcastFallbackPosition(BcastRecipientRegion Region, int Step);

/// <summary>The verdict of <see cref="BcastFallback.Check"/>: the step the method is (when allowed) or why it is refused.</summary>
public sealed record BcastFallbackVerdict(int? Step, string? Refusal)
{
    public bool Allowed => Refusal is null;
}

/// <summary>
/// The fallback policy of reference §8.2, pure. The Selene App is always first and is used only while the app is
/// available; once a fallback has started it is not used again. Non-app methods are used only when the app is
/// unavailable, in the region's order — GLOBAL: SMS(1) → WHATSAPP(2) → EMAIL(3); CHINA: SMS(1) → WECHAT(2) → EMAIL(3) —
/// repeating the current step or advancing exactly one, never skipping, never going back; the region never changes.
/// Any breach is BCAST_FAIL_FALLBACK_POLICY.
/// </summary>
public static class BcastFallback
{
    /// <summary>The fallback methods of <paramref name="region"/>, step 1 first.</summary>
    public static IReadOnlyList<BcastDeliveryMethod> Order(BcastRecipientRegion region) => region switch
    {
        BcastRecipientRegion.Global => [BcastDeliveryMethod.Sms, BcastDeliveryMethod.Whatsapp, BcastDeliveryMethod.Email],
        BcastRecipientRegion.China => [BcastDeliveryMethod.Sms, BcastDeliveryMethod.Wechat, BcastDeliveryMethod.Email],
        _ => throw new ArgumentOutOfRangeException(nameof(region)),
    };

    /// <summary>The step of <paramref name="method"/> in <paramref name="region"/> (0 for the app); null when the region has no such step.</summary>
    public static int? StepOf(BcastDeliveryMethod method, BcastRecipientRegion region)
    {
        if (method == BcastDeliveryMethod.SeleneApp) return 0;
        var index = Order(region).ToList().IndexOf(method);
        return index < 0 ? null : index + 1;
    }

    /// <summary>Checks one delivery against the recipient's position (null: its first delivery).</summary>
    public static BcastFallbackVerdict Check(BcastFallbackPosition? previous, BcastDeliveryMethod method, BcastRecipientRegion region, bool appUnavailable)
    {
        if (previous is not null && previous.Region != region)
            return Refuse($"the recipient's region is {WireNames.Of(previous.Region)}; it cannot become {WireNames.Of(region)}");
        var current = previous?.Step ?? 0;
        if (method == BcastDeliveryMethod.SeleneApp)
        {
            if (appUnavailable) return Refuse("SELENE_APP is used only while the app is available");
            if (current > 0) return Refuse($"a fallback has started (step {current}); SELENE_APP is not used again");
            return new(0, null);
        }
        if (!appUnavailable) return Refuse($"{WireNames.Of(method)} is a fallback: it is used only when the Selene App is unavailable");
        if (StepOf(method, region) is not { } step)
            return Refuse($"{WireNames.Of(method)} is not in the {WireNames.Of(region)} order ({string.Join(" → ", Order(region).Select(WireNames.Of))})");
        if (step < current) return Refuse($"{WireNames.Of(method)} is step {step}; the recipient is at step {current} and never goes back");
        if (step > current + 1) return Refuse($"{WireNames.Of(method)} is step {step}; from step {current} only step {current} or {current + 1} is allowed (never skip)");
        return new(step, null);
    }

    private static BcastFallbackVerdict Refuse(string why) => new(null, why);
}
