using Selene.Postgres;

namespace Selene.Runtime.Tests;

/// <summary>Replays a whole tenant after a scenario: every gate and engine decision must reproduce (issue 15 item 1).</summary>
public static class ReplayAssert
{
    public static async Task EveryCorrelationReproducesAsync(SeleneDatabase db, string tenant)
    {
        var reports = await new Replayer(db, SimulationRegistry.Default).ReplayTenantAsync(new TenantId(tenant));
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.True(r.FirstDivergence is null,
            $"correlation {r.CorrelationId}: {r.FirstDivergence?.Replayed} at seq {r.FirstDivergence?.Seq}: {r.FirstDivergence?.Detail}"));
        Assert.Contains(reports.SelectMany(r => r.Steps), s => s.Verdict == ReplayVerdict.Reproduced && s.Replayed is not "gate");
    }
}
