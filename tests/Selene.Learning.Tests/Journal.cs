using System.Text.Json.Nodes;

namespace Selene.Learning.Tests;

/// <summary>Journal entries as the kernel records them (payload with the failure/policy split), for the pure tests.</summary>
internal static class Journal
{
    /// <summary>The kernel's codes and the learning loop's: what the tests resolve codes against.</summary>
    public static ReasonCodeRegistry Registry { get; } = ReasonCodes.Kernel.Extend(LearnReasons.All);

    public static JournalRecord Entry(long seq, string correlation, long turn, string engine, string eventType, ReasonCode reason,
        IReadOnlyDictionary<string, string> payload, string? actor = "erin", long at = 1_000, bool split = true)
    {
        var body = new JsonObject();
        foreach (var (k, v) in payload) body[k] = v;
        if (split && RefusalClassification.Of(reason) is { } refusal) body[RefusalClassification.FieldOf(refusal)] = reason.Name;
        return new JournalRecord("acme", seq, correlation, turn, engine, eventType, reason.Name, reason.Id, body.ToJsonString(), actor, null, at,
            new string('0', 64), Hashing.Sha256Hex($"entry-{seq}-{correlation}"));
    }

    /// <summary>The access gate refusing <paramref name="simulation"/> for erin (ACCESS_AP_REQUIRED at step 4).</summary>
    public static JournalRecord AccessRefused(long seq, string correlation, string simulation = "CAPREQ_APPROVE_COMMIT", long at = 1_000, string actor = "erin") =>
        Entry(seq, correlation, 1, "PH1.ACCESS", "ACCESS_DECISION", ReasonCodes.AccessApRequired,
            new Dictionary<string, string> { ["simulation_id"] = simulation, ["access_decision"] = "ESCALATE", ["gate_step"] = "4" }, actor, at);

    /// <summary>The turn gate failing on the access gate.</summary>
    public static JournalRecord TurnRefused(long seq, string correlation, string simulation = "CAPREQ_APPROVE_COMMIT", long at = 1_000) =>
        Entry(seq, correlation, 1, ReasonCodes.EngineOs, "TURN_DECISION", ReasonCodes.OsFailAccessGate,
            new Dictionary<string, string> { ["simulation_id"] = simulation, ["next_move"] = "REFUSE", ["first_guard_failure"] = "ACCESS_GATE" }, at: at);

    /// <summary>The access gate allowing it.</summary>
    public static JournalRecord AccessAllowed(long seq, string correlation, string simulation = "CAPREQ_APPROVE_COMMIT", long at = 1_000) =>
        Entry(seq, correlation, 1, "PH1.ACCESS", "ACCESS_DECISION", ReasonCodes.AccessAllowed,
            new Dictionary<string, string> { ["simulation_id"] = simulation, ["access_decision"] = "ALLOW", ["gate_step"] = "3" }, at: at);

    /// <summary>The simulation's effect committing.</summary>
    public static JournalRecord Promoted(long seq, string correlation, string simulation = "CAPREQ_APPROVE_COMMIT", long at = 1_000) =>
        Entry(seq, correlation, 1, "PH1.CAPREQ", "STATE_TRANSITION", LearnReasons.LearnModeSet,
            new Dictionary<string, string> { ["simulation_id"] = simulation, ["state_from"] = "SUBMITTED", ["state_to"] = "APPROVED" }, at: at);

    /// <summary>A storage failure recorded for the simulation.</summary>
    public static JournalRecord StorageFailed(long seq, string correlation, string simulation = "CAPREQ_APPROVE_COMMIT", long at = 1_000) =>
        Entry(seq, correlation, 1, ReasonCodes.EngineApi, "REQUEST_REFUSED", ReasonCodes.StorageUnavailable,
            new Dictionary<string, string> { ["simulation_id"] = simulation, ["request"] = "POST /v1/simulations" }, at: at);

    public static LearnFact Fact(JournalRecord entry, WrapperPolicy policy = WrapperPolicy.Strict) =>
        Assert.IsType<WrapperResult.Fact>(Wrappers.FromJournal(entry, policy, Registry)).Value;
}
