using FsCheck;
using FsCheck.Fluent;
using Selene.Engines.Rem;
using static Selene.Engines.Tests.RemFixture;

namespace Selene.Engines.Tests;

/// <summary>
/// PH1.REM's time handling as tables (reference §10.1): the parsing of desired times, time zones and DST (the
/// spring-forward gap and the fall-back overlap), quiet hours, and the recurrence subset with its 365 bound.
/// </summary>
public sealed class RemTimeTests
{
    /// <summary>2030-03-09T12:00:00Z, the day before the US spring-forward day (2030-03-10).</summary>
    private static readonly long Now = Utc("2030-03-09T12:00:00Z");

    private static NodaTime.DateTimeZone Zone(string id) => RemTime.Zone(id)!;

    [Theory]
    [InlineData("now", "UTC", "2030-03-09T12:00:00Z")]
    [InlineData("Today", "UTC", "2030-03-09T12:00:00Z")]
    [InlineData("tomorrow", "UTC", "2030-03-10T12:00:00Z")]
    // "tomorrow" is the same local time the next day: across the spring-forward night that is 23 h later.
    [InlineData("tomorrow", "America/New_York", "2030-03-10T11:00:00Z")]
    [InlineData("tomorrow 09:30", "Europe/Berlin", "2030-03-10T08:30:00Z")]
    [InlineData("18:00", "UTC", "2030-03-09T18:00:00Z")]
    [InlineData("18:00", "Asia/Tokyo", "2030-03-10T09:00:00Z")]
    [InlineData("in 30 s", "UTC", "2030-03-09T12:00:30Z")]
    [InlineData("in 30 seconds", "UTC", "2030-03-09T12:00:30Z")]
    [InlineData("in 45 secs", "UTC", "2030-03-09T12:00:45Z")]
    [InlineData("in 5m", "UTC", "2030-03-09T12:05:00Z")]
    [InlineData("in 5 min", "UTC", "2030-03-09T12:05:00Z")]
    [InlineData("IN 5 MINUTES", "UTC", "2030-03-09T12:05:00Z")]
    [InlineData("in 1 minute", "UTC", "2030-03-09T12:01:00Z")]
    [InlineData("in 2 h", "UTC", "2030-03-09T14:00:00Z")]
    [InlineData("in 2 hrs", "UTC", "2030-03-09T14:00:00Z")]
    [InlineData("in 1 hour", "UTC", "2030-03-09T13:00:00Z")]
    // "in N d" is elapsed time: 24 h per day, whatever the zone's clocks do.
    [InlineData("in 1 d", "America/New_York", "2030-03-10T12:00:00Z")]
    [InlineData("in 3 days", "UTC", "2030-03-12T12:00:00Z")]
    [InlineData("1906502400", "UTC", "2030-06-01T00:00:00Z")]
    [InlineData("1906502400000", "UTC", "2030-06-01T00:00:00Z")]
    [InlineData("1906502400000000000", "UTC", "2030-06-01T00:00:00Z")]
    [InlineData("2030-03-10 09:00", "America/New_York", "2030-03-10T13:00:00Z")]
    [InlineData("2030-03-10T09:00", "America/New_York", "2030-03-10T13:00:00Z")]
    [InlineData("2030-03-10 09:00:30", "UTC", "2030-03-10T09:00:30Z")]
    [InlineData("2030-06-01T10:00:00+02:00", "America/New_York", "2030-06-01T08:00:00Z")]
    [InlineData("2030-06-01T10:00:00Z", "Asia/Tokyo", "2030-06-01T10:00:00Z")]
    public void Parse_ResolvesEverySpelling(string text, string zone, string expected)
    {
        var resolved = RemTime.Parse(text, Now, Zone(zone));
        Assert.Null(resolved.Refusal);
        Assert.Equal(expected, Iso(resolved.At!.Value));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("next week")]
    [InlineData("in five minutes")]
    [InlineData("in 0 m")]
    [InlineData("in 5 fortnights")]
    [InlineData("in -5 m")]
    [InlineData("tomorrow at noon")]
    [InlineData("tomorrowish")]
    [InlineData("123456789")]
    [InlineData("12345678901234567890")]
    [InlineData("2030-13-01 10:00")]
    [InlineData("2030-03-10 25:00")]
    [InlineData("03/10/2030 09:00")]
    [InlineData("2029-01-01 10:00")]
    [InlineData("1000000000")]
    [InlineData("2045-01-01 10:00")]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("9999-12-31T23:59:59Z")]
    [InlineData("9999-12-31 23:59")]
    [InlineData("0001-01-01 00:00")]
    public void Parse_RefusesWhatItWouldHaveToGuess_PastAndTooFarAhead(string text)
    {
        var resolved = RemTime.Parse(text, Now, Zone("UTC"));
        Assert.Equal((null, "REM_FAIL_TIME_AMBIGUOUS_NEEDS_CONFIRM"), (resolved.At, resolved.Refusal?.Name));
    }

    [Theory]
    // US spring forward 2030-03-10 02:00 EST → 03:00 EDT: 02:30 does not exist and moves forward by the gap, to 03:30 EDT.
    [InlineData("2030-03-10 02:30", "America/New_York", "2030-03-10T07:30:00Z")]
    [InlineData("2030-03-10 01:59", "America/New_York", "2030-03-10T06:59:00Z")]
    [InlineData("2030-03-10 03:00", "America/New_York", "2030-03-10T07:00:00Z")]
    // US fall back 2030-11-03 02:00 EDT → 01:00 EST: 01:30 happens twice; REM takes the earlier (EDT).
    [InlineData("2030-11-03 01:30", "America/New_York", "2030-11-03T05:30:00Z")]
    [InlineData("2030-11-03 02:30", "America/New_York", "2030-11-03T07:30:00Z")]
    // EU spring forward 2030-03-31 01:00 UTC: 01:30 London moves to 02:30 BST.
    [InlineData("2030-03-31 01:30", "Europe/London", "2030-03-31T01:30:00Z")]
    // A zone without DST: every local time exists once.
    [InlineData("2030-03-10 02:30", "Asia/Kolkata", "2030-03-09T21:00:00Z")]
    [InlineData("2030-11-03 01:30", "Asia/Kolkata", "2030-11-02T20:00:00Z")]
    public void Dst_GapMovesForward_OverlapTakesTheEarlierInstant_NoDstZoneIsPlain(string text, string zone, string expected)
    {
        Assert.Equal(expected, Iso(RemTime.Parse(text, Now, Zone(zone)).At!.Value));
    }

    [Fact]
    public void Dst_ARecurrenceCrossingTheChange_KeepsItsLocalTime_OrItsOffsetWhenFixed()
    {
        var rule = RemRecurrence.Parse("FREQ=DAILY;COUNT=4", out _)!;
        var start = Utc("2030-03-08T14:00:00Z"); // 09:00 EST
        Assert.Equal(["2030-03-08T14:00:00Z", "2030-03-09T14:00:00Z", "2030-03-10T13:00:00Z", "2030-03-11T13:00:00Z"],
            RemRecurrence.Expand(rule, start, Zone("America/New_York"), ReminderLocalTimeMode.LocalTime).Select(Iso));
        Assert.Equal(["2030-03-08T14:00:00Z", "2030-03-09T14:00:00Z", "2030-03-10T14:00:00Z", "2030-03-11T14:00:00Z"],
            RemRecurrence.Expand(rule, start, Zone("America/New_York"), ReminderLocalTimeMode.FixedTimezone).Select(Iso));
        // A daily 02:30 reminder: on the spring-forward day it fires at 03:30 EDT, and at 02:30 again the day after.
        Assert.Equal(["2030-03-09T07:30:00Z", "2030-03-10T07:30:00Z", "2030-03-11T06:30:00Z"],
            RemRecurrence.Expand(RemRecurrence.Parse("FREQ=DAILY;COUNT=3", out _)!, Utc("2030-03-09T07:30:00Z"), Zone("America/New_York"),
                ReminderLocalTimeMode.LocalTime).Select(Iso));
        // Fall back: 09:00 stays 09:00 (EDT, then EST).
        Assert.Equal(["2030-11-02T13:00:00Z", "2030-11-03T14:00:00Z"],
            RemRecurrence.Expand(RemRecurrence.Parse("FREQ=DAILY;COUNT=2", out _)!, Utc("2030-11-02T13:00:00Z"), Zone("America/New_York"),
                ReminderLocalTimeMode.LocalTime).Select(Iso));
    }

    [Theory]
    [InlineData("2030-01-02T23:15:00Z", "22:00", "07:00", "2030-01-03T07:00:00Z")]
    [InlineData("2030-01-02T06:00:00Z", "22:00", "07:00", "2030-01-02T07:00:00Z")]
    [InlineData("2030-01-02T07:00:00Z", "22:00", "07:00", "2030-01-02T07:00:00Z")]
    [InlineData("2030-01-02T12:00:00Z", "22:00", "07:00", "2030-01-02T12:00:00Z")]
    [InlineData("2030-01-02T12:30:00Z", "12:00", "13:00", "2030-01-02T13:00:00Z")]
    [InlineData("2030-01-02T13:00:00Z", "12:00", "13:00", "2030-01-02T13:00:00Z")]
    public void QuietHours_DeferToTheirEnd_IncludingOvernight(string at, string start, string end, string expected)
    {
        Assert.Equal(expected, Iso(RemTime.QuietHoursEnd(Utc(at), RemTime.Clock(start)!.Value, RemTime.Clock(end)!.Value, Zone("UTC"))));
    }

    [Fact]
    public void QuietHours_EndingInTheSpringForwardGap_EndAtTheShiftedTime()
    {
        // Quiet 22:00–02:30 in New York; 2030-03-10 02:30 does not exist, so the quiet hours end at 03:30 EDT.
        Assert.Equal("2030-03-10T07:30:00Z", Iso(RemTime.QuietHoursEnd(Utc("2030-03-10T04:00:00Z"), RemTime.Clock("22:00")!.Value, RemTime.Clock("02:30")!.Value,
            Zone("America/New_York"))));
    }

    [Theory]
    [InlineData("FREQ=DAILY", true)]
    [InlineData("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE", true)]
    [InlineData("FREQ=MONTHLY;COUNT=12", true)]
    [InlineData("FREQ=YEARLY;UNTIL=20350101", true)]
    [InlineData("FREQ=DAILY;UNTIL=20300110T000000Z", true)]
    [InlineData("FREQ=HOURLY", false)]
    [InlineData("FREQ=DAILY;COUNT=366", false)]
    [InlineData("FREQ=DAILY;COUNT=0", false)]
    [InlineData("FREQ=DAILY;COUNT=3;UNTIL=20300110", false)]
    [InlineData("FREQ=DAILY;BYDAY=MO", false)]
    [InlineData("FREQ=WEEKLY;BYDAY=1MO", false)]
    [InlineData("FREQ=MONTHLY;BYMONTHDAY=1", false)]
    [InlineData("FREQ=DAILY;FREQ=WEEKLY", false)]
    [InlineData("INTERVAL=2", false)]
    [InlineData("FREQ=DAILY;INTERVAL=0", false)]
    [InlineData("", false)]
    public void RecurrenceRule_TheSubsetIsAcceptedAndNothingElse(string rule, bool valid)
    {
        var parsed = RemRecurrence.Parse(rule, out var error);
        Assert.Equal(valid, parsed is not null);
        Assert.Equal(valid, error is null);
    }

    [Fact]
    public void Recurrence_IsBoundedTo365_SkipsInvalidDates_AndHonoursByDayAndUntil()
    {
        var utc = Zone("UTC");
        Assert.Equal(365, RemRecurrence.Expand(RemRecurrence.Parse("FREQ=DAILY", out _)!, T0, utc, ReminderLocalTimeMode.LocalTime).Count);
        // A sparse rule ends at the last year Selene's times reach, with fewer occurrences.
        Assert.Equal(["2030-01-02T03:04:05Z"], RemRecurrence.Expand(RemRecurrence.Parse("FREQ=YEARLY;INTERVAL=366", out _)!, T0, utc, ReminderLocalTimeMode.LocalTime).Select(Iso));
        Assert.Equal(171, RemRecurrence.Expand(RemRecurrence.Parse("FREQ=YEARLY", out _)!, T0, utc, ReminderLocalTimeMode.LocalTime).Count);
        Assert.Equal(["2030-01-31T09:00:00Z", "2030-03-31T09:00:00Z", "2030-05-31T09:00:00Z"],
            RemRecurrence.Expand(RemRecurrence.Parse("FREQ=MONTHLY;COUNT=3", out _)!, Utc("2030-01-31T09:00:00Z"), utc, ReminderLocalTimeMode.LocalTime).Select(Iso));
        // 2030-01-02 is a Wednesday: every other week on Monday and Wednesday.
        Assert.Equal(["2030-01-02T09:00:00Z", "2030-01-14T09:00:00Z", "2030-01-16T09:00:00Z", "2030-01-28T09:00:00Z"],
            RemRecurrence.Expand(RemRecurrence.Parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4", out _)!, Utc("2030-01-02T09:00:00Z"), utc,
                ReminderLocalTimeMode.LocalTime).Select(Iso));
        Assert.Equal(["2030-01-02T09:00:00Z", "2030-01-03T09:00:00Z", "2030-01-04T09:00:00Z"],
            RemRecurrence.Expand(RemRecurrence.Parse("FREQ=DAILY;UNTIL=20300104", out _)!, Utc("2030-01-02T09:00:00Z"), utc, ReminderLocalTimeMode.LocalTime).Select(Iso));
        Assert.Equal(["2028-02-29T09:00:00Z", "2032-02-29T09:00:00Z"],
            RemRecurrence.Expand(RemRecurrence.Parse("FREQ=YEARLY;COUNT=2", out _)!, Utc("2028-02-29T09:00:00Z"), utc, ReminderLocalTimeMode.LocalTime).Select(Iso));
    }

    [Fact]
    public void Parse_IsDeterministic_AndRelativeTimesAreExact_Property()
    {
        var units = new (string Spelling, long Ns)[] { ("s", RemTime.NsPerSecond), ("min", RemTime.NsPerMinute), ("hours", RemTime.NsPerHour), ("d", RemTime.NsPerDay) };
        var zones = new[] { "UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe" };
        var texts = new[] { "now", "tomorrow", "tomorrow 02:30", "02:30", "2030-03-10 02:30", "2030-11-03 01:30", "soon", "1906502400000" };
        var gen =
            from now in Gen.Choose(0, 3650).Select(d => Utc("2027-01-01T00:00:00Z") + d * RemTime.NsPerDay / 7 * 3)
            from n in Gen.Choose(1, 999)
            from unit in Gen.Elements(units)
            from zone in Gen.Elements(zones)
            from text in Gen.Elements(texts)
            select (now, n, unit, zone, text);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var first = RemTime.Parse(c.text, c.now, Zone(c.zone));
            var second = RemTime.Parse(c.text, c.now, Zone(c.zone));
            var relative = RemTime.Parse($"in {c.n} {c.unit.Spelling}", c.now, Zone(c.zone));
            return first == second && relative.At == c.now + c.n * c.unit.Ns;
        }).QuickCheckThrowOnFailure();
    }
}
