using System.Text.Json;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Tests;

/// <summary>
/// Replays a whole tenant after a scenario: every gate and engine decision must reproduce (issue 15 item 1). With
/// SELENE_UPDATE_GOLDEN=1 the scenario's records are also written as a golden fixture (tests/Selene.Runtime.Tests/Golden/),
/// which <see cref="GoldenReplayTests"/> replays on every build, so a later change that cannot replay them fails.
/// </summary>
public static class ReplayAssert
{
    public static readonly JsonSerializerOptions GoldenJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };

    public static string GoldenDirectory => Path.Combine(CatalogTests.RepoRoot(), "tests", "Selene.Runtime.Tests", "Golden");

    public static async Task EveryCorrelationReproducesAsync(SeleneDatabase db, string tenant, string? golden)
    {
        var reports = await new Replayer(db, SimulationRegistry.Default).ReplayTenantAsync(new TenantId(tenant));
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.True(r.FirstDivergence is null,
            $"correlation {r.CorrelationId}: {r.FirstDivergence?.Replayed} at seq {r.FirstDivergence?.Seq}: {r.FirstDivergence?.Detail}"));
        Assert.Contains(reports.SelectMany(r => r.Steps), s => s.Verdict == ReplayVerdict.Reproduced && s.Replayed is not "gate");
        if (golden is null || Environment.GetEnvironmentVariable("SELENE_UPDATE_GOLDEN") != "1") return;

        var correlations = new List<GoldenCorrelation>();
        await using (var tx = await TenantTransaction.BeginAsync(db.Owner, tenant))
        {
            foreach (var r in reports)
            {
                CorrelationId.TryParse(r.CorrelationId, out var c);
                correlations.Add(new GoldenCorrelation(r.CorrelationId, await JournalStore.ByCorrelationAsync(tx, c, Replayer.Limit, default),
                    await TurnDecisionStore.ByCorrelationAsync(tx, c, Replayer.Limit, default)));
            }
        }
        Directory.CreateDirectory(GoldenDirectory);
        await File.WriteAllTextAsync(Path.Combine(GoldenDirectory, golden + ".json"),
            JsonSerializer.Serialize(new GoldenJournal(tenant, correlations), GoldenJson) + "\n");
    }
}

/// <summary>One scenario's records as a golden fixture: every correlation's journal and decided turns.</summary>
public sealed record GoldenJournal(string TenantId, IReadOnlyList<GoldenCorrelation> Correlations);

public sealed record GoldenCorrelation(string CorrelationId, IReadOnlyList<JournalRecord> Journal, IReadOnlyList<TurnDecisionRow> Turns);

/// <summary>Journals recorded by earlier builds (the golden fixtures) must still replay: no divergence, decisions reproduced.</summary>
public sealed class GoldenReplayTests
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(ReplayAssert.GoldenDirectory, "*.json").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task GoldenJournal_StillReplaysWithEveryDecisionReproduced(string fixture)
    {
        var golden = JsonSerializer.Deserialize<GoldenJournal>(await File.ReadAllTextAsync(Path.Combine(ReplayAssert.GoldenDirectory, fixture)),
            ReplayAssert.GoldenJson)!;
        Assert.NotEmpty(golden.Correlations);
        var reports = golden.Correlations.Select(c => Replayer.Replay(golden.TenantId, c.CorrelationId, c.Journal, c.Turns, SimulationRegistry.Default)).ToArray();
        Assert.All(reports, r => Assert.True(r.FirstDivergence is null,
            $"{fixture} correlation {r.CorrelationId}: {r.FirstDivergence?.Replayed} at seq {r.FirstDivergence?.Seq}: {r.FirstDivergence?.Detail}"));
        var engineSteps = reports.SelectMany(r => r.Steps).Where(s => s.Replayed is not null and not "gate").ToArray();
        Assert.NotEmpty(engineSteps);
        Assert.All(engineSteps, s => Assert.Equal(ReplayVerdict.Reproduced, s.Verdict));
        // Replaying the records twice gives the same report, step for step.
        Assert.Equal(reports.SelectMany(r => r.Steps),
            golden.Correlations.SelectMany(c => Replayer.Replay(golden.TenantId, c.CorrelationId, c.Journal, c.Turns, SimulationRegistry.Default).Steps));
    }
}
