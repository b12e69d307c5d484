using System.Text.Json;

namespace Selene.Learning.Tests;

/// <summary>
/// K0: the contract baseline. Every schema is pinned by the SHA-256 of its canonical text (a change fails here until the
/// pin, and the version where a reader breaks, is moved on purpose), each schema names exactly the fields its record
/// serializes, and the reason semantics keep the failure/policy split with the legacy alias read at ingest only.
/// </summary>
public sealed class ContractTests
{
    /// <summary>The pins. Moving one is a contract change: bump the schema id when a reader of the old one would break.</summary>
    private static readonly Dictionary<string, string> Pins = new(StringComparer.Ordinal)
    {
        [LearnSchemas.CapsuleId] = "ba753f0fadd2d5978ecee72981f6ec7c5a176e72e93c4bafe552d75cbcb30958",
        [LearnSchemas.GuardEvalId] = "2d4f7089049089d0b2ed910fbca8c3ff8af92056dfa445a618da8ba27f3fbdcc",
        [LearnSchemas.GuardrailsBundleId] = "4fe6ffd519f49209ce8a10e677601ccb52ea0da330c61dcdc1bdfc157581f20b",
        [LearnSchemas.ReasonSemanticsId] = "609ced522b0368ecab3dc7ab3b197728ebd50e858c14652a69b5d6306f63ac11",
        [LearnSchemas.TransitionEvalId] = "d0e457da92e74ba279b8cae558df89338c78a27cddceb1692af2bacdd39d59b3",
        [LearnSchemas.WrapperId] = "f1c0cafbf751e0fab36d57c9c276910ff0bc0c4f4ecd98e63a178a89e461a748",
    };

    [Fact]
    public void PinnedSchemas_MatchTheirPins_SoDriftFailsTheBuild()
    {
        Assert.Equal(Pins.Keys.Order(StringComparer.Ordinal), LearnSchemas.All.Select(s => s.Id));
        Assert.All(LearnSchemas.All, s => Assert.True(Pins[s.Id] == s.Sha256, $"{s.Id} drifted: its canonical text now hashes to {s.Sha256}"));
    }

    [Fact]
    public void PinnedSchemas_AreCanonicalAndNameTheirOwnId()
    {
        foreach (var schema in LearnSchemas.All)
        {
            var again = System.Text.Encoding.UTF8.GetString(CanonicalJson.Canonicalize(System.Text.Encoding.UTF8.GetBytes(schema.CanonicalText)));
            Assert.Equal(schema.CanonicalText, again);
            using var doc = JsonDocument.Parse(schema.CanonicalText);
            Assert.Equal(schema.Id, doc.RootElement.GetProperty("$id").GetString());
        }
    }

    private static string[] Required(PinnedSchema schema)
    {
        using var doc = JsonDocument.Parse(schema.CanonicalText);
        return doc.RootElement.GetProperty("required").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    private static string[] Keys(string canonical)
    {
        using var doc = JsonDocument.Parse(canonical);
        return doc.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void EachSchema_NamesExactlyTheFieldsItsRecordSerializes()
    {
        var fact = Journal.Fact(Journal.AccessRefused(7, "42"));
        Assert.Equal(Required(LearnSchemas.Wrapper), Keys(fact.Canonical()));
        Assert.Equal(Required(LearnSchemas.GuardrailsBundle), Keys(GuardrailsBundle.Selene.Canonical()));
        Assert.Equal(Required(LearnSchemas.GuardEval), Keys(new GuardEval("access.gate", GuardStatus.Fail, GuardDecision.Deny, ["ACCESS_AP_REQUIRED"], ["journal:7:ab"]).Canonical()));
        Assert.Equal(Required(LearnSchemas.TransitionEval),
            Keys(new TransitionEval("CAPREQ_APPROVE_COMMIT", "SUBMITTED", "APPROVED", GuardDecision.Allow, [], [], ["journal:8:cd"]).Canonical()));
        Assert.Equal(Required(LearnSchemas.ReasonSemantics), Keys(CanonicalJson.SerializeToString(ReasonSemantics.None)));
        var capsule = Binder.Bind([], [new BindInput(fact, 1)]).Changed.Single();
        Assert.Equal(Required(LearnSchemas.Capsule), Keys(capsule.Canonical()));
    }

    [Fact]
    public void GuardrailsBundle_DeniesUnknownsWithNoneAllowed()
    {
        var bundle = GuardrailsBundle.Selene;
        Assert.Equal(GuardDecision.Deny, bundle.UnknownsPolicy.OnUnknownState);
        Assert.Equal(GuardDecision.Deny, bundle.UnknownsPolicy.OnUnknownTransition);
        Assert.Equal(0, bundle.UnknownsPolicy.MaxUnknowns);
        Assert.True(Journal.Registry.TryGet(bundle.UnknownsPolicy.ReasonCode, out _));
        Assert.Equal("access.gate", bundle.GuardOf("PH1.ACCESS", "ACCESS_DECISION")!.GuardId);
        Assert.Equal("engine.state_machine", bundle.GuardOf("PH1.CAPREQ", "SIMULATION_REFUSED")!.GuardId);
        Assert.Equal("engine.state_machine", bundle.GuardOf("PH1.CAPREQ", "STATE_TRANSITION")!.GuardId);
        Assert.Null(bundle.GuardOf("PH1.ACCESS", "ACCESS_ESCALATION_CASE_OPENED"));
    }

    /// <summary>Seed minimum test 1: a guard denial sets policy_reason_code without overwriting failure_reason_code.</summary>
    [Fact]
    public void SemanticsSplit_GuardDenialSetsPolicyReasonCode_WithoutOverwritingFailureReasonCode()
    {
        var failed = ReasonSemantics.None.WithFailure("STORAGE_UNAVAILABLE");
        var denied = failed.WithGuardDenial("ACCESS_AP_REQUIRED");
        Assert.Equal("STORAGE_UNAVAILABLE", denied.FailureReasonCode);
        Assert.Equal("ACCESS_AP_REQUIRED", denied.PolicyReasonCode);

        // Read from the journal: the access gate's denial lands in the policy field, the failure field stays empty,
        // and a failure lands in the failure field with the policy field empty.
        var deny = Journal.Fact(Journal.AccessRefused(3, "42"));
        Assert.Equal(("", "ACCESS_AP_REQUIRED"), (deny.Key.FailureReasonCode, deny.PolicyReasonCode));
        Assert.Equal(WrapperSignal.Deny, deny.Signal);
        var failure = Journal.Fact(Journal.StorageFailed(4, "43"));
        Assert.Equal(("STORAGE_UNAVAILABLE", ""), (failure.Key.FailureReasonCode, failure.PolicyReasonCode));
        Assert.Equal(WrapperSignal.Failure, failure.Signal);
    }

    [Fact]
    public void LegacyAlias_IsReadAtIngestOnly_AndNeverOverAnExplicitField()
    {
        Assert.Equal(new ReasonSemantics("STORAGE_UNAVAILABLE", ""),
            ReasonSemantics.AtIngest(new Dictionary<string, string> { ["reason_code"] = "STORAGE_UNAVAILABLE" }));
        Assert.Equal(new ReasonSemantics("", "ACCESS_AP_REQUIRED"),
            ReasonSemantics.AtIngest(new Dictionary<string, string> { ["guard_reason_code"] = "ACCESS_AP_REQUIRED" }));
        // An explicit split field wins: the alias is not read beside it.
        Assert.Equal(new ReasonSemantics("", "ACCESS_AP_REQUIRED"),
            ReasonSemantics.AtIngest(new Dictionary<string, string> { ["policy_reason_code"] = "ACCESS_AP_REQUIRED", ["reason_code"] = "OS_FAIL_ACCESS_GATE" }));

        var refused = ReasonSemantics.FromQuery(new Dictionary<string, string> { ["reason_code"] = "STORAGE_UNAVAILABLE" }, out _);
        Assert.Equal(LearnReasons.LearnReasonAliasRefused, refused!.Reason);
        Assert.Null(ReasonSemantics.FromQuery(new Dictionary<string, string> { ["failure_reason_code"] = "STORAGE_UNAVAILABLE" }, out var query));
        Assert.Equal("STORAGE_UNAVAILABLE", query.FailureReasonCode);

        // A journal entry written before the split names its refusal only as its reason code: the alias makes it a failure.
        var legacy = Journal.Entry(5, "44", 1, "PH1.ACCESS", "ACCESS_DECISION", ReasonCodes.AccessApRequired,
            new Dictionary<string, string> { ["simulation_id"] = "CAPREQ_APPROVE_COMMIT" }, split: false);
        var fact = Journal.Fact(legacy);
        Assert.Equal(("ACCESS_AP_REQUIRED", ""), (fact.Key.FailureReasonCode, fact.PolicyReasonCode));
    }
}
