namespace Selene.Learning.Tests;

/// <summary>K1: journal entries become facts with deterministic lineage; invalid ones are quarantined with a reason code.</summary>
public sealed class WrapperTests
{
    [Fact]
    public void EveryFailedGate_Denial_AndPromotedResult_BecomesAWrapper_OtherSuccessesAreFactsWithoutOne()
    {
        var gate = Journal.Fact(Journal.TurnRefused(1, "42"));
        Assert.Equal(WrapperSignal.FailedGate, gate.Signal);
        Assert.Equal("OS_FAIL_ACCESS_GATE", gate.PolicyReasonCode);
        Assert.Contains("os.guard:ACCESS_GATE", gate.GateSet);
        Assert.Equal(WrapperSignal.Deny, Journal.Fact(Journal.AccessRefused(2, "42")).Signal);
        Assert.Equal(WrapperSignal.Promoted, Journal.Fact(Journal.Promoted(3, "42")).Signal);
        var allowed = Journal.Fact(Journal.AccessAllowed(4, "42"));
        Assert.Equal(WrapperSignal.Observed, allowed.Signal);
        Assert.False(allowed.IsExplicitFailureOrDenial);
    }

    [Fact]
    public void EachFact_CarriesItsGuardEvaluation_AndAStateMachineEntry_ItsTransitionEvaluation()
    {
        var denied = Journal.Fact(Journal.AccessRefused(1, "42"));
        Assert.Equal(new[] { "access.gate", GuardStatus.Fail.ToString(), GuardDecision.Deny.ToString(), "ACCESS_AP_REQUIRED" },
            new[] { denied.Guard.GuardId, denied.Guard.Status.ToString(), denied.Guard.Decision.ToString(), Assert.Single(denied.Guard.ReasonCodes) });
        Assert.Equal(denied.EvidenceRefs, denied.Guard.EvidenceRefs);
        Assert.Null(denied.Transition);
        var allowed = Journal.Fact(Journal.AccessAllowed(2, "42"));
        Assert.Equal((GuardStatus.Pass, GuardDecision.Allow), (allowed.Guard.Status, allowed.Guard.Decision));
        Assert.Empty(allowed.Guard.ReasonCodes);

        var promoted = Journal.Fact(Journal.Promoted(3, "42"));
        Assert.Equal(("engine.state_machine", GuardStatus.Pass), (promoted.Guard.GuardId, promoted.Guard.Status));
        Assert.Equal(new TransitionEval("CAPREQ_APPROVE_COMMIT", "SUBMITTED", "APPROVED", GuardDecision.Allow, [], [], promoted.EvidenceRefs).Canonical(),
            promoted.Transition!.Canonical());
        var refused = Journal.Fact(Journal.Entry(4, "42", 1, "PH1.CAPREQ", "SIMULATION_REFUSED", Journal.Registry.All.First(c => c.Name == "OS_FAIL_ACCESS_GATE"),
            new Dictionary<string, string> { ["simulation_id"] = "CAPREQ_APPROVE_COMMIT", ["state"] = "DRAFT" }));
        Assert.Equal(("DRAFT", "DRAFT", GuardDecision.Deny), (refused.Transition!.FromState, refused.Transition.ToState, refused.Transition.Decision));
        Assert.Equal(["engine.state_machine"], refused.Transition.ViolatedGuards);

        // A refusal of an entry no guard of the bundle claims: the unknowns policy denies.
        var unknown = Journal.Fact(Journal.Entry(5, "42", 1, "PH1.X", "SOMETHING_REFUSED", ReasonCodes.StorageUnavailable,
            new Dictionary<string, string> { ["simulation_id"] = "CAPREQ_APPROVE_COMMIT" }));
        Assert.Equal(("PH1.X:SOMETHING_REFUSED", GuardStatus.Fail, GuardrailsBundle.Selene.UnknownsPolicy.OnUnknownTransition),
            (unknown.Guard.GuardId, unknown.Guard.Status, unknown.Guard.Decision));
    }

    [Fact]
    public void Wrapper_CarriesTheEnvelopeAndTheTaskSpecKey()
    {
        var entry = Journal.AccessRefused(9, "4242", at: 77);
        var fact = Journal.Fact(entry, WrapperPolicy.Hybrid);
        Assert.Equal("4242", fact.RunId);
        Assert.Equal("4242:1", fact.GroupId);
        Assert.Equal(9, fact.Sequence);
        Assert.Equal(WrapperPolicy.Hybrid, fact.WrapperPolicy);
        Assert.Equal(new TaskSpecKey("TENANT", "USER", "erin", "CAPREQ_APPROVE_COMMIT", ""), fact.Key);
        Assert.Equal([$"journal:9:{entry.Hash}"], fact.EvidenceRefs);
        Assert.Equal(77, fact.ObservedAt);
        Assert.Matches("^evt-[0-9a-f]{32}$", fact.EventId);
        Assert.Null(Wrappers.Validate(fact));
    }

    [Fact]
    public void EventId_IsDeterministic_AndFollowsRunSequenceAndContent()
    {
        var a = Journal.Fact(Journal.AccessRefused(9, "4242"));
        var again = Journal.Fact(Journal.AccessRefused(9, "4242"), WrapperPolicy.Lenient);
        Assert.Equal(a.EventId, again.EventId); // the wrapper policy is not part of the lineage: re-ingesting in another mode stores nothing twice
        Assert.NotEqual(a.EventId, Journal.Fact(Journal.AccessRefused(10, "4242")).EventId);
        Assert.NotEqual(a.EventId, Journal.Fact(Journal.AccessRefused(9, "4243")).EventId);
        Assert.NotEqual(a.EventId, Journal.Fact(Journal.AccessRefused(9, "4242", "CAPREQ_REJECT_COMMIT")).EventId);
    }

    [Fact]
    public void EntriesWithoutASimulation_AreSkipped()
    {
        var chat = Journal.Entry(1, "42", 1, ReasonCodes.EngineOs, "TURN_DECISION", ReasonCodes.OsFailAccessGate,
            new Dictionary<string, string> { ["simulation_id"] = "NONE" });
        Assert.IsType<WrapperResult.Skipped>(Wrappers.FromJournal(chat, WrapperPolicy.Strict, Journal.Registry));
        var rebuild = Journal.Entry(2, "42", 1, "PH1.CAPREQ", "PROJECTION_REBUILT", ReasonCodes.AccessAllowed, new Dictionary<string, string>());
        Assert.IsType<WrapperResult.Skipped>(Wrappers.FromJournal(rebuild, WrapperPolicy.Strict, Journal.Registry));
    }

    public static TheoryData<string, JournalRecord> Invalid => new()
    {
        { "LEARN_WRAPPER_SPLIT_VIOLATED", Journal.Entry(1, "42", 1, "PH1.ACCESS", "ACCESS_DECISION", ReasonCodes.AccessApRequired,
            new Dictionary<string, string> { ["simulation_id"] = "X", ["failure_reason_code"] = "STORAGE_UNAVAILABLE" }) },
        { "LEARN_WRAPPER_FIELD_MISSING", Journal.AccessRefused(2, "42") with { ActorUserId = null } },
        { "LEARN_WRAPPER_REASON_UNKNOWN", Journal.AccessRefused(3, "42") with { ReasonCode = "NOT_A_CODE" } },
        { "LEARN_WRAPPER_REASON_UNKNOWN", Journal.Entry(4, "42", 1, "PH1.ACCESS", "ACCESS_DECISION", ReasonCodes.AccessAllowed,
            new Dictionary<string, string> { ["simulation_id"] = "X", ["policy_reason_code"] = "NOT_A_CODE" }) },
        { "LEARN_WRAPPER_PAYLOAD_INVALID", Journal.AccessRefused(5, "42") with { PayloadJson = """{"simulation_id":["X"]}""" } },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidEntries_AreQuarantined_WithAnExplicitReason(string reason, JournalRecord entry)
    {
        var result = Assert.IsType<WrapperResult.Quarantined>(Wrappers.FromJournal(entry, WrapperPolicy.Strict, Journal.Registry));
        Assert.Equal(reason, result.Reason.Name);
        Assert.Equal(entry.Seq, result.Sequence);
        Assert.NotEmpty(result.Detail);
    }

    [Fact]
    public void Validate_RejectsAWrapperWithAMissingFieldOrAForgedLineage()
    {
        var fact = Journal.Fact(Journal.AccessRefused(9, "4242"));
        Assert.Equal(LearnReasons.LearnWrapperFieldMissing, Wrappers.Validate(fact with { GroupId = "" })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperFieldMissing, Wrappers.Validate(fact with { EvidenceRefs = [] })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperFieldMissing, Wrappers.Validate(fact with { Key = fact.Key with { ActionKind = "" } })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperLineageMismatch, Wrappers.Validate(fact with { Sequence = 10 })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperSplitViolated, Wrappers.Validate(fact with { Key = fact.Key with { FailureReasonCode = "STORAGE_UNAVAILABLE" } })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperSplitViolated, Wrappers.Validate(fact with { Signal = WrapperSignal.Promoted })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperSplitViolated, Wrappers.Validate(fact with { Guard = fact.Guard with { Status = GuardStatus.Pass } })!.Reason);
        Assert.Equal(LearnReasons.LearnWrapperFieldMissing, Wrappers.Validate(fact with { Guard = fact.Guard with { GuardId = "elsewhere" } })!.Reason);
    }
}
