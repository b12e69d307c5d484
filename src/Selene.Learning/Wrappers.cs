using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Selene.Learning;

/// <summary>What a fact says happened (wrapper/v1 <c>signal</c>). The first three are the explicit failure/denial signals.</summary>
public enum WrapperSignal
{
    /// <summary>The turn gate refused (a TURN_DECISION that is not a success).</summary>
    FailedGate,
    /// <summary>A guard said no: the access gate, an engine's state machine, a request refused (a policy code).</summary>
    Deny,
    /// <summary>Something went wrong (a failure code): storage, a provider, a broken invariant.</summary>
    Failure,
    /// <summary>A simulation's effect committed (STATE_TRANSITION): the promoted result.</summary>
    Promoted,
    /// <summary>A success that is no promoted result (an ALLOW, a CONFIRM move): a fact without a wrapper.</summary>
    Observed,
}

/// <summary>
/// The fallback mode a fact was ingested under (wrapper/v1 <c>wrapper_policy</c>, persisted with the fact for audit and
/// replay), which says what the binder may mint from it (reference §7).
/// </summary>
public enum WrapperPolicy
{
    /// <summary>Capsules only from explicit failure or denial wrappers.</summary>
    Strict,
    /// <summary>Also from facts without a wrapper that trip a versioned anomaly trigger (<see cref="AnomalyTriggers"/>).</summary>
    Hybrid,
    /// <summary>From every fact.</summary>
    Lenient,
}

/// <summary>
/// The TaskSpec backbone key of a fact (reference §2.1) as Selene reads its journal: <see cref="Scope"/> is always
/// <c>TENANT</c> (facts never cross tenants), the target is the acting user (<c>USER</c>, the user id), the action is the
/// simulation id, and <see cref="FailureReasonCode"/> what went wrong (empty when nothing did).
/// </summary>
public sealed record TaskSpecKey(string Scope, string TargetKind, string TargetId, string ActionKind, string FailureReasonCode)
{
    public const string TenantScope = "TENANT";
    public const string UserTarget = "USER";

    /// <summary>The key without its failure code: what a turn asks priors for, and what a promoted result contradicts.</summary>
    [JsonIgnore]
    public (string Scope, string TargetKind, string TargetId, string ActionKind) Subject => (Scope, TargetKind, TargetId, ActionKind);
}

/// <summary>
/// One fact of the learning loop (wrapper/v1): a journal entry of a tenant read as a wrapper. <see cref="EventId"/> is
/// deterministic (<see cref="Wrappers.EventIdOf"/>: run, sequence and the digest of the entry's canonical content), so
/// reading the same journal again gives the same facts. <see cref="RunId"/> is the correlation, <see cref="Sequence"/>
/// the journal seq, <see cref="GroupId"/> the turn's decision group (<c>correlation:turn</c>), <see cref="TaskId"/> the
/// event id (one task per fact), <see cref="EvidenceRefs"/> <c>journal:&lt;seq&gt;:&lt;hash&gt;</c>. <see cref="Guard"/> is the
/// entry read as its guard's evaluation (guard_eval/v1); <see cref="Transition"/>, for an engine's STATE_TRANSITION or
/// SIMULATION_REFUSED, as the state machine's transition evaluation (transition_eval/v1).
/// </summary>
public sealed record LearnFact(
    string EventId,
    string RunId,
    long Sequence,
    string TaskId,
    string GroupId,
    WrapperSignal Signal,
    WrapperPolicy WrapperPolicy,
    TaskSpecKey Key,
    string PolicyReasonCode,
    string Engine,
    string EventType,
    string ReasonCode,
    IReadOnlyList<string> GateSet,
    IReadOnlyList<string> EvidenceRefs,
    string SourceDigest,
    long ObservedAt,
    GuardEval Guard,
    TransitionEval? Transition = null)
{
    /// <summary>An explicit failure or denial wrapper (what Strict mode mints from).</summary>
    [JsonIgnore]
    public bool IsExplicitFailureOrDenial => Signal is WrapperSignal.FailedGate or WrapperSignal.Deny or WrapperSignal.Failure;

    /// <summary>The fact's reason semantics.</summary>
    [JsonIgnore]
    public ReasonSemantics Semantics => new(Key.FailureReasonCode, PolicyReasonCode);

    /// <summary>Canonical JSON of the fact (wrapper/v1).</summary>
    public string Canonical() => CanonicalJson.SerializeToString(this);
}

/// <summary>What reading one journal entry gave.</summary>
public abstract record WrapperResult
{
    private WrapperResult() { }

    /// <summary>A fact (a wrapper, or a fact without one when its signal is OBSERVED).</summary>
    public sealed record Fact(LearnFact Value) : WrapperResult;

    /// <summary>Not learning input: the entry names no simulation (a chat turn, an audit entry, a rebuild).</summary>
    public sealed record Skipped : WrapperResult;

    /// <summary>Learning input that cannot be read: kept aside with the reason, never silently dropped.</summary>
    public sealed record Quarantined(long Sequence, ReasonCode Reason, string Detail) : WrapperResult;
}

/// <summary>
/// K1: turns journal entries into facts, and checks a fact against the wrapper contract. Pure: the caller hands in the
/// entry, the fallback mode and the reason-code registry.
/// </summary>
public static class Wrappers
{
    /// <summary>What a journal entry names when it concerns no simulation.</summary>
    private static readonly HashSet<string> NoSimulation = new(StringComparer.Ordinal) { "NONE", JournalPayload.EmptyValue };

    /// <summary>
    /// event_id = <c>evt-</c> + the first 32 hex digits of SHA-256 over the canonical JSON of run id, sequence and the source
    /// digest (reference §2.3 format, made deterministic as §13.1 asks).
    /// </summary>
    public static string EventIdOf(string runId, long sequence, string sourceDigest) =>
        "evt-" + Hashing.Sha256Hex(CanonicalJson.Serialize(new object[] { runId, sequence, sourceDigest }))[..32];

    /// <summary>The digest of a journal entry's content: engine, event type, reason code and its canonical payload.</summary>
    public static string SourceDigestOf(JournalRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return Hashing.Sha256Hex(CanonicalJson.Serialize(new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["engine"] = r.Engine,
            ["event_type"] = r.EventType,
            ["reason_code"] = r.ReasonCode,
            ["payload"] = JsonDocument.Parse(r.PayloadJson).RootElement,
        }));
    }

    /// <summary>
    /// Reads one journal entry. An entry naming a simulation (payload <c>simulation_id</c>) is learning input: it becomes a
    /// fact, or is quarantined with the reason it cannot be one. Everything else is skipped.
    /// </summary>
    public static WrapperResult FromJournal(JournalRecord entry, WrapperPolicy policy, ReasonCodeRegistry registry, GuardrailsBundle? bundle = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(registry);
        bundle ??= GuardrailsBundle.Selene;
        Dictionary<string, string> payload;
        try
        {
            payload = JsonSerializer.Deserialize<Dictionary<string, string>>(entry.PayloadJson) ?? throw new JsonException("null payload");
        }
        catch (JsonException ex)
        {
            return new WrapperResult.Quarantined(entry.Seq, LearnReasons.LearnWrapperPayloadInvalid, $"the payload is not a JSON object of strings ({ex.Message})");
        }
        if (!payload.TryGetValue("simulation_id", out var simulation) || NoSimulation.Contains(simulation)) return new WrapperResult.Skipped();

        if (string.IsNullOrEmpty(entry.ActorUserId))
            return new WrapperResult.Quarantined(entry.Seq, LearnReasons.LearnWrapperFieldMissing, "the entry names a simulation but no acting user: no TaskSpec target");
        if (!registry.TryGet(entry.ReasonCode, out var reason))
            return new WrapperResult.Quarantined(entry.Seq, LearnReasons.LearnWrapperReasonUnknown, $"reason code {IdRules.Shorten(entry.ReasonCode)} is not registered");
        if (payload.ContainsKey(ReasonSemantics.FailureField) && payload.ContainsKey(ReasonSemantics.PolicyField))
            return new WrapperResult.Quarantined(entry.Seq, LearnReasons.LearnWrapperSplitViolated, "the entry names both failure_reason_code and policy_reason_code");

        // The legacy alias: an entry written before the split names its refusal only as its reason_code.
        var fields = new Dictionary<string, string>(payload, StringComparer.Ordinal);
        var refusal = RefusalClassification.Of(reason);
        if (refusal is not null) fields[ReasonSemantics.LegacyFailureAlias] = reason.Name;
        var semantics = ReasonSemantics.AtIngest(fields);
        foreach (var named in new[] { semantics.FailureReasonCode, semantics.PolicyReasonCode }.Where(c => c.Length > 0))
            if (!registry.TryGet(named, out _))
                return new WrapperResult.Quarantined(entry.Seq, LearnReasons.LearnWrapperReasonUnknown, $"the split names {IdRules.Shorten(named)}, which is not registered");

        var signal =
            semantics.FailureReasonCode.Length == 0 && semantics.PolicyReasonCode.Length == 0
                ? entry.EventType == "STATE_TRANSITION" ? WrapperSignal.Promoted : WrapperSignal.Observed
            : entry.EventType == "TURN_DECISION" ? WrapperSignal.FailedGate
            : semantics.PolicyReasonCode.Length > 0 ? WrapperSignal.Deny
            : WrapperSignal.Failure;

        // The entry as its guard's evaluation. An entry of no guard the bundle knows is SKIP when it allowed; when it refused,
        // the bundle's unknowns policy decides (DENY).
        string[] evidence = [$"journal:{entry.Seq.ToString(CultureInfo.InvariantCulture)}:{entry.Hash}"];
        var spec = bundle.GuardOf(entry.Engine, entry.EventType);
        var refusedCode = semantics.PolicyReasonCode.Length > 0 ? semantics.PolicyReasonCode : semantics.FailureReasonCode;
        var refused = refusedCode.Length > 0;
        var guard = new GuardEval(spec?.GuardId ?? $"{entry.Engine}:{entry.EventType}",
            refused ? GuardStatus.Fail : spec is null ? GuardStatus.Skip : GuardStatus.Pass,
            refused ? spec?.DenyDecision ?? bundle.UnknownsPolicy.OnUnknownTransition : GuardDecision.Allow,
            refused ? [refusedCode] : [], evidence);
        var transition = entry.EventType switch
        {
            "STATE_TRANSITION" => new TransitionEval(simulation, State(payload, "state_from"), State(payload, "state_to"), GuardDecision.Allow, [], [], evidence),
            "SIMULATION_REFUSED" => new TransitionEval(simulation, State(payload, "state"), State(payload, "state"), guard.Decision, guard.ReasonCodes,
                refused ? [guard.GuardId] : [], evidence),
            _ => null,
        };

        var gates = new SortedSet<string>(StringComparer.Ordinal) { guard.GuardId };
        // The deciding rule inside the guard, where the entry names one: the turn's first failing guard, the access step.
        if (payload.TryGetValue("first_guard_failure", out var firstGuard) && !NoSimulation.Contains(firstGuard)) gates.Add("os.guard:" + firstGuard);
        if (payload.TryGetValue("gate_step", out var step)) gates.Add("access.step:" + step);

        var correlation = entry.CorrelationId;
        var digest = SourceDigestOf(entry);
        var eventId = EventIdOf(correlation, entry.Seq, digest);
        var fact = new LearnFact(eventId, correlation, entry.Seq, eventId,
            correlation + ":" + entry.TurnId.ToString(CultureInfo.InvariantCulture), signal, policy,
            new TaskSpecKey(TaskSpecKey.TenantScope, TaskSpecKey.UserTarget, entry.ActorUserId, simulation, semantics.FailureReasonCode),
            semantics.PolicyReasonCode, entry.Engine, entry.EventType, entry.ReasonCode, [.. gates], evidence, digest, entry.CreatedAt, guard, transition);
        return Validate(fact) is { } invalid ? new WrapperResult.Quarantined(entry.Seq, invalid.Reason, invalid.Detail) : new WrapperResult.Fact(fact);
    }

    /// <summary>A state the entry names, or NONE (entries written before it named one).</summary>
    private static string State(IReadOnlyDictionary<string, string> payload, string key) => payload.GetValueOrDefault(key) ?? "NONE";

    /// <summary>
    /// The wrapper contract (K1): every envelope field present, the TaskSpec key complete, the split kept (never both
    /// codes), and the event id the one the run, sequence and source digest give. Null when the fact holds.
    /// </summary>
    public static JsonInputError? Validate(LearnFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        (string Name, string? Value)[] required =
        [
            ("run_id", fact.RunId), ("task_id", fact.TaskId), ("group_id", fact.GroupId), ("key.scope", fact.Key?.Scope),
            ("key.target_kind", fact.Key?.TargetKind), ("key.target_id", fact.Key?.TargetId), ("key.action_kind", fact.Key?.ActionKind),
            ("engine", fact.Engine), ("event_type", fact.EventType), ("reason_code", fact.ReasonCode), ("source_digest", fact.SourceDigest),
        ];
        foreach (var (name, value) in required)
            if (string.IsNullOrEmpty(value)) return new JsonInputError(LearnReasons.LearnWrapperFieldMissing, $"the wrapper has no {name}");
        if (fact.Sequence < 1) return new JsonInputError(LearnReasons.LearnWrapperFieldMissing, "the wrapper has no sequence (>= 1)");
        if (!Enum.IsDefined(fact.Signal) || !Enum.IsDefined(fact.WrapperPolicy))
            return new JsonInputError(LearnReasons.LearnWrapperFieldMissing, "the wrapper's signal or wrapper_policy is not one of the contract's");
        if (fact.EvidenceRefs is not { Count: > 0 } || fact.GateSet is null)
            return new JsonInputError(LearnReasons.LearnWrapperFieldMissing, "the wrapper has no evidence reference");
        if (fact.Guard is null || string.IsNullOrEmpty(fact.Guard.GuardId) || !fact.GateSet.Contains(fact.Guard.GuardId, StringComparer.Ordinal))
            return new JsonInputError(LearnReasons.LearnWrapperFieldMissing, "the wrapper has no guard evaluation, or its gate set does not name its guard");
        if ((fact.Guard.Status == GuardStatus.Fail) != fact.IsExplicitFailureOrDenial)
            return new JsonInputError(LearnReasons.LearnWrapperSplitViolated, "the guard evaluation's status does not match the wrapper's signal");
        if (fact.Key!.FailureReasonCode.Length > 0 && fact.PolicyReasonCode.Length > 0)
            return new JsonInputError(LearnReasons.LearnWrapperSplitViolated, "a wrapper names a failure or a policy code, never both");
        if (fact.IsExplicitFailureOrDenial != (fact.Key.FailureReasonCode.Length > 0 || fact.PolicyReasonCode.Length > 0))
            return new JsonInputError(LearnReasons.LearnWrapperSplitViolated, $"signal {WireNames.Of(fact.Signal)} does not match the codes it names");
        if (!string.Equals(fact.EventId, EventIdOf(fact.RunId, fact.Sequence, fact.SourceDigest), StringComparison.Ordinal))
            return new JsonInputError(LearnReasons.LearnWrapperLineageMismatch, "event_id is not the one run_id, sequence and source_digest give");
        return null;
    }
}
