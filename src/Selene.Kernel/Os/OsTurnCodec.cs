using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Selene.Kernel.Os;

/// <summary>
/// The journal form of a turn: <see cref="Write"/> renders an <see cref="OsTopLevelInput"/> as JSON and
/// <see cref="TryRead"/> reads it back, so that a recorded turn fed to <see cref="OsTurnSlice.Run"/> again gives
/// the same move and reason code. <c>TryRead(Write(x))</c> equals <c>x</c> for every input, including inputs the
/// slice would refuse (a journal records what the runtime saw, valid or not).
/// </summary>
/// <remarks>
/// <para>Layout (schema_version 1): snake_case members; enums as their UPPER_SNAKE <see cref="WireNames"/>;
/// correlation ids as decimal strings (they exceed JSON's safe integers), turn ids and the other numbers as
/// integers; <c>voice_context</c> and <c>move.clarify_owner_engine_id</c> are omitted when absent. A correlation or
/// turn id of 0 (a <c>default</c> value) is written as 0 and read back as <c>default</c>; a null string where the
/// type has no other way to say "missing" (an engine id in a list, an outcome row's text) is written as JSON null.
/// Hashing uses <see cref="CanonicalJson"/> over the written object, which sorts members.</para>
/// <para>Reading is strict: every member is required unless listed above as omitted-when-absent, unknown or
/// repeated members are errors, numbers must be integers in range, enum names must be declared.
/// <see cref="Write"/> throws <see cref="ArgumentOutOfRangeException"/> for an enum value outside its declared
/// members, which no parsed input can hold.</para>
/// </remarks>
public static class OsTurnCodec
{
    /// <summary>The journal schema version written and accepted.</summary>
    public const int SchemaVersion = 1;

    private static readonly string[] TopMembers =
    [
        "schema_version", "correlation_id", "turn_id", "path", "voice_context", "always_on_completed_sequence",
        "optional_requested", "max_optional_invocations", "posture", "move", "governance", "execution_deps", "outcomes", "simulation_legacy_do_not_wire",
    ];

    private static readonly string[] PostureMembers =
        ["session_active", "transcript_ok", "nlp_confidence_high", "requires_confirmation", "confirmation_received", "prompt_policy_gate_ok"];

    private static readonly string[] MoveMembers =
    [
        "chat_requested", "clarify_required", "clarify_owner_engine_id", "confirm_required", "explain_requested",
        "wait_required", "tool_requested", "simulation_requested",
    ];

    private static readonly string[] GovernanceMembers = ["policy", "tenant", "gov", "quota", "work", "capreq"];

    private static readonly string[] DepsMembers =
        ["access_allowed", "blueprint_active", "simulation_active", "idempotency_required", "idempotency_key_present", "lease_required", "lease_valid"];

    private static readonly string[] VoiceMembers = ["platform", "trigger"];

    private static readonly string[] OutcomeMembers =
        ["engine_id", "outcome_type", "correlation_id", "turn_id", "action_class", "consumed_by", "latency_cost_ms", "decision_delta", "reason_code"];

    /// <summary>Renders <paramref name="input"/> in the journal layout.</summary>
    public static JsonObject Write(OsTopLevelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var root = new JsonObject
        {
            ["schema_version"] = SchemaVersion,
            ["correlation_id"] = Correlation(input.Correlation),
            ["turn_id"] = input.Turn.Value,
            ["path"] = Name(input.Path),
        };
        if (input.Voice is { } voice)
            root["voice_context"] = new JsonObject { ["platform"] = Name(voice.Platform), ["trigger"] = Name(voice.Trigger) };
        root["always_on_completed_sequence"] = Strings(input.AlwaysOnCompletedSequence);
        root["optional_requested"] = Strings(input.OptionalRequested);
        root["max_optional_invocations"] = input.MaxOptionalInvocations;

        var p = input.Posture;
        root["posture"] = new JsonObject
        {
            ["session_active"] = p.SessionActive,
            ["transcript_ok"] = p.TranscriptOk,
            ["nlp_confidence_high"] = p.NlpConfidenceHigh,
            ["requires_confirmation"] = p.RequiresConfirmation,
            ["confirmation_received"] = p.ConfirmationReceived,
            ["prompt_policy_gate_ok"] = p.PromptPolicyGateOk,
        };

        var m = input.Move;
        var move = new JsonObject { ["chat_requested"] = m.ChatRequested, ["clarify_required"] = m.ClarifyRequired };
        if (m.ClarifyOwnerEngineId is { } owner) move["clarify_owner_engine_id"] = owner;
        move["confirm_required"] = m.ConfirmRequired;
        move["explain_requested"] = m.ExplainRequested;
        move["wait_required"] = m.WaitRequired;
        move["tool_requested"] = m.ToolRequested;
        move["simulation_requested"] = m.SimulationRequested;
        root["move"] = move;

        var g = input.Governance;
        root["governance"] = new JsonObject
        {
            ["policy"] = Name(g.Policy),
            ["tenant"] = Name(g.Tenant),
            ["gov"] = Name(g.Gov),
            ["quota"] = Name(g.Quota),
            ["work"] = Name(g.Work),
            ["capreq"] = Name(g.Capreq),
        };

        var d = input.Deps;
        root["execution_deps"] = new JsonObject
        {
            ["access_allowed"] = d.AccessAllowed,
            ["blueprint_active"] = d.BlueprintActive,
            ["simulation_active"] = d.SimulationActive,
            ["idempotency_required"] = d.IdempotencyRequired,
            ["idempotency_key_present"] = d.IdempotencyKeyPresent,
            ["lease_required"] = d.LeaseRequired,
            ["lease_valid"] = d.LeaseValid,
        };

        var outcomes = new JsonArray();
        foreach (var e in input.Outcomes)
        {
            outcomes.Add(new JsonObject
            {
                ["engine_id"] = e.EngineId,
                ["outcome_type"] = e.OutcomeType,
                ["correlation_id"] = Correlation(e.Correlation),
                ["turn_id"] = e.Turn.Value,
                ["action_class"] = Name(e.ActionClass),
                ["consumed_by"] = e.ConsumedBy,
                ["latency_cost_ms"] = e.LatencyCostMs,
                ["decision_delta"] = e.DecisionDelta,
                ["reason_code"] = e.ReasonCode,
            });
        }
        root["outcomes"] = outcomes;
        // Written only when set, so turns recorded before the flag existed keep their bytes and hashes.
        if (input.SimulationLegacyDoNotWire) root["simulation_legacy_do_not_wire"] = true;
        return root;
    }

    /// <summary>
    /// Renders the whole OS_POLICY_EVALUATE output as the seed names it: the reason code, every <c>*_gate_ok</c>,
    /// GATE-U1..U3 with the echoed optional-budget fields, the dispatch legality, the bounded guard failures and the
    /// invariants. A refused or missing evaluation renders its kind and reason with every gate false.
    /// </summary>
    public static JsonObject WritePolicy(in OsPolicyResult policy)
    {
        var b = policy.OptionalBudget;
        return new JsonObject
        {
            ["reason_code"] = policy.Reason.Name,
            ["evaluated"] = policy.IsOk,
            ["session_gate_ok"] = policy.SessionGateOk,
            ["understanding_gate_ok"] = policy.UnderstandingGateOk,
            ["confirmation_gate_ok"] = policy.ConfirmationGateOk,
            ["prompt_policy_gate_ok"] = policy.PromptPolicyGateOk,
            ["policy_gate_ok"] = policy.PolicyGateOk,
            ["tenant_gate_ok"] = policy.TenantGateOk,
            ["gov_gate_ok"] = policy.GovGateOk,
            ["quota_gate_ok"] = policy.QuotaGateOk,
            ["work_gate_ok"] = policy.WorkGateOk,
            ["capreq_gate_ok"] = policy.CapreqGateOk,
            ["governance_contradiction_detected"] = policy.GovernanceContradictionDetected,
            ["access_gate_ok"] = policy.AccessGateOk,
            ["blueprint_gate_ok"] = policy.BlueprintGateOk,
            ["simulation_gate_ok"] = policy.SimulationGateOk,
            ["idempotency_gate_ok"] = policy.IdempotencyGateOk,
            ["lease_gate_ok"] = policy.LeaseGateOk,
            ["gate_u1_classification_complete"] = policy.OutcomeClassificationComplete,
            ["gate_u2_unresolved_outcomes_zero"] = policy.UnresolvedOutcomesZero,
            ["gate_u3_optional_budget_enforced"] = policy.OptionalBudgetEnforced,
            ["classification_coverage_pct"] = policy.ClassificationCoveragePct,
            ["outcome_entries_evaluated"] = policy.OutcomeEntriesEvaluated,
            ["unresolved_outcomes"] = policy.UnresolvedOutcomes,
            ["optional_budget_enforced"] = b.Enforced,
            ["optional_invocations_requested"] = b.InvocationsRequested,
            ["optional_invocations_budget"] = b.InvocationsBudget,
            ["optional_invocations_skipped_budget"] = b.InvocationsSkippedBudget,
            ["optional_latency_budget_ms"] = b.LatencyBudgetMs,
            ["optional_latency_estimated_ms"] = b.LatencyEstimatedMs,
            ["tool_dispatch_allowed"] = policy.ToolDispatchAllowed,
            ["simulation_dispatch_allowed"] = policy.SimulationDispatchAllowed,
            ["execution_allowed"] = policy.ExecutionAllowed,
            ["guard_failures"] = Strings([.. OsGuardFailureNames.Render(policy.GuardFailures)]),
            // The gate refuses any input that does not hold the invariants, so an evaluation that ran preserved them.
            ["no_engine_to_engine_calls"] = policy.IsOk,
            ["no_simulation_no_execution"] = policy.IsOk,
            ["one_turn_one_move"] = policy.IsOk,
        };
    }

    /// <summary>
    /// Reads a turn written by <see cref="Write"/>. On failure <paramref name="error"/> says which member is wrong
    /// and <paramref name="input"/> is null.
    /// </summary>
    public static bool TryRead(JsonElement element, [NotNullWhen(true)] out OsTopLevelInput? input, [NotNullWhen(false)] out string? error)
    {
        input = null;
        try
        {
            input = Read(element);
            error = null;
            return true;
        }
        catch (CodecException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    private static OsTopLevelInput Read(JsonElement element)
    {
        var root = Members(element, "turn", TopMembers, "voice_context", "simulation_legacy_do_not_wire");
        if (Int(root["schema_version"], "schema_version") != SchemaVersion)
            throw new CodecException($"schema_version must be {SchemaVersion}");

        OsVoiceContext? voice = null;
        if (root.TryGetValue("voice_context", out var voiceElement))
        {
            var v = Members(voiceElement, "voice_context", VoiceMembers);
            voice = new OsVoiceContext(EnumValue<VoicePlatform>(v["platform"], "voice_context.platform"), EnumValue<VoiceTrigger>(v["trigger"], "voice_context.trigger"));
        }

        var p = Members(root["posture"], "posture", PostureMembers);
        var m = Members(root["move"], "move", MoveMembers, "clarify_owner_engine_id");
        var g = Members(root["governance"], "governance", GovernanceMembers);
        var d = Members(root["execution_deps"], "execution_deps", DepsMembers);

        return new OsTopLevelInput
        {
            Correlation = Correlation(root["correlation_id"], "correlation_id"),
            Turn = Turn(root["turn_id"], "turn_id"),
            Path = EnumValue<TurnPath>(root["path"], "path"),
            Voice = voice,
            AlwaysOnCompletedSequence = StringArray(root["always_on_completed_sequence"], "always_on_completed_sequence"),
            OptionalRequested = StringArray(root["optional_requested"], "optional_requested"),
            MaxOptionalInvocations = Byte(root["max_optional_invocations"], "max_optional_invocations"),
            Posture = new OsTurnPosture(
                Bool(p, "session_active", "posture"), Bool(p, "transcript_ok", "posture"), Bool(p, "nlp_confidence_high", "posture"),
                Bool(p, "requires_confirmation", "posture"), Bool(p, "confirmation_received", "posture"), Bool(p, "prompt_policy_gate_ok", "posture")),
            Move = new OsMoveRequest(
                Bool(m, "chat_requested", "move"), Bool(m, "clarify_required", "move"),
                m.TryGetValue("clarify_owner_engine_id", out var owner) ? String(owner, "move.clarify_owner_engine_id") : null,
                Bool(m, "confirm_required", "move"), Bool(m, "explain_requested", "move"), Bool(m, "wait_required", "move"),
                Bool(m, "tool_requested", "move"), Bool(m, "simulation_requested", "move")),
            Governance = new OsGovernanceDecisions(
                EnumValue<OsGateDecision>(g["policy"], "governance.policy"), EnumValue<OsGateDecision>(g["tenant"], "governance.tenant"),
                EnumValue<OsGateDecision>(g["gov"], "governance.gov"), EnumValue<OsGateDecision>(g["quota"], "governance.quota"),
                EnumValue<OsGateDecision>(g["work"], "governance.work"), EnumValue<OsGateDecision>(g["capreq"], "governance.capreq")),
            Deps = new OsExecutionDeps(
                Bool(d, "access_allowed", "execution_deps"), Bool(d, "blueprint_active", "execution_deps"),
                Bool(d, "simulation_active", "execution_deps"), Bool(d, "idempotency_required", "execution_deps"),
                Bool(d, "idempotency_key_present", "execution_deps"), Bool(d, "lease_required", "execution_deps"),
                Bool(d, "lease_valid", "execution_deps")),
            Outcomes = Outcomes(root["outcomes"]),
            SimulationLegacyDoNotWire = root.TryGetValue("simulation_legacy_do_not_wire", out var legacy) && LegacyFlag(legacy),
        };
    }

    private static ImmutableArray<OsOutcomeEntry> Outcomes(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array) throw new CodecException("outcomes must be an array");
        var builder = ImmutableArray.CreateBuilder<OsOutcomeEntry>(element.GetArrayLength());
        var index = 0;
        foreach (var item in element.EnumerateArray())
        {
            var at = $"outcomes[{index++}]";
            var o = Members(item, at, OutcomeMembers);
            builder.Add(new OsOutcomeEntry(
                NullableString(o["engine_id"], at + ".engine_id")!,
                NullableString(o["outcome_type"], at + ".outcome_type")!,
                Correlation(o["correlation_id"], at + ".correlation_id"),
                Turn(o["turn_id"], at + ".turn_id"),
                EnumValue<OsOutcomeActionClass>(o["action_class"], at + ".action_class"),
                NullableString(o["consumed_by"], at + ".consumed_by")!,
                UInt(o["latency_cost_ms"], at + ".latency_cost_ms"),
                Bool(o, "decision_delta", at),
                NullableString(o["reason_code"], at + ".reason_code")!));
        }
        return builder.MoveToImmutable();
    }

    // ---- writing helpers ---------------------------------------------------------------------------

    private static string Correlation(CorrelationId id) => id.Value.ToString(CultureInfo.InvariantCulture);

    private static string Name<T>(T value) where T : struct, Enum =>
        Enum.IsDefined(value) ? WireNames.Of(value) : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a declared {typeof(T).Name}");

    private static JsonArray Strings(ImmutableArray<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values) array.Add(value is null ? null : JsonValue.Create(value));
        return array;
    }

    // ---- reading helpers ---------------------------------------------------------------------------

    // Private to the reader and never escapes TryRead: it keeps the member-by-member reading linear instead of
    // threading an error through every helper. Callers only ever see the bool and the message.
    private sealed class CodecException(string message) : Exception(message);

    private static bool LegacyFlag(JsonElement e) =>
        e.ValueKind == JsonValueKind.True ? true : throw new CodecException("simulation_legacy_do_not_wire is written only as true");

    private static Dictionary<string, JsonElement> Members(JsonElement element, string where, string[] allowed, params string[] optional)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new CodecException($"{where} must be an object");
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0) throw new CodecException($"{where} has an unknown member '{IdRules.Shorten(property.Name)}'");
            if (!members.TryAdd(property.Name, property.Value)) throw new CodecException($"{where} repeats member '{property.Name}'");
        }
        foreach (var name in allowed)
        {
            if (!members.ContainsKey(name) && Array.IndexOf(optional, name) < 0) throw new CodecException($"{where} lacks member '{name}'");
        }
        return members;
    }

    private static bool Bool(Dictionary<string, JsonElement> members, string name, string where) => members[name].ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new CodecException($"{where}.{name} must be a boolean"),
    };

    private static string String(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new CodecException($"{where} must be a string");

    private static string? NullableString(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Null ? null : String(element, where);

    private static ImmutableArray<string> StringArray(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Array) throw new CodecException($"{where} must be an array");
        var builder = ImmutableArray.CreateBuilder<string>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray()) builder.Add(NullableString(item, where)!);
        return builder.MoveToImmutable();
    }

    private static T EnumValue<T>(JsonElement element, string where) where T : struct, Enum =>
        WireNames.TryParse<T>(String(element, where), out var value) ? value : throw new CodecException($"{where} is not a {typeof(T).Name}");

    private static CorrelationId Correlation(JsonElement element, string where)
    {
        var text = String(element, where);
        if (text == "0") return default;
        return CorrelationId.TryParse(text, out var id) && id.ToString() == text
            ? id
            : throw new CodecException($"{where} must be a decimal string without leading zeros");
    }

    private static TurnId Turn(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetUInt64(out var value)) throw new CodecException($"{where} must be an unsigned 64-bit integer");
        return value == 0 ? default : new TurnId(value);
    }

    private static int Int(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value) ? value : throw new CodecException($"{where} must be an integer");

    private static byte Byte(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetByte(out var value) ? value : throw new CodecException($"{where} must be an integer 0..255");

    private static uint UInt(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetUInt32(out var value) ? value : throw new CodecException($"{where} must be an unsigned 32-bit integer");
}
