using Selene.Runtime.Platform;

namespace Selene.Contracts.Tests;

/// <summary>
/// Failure vs policy (issue 15 item 2): one classification by reason kind, covering every kind and every registered code,
/// and the journal payload field each refusal is recorded with (docs/decisions.md, "Failure and policy reason codes").
/// </summary>
public sealed class RefusalClassificationTests
{
    [Theory]
    [InlineData(ReasonKind.Invalid, RefusalClass.Policy)]
    [InlineData(ReasonKind.Unauthenticated, RefusalClass.Policy)]
    [InlineData(ReasonKind.Forbidden, RefusalClass.Policy)]
    [InlineData(ReasonKind.NotFound, RefusalClass.Policy)]
    [InlineData(ReasonKind.MethodNotAllowed, RefusalClass.Policy)]
    [InlineData(ReasonKind.Conflict, RefusalClass.Policy)]
    [InlineData(ReasonKind.TooLarge, RefusalClass.Policy)]
    [InlineData(ReasonKind.UnsupportedMediaType, RefusalClass.Policy)]
    [InlineData(ReasonKind.QuotaExceeded, RefusalClass.Policy)]
    [InlineData(ReasonKind.Unavailable, RefusalClass.Failure)]
    [InlineData(ReasonKind.Internal, RefusalClass.Failure)]
    public void Of_RefusalKind_IsItsClass(ReasonKind kind, RefusalClass expected) =>
        Assert.Equal(expected, RefusalClassification.Of(kind));

    [Fact]
    public void Of_Success_IsNoRefusal() => Assert.Null(RefusalClassification.Of(ReasonKind.Success));

    [Fact]
    public void Of_EveryKind_IsClassified()
    {
        // A kind added to ReasonKind without an arm in the table throws here until it is classified (and documented).
        Assert.All(Enum.GetValues<ReasonKind>(), kind => Assert.Equal(kind == ReasonKind.Success, RefusalClassification.Of(kind) is null));
    }

    [Fact]
    public void Of_UndefinedKind_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RefusalClassification.Of((ReasonKind)999));

    [Fact]
    public void Of_EveryRegisteredCode_IsClassified_ByItsKind()
    {
        // The whole process registry: the kernel's and every module's codes.
        var codes = EngineModules.Reasons.All;
        Assert.NotEmpty(codes);
        Assert.All(codes, c => Assert.Equal(RefusalClassification.Of(c.Kind), RefusalClassification.Of(c)));
        Assert.All(codes.Where(c => c.Kind != ReasonKind.Success), c => Assert.NotNull(RefusalClassification.Of(c)));
    }

    [Fact]
    public void Of_TheDocumentedExamples_AreWhatTheDecisionsSay()
    {
        Assert.Equal(RefusalClass.Failure, RefusalClassification.Of(ReasonCodes.StorageUnavailable));
        Assert.Equal(RefusalClass.Failure, RefusalClassification.Of(ReasonCodes.StorageSerializationRetry));
        Assert.Equal(RefusalClass.Failure, RefusalClassification.Of(ReasonCodes.InternalError));
        Assert.Equal(RefusalClass.Failure, RefusalClassification.Of(Selene.Engines.Delivery.DeliveryReasons.DeliveryProviderSendFailed));
        Assert.Equal(RefusalClass.Policy, RefusalClassification.Of(ReasonCodes.OsFailAccessGate));
        Assert.Equal(RefusalClass.Policy, RefusalClassification.Of(ReasonCodes.AccessApRequired));
        Assert.Equal(RefusalClass.Policy, RefusalClassification.Of(ReasonCodes.GovKillSwitchActive));
        Assert.Equal(RefusalClass.Policy, RefusalClassification.Of(ReasonCodes.QuotaUserDailyExceeded));
        Assert.Equal(RefusalClass.Policy, RefusalClassification.Of(ReasonCodes.SchedMaxRetriesReached));
        Assert.Equal(RefusalClass.Policy, RefusalClassification.Of(ReasonCodes.InputSchemaInvalid));
    }

    [Fact]
    public void Annotate_Policy_AddsOnlyThePolicyField()
    {
        var payload = RefusalClassification.Annotate(JournalPayload.Create(("simulation_id", "CAPREQ_APPROVE_COMMIT")), ReasonCodes.AccessApRequired);
        Assert.Equal("ACCESS_AP_REQUIRED", payload.Entries[RefusalClassification.PolicyField]);
        Assert.False(payload.Entries.ContainsKey(RefusalClassification.FailureField));
        Assert.Equal("CAPREQ_APPROVE_COMMIT", payload.Entries["simulation_id"]);
    }

    [Fact]
    public void Annotate_Failure_AddsOnlyTheFailureField()
    {
        var payload = RefusalClassification.Annotate(JournalPayload.Create(("attempt", "1")), ReasonCodes.StorageUnavailable);
        Assert.Equal("STORAGE_UNAVAILABLE", payload.Entries[RefusalClassification.FailureField]);
        Assert.False(payload.Entries.ContainsKey(RefusalClassification.PolicyField));
    }

    [Fact]
    public void Annotate_Success_LeavesThePayloadAsItIs()
    {
        var payload = JournalPayload.Create(("state_to", "APPROVED"));
        Assert.Same(payload, RefusalClassification.Annotate(payload, ReasonCodes.AccessAllowed));
    }

    [Fact]
    public void Annotate_FullPayload_StaysWithinTheJournalsBounds()
    {
        // A caller's values already at the bound: the field still fits, the longest value is cut instead.
        var full = JournalPayload.Create(("request", new string('r', 256)), ("detail", new string('d', 256)), ("a", new string('a', 256)),
            ("b", new string('b', 256)), ("c", new string('c', 256)), ("e", new string('e', 256)), ("f", new string('f', 256)), ("g", new string('g', 256)));
        var annotated = RefusalClassification.Annotate(full, ReasonCodes.InputSchemaInvalid);
        Assert.Equal("INPUT_SCHEMA_INVALID", annotated.Entries[RefusalClassification.PolicyField]);
        Assert.Null(JournalPayload.Validate(annotated.Entries, out _));
    }

    [Fact]
    public void RecordedPayload_UsesTheRefusedCode_WhenTheEntrysOwnIsASuccess()
    {
        var entry = new JournalEntry(new CorrelationId(1), new TurnId(1), ReasonCodes.EngineWork, "OUTBOX_ATTEMPT_DEFERRED", ReasonCodes.OutboxAttemptDeferred,
            JournalPayload.Create(("cause_reason_code", "GOV_KILL_SWITCH_ACTIVE")), "alice", null, Refused: ReasonCodes.GovKillSwitchActive);
        Assert.Equal("GOV_KILL_SWITCH_ACTIVE", entry.RecordedPayload.Entries[RefusalClassification.PolicyField]);
        var plain = entry with { Refused = null };
        Assert.False(plain.RecordedPayload.Entries.ContainsKey(RefusalClassification.PolicyField));
    }
}
