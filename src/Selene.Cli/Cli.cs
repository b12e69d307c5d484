using Selene.Postgres;
using Selene.Postgres.Embedded;
using Selene.Runtime;

namespace Selene.Cli;

/// <summary>What every command shares: where the data is, and how failures are printed.</summary>
internal static class Cli
{
    public static string? ExternalDatabase => Environment.GetEnvironmentVariable("SELENE_DB") is { Length: > 0 } s ? s : null;

    public static string DataDir(string? option) =>
        option ?? (Environment.GetEnvironmentVariable("SELENE_DATA_DIR") is { Length: > 0 } env ? env : EmbeddedCluster.DefaultDataDir());

    public static Task<SeleneDatabase> OpenAsync(string? dataDirOption, bool register, CancellationToken ct) =>
        SeleneDatabase.OpenAsync(new DatabaseOptions(ExternalDatabase, DataDir(dataDirOption), Register: register), ct);

    /// <summary>
    /// The delivery providers of this process: the <c>deliveries</c> section of <paramref name="configPath"/>, or the file
    /// sink under the data directory with nothing configured. False, with what is wrong, for a file that cannot be used.
    /// </summary>
    public static bool TryDeliveries(string? configPath, string? dataDirOption, out Selene.Runtime.Delivery.DeliveryProviders? providers, out string problem)
    {
        problem = "";
        try
        {
            providers = configPath is null
                ? Selene.Runtime.Delivery.DeliveryProviders.FileSinkOnly(DataDir(dataDirOption))
                : Selene.Runtime.Delivery.DeliveryProviders.Load(configPath, DataDir(dataDirOption));
            return true;
        }
        catch (Selene.Runtime.Delivery.DeliveryConfigException ex)
        {
            (providers, problem) = (null, ex.Message);
            return false;
        }
    }

    public static string Describe(SeleneDatabase db) =>
        db.Cluster is null ? "database: SELENE_DB" : $"embedded PostgreSQL in {db.Cluster.DataDir}";

    public static int Fail(ReasonCode reason, string message)
    {
        Console.Error.WriteLine($"selene: {reason.Name}: {message}");
        return 2;
    }

    /// <summary>Reads a checkpoint key file (<see cref="AuditCheckpoints.ReadKey"/>); null with <paramref name="problem"/> when it cannot.</summary>
    public static System.Security.Cryptography.ECDsa? ReadKeyFile(string path, bool requirePrivate, out string? problem)
    {
        if (!File.Exists(path))
        {
            problem = "no such file";
            return null;
        }
        return AuditCheckpoints.ReadKey(File.ReadAllText(path), requirePrivate, out problem);
    }

    /// <summary>Prints rows as a table under <paramref name="header"/>, each column as wide as its widest cell (nothing when there are no rows).</summary>
    public static void PrintTable(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        if (rows.Count == 0) return;
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        foreach (var r in rows.Prepend([.. header])) Console.WriteLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>Prints a replayed correlation: a table (or JSON) of its steps, then the count of each verdict and the first divergence.</summary>
    public static void PrintReplay(ReplayReport report, bool json)
    {
        static string Verdict(ReplayStep s) => s.Verdict switch
        {
            ReplayVerdict.Reproduced => $"reproduced ({s.Replayed})",
            ReplayVerdict.Diverged => $"DIVERGED ({s.Replayed})",
            _ => "recorded",
        };
        var counts = Enum.GetValues<ReplayVerdict>().ToDictionary(v => v, v => report.Steps.Count(s => s.Verdict == v));
        var summary = $"replay: {counts[ReplayVerdict.Reproduced]} step(s) reproduced, {counts[ReplayVerdict.Diverged]} diverged, " +
            $"{counts[ReplayVerdict.Recorded]} recorded only";
        if (json)
        {
            var steps = new System.Text.Json.Nodes.JsonArray(report.Steps.Select(s => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["seq"] = s.Seq, ["turn_id"] = s.Turn, ["engine"] = s.Engine, ["event_type"] = s.EventType, ["reason_code"] = s.ReasonCode,
                ["outcome"] = s.Outcome, ["replay"] = WireNames.Of(s.Verdict), ["replayed"] = s.Replayed, ["detail"] = s.Detail,
            }).ToArray());
            Console.WriteLine(new System.Text.Json.Nodes.JsonObject
            {
                ["tenant_id"] = report.TenantId, ["correlation_id"] = report.CorrelationId, ["turns"] = report.Turns, ["steps"] = steps,
                ["reproduced"] = counts[ReplayVerdict.Reproduced], ["diverged"] = counts[ReplayVerdict.Diverged], ["recorded"] = counts[ReplayVerdict.Recorded],
                ["first_divergence_seq"] = report.FirstDivergence?.Seq,
            }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return;
        }
        string[] header = ["SEQ", "TURN", "ENGINE", "EVENT", "REASON_CODE", "OUTCOME", "REPLAY"];
        var rows = report.Steps.Select(s => new[]
        {
            s.Seq == 0 ? "-" : s.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Turn.ToString(System.Globalization.CultureInfo.InvariantCulture),
            s.Engine, s.EventType, s.ReasonCode, s.Outcome, Verdict(s),
        }).ToArray();
        Console.WriteLine($"replay of correlation {report.CorrelationId} in tenant {report.TenantId}: {report.Turns} turn(s), {report.Steps.Count} step(s)");
        PrintTable(header, rows);
        Console.WriteLine(summary);
        if (report.FirstDivergence is { } first)
            Console.WriteLine($"first divergent step: {(first.Seq == 0 ? "" : $"seq {first.Seq}, ")}turn {first.Turn}, {first.Replayed}: {first.Detail} ({ReasonCodes.JournalReplayDiverged.Name})");
        else
            Console.WriteLine($"every step decided again reproduced what was recorded ({ReasonCodes.JournalReplayReproduced.Name})");
    }

    /// <summary>Prints one line per tenant chain of <c>selene audit verify</c> and the summary; 0 when every chain holds, else 1.</summary>
    public static int PrintAudit(IReadOnlyList<AuditReport> reports)
    {
        foreach (var r in reports)
        {
            var anchored = r.Checkpoints > 0 ? $", held against {r.Checkpoints} checkpoint(s)" : "";
            if (r.BreakGlassRows is { Count: > 0 } changed) anchored += $", {changed.Count} changed under break-glass ({string.Join(", ", changed)})";
            Console.WriteLine(r.Intact
                ? $"tenant {r.TenantId}: {r.Entries} entries, {r.LedgerRows} ledger rows bound{anchored}, chain intact ({ReasonCodes.JournalChainVerified.Name}); head {r.HeadHash}"
                : $"tenant {r.TenantId}: BROKEN{(r.Break!.Seq > 0 ? $" at seq {r.Break.Seq}" : "")}: {r.Break.Why} ({ReasonCodes.JournalChainBroken.Name})");
        }
        var broken = reports.Count(r => !r.Intact);
        Console.WriteLine(broken == 0 ? $"audit verify: {reports.Count} tenant chain(s) intact" : $"audit verify: {broken} of {reports.Count} tenant chain(s) broken");
        return broken == 0 ? 0 : 1;
    }
}
