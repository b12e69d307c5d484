using System.Globalization;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;

namespace Selene.Engines.Rem;

/// <summary>A desired time resolved to an instant (ns), or why it could not be (<see cref="Refusal"/> set).</summary>
public sealed record ResolvedTime(long? At, ReasonCode? Refusal, string? Detail)
{
    public static ResolvedTime Ok(long at) => new(at, null, null);

    public static ResolvedTime Ambiguous(string detail) => new(null, RemReasons.RemFailTimeAmbiguousNeedsConfirm, detail);
}

/// <summary>
/// PH1.REM's deterministic time handling (reference §10.1): parsing a desired time against a given "now" in the user's
/// IANA zone, local-time resolution across DST changes, and quiet hours. Pure: "now" is an input, the zones come from
/// the IANA database embedded in NodaTime (<see cref="DateTimeZoneProviders.Tzdb"/>), never the host's.
/// </summary>
/// <remarks>
/// Local times that do not exist or exist twice are resolved by one rule everywhere (<see cref="InZone"/>):
/// a time in a spring-forward gap moves forward by the gap's length (02:30 on the US spring-forward day is 03:30
/// daylight time), and a time in a fall-back overlap is its earlier instant (01:30 on the US fall-back day is 01:30
/// daylight time, before the clocks go back).
/// </remarks>
public static class RemTime
{
    public const long NsPerSecond = 1_000_000_000;
    public const long NsPerMinute = 60 * NsPerSecond;
    public const long NsPerHour = 60 * NsPerMinute;
    public const long NsPerDay = 24 * NsPerHour;

    /// <summary>The furthest ahead a desired time may be: ten years (of 365 days).</summary>
    public const long MaxHorizonNs = 3650 * NsPerDay;

    /// <summary>The longest desired-time text.</summary>
    public const int MaxTextLength = 64;

    private static readonly LocalDateTimePattern[] LocalPatterns =
    [
        LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm"),
        LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm':'ss"),
        LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm"),
        LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss"),
    ];

    private static readonly OffsetDateTimePattern OffsetPattern = OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'sso<Z+HH:mm>");
    private static readonly LocalTimePattern ClockPattern = LocalTimePattern.CreateWithInvariantCulture("HH':'mm");

    /// <summary>The IANA zone of <paramref name="zoneId"/> from the embedded database, or null when there is none.</summary>
    public static DateTimeZone? Zone(string? zoneId) =>
        zoneId is { Length: > 0 and <= 64 } ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(zoneId) : null;

    /// <summary>
    /// The instant of a local date-time in <paramref name="zone"/>: a time in a gap is moved forward by the gap's length,
    /// a time in an overlap is the earlier instant (NodaTime's lenient resolver, named here as REM's one rule).
    /// </summary>
    public static Instant InZone(LocalDateTime local, DateTimeZone zone) => local.InZone(zone, Resolvers.LenientResolver).ToInstant();

    /// <summary>A clock time "HH:mm" (quiet hours), or null when it is not one.</summary>
    public static LocalTime? Clock(string? text) =>
        text is not null && ClockPattern.Parse(text) is { Success: true } r ? r.Value : null;

    /// <summary>Nanoseconds since the Unix epoch of an instant (Selene's time unit).</summary>
    public static long Ns(Instant i) => (i - NodaConstants.UnixEpoch).ToInt64Nanoseconds();

    // A date-time the caller wrote may lie outside Selene's nanosecond range (1677..2262): then it is no time REM resolves.
    private static long? NsInRange(Instant i) =>
        i >= NodaConstants.UnixEpoch.PlusNanoseconds(long.MinValue) && i <= NodaConstants.UnixEpoch.PlusNanoseconds(long.MaxValue) ? Ns(i) : null;

    /// <summary>The instant of <paramref name="ns"/> nanoseconds since the Unix epoch.</summary>
    public static Instant At(long ns) => NodaConstants.UnixEpoch.PlusNanoseconds(ns);

    /// <summary>
    /// Resolves a desired time (reference §10.1), case-insensitively, against <paramref name="now"/> (ns) in
    /// <paramref name="zone"/>:
    /// <list type="bullet">
    /// <item>"now", "today" ⇒ now;</item>
    /// <item>"tomorrow" ⇒ the same local time on the next day; "tomorrow HH:mm" ⇒ that local time on the next day;</item>
    /// <item>"HH:mm" ⇒ that local time today, or tomorrow when it has passed;</item>
    /// <item>"in N s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days" (space before
    /// the unit optional) ⇒ now + N units of elapsed time (a day is 24 h);</item>
    /// <item>all digits: ≥ 16 digits ns, 13–15 ms, 10–12 s since the Unix epoch (more than 19: ambiguous);</item>
    /// <item>"yyyy-MM-dd HH:mm[:ss]" or with a 'T' ⇒ that local date-time in the zone; with an offset or Z
    /// ("yyyy-MM-ddTHH:mm:ssZ", "…+01:00") ⇒ that instant.</item>
    /// </list>
    /// Anything else, a time before now or more than ten years ahead ⇒ REM_FAIL_TIME_AMBIGUOUS_NEEDS_CONFIRM.
    /// </summary>
    public static ResolvedTime Parse(string? text, long now, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (text is null || text.Length is 0 or > MaxTextLength) return ResolvedTime.Ambiguous($"desired_time must be 1..{MaxTextLength} characters");
        var t = text.Trim().ToLowerInvariant();
        var nowInstant = At(now);
        var local = nowInstant.InZone(zone).LocalDateTime;

        long? at = null;
        if (t is "now" or "today") at = now;
        else if (t == "tomorrow") at = Ns(InZone(local.PlusDays(1), zone));
        else if (t.StartsWith("tomorrow ", StringComparison.Ordinal) && Clock(t["tomorrow ".Length..].Trim()) is { } tomorrowAt)
            at = Ns(InZone(local.Date.PlusDays(1).At(tomorrowAt), zone));
        else if (Clock(t) is { } clock)
        {
            var today = InZone(local.Date.At(clock), zone);
            at = Ns(today >= nowInstant ? today : InZone(local.Date.PlusDays(1).At(clock), zone));
        }
        else if (t.StartsWith("in ", StringComparison.Ordinal)) at = Relative(t[3..].Trim(), now);
        else if (t.All(char.IsAsciiDigit)) at = Epoch(t);
        else if (OffsetPattern.Parse(text.Trim()) is { Success: true } offset) at = NsInRange(offset.Value.ToInstant());
        else if (LocalPatterns.Select(p => p.Parse(text.Trim())).FirstOrDefault(r => r.Success) is { } localResult) at = NsInRange(InZone(localResult.Value, zone));

        if (at is not { } value) return ResolvedTime.Ambiguous($"'{IdRules.Shorten(text)}' is not a time REM resolves without asking");
        if (value < now) return ResolvedTime.Ambiguous($"'{IdRules.Shorten(text)}' lies in the past");
        if (value - now > MaxHorizonNs) return ResolvedTime.Ambiguous($"'{IdRules.Shorten(text)}' is more than ten years ahead");
        return ResolvedTime.Ok(value);
    }

    private static long? Relative(string rest, long now)
    {
        var digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
        if (digits is 0 or > 9) return null;
        var n = long.Parse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture);
        long? unit = rest[digits..].Trim() switch
        {
            "s" or "sec" or "secs" or "second" or "seconds" => NsPerSecond,
            "m" or "min" or "mins" or "minute" or "minutes" => NsPerMinute,
            "h" or "hr" or "hrs" or "hour" or "hours" => NsPerHour,
            "d" or "day" or "days" => NsPerDay,
            _ => null,
        };
        if (unit is not { } u || n == 0 || n > MaxHorizonNs / u) return null;
        return now + n * u;
    }

    private static long? Epoch(string digits)
    {
        if (digits.Length is < 10 or > 19) return null;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return null;
        return digits.Length switch
        {
            >= 16 => value,
            >= 13 => value <= long.MaxValue / 1_000_000 ? value * 1_000_000 : null,
            _ => value <= long.MaxValue / NsPerSecond ? value * NsPerSecond : null,
        };
    }

    /// <summary>
    /// When a firing at <paramref name="at"/> may happen given quiet hours [start, end) in local time: <paramref name="at"/>
    /// itself outside them, else the end of the quiet period it falls in (resolved by <see cref="InZone"/>). Quiet hours may
    /// span midnight (start after end).
    /// </summary>
    public static long QuietHoursEnd(long at, LocalTime start, LocalTime end, DateTimeZone zone)
    {
        var local = At(at).InZone(zone).LocalDateTime;
        var time = local.TimeOfDay;
        var overnight = start > end;
        var inside = overnight ? time >= start || time < end : time >= start && time < end;
        if (!inside) return at;
        // In the evening part of an overnight window the end is tomorrow; otherwise it is today.
        var endDate = overnight && time >= start ? local.Date.PlusDays(1) : local.Date;
        // In the repeated hour of a fall-back day the end's earlier instant can precede the firing: then it is over.
        return Math.Max(at, Ns(InZone(endDate.At(end), zone)));
    }
}
