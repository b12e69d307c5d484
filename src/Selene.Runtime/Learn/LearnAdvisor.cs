using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Learning;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Learn;

/// <summary>One prior a turn consulted, with the use it qualified for.</summary>
public sealed record ConsultedPrior(Capsule Prior, PriorUse Use);

/// <summary>What a guided or prescriptive turn made of its priors: the mode, how many it read, and those it offers.</summary>
public sealed record Consultation(LearnMode Mode, int Read, IReadOnlyList<ConsultedPrior> Offered)
{
    /// <summary>The one prior a prescriptive turn marks for pre-flight avoidance, if any (single shot).</summary>
    public ConsultedPrior? Prescribed => Offered.FirstOrDefault(p => p.Use == PriorUse.Prescribe);
}

/// <summary>
/// The turn's use of the learning loop (rollout, docs/learning.md). Priors never grant and never deny: the gate decides
/// exactly as without them. In SHADOW nothing is read (the turn's batch returns no row), so nothing is consulted,
/// journaled or answered. In GUIDED up to <see cref="MaxSuggestions"/> conformant priors that meet the suggestion
/// thresholds are offered as <c>suggestions</c> beside the turn's answer, and the consultation is journaled
/// (LEARN_PRIORS_CONSULTED); PRESCRIPTIVE also marks the first prior that meets the prescriptive thresholds
/// (<c>use: PRESCRIBE</c>): the caller should avoid sending the action as it is.
/// </summary>
public static class LearnAdvisor
{
    public const int MaxSuggestions = 3;

    /// <summary>Candidates read per kind (the thresholds and the conformance check filter them).</summary>
    public const int CandidatesPerKind = 6;

    /// <summary>
    /// What a turn may make of <paramref name="prior"/> at <paramref name="now"/>: NONE with the failed check's code when it
    /// fails conformance (K4: never used, whatever its counters say), else what the thresholds (<c>eligibility/v1</c>) allow.
    /// </summary>
    public static (PriorUse Use, ReasonCode? Nonconformant) UseOf(Capsule prior, SimulationRecord? simulation, long now)
    {
        var conformance = Conformance.Check(prior, simulation, EngineModules.Reasons);
        return conformance.Conformant ? (Eligibility.Evaluate(prior, now, EligibilityThresholds.V1).Use, null) : (PriorUse.None, conformance.Failed);
    }

    /// <summary>What the turn makes of <paramref name="priors"/> for <paramref name="simulation"/>; null when nothing was read (SHADOW, or no prior).</summary>
    public static Consultation? Consult(TurnPriors priors, SimulationRecord simulation, UnixNanos now)
    {
        if (priors.Mode == LearnMode.Shadow || priors.Capsules.Count == 0) return null;
        var offered = new List<ConsultedPrior>();
        foreach (var prior in priors.Capsules)
        {
            var (use, _) = UseOf(prior, simulation, now.Value);
            if (use == PriorUse.None) continue;
            // Single shot: only the first prescriptive prior of a prescriptive tenant is marked; the rest are suggestions.
            if (use == PriorUse.Prescribe && (priors.Mode != LearnMode.Prescriptive || offered.Any(o => o.Use == PriorUse.Prescribe))) use = PriorUse.Suggest;
            offered.Add(new ConsultedPrior(prior, use));
            if (offered.Count == MaxSuggestions) break;
        }
        return new Consultation(priors.Mode, priors.Capsules.Count, offered);
    }

    /// <summary>The journal entry of a consultation: which priors (first 16 hex digits of their keys) were offered, and the prescribed one.</summary>
    public static JournalDraft Journal(Consultation c, SimulationRecord simulation, UserId actor) =>
        new(LearnReasons.EngineId, JournalEventTypes.LearnPriorsConsulted, LearnReasons.LearnPriorsConsulted, JournalPayload.Create(
            ("mode", WireNames.Of(c.Mode)),
            ("action_kind", simulation.SimulationId),
            ("target_id", actor.Value),
            ("priors_read", c.Read.ToString(CultureInfo.InvariantCulture)),
            ("priors_offered", c.Offered.Count == 0 ? "NONE" : string.Join(',', c.Offered.Select(o => o.Prior.DerivedUpsertKey[..16]))),
            ("prior_prescribed", c.Prescribed?.Prior.DerivedUpsertKey[..16] ?? "NONE"),
            ("thresholds", EligibilityThresholds.V1.Version)));

    /// <summary>The <c>suggestions</c> of the turn's answer.</summary>
    public static JsonArray ToJson(Consultation c) => new(c.Offered.Select(o => (JsonNode)Suggestion(o)).ToArray());

    private static JsonObject Suggestion(ConsultedPrior o)
    {
        var p = o.Prior;
        var policy = p is PolicyPrior;
        return new JsonObject
        {
            ["prior_id"] = p.DerivedUpsertKey,
            ["kind"] = policy ? "POLICY" : "FAILURE",
            [policy ? "policy_reason_code" : "failure_reason_code"] = p.Code,
            ["action_kind"] = p.Key.ActionKind,
            ["target_kind"] = p.Key.TargetKind,
            ["target_id"] = p.Key.TargetId,
            ["support_count"] = p.SupportCount,
            ["contradiction_count"] = p.ContradictionCount,
            ["confidence_permille"] = p.ConfidencePermille,
            ["last_seen_at"] = new UnixNanos(p.LastSeenTs).ToString(),
            ["use"] = WireNames.Of(o.Use),
            ["text"] = Text(p),
        };
    }

    /// <summary>The sentence a planner or a person reads.</summary>
    private static string Text(Capsule p)
    {
        var times = $"{p.SupportCount.ToString(CultureInfo.InvariantCulture)} time(s)";
        if (p is PolicyPrior && p.Code == ReasonCodes.AccessApRequired.Name)
            return $"{p.Key.ActionKind} by {p.Key.TargetId} was escalated for approval {times} ({p.Code}): this action for this actor usually needs approval";
        return p is PolicyPrior
            ? $"{p.Key.ActionKind} by {p.Key.TargetId} was refused {times} with {p.Code}: this action for this actor is usually refused"
            : $"{p.Key.ActionKind} by {p.Key.TargetId} failed {times} with {p.Code}: expect it to fail the same way until that is mended";
    }
}
