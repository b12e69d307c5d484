using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Selene.Cli.Chaos;

/// <summary>
/// <c>selene chaos --profile P --seconds S [--clients N] [--json] [--data-dir D]</c>: runs <see cref="ChaosRunner"/> and prints
/// pass/fail per invariant and SLO with its figures (a table, or one JSON object). Exit 0 when everything held, 1 when a
/// check failed, 2 when the harness could not run the profile.
/// </summary>
public static class ChaosCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var profile = new Option<string>("--profile") { Description = "The fault: " + string.Join(" | ", ChaosProfiles.Names), Required = true };
        profile.AcceptOnlyFromAmong([.. ChaosProfiles.Names]);
        var seconds = new Option<int>("--seconds") { Description = "How long the fault is injected under load, in seconds", DefaultValueFactory = _ => 60 };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, one tenant each", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var command = new Command("chaos",
            "Run a real selene serve under load while injecting a fault, then check that nothing acknowledged was lost or done twice, " +
            "every key answers identically, the journal verifies, projections rebuild identical and the outbox drains (docs/reliability.md)")
        {
            profile, seconds, clients, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            // Checked here rather than in validators, which run before System.CommandLine applies the defaults.
            if (parse.GetValue(seconds) is < 1 or > 3600) return Cli.Fail(ReasonCodes.InputFieldInvalid, "--seconds is 1..3600");
            if (parse.GetValue(clients) is < 1 or > 64) return Cli.Fail(ReasonCodes.InputFieldInvalid, "--clients is 1..64");
            var options = new ChaosOptions(ChaosProfiles.Parse(parse.GetValue(profile)!), TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(clients),
                parse.GetValue(dataDirOption));
            var asJson = parse.GetValue(json);
            var report = await ChaosRunner.RunAsync(options, asJson ? Console.Error : Console.Out, ct);
            if (asJson) Console.WriteLine(ToJson(report).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            else Print(report, Console.Out);
            return report.HarnessFailure is not null ? 2 : report.Passed ? 0 : 1;
        });
        return command;
    }

    /// <summary>The report as a readable table: what was injected, then one line per invariant and SLO, then the verdict.</summary>
    public static void Print(ChaosReport r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine(string.Create(inv, $"profile:     {ChaosProfiles.Name(r.Options.Profile)}, {r.FaultSeconds:0.0} s of fault, {r.RecoverySeconds:0.0} s of load after it, {r.Options.Clients} client(s) (one tenant each)"));
        w.WriteLine(string.Create(inv, $"server:      selene serve started {r.ServeStarts} time(s)") +
                    (r.Options.Profile == ChaosProfile.RestartPostgres ? string.Create(inv, $"; its supervisor restarted PostgreSQL {r.SupervisorRestarts} time(s)") : ""));
        w.WriteLine(string.Create(inv, $"requests:    {r.Attempts.Count} attempt(s): {ChaosSlo.Tally(r.Attempts)}"));
        w.WriteLine(string.Create(inv, $"acknowledged: {r.Acknowledged} distinct idempotency key(s)"));
        var recoveries = r.Injections.Where(i => i.RecoverySeconds is not null).Select(i => i.RecoverySeconds!.Value).ToList();
        w.WriteLine(string.Create(inv, $"injections:  {r.Injections.Count}") +
                    (recoveries.Count > 0 ? string.Create(inv, $", recovered in {recoveries.Min():0.000}–{recoveries.Max():0.000} s") : ""));
        // Few injections are listed one by one; client-disconnects and duplicate-storm make hundreds.
        if (r.Injections.Count <= 20)
            foreach (var i in r.Injections)
                w.WriteLine(string.Create(inv, $"  at {i.At,7:0.00} s  {i.What}: ") + (i.RecoverySeconds is { } s ? string.Create(inv, $"first 2xx after {s:0.000} s") : "NEVER recovered"));
        if (r.HarnessFailure is not null)
        {
            w.WriteLine();
            w.WriteLine($"selene chaos: {ReasonCodes.ChaosHarnessFailed.Name}: {r.HarnessFailure}");
            return;
        }
        w.WriteLine();
        string[] header = ["CHECK", "TARGET", "RESULT", "FIGURES"];
        var rows = r.Invariants.Select(c => new[] { "invariant: " + c.Name, c.Target ?? "holds", Verdict(c), c.Figures })
            .Concat(r.Slos.Select(c => new[] { "SLO: " + c.Name, c.Target ?? "", Verdict(c), c.Figures }))
            .Prepend(header).ToArray();
        var widths = Enumerable.Range(0, 3).Select(col => rows.Max(row => row[col].Length)).ToArray();
        foreach (var row in rows) w.WriteLine(string.Join("  ", row.Select((cell, col) => col < 3 ? cell.PadRight(widths[col]) : cell)).TrimEnd());
        w.WriteLine();
        var failed = r.Invariants.Concat(r.Slos).Count(c => !c.Passed);
        w.WriteLine(r.Passed
            ? $"selene chaos: {ReasonCodes.ChaosPassed.Name}: every invariant and SLO held under {ChaosProfiles.Name(r.Options.Profile)}"
            : $"selene chaos: {r.Reason.Name}: {failed} of {r.Invariants.Count + r.Slos.Count} check(s) failed under {ChaosProfiles.Name(r.Options.Profile)}");
    }

    private static string Verdict(Check c) => c.Passed ? "pass" : $"FAIL ({c.Reason.Name})";

    /// <summary>The report as one JSON object.</summary>
    public static JsonObject ToJson(ChaosReport r)
    {
        static JsonNode Checks(IEnumerable<Check> checks) => new JsonArray(checks.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name, ["target"] = c.Target, ["passed"] = c.Passed, ["figures"] = c.Figures, ["reason_code"] = c.Passed ? null : c.Reason.Name,
        }).ToArray());
        var tally = new JsonObject();
        foreach (var g in r.Attempts.GroupBy(a => a.Describe()).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)) tally[g.Key] = g.Count();
        return new JsonObject
        {
            ["profile"] = ChaosProfiles.Name(r.Options.Profile),
            ["seconds"] = r.Options.Duration.TotalSeconds,
            ["clients"] = r.Options.Clients,
            ["data_dir"] = r.DataDir,
            ["throwaway"] = r.Throwaway,
            ["fault_seconds"] = Math.Round(r.FaultSeconds, 2),
            ["after_seconds"] = Math.Round(r.RecoverySeconds, 2),
            ["serve_starts"] = r.ServeStarts,
            ["supervisor_restarts"] = r.SupervisorRestarts,
            ["attempts"] = r.Attempts.Count,
            ["attempt_outcomes"] = tally,
            ["acknowledged"] = r.Acknowledged,
            ["injections"] = new JsonArray(r.Injections.Select(i => (JsonNode)new JsonObject
            {
                ["at_seconds"] = Math.Round(i.At, 3), ["what"] = i.What, ["recovery_seconds"] = i.RecoverySeconds is { } s ? Math.Round(s, 3) : null,
            }).ToArray()),
            ["invariants"] = Checks(r.Invariants),
            ["slos"] = Checks(r.Slos),
            ["passed"] = r.Passed,
            ["reason_code"] = r.Reason.Name,
            ["harness_failure"] = r.HarnessFailure,
        };
    }
}
