using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace Selene.Engines.Rem;

/// <summary>A parsed recurrence rule of REM's RFC 5545 subset.</summary>
public sealed record RecurrenceRule(RemFrequency Frequency, int Interval, int? Count, LocalDate? UntilDate, Instant? Until, IReadOnlyList<IsoDayOfWeek> ByDay);

/// <summary>The frequencies of the subset.</summary>
public enum RemFrequency { Daily, Weekly, Monthly, Yearly }

/// <summary>
/// Recurrence for reminders (reference §10.1: bounded to 365 occurrences) as a documented subset of RFC 5545 RRULE,
/// parsed and expanded here so that nothing depends on the clock or the host's time zones:
/// <c>[RRULE:]FREQ=DAILY|WEEKLY|MONTHLY|YEARLY[;INTERVAL=n][;COUNT=n][;UNTIL=yyyyMMdd|yyyyMMddTHHmmssZ][;BYDAY=MO,TU,…]</c>
/// (BYDAY with WEEKLY only, without ordinals; WKST is Monday). Any other part is refused. The reminder's first due time is
/// the rule's DTSTART and its first occurrence, counted by COUNT; there are never more than 365 occurrences. MONTHLY and
/// YEARLY skip months without the start's day (RFC 5545: an invalid date is not an occurrence, so the 31st recurs only in
/// long months).
/// </summary>
public static class RemRecurrence
{
    /// <summary>The most occurrences a reminder has (reference §10.1).</summary>
    public const int MaxOccurrences = 365;

    public const int MaxRuleLength = 256;

    /// <summary>No occurrence lies after this year (Selene's nanosecond times end in 2262).</summary>
    public const int MaxYear = 2200;

    private static readonly LocalDatePattern UntilDatePattern = LocalDatePattern.CreateWithInvariantCulture("uuuuMMdd");
    private static readonly InstantPattern UntilInstantPattern = InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'");

    private static readonly Dictionary<string, IsoDayOfWeek> Days = new(StringComparer.Ordinal)
    {
        ["MO"] = IsoDayOfWeek.Monday, ["TU"] = IsoDayOfWeek.Tuesday, ["WE"] = IsoDayOfWeek.Wednesday, ["TH"] = IsoDayOfWeek.Thursday,
        ["FR"] = IsoDayOfWeek.Friday, ["SA"] = IsoDayOfWeek.Saturday, ["SU"] = IsoDayOfWeek.Sunday,
    };

    /// <summary>Parses a rule of the subset; null and an error text when it is not one.</summary>
    public static RecurrenceRule? Parse(string? text, out string? error)
    {
        error = null;
        if (text is null || text.Length is 0 or > MaxRuleLength) return Fail($"recurrence_rule must be 1..{MaxRuleLength} characters", out error);
        var body = text.StartsWith("RRULE:", StringComparison.Ordinal) ? text["RRULE:".Length..] : text;
        RemFrequency? frequency = null;
        int interval = 1;
        int? count = null;
        LocalDate? untilDate = null;
        Instant? until = null;
        var byDay = new List<IsoDayOfWeek>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in body.Split(';'))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return Fail($"'{IdRules.Shorten(part)}' is not NAME=VALUE", out error);
            var (name, value) = (part[..eq], part[(eq + 1)..]);
            if (!seen.Add(name)) return Fail($"{IdRules.Shorten(name)} appears twice", out error);
            switch (name)
            {
                case "FREQ":
                    frequency = value switch
                    {
                        "DAILY" => RemFrequency.Daily, "WEEKLY" => RemFrequency.Weekly, "MONTHLY" => RemFrequency.Monthly, "YEARLY" => RemFrequency.Yearly,
                        _ => null,
                    };
                    if (frequency is null) return Fail("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY", out error);
                    break;
                case "INTERVAL":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out interval) || interval is < 1 or > 366)
                        return Fail("INTERVAL must be 1..366", out error);
                    break;
                case "COUNT":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c is < 1 or > MaxOccurrences)
                        return Fail($"COUNT must be 1..{MaxOccurrences}", out error);
                    count = c;
                    break;
                case "UNTIL":
                    if (UntilInstantPattern.Parse(value) is { Success: true } instant) until = instant.Value;
                    else if (UntilDatePattern.Parse(value) is { Success: true } date) untilDate = date.Value;
                    else return Fail("UNTIL must be yyyyMMdd or yyyyMMddTHHmmssZ", out error);
                    break;
                case "BYDAY":
                    foreach (var d in value.Split(','))
                    {
                        if (!Days.TryGetValue(d, out var day)) return Fail("BYDAY takes MO,TU,WE,TH,FR,SA,SU (no ordinals)", out error);
                        if (!byDay.Contains(day)) byDay.Add(day);
                    }
                    break;
                default:
                    return Fail($"{IdRules.Shorten(name)} is not in REM's RRULE subset (FREQ, INTERVAL, COUNT, UNTIL, BYDAY)", out error);
            }
        }
        if (frequency is null) return Fail("FREQ is required", out error);
        if (count is not null && (until is not null || untilDate is not null)) return Fail("COUNT and UNTIL exclude each other (RFC 5545)", out error);
        if (byDay.Count > 0 && frequency != RemFrequency.Weekly) return Fail("BYDAY is supported with FREQ=WEEKLY only", out error);
        byDay.Sort();
        return new RecurrenceRule(frequency.Value, interval, count, untilDate, until, byDay);
    }

    private static RecurrenceRule? Fail(string message, out string? error)
    {
        error = message;
        return null;
    }

    /// <summary>
    /// The occurrences of <paramref name="rule"/> from <paramref name="start"/> (ns; the first occurrence), in order, at most
    /// <see cref="MaxOccurrences"/>. LOCAL_TIME steps the local date-time in <paramref name="zone"/> and resolves each with
    /// <see cref="RemTime.InZone"/>, so the wall-clock time stays; FIXED_TIMEZONE steps with the start's UTC offset.
    /// </summary>
    public static IReadOnlyList<long> Expand(RecurrenceRule rule, long start, DateTimeZone zone, ReminderLocalTimeMode mode)
    {
        var startZoned = RemTime.At(start).InZone(zone);
        var startLocal = startZoned.LocalDateTime;
        var offset = startZoned.Offset;
        var limit = Math.Min(rule.Count ?? MaxOccurrences, MaxOccurrences);
        var result = new List<long> { start };

        Instant Resolve(LocalDateTime local) =>
            mode == ReminderLocalTimeMode.LocalTime ? RemTime.InZone(local, zone) : local.WithOffset(offset).ToInstant();
        bool PastUntil(LocalDateTime local, Instant at) =>
            (rule.Until is { } u && at > u) || (rule.UntilDate is { } d && local.Date > d);

        foreach (var local in Candidates(rule, startLocal))
        {
            // An invalid date (the 31st in a short month, 29 February) is no occurrence: the arithmetic clamped it.
            if (rule.Frequency is RemFrequency.Monthly or RemFrequency.Yearly && local.Day != startLocal.Day) continue;
            if (local <= startLocal) continue;
            var at = Resolve(local);
            if (PastUntil(local, at) || result.Count >= limit) break;
            result.Add(RemTime.Ns(at));
        }
        return result;
    }

    // The local date-times the rule steps through after the start, in order; enough for 365 occurrences at any frequency
    // (a day or week gives at least one each, a month or year may give none, at most one in twelve years for 29 February).
    private static IEnumerable<LocalDateTime> Candidates(RecurrenceRule rule, LocalDateTime start)
    {
        var steps = rule.Frequency is RemFrequency.Daily or RemFrequency.Weekly ? MaxOccurrences : MaxOccurrences * 4;
        for (var step = rule.ByDay.Count > 0 ? 0 : 1; step <= steps; step++)
        {
            var n = checked(step * rule.Interval);
            // Stay inside Selene's time range (nanoseconds in a long reach 2262): a sparse rule ends there with fewer occurrences.
            var years = rule.Frequency switch { RemFrequency.Daily => n / 365, RemFrequency.Weekly => n / 52, RemFrequency.Monthly => n / 12, _ => n };
            if (start.Year + years > MaxYear) yield break;
            switch (rule.Frequency)
            {
                case RemFrequency.Daily: yield return start.PlusDays(n); break;
                case RemFrequency.Weekly when rule.ByDay.Count == 0: yield return start.PlusWeeks(n); break;
                case RemFrequency.Weekly:
                    var monday = start.Date.PlusDays(-((int)start.DayOfWeek - 1)).PlusWeeks(n);
                    foreach (var day in rule.ByDay) yield return monday.PlusDays((int)day - 1).At(start.TimeOfDay);
                    break;
                case RemFrequency.Monthly: yield return start.PlusMonths(n); break;
                default: yield return start.PlusYears(n); break;
            }
        }
    }
}
