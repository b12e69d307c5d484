using System.Text.Json.Nodes;
using Selene.Learning;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Learn;

/// <summary>LEARN_MODE_SET_COMMIT body.</summary>
internal sealed record ModeSetInput(LearnMode Mode, string Note);

/// <summary>
/// PH1.LEARN on the engine platform: the tenant's learning mode (aggregate <c>learn_mode</c>, stream TENANT), switched only
/// by the governed simulation LEARN_MODE_SET_COMMIT (access-checked for LEARN_CONTROL at mode X, journaled, reason-coded), and
/// one read route with the mode and the loop's counts. The loop itself (ingest, bind, priors) is <see cref="LearnOperations"/>;
/// what a turn does with priors is <see cref="LearnAdvisor"/>.
/// </summary>
public static class LearnModule
{
    public static Aggregate<LearnModeState, LearnModeSet, LearnModeSet> Modes { get; } = new(
        LearnReasons.EngineId, storeName: "learn_mode", streamField: "learn_scope", viewName: "learning",
        streamOf: _ => LearnModeDecider.Stream,
        eventTypeOf: _ => "MODE_SET",
        evolve: LearnModeDecider.Evolve,
        statusOf: s => WireNames.Of(s.Mode),
        view: View,
        journalFields: e => [("mode_from", WireNames.Of(e.Previous)), ("mode_to", WireNames.Of(e.Mode))]);

    public static EngineModule Module { get; } = new(
        "learn", LearnReasons.EngineId,
        [
            new EngineSimulation<ModeSetInput, SetLearnMode, LearnModeState, LearnModeSet, object?>(
                LearnSimulations.All.Single(), Modes,
                toCommand: i => new SetLearnMode(i.Mode, i.Note),
                validate: LearnModeDecider.Validate,
                targetOf: (_, _) => LearnModeDecider.Stream,
                decide: (state, command, _, ctx) => LearnModeDecider.Decide(state, command, ctx.Actor.Value, ctx.Now)),
        ],
        [Modes],
        LearnReasons.All,
        [new ReadRoute("GetLearning", "/learn", "The tenant's learning mode (SHADOW when never set) and how many facts, quarantined entries, bindings and priors the loop holds.",
            NotFound: false, GetAsync)]);

    /// <summary>The public JSON view of the tenant's mode.</summary>
    public static JsonObject View(LearnModeState s) => new()
    {
        ["mode"] = WireNames.Of(s.Mode),
        ["version"] = s.Version,
        ["last_actor_user_id"] = s.LastActorUserId,
        ["last_note"] = s.LastNote,
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var state = await Modes.GetAsync(tx, LearnModeDecider.Stream, ct);
        var counts = await LearningStore.CountsAsync(tx, ct);
        return new ReadResult.Ok(new JsonObject
        {
            ["mode"] = WireNames.Of(state?.Mode ?? LearnMode.Shadow),
            ["learning"] = state is null ? null : View(state),
            ["facts"] = counts.Facts,
            ["quarantined"] = counts.Quarantined,
            ["bindings"] = counts.Bindings,
            ["failure_priors"] = counts.FailurePriors,
            ["policy_priors"] = counts.PolicyPriors,
            ["ingested_seq"] = counts.IngestedSeq,
        });
    }
}
