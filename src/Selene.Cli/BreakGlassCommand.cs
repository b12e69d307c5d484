using System.CommandLine;
using System.Text.Json.Nodes;
using Selene.Postgres;

namespace Selene.Cli;

/// <summary>
/// <c>selene breakglass open|close</c>: the audited break-glass of docs/breakglass.md. Opening grants a named PostgreSQL
/// login <c>selene_breakglass</c> for a bounded time; every row it changes in a protected table is recorded in the
/// break-glass chain, which <c>selene audit verify</c> prints and verifies (<see cref="PrintReport"/>). Both commands first
/// end the windows that have expired, as <c>selene serve</c> does when it starts.
/// </summary>
internal static class BreakGlassCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var login = new Option<string>("--login") { Description = "The PostgreSQL login to give selene_breakglass (created, with LOGIN only, if it does not exist)", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why: recorded with the window and reported with every change made under it", Required = true };
        var ttl = new Option<string>("--ttl") { Description = "How long the window stays open: 90s, 30m, 2h, 1h30m (1 minute to 24 hours)", Required = true };
        var open = new Command("open", "Give a PostgreSQL login the break-glass role for a bounded time; every change it makes to a protected table is audited") { login, reason, ttl };
        open.SetAction(async (parse, ct) =>
        {
            if (!BreakGlass.TryParseTtl(parse.GetValue(ttl)!, out var duration))
                return Cli.Fail(ReasonCodes.InputFieldInvalid, "--ttl must be hours, minutes and seconds such as 90s, 30m, 2h or 1h30m, from 1 minute to 24 hours");
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var breakGlass = new BreakGlass(db);
            var now = Now();
            PrintSwept(await breakGlass.SweepAsync(now, ct));
            var outcome = await breakGlass.OpenAsync(parse.GetValue(login)!, parse.GetValue(reason)!, duration, Operator(), now, ct);
            if (!outcome.Succeeded) return Cli.Fail(outcome.Reason, outcome.Detail);
            var window = outcome.Windows.Single();
            Console.WriteLine($"{outcome.Reason.Name}: window {window.WindowId} for {outcome.Detail} from {new UnixNanos(window.OpenedAt)} until " +
                $"{new UnixNanos(window.ExpiresAt)}; reason: {window.Reason}");
            Console.WriteLine((db.Cluster is { } cluster ? $"connect: psql \"{cluster.LibpqConnectionString(window.Login)}\", then " : "in a session of that login, ") +
                "SET selene.tenant_id = '<tenant>'; every UPDATE and DELETE on a protected table is recorded. " +
                $"`selene breakglass close --login {window.Login}` ends it (docs/breakglass.md)");
            return 0;
        });

        var closeLogin = new Option<string?>("--login") { Description = "Only this login's window (default: every open window)" };
        var close = new Command("close", "End break-glass windows now and revoke the role") { closeLogin };
        close.SetAction(async (parse, ct) =>
        {
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var outcome = await new BreakGlass(db).CloseAsync(parse.GetValue(closeLogin), Operator(), Now(), ct);
            if (!outcome.Succeeded) return Cli.Fail(outcome.Reason, outcome.Detail);
            foreach (var window in outcome.Windows)
                Console.WriteLine($"{window.CloseReasonCode}: window {window.WindowId} of {window.Login} ended at {new UnixNanos(window.ClosedAt!.Value)}; role revoked");
            return 0;
        });
        return new Command("breakglass", "Audited break-glass on the protected ledgers (docs/breakglass.md)") { open, close };
    }

    /// <summary>The windows ended by the expiry sweep, one line each.</summary>
    public static void PrintSwept(IReadOnlyList<BreakGlassWindow> swept)
    {
        foreach (var window in swept)
            Console.WriteLine($"{ReasonCodes.BreakGlassExpired.Name}: window {window.WindowId} of {window.Login} had expired at {new UnixNanos(window.ExpiresAt)}; role revoked");
    }

    /// <summary>
    /// The break-glass part of <c>selene audit verify</c>: every window (login, who opened it, reason, from, to, how it
    /// ended, statements recorded), each recorded change with what it changed, and the chain's verdict. Returns whether it verified.
    /// </summary>
    public static bool PrintReport(BreakGlassReport report)
    {
        foreach (var w in report.Windows)
        {
            var end = w.ClosedAt is { } closed
                ? $"to {new UnixNanos(Math.Min(closed, w.ExpiresAt))} ({w.CloseReasonCode} by {w.ClosedBy} at {new UnixNanos(closed)})"
                : $"open until {new UnixNanos(w.ExpiresAt)}";
            Console.WriteLine($"break-glass window {w.WindowId}: login {w.Login}, opened by {w.OpenedBy}, reason \"{w.Reason}\"; from {new UnixNanos(w.OpenedAt)} {end}; " +
                $"{w.Statements.Count} statement(s) recorded");
            foreach (var s in w.Statements)
                Console.WriteLine($"  seq {s.Seq} at {new UnixNanos(s.At)} by {s.Actor}: {s.Operation} {s.Table} {s.RowKey ?? "(no primary key)"}: {Change(s)}");
        }
        Console.WriteLine(report.Break is { } broken
            ? $"break-glass audit: BROKEN at seq {broken.Seq}: {broken.Why} ({ReasonCodes.JournalChainBroken.Name})"
            : $"break-glass audit: {report.Entries} entries, {report.Windows.Count} window(s), chain intact ({ReasonCodes.JournalChainVerified.Name}); head {report.HeadHash}");
        return report.Intact;
    }

    /// <summary>The columns an UPDATE changed, old → new; a DELETE's whole row.</summary>
    private static string Change(BreakGlassEntry s)
    {
        var old = s.OldRow is null ? null : JsonNode.Parse(s.OldRow) as JsonObject;
        if (s.NewRow is null) return $"deleted {s.OldRow}";
        var now = JsonNode.Parse(s.NewRow) as JsonObject;
        if (old is null || now is null) return $"{s.OldRow} → {s.NewRow}";
        var changed = now.Where(p => !JsonNode.DeepEquals(p.Value, old[p.Key]))
            .Select(p => $"{p.Key} {old[p.Key]?.ToJsonString() ?? "null"} → {p.Value?.ToJsonString() ?? "null"}").ToArray();
        return changed.Length == 0 ? "no column changed" : string.Join(", ", changed);
    }

    private static long Now() => UnixNanos.FromDateTimeOffset(TimeProvider.System.GetUtcNow()).Value;

    /// <summary>Who runs the command: the OS user (the one who can reach the cluster's socket or SELENE_DB's credentials).</summary>
    private static string Operator() => Environment.UserName is { Length: > 0 and <= 128 } name ? name : "unknown";
}
