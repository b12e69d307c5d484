using System.Buffers;

namespace Selene.Kernel.Os;

/// <summary>The one next move PH1.OS emits per turn (reference §1.1).</summary>
public enum OsNextMove
{
    /// <summary>Answer in chat; also the move when nothing else was requested.</summary>
    Respond,
    /// <summary>Ask exactly one blocking question (owned by PH1.NLP).</summary>
    Clarify,
    /// <summary>Ask the user to confirm before a commit.</summary>
    Confirm,
    /// <summary>Run one read-only tool.</summary>
    DispatchTool,
    /// <summary>Run one simulation through the executor.</summary>
    DispatchSimulation,
    /// <summary>Explain the previous outcome.</summary>
    Explain,
    /// <summary>Wait (no session, or a wait was asked for).</summary>
    Wait,
    /// <summary>Refuse; always fail-closed.</summary>
    Refuse,
}

/// <summary>A governance gate's input decision; only <see cref="Allow"/> passes (reference §1.1).</summary>
public enum OsGateDecision
{
    /// <summary>Passes.</summary>
    Allow,
    /// <summary>Refused by that governance engine.</summary>
    Deny,
    /// <summary>Needs an approval first.</summary>
    Escalate,
    /// <summary>The governance engine could not decide.</summary>
    Invalid,
}

/// <summary>What an optional engine's outcome asked for (reference §1.1).</summary>
public enum OsOutcomeActionClass
{
    /// <summary>Must be consumed this turn.</summary>
    ActNow,
    /// <summary>Must be consumed by learning.</summary>
    QueueLearn,
    /// <summary>Recorded for audit only.</summary>
    AuditOnly,
    /// <summary>Had no value; dropped.</summary>
    Drop,
}

/// <summary>
/// One outcome-utilization row (reference §1.2): what an engine produced this turn and whether anything consumed
/// it. <see cref="ConsumedBy"/> is <c>"NONE"</c> when nothing did.
/// </summary>
public readonly record struct OsOutcomeEntry(
    string EngineId,
    string OutcomeType,
    CorrelationId Correlation,
    TurnId Turn,
    OsOutcomeActionClass ActionClass,
    string ConsumedBy,
    uint LatencyCostMs,
    bool DecisionDelta,
    string ReasonCode)
{
    /// <summary>The <see cref="ConsumedBy"/> value meaning "not consumed".</summary>
    public const string NotConsumed = "NONE";
}

/// <summary>
/// Engine ids and wiring classes (reference §0.5). <see cref="TurnOptional"/> is in canonical order, which is also
/// the invocation order.
/// </summary>
public static class OsEngineIds
{
    /// <summary>The only engine allowed to own a clarify (reference §1.1).</summary>
    public const string ClarifyOwner = "PH1.NLP";

    /// <summary>ALWAYS_ON engines.</summary>
    public static IReadOnlyList<string> AlwaysOn { get; } =
        ["PH1.K", "PH1.W", "PH1.VOICE.ID", "PH1.C", "PH1.SRL", "PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];

    /// <summary>TURN_OPTIONAL engines in canonical order (reference §0.5).</summary>
    public static IReadOnlyList<string> TurnOptional { get; } =
    [
        "PH1.ENDPOINT", "PH1.LANG", "PH1.PRON", "PH1.DOC", "PH1.SUMMARY", "PH1.VISION", "PH1.PRUNE", "PH1.DIAG",
        "PH1.SEARCH", "PH1.COST", "PH1.PREFETCH", "PH1.EXPLAIN", "PH1.LISTEN", "PH1.EMO.GUIDE", "PH1.EMO.CORE",
        "PH1.PERSONA", "PH1.FEEDBACK", "PH1.LEARN", "PH1.PAE", "PH1.CACHE", "PH1.KNOW", "PH1.MULTI", "PH1.KG",
        "PH1.BCAST", "PH1.DELIVERY",
    ];

    /// <summary>OFFLINE_ONLY engines: never in a live turn.</summary>
    public static IReadOnlyList<string> OfflineOnly { get; } = ["PH1.PATTERN", "PH1.RLL"];

    /// <summary>Control-plane engines: never in a live turn.</summary>
    public static IReadOnlyList<string> ControlPlane { get; } = ["PH1.GOV", "PH1.EXPORT", "PH1.KMS"];

    /// <summary>ENTERPRISE_SUPPORT engines.</summary>
    public static IReadOnlyList<string> EnterpriseSupport { get; } =
        ["PH1.TENANT", "PH1.GOV", "PH1.QUOTA", "PH1.WORK", "PH1.LEASE", "PH1.OS", "PH1.HEALTH", "PH1.SCHED", "PH1.KMS", "PH1.EXPORT"];

    /// <summary>True when <paramref name="engineId"/> may not appear in a live turn (offline or control plane).</summary>
    public static bool IsRuntimeForbidden(string engineId) =>
        OfflineOnly.Contains(engineId, StringComparer.Ordinal) || ControlPlane.Contains(engineId, StringComparer.Ordinal);

    /// <summary>Engine id syntax (reference §1.6): ASCII <c>[A-Z0-9._]</c>, 1..64 characters.</summary>
    public static bool IsWellFormed(string? engineId) =>
        engineId is { Length: > 0 and <= 64 } && !engineId.AsSpan().ContainsAnyExcept(EngineIdChars);

    // A span search, not LINQ: the gate checks outcome rows on every turn and must not allocate.
    private static readonly SearchValues<char> EngineIdChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._");
}
