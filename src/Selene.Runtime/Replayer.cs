using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Kernel.Os;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime;

/// <summary>What replay says of one step.</summary>
public enum ReplayVerdict
{
    /// <summary>Decided again from its recorded inputs, with the recorded outcome.</summary>
    Reproduced,

    /// <summary>Decided again, with another outcome (or its record could not be read by this version).</summary>
    Diverged,

    /// <summary>A recorded fact replay does not decide again (an access decision, an outbox attempt, an effect).</summary>
    Recorded,
}

/// <summary>One line of a replayed correlation: a journal entry, and what deciding it again gave.</summary>
/// <param name="Outcome">The entry's outcome in short: the gate's move, a transition's states, REFUSED.</param>
/// <param name="Replayed">What was decided again: <c>gate</c> or the simulation id; null for a recorded fact.</param>
public sealed record ReplayStep(long Seq, long Turn, string Engine, string EventType, string ReasonCode, string Outcome, ReplayVerdict Verdict,
    string? Replayed, string? Detail);

/// <summary>A replayed correlation: its steps in journal order; <see cref="FirstDivergence"/> names the first that did not reproduce.</summary>
public sealed record ReplayReport(string TenantId, string CorrelationId, int Turns, IReadOnlyList<ReplayStep> Steps)
{
    public ReplayStep? FirstDivergence => Steps.FirstOrDefault(s => s.Verdict == ReplayVerdict.Diverged);
}

/// <summary>
/// Replay (issue 15): reads one correlation's journal and its recorded inputs — each turn's gate input and, where an
/// engine's decider ran, its decision record (<see cref="DecisionRecord"/>) — and decides each again with the pure gate
/// (<see cref="OsTurnSlice"/>) and the engine's decider, writing nothing. The same database gives the same report.
/// </summary>
public sealed class Replayer(SeleneDatabase db, SimulationRegistry simulations)
{
    /// <summary>The most journal entries (and turns) one replay reads.</summary>
    public const int Limit = 10_000;

    public async Task<ReplayReport> ReplayAsync(TenantId tenant, CorrelationId correlation, CancellationToken ct = default)
    {
        IReadOnlyList<JournalRecord> journal;
        IReadOnlyList<TurnDecisionRow> turns;
        // One snapshot for both; nothing is written, so the transaction is simply not committed.
        await using (var tx = await TenantTransaction.BeginAsync(db.Owner, tenant.Value, ct, System.Data.IsolationLevel.RepeatableRead))
        {
            journal = await JournalStore.ByCorrelationAsync(tx, correlation, Limit, ct);
            turns = await TurnDecisionStore.ByCorrelationAsync(tx, correlation, Limit, ct);
        }

        return Replay(tenant.Value, correlation.ToString(), journal, turns, simulations);
    }

    /// <summary>
    /// Replays one correlation from its records alone (pure: what <see cref="ReplayAsync"/> read, or a golden fixture's
    /// copy of it): <paramref name="journal"/> in seq order, <paramref name="turns"/> in decision order.
    /// </summary>
    public static ReplayReport Replay(string tenant, string correlation, IReadOnlyList<JournalRecord> journal, IReadOnlyList<TurnDecisionRow> turns,
        SimulationRegistry simulations)
    {
        var pending = new Queue<TurnDecisionRow>(turns);
        var steps = new List<ReplayStep>(journal.Count);
        TurnDecisionRow? turn = null;
        var engineReplayed = true;
        foreach (var entry in journal)
        {
            var payload = JsonNode.Parse(entry.PayloadJson)!.AsObject();
            string Field(string name) => (string?)payload[name] ?? "-";
            if (entry.EventType == JournalEventTypes.TurnDecision && pending.Count > 0)
            {
                AppendUndecided(steps, turn, engineReplayed, simulations);
                turn = pending.Dequeue();
                engineReplayed = turn.EngineInput is null;
                var (verdict, detail) = ReplayGate(turn);
                steps.Add(new ReplayStep(entry.Seq, entry.TurnId, entry.Engine, entry.EventType, entry.ReasonCode, Field("next_move"), verdict, "gate", detail));
                continue;
            }
            var outcome = entry.EventType switch
            {
                JournalEventTypes.StateTransition => $"{Field("state_from")}->{Field("state_to")}",
                JournalEventTypes.SimulationRefused => "REFUSED",
                _ => "-",
            };
            if (!engineReplayed && turn is not null && entry.TurnId == turn.TurnId &&
                entry.EventType is JournalEventTypes.StateTransition or JournalEventTypes.SimulationRefused && Field("simulation_id") == turn.SimulationId)
            {
                engineReplayed = true;
                var (verdict, detail, _) = ReplayEngine(turn, simulations);
                steps.Add(new ReplayStep(entry.Seq, entry.TurnId, entry.Engine, entry.EventType, entry.ReasonCode, outcome, verdict, turn.SimulationId, detail));
                continue;
            }
            steps.Add(new ReplayStep(entry.Seq, entry.TurnId, entry.Engine, entry.EventType, entry.ReasonCode, outcome, ReplayVerdict.Recorded, null, null));
        }
        AppendUndecided(steps, turn, engineReplayed, simulations);
        return new ReplayReport(tenant, correlation, turns.Count, steps);
    }

    /// <summary>Replays every correlation of the tenant that has decided turns (at most <see cref="Limit"/>), in the order they began.</summary>
    public async Task<IReadOnlyList<ReplayReport>> ReplayTenantAsync(TenantId tenant, CancellationToken ct = default)
    {
        IReadOnlyList<string> correlations;
        await using (var tx = await TenantTransaction.BeginAsync(db.Owner, tenant.Value, ct))
            correlations = await TurnDecisionStore.CorrelationsAsync(tx, Limit, ct);
        var reports = new List<ReplayReport>(correlations.Count);
        foreach (var c in correlations)
        {
            CorrelationId.TryParse(c, out var correlation);
            reports.Add(await ReplayAsync(tenant, correlation, ct));
        }
        return reports;
    }

    /// <summary>
    /// A turn whose decider ran but whose journal shows none of its entries (an effect refused it after the decider
    /// accepted): its decision is replayed on a line of its own after the turn's entries.
    /// </summary>
    private static void AppendUndecided(List<ReplayStep> steps, TurnDecisionRow? turn, bool engineReplayed, SimulationRegistry simulations)
    {
        if (engineReplayed || turn is null) return;
        var (verdict, detail, reason) = ReplayEngine(turn, simulations);
        steps.Add(new ReplayStep(0, turn.TurnId, "-", "ENGINE_DECISION", reason ?? "-", "-", verdict, turn.SimulationId, detail));
    }

    private static (ReplayVerdict, string?) ReplayGate(TurnDecisionRow turn)
    {
        using var doc = JsonDocument.Parse(turn.InputJson);
        if (!OsTurnCodec.TryRead(doc.RootElement, out var input, out var error))
            return (ReplayVerdict.Diverged, $"the recorded gate input cannot be read by this version: {error}");
        var (move, reason) = OsTurnSlice.Run(input, OsConfig.Mvp) switch
        {
            OsTurnOutcome.Forwarded f => (WireNames.Of(f.Decision.Move), f.Decision.Reason.Name),
            OsTurnOutcome.Refused r => (WireNames.Of(OsNextMove.Refuse), r.Reason.Name),
            var other => ("-", other.Reason.Name),
        };
        return move == turn.NextMove && reason == turn.ReasonCode
            ? (ReplayVerdict.Reproduced, null)
            : (ReplayVerdict.Diverged, $"the gate decides {move} {reason} on the recorded input; {turn.NextMove} {turn.ReasonCode} was recorded");
    }

    /// <summary>Decides the turn's engine decision again; also returns the reason code the record names.</summary>
    private static (ReplayVerdict, string?, string?) ReplayEngine(TurnDecisionRow turn, SimulationRegistry simulations)
    {
        var recorded = JsonNode.Parse(turn.EngineInput!)!.AsObject();
        var reason = (string?)recorded["reason_code"];
        if (!DecisionRecord.IsReadable(recorded))
            return (ReplayVerdict.Diverged, $"the decision record's schema_version {recorded["schema_version"]} is not one this version reads", reason);
        if (!simulations.TryGet(turn.SimulationId ?? "", out var handler) || handler is not IReplayableSimulation replayable)
            return (ReplayVerdict.Diverged, $"simulation {turn.SimulationId} has no replayable decider in this version", reason);
        ReplayedDecision again;
        try
        {
            again = replayable.Replay(recorded);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or InvalidCastException or NotSupportedException or ArgumentException)
        {
            return (ReplayVerdict.Diverged, $"the decision record cannot be decided again by this version: {ex.GetType().Name}: {ex.Message}", reason);
        }
        return again.ReasonCode == reason && again.OutcomeHash == (string?)recorded["outcome_hash"]
            ? (ReplayVerdict.Reproduced, null, reason)
            : (ReplayVerdict.Diverged, again.ReasonCode == reason
                ? $"the decider gives {again.ReasonCode} again, with other events than were recorded"
                : $"the decider gives {again.ReasonCode}; {reason} was recorded", reason);
    }
}
