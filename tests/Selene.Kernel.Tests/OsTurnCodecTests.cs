using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Kernel.Os;
using static Selene.Kernel.Tests.OsFixtures;
using static Selene.Kernel.Tests.OsTurns;

namespace Selene.Kernel.Tests;

/// <summary>The turn journal codec: layout, strict reading, and a recorded turn that must keep replaying.</summary>
public sealed class OsTurnCodecTests
{
    // A turn recorded by schema_version 1, in canonical form. Decision logic may change; this journal must still
    // read and replay to the move it was recorded with (CONVENTIONS.md: keep recorded journals as fixtures).
    private const string RecordedVoiceTurn =
        """{"always_on_completed_sequence":["PH1.K","PH1.W","PH1.VOICE.ID","PH1.C","PH1.SRL","PH1.NLP","PH1.CONTEXT","PH1.POLICY","PH1.X"],"correlation_id":"340282366920938463463374607431768211455","execution_deps":{"access_allowed":true,"blueprint_active":true,"idempotency_key_present":true,"idempotency_required":true,"lease_required":false,"lease_valid":false,"simulation_active":true},"governance":{"capreq":"ALLOW","gov":"ALLOW","policy":"ALLOW","quota":"ALLOW","tenant":"ALLOW","work":"ALLOW"},"max_optional_invocations":1,"move":{"chat_requested":false,"clarify_required":false,"confirm_required":false,"explain_requested":false,"simulation_requested":true,"tool_requested":false,"wait_required":false},"optional_requested":["PH1.SEARCH","PH1.DIAG","PH1.SEARCH"],"outcomes":[{"action_class":"QUEUE_LEARN","consumed_by":"PH1.LEARN","correlation_id":"340282366920938463463374607431768211455","decision_delta":true,"engine_id":"PH1.NLP","latency_cost_ms":6,"outcome_type":"INTENT_DRAFT","reason_code":"NLP_OK","turn_id":18446744073709551615}],"path":"VOICE","posture":{"confirmation_received":false,"nlp_confidence_high":true,"prompt_policy_gate_ok":true,"requires_confirmation":false,"session_active":true,"transcript_ok":true},"schema_version":1,"turn_id":18446744073709551615,"voice_context":{"platform":"ANDROID","trigger":"WAKE_WORD"}}""";

    private static OsTopLevelInput RecordedInput()
    {
        var correlation = new CorrelationId(UInt128.MaxValue);
        var turn = new TurnId(ulong.MaxValue);
        return Voice(VoiceTrigger.WakeWord, Simulation) with
        {
            Correlation = correlation,
            Turn = turn,
            Voice = new OsVoiceContext(VoicePlatform.Android, VoiceTrigger.WakeWord),
            OptionalRequested = ["PH1.SEARCH", "PH1.DIAG", "PH1.SEARCH"],
            MaxOptionalInvocations = 1,
            Outcomes = [new OsOutcomeEntry("PH1.NLP", "INTENT_DRAFT", correlation, turn, OsOutcomeActionClass.QueueLearn, "PH1.LEARN", 6, true, "NLP_OK")],
        };
    }

    private static string Canonical(JsonObject json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json.ToJsonString())));

    private static bool TryRead(string json, out OsTopLevelInput? input, out string? error)
    {
        using var document = JsonDocument.Parse(json);
        return OsTurnCodec.TryRead(document.RootElement, out input, out error);
    }

    [Fact]
    public void Write_RecordedTurn_MatchesTheJournalFixture()
    {
        Assert.Equal(RecordedVoiceTurn, Canonical(OsTurnCodec.Write(RecordedInput())));
    }

    [Fact]
    public void TryRead_RecordedTurn_ReplaysToTheRecordedMove()
    {
        Assert.True(TryRead(RecordedVoiceTurn, out var input, out var error), error);
        Assert.Equal(RecordedInput(), input);

        var turn = Forwarded(OsTurnSlice.Run(input!, OsConfig.Mvp));
        Assert.Equal(OsNextMove.DispatchSimulation, turn.Decision.Move);
        Assert.Equal(ReasonCodes.OsOkDecisionCompute, turn.Reason);
        Assert.Equal(["PH1.DIAG"], turn.OptionalInvoked.ToArray());
        Assert.Equal(["PH1.SEARCH"], turn.OptionalSkippedBudget.ToArray());
    }

    [Fact]
    public void Write_TextTurnWithoutOwner_OmitsVoiceContextAndClarifyOwner()
    {
        var json = OsTurnCodec.Write(Text(Chat));
        Assert.False(json.ContainsKey("voice_context"));
        Assert.False(json["move"]!.AsObject().ContainsKey("clarify_owner_engine_id"));
        Assert.Equal("TEXT", json["path"]!.GetValue<string>());
        Assert.Equal("7701", json["correlation_id"]!.GetValue<string>());

        var clarify = OsTurnCodec.Write(Text(Clarify));
        Assert.Equal("PH1.NLP", clarify["move"]!["clarify_owner_engine_id"]!.GetValue<string>());
    }

    [Fact]
    public void Write_UndeclaredEnumValue_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OsTurnCodec.Write(Text(Chat) with { Path = (TurnPath)3 }));
    }

    [Fact]
    public void RoundTrip_DefaultIdsAndNullStrings_AreCarried()
    {
        var odd = Text(Chat, null!, "") with
        {
            Correlation = default,
            Turn = default,
            Outcomes = [new OsOutcomeEntry(null!, "", default, default, OsOutcomeActionClass.ActNow, "NONE", uint.MaxValue, false, "é\"\n")],
        };
        Assert.True(TryRead(OsTurnCodec.Write(odd).ToJsonString(), out var read, out var error), error);
        Assert.Equal(odd, read);
        // The slice refuses it the same way either way.
        Assert.Equal(OsTurnSlice.Run(odd, OsConfig.Mvp), OsTurnSlice.Run(read!, OsConfig.Mvp));
    }

    public static TheoryData<string, string, string> Corruptions => new()
    {
        // JSON pointer-ish member path, replacement JSON (or "-" to delete), expected error fragment
        { "schema_version", "2", "schema_version" },
        { "correlation_id", "7701", "correlation_id" },
        { "correlation_id", "\"07701\"", "correlation_id" },
        { "correlation_id", "\"-1\"", "correlation_id" },
        { "turn_id", "-1", "turn_id" },
        { "turn_id", "1.5", "turn_id" },
        { "turn_id", "\"1\"", "turn_id" },
        { "path", "\"text\"", "path" },
        { "path", "\"AUDIO\"", "path" },
        { "max_optional_invocations", "256", "max_optional_invocations" },
        { "always_on_completed_sequence", "[1]", "always_on_completed_sequence" },
        { "optional_requested", "\"PH1.LANG\"", "optional_requested" },
        { "posture", "-", "posture" },
        { "posture.session_active", "1", "posture.session_active" },
        { "move.clarify_owner_engine_id", "null", "move.clarify_owner_engine_id" },
        { "move.tool_requested", "-", "move" },
        { "governance.gov", "\"MAYBE\"", "governance.gov" },
        { "execution_deps.lease_valid", "null", "execution_deps.lease_valid" },
        { "outcomes", "{}", "outcomes" },
        { "outcomes.0.action_class", "\"act_now\"", "outcomes[0].action_class" },
        { "outcomes.0.latency_cost_ms", "4294967296", "outcomes[0].latency_cost_ms" },
        { "outcomes.0.surprise", "true", "outcomes[0]" },
        { "voice_context.trigger", "\"CLAP\"", "voice_context.trigger" },
        { "extra", "true", "unknown member 'extra'" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void TryRead_CorruptedJournal_FailsWithTheMember(string member, string replacement, string fragment)
    {
        var json = OsTurnCodec.Write(RecordedInput());
        var path = member.Split('.');
        JsonNode parent = json;
        foreach (var step in path[..^1]) parent = int.TryParse(step, out var i) ? parent[i]! : parent[step]!;
        var last = path[^1];
        if (replacement == "-") parent.AsObject().Remove(last);
        else parent[last] = JsonNode.Parse(replacement);

        Assert.False(TryRead(json.ToJsonString(), out var input, out var error));
        Assert.Null(input);
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_RepeatedMember_Fails()
    {
        var json = OsTurnCodec.Write(Text(Chat)).ToJsonString().Replace("\"path\":\"TEXT\"", "\"path\":\"TEXT\",\"path\":\"TEXT\"", StringComparison.Ordinal);
        Assert.False(TryRead(json, out _, out var error));
        Assert.Contains("repeats member 'path'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_NotAnObject_Fails()
    {
        Assert.False(TryRead("[]", out _, out var error));
        Assert.Contains("must be an object", error, StringComparison.Ordinal);
    }
}
