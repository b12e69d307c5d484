using static Selene.Engines.Tests.CapreqFixture;

namespace Selene.Engines.Tests;

public sealed class CapreqValidateTests
{
    private const string FieldInvalid = "INPUT_FIELD_INVALID";
    private const string IdRequired = "CAPREQ_ID_REQUIRED";
    private const string WellFormedId = "capreq_0123456789abcdef";

    private static string? Reason(CapreqCommand command) => CapreqDecider.Validate(command)?.Reason.Name;

    public static TheoryData<string, string?> CapabilityCases() => new()
    {
        { "a", null },
        { "Payroll.export_v2-beta", null },
        { "9lives", null },
        { new string('a', CapreqDecider.MaxCapabilityIdLength), null },
        { new string('a', CapreqDecider.MaxCapabilityIdLength + 1), FieldInvalid },
        { "", FieldInvalid },
        { " ", FieldInvalid },
        { "_leading", FieldInvalid },
        { ".leading", FieldInvalid },
        { "-leading", FieldInvalid },
        { "has space", FieldInvalid },
        { "has/slash", FieldInvalid },
        { "has:colon", FieldInvalid },
        { "café", FieldInvalid },
        { "tab\t", FieldInvalid },
        { "nul\u0000", FieldInvalid },
    };

    public static TheoryData<string, string?> ScopeCases() => BoundedTextCases(CapreqDecider.MaxScopeRefLength);

    public static TheoryData<string, string?> JustificationCases() => BoundedTextCases(CapreqDecider.MaxJustificationLength);

    private static TheoryData<string, string?> BoundedTextCases(int max) => new()
    {
        { "x", null },
        { "org:acme/dept:finance (all rows) é ✓", null },
        { "  padded  ", null },
        { new string('s', max), null },
        { new string('s', max + 1), FieldInvalid },
        { "", FieldInvalid },
        { " ", FieldInvalid },
        { "   \u00A0 ", FieldInvalid },
        { "\t", FieldInvalid },
        { "line\nbreak", FieldInvalid },
        { "carriage\rreturn", FieldInvalid },
        { "tab\tinside", FieldInvalid },
        { "nul\u0000", FieldInvalid },
        { "bell\u0007", FieldInvalid },
        { "del\u007F", FieldInvalid },
        { "c1\u0085", FieldInvalid },
    };

    public static TheoryData<string?, string?> ReferenceCases() => new()
    {
        { null, null },
        { "r", null },
        { "approval-route/42", null },
        { new string('r', CapreqDecider.MaxReferenceLength), null },
        { new string('r', CapreqDecider.MaxReferenceLength + 1), FieldInvalid },
        { "", FieldInvalid },
        { "  ", FieldInvalid },
        { "line\nbreak", FieldInvalid },
        { "nul\u0000", FieldInvalid },
    };

    public static TheoryData<string?, string?> CapreqIdCases() => new()
    {
        { WellFormedId, null },
        { null, IdRequired },
        { "", IdRequired },
        { " ", FieldInvalid },
        { "capreq_0123456789ABCDEF", FieldInvalid },
        { "capreq_0123456789abcde", FieldInvalid },
        { "capreq_0123456789abcdef0", FieldInvalid },
        { "capreq_0123456789abcdeg", FieldInvalid },
        { "CAPREQ_0123456789abcdef", FieldInvalid },
        { " capreq_0123456789abcde", FieldInvalid },
        { "0123456789abcdef", FieldInvalid },
        { "capreq_payload_0123456789abcdef", FieldInvalid },
    };

    [Theory]
    [MemberData(nameof(CapabilityCases))]
    public void Validate_CapabilityId_IsBoundedTo128OfTheIdCharset(string capability, string? expected)
    {
        Assert.Equal(expected, Reason(new CreateCapreqDraft(capability, Scope, Justification)));
    }

    [Theory]
    [MemberData(nameof(ScopeCases))]
    public void Validate_TargetScopeRef_Is1To256PrintableChars(string scope, string? expected)
    {
        Assert.Equal(expected, Reason(new CreateCapreqDraft(Capability, scope, Justification)));
    }

    [Theory]
    [MemberData(nameof(JustificationCases))]
    public void Validate_Justification_Is1To1024PrintableChars(string justification, string? expected)
    {
        Assert.Equal(expected, Reason(new CreateCapreqDraft(Capability, Scope, justification)));
    }

    [Fact]
    public void Validate_NullContent_IsFieldInvalid()
    {
        Assert.Equal(FieldInvalid, Reason(new CreateCapreqDraft(null!, Scope, Justification)));
        Assert.Equal(FieldInvalid, Reason(new CreateCapreqDraft(Capability, null!, Justification)));
        Assert.Equal(FieldInvalid, Reason(new CreateCapreqDraft(Capability, Scope, null!)));
    }

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Validate_Reference_IsOptionalAnd1To256PrintableChars(string? reference, string? expected)
    {
        Assert.All(TransitionActions(), action => Assert.Equal(expected, Reason(new CapreqTransition(action, WellFormedId, reference))));
    }

    [Theory]
    [MemberData(nameof(CapreqIdCases))]
    public void Validate_CapreqId_IsRequiredAndWellFormed(string? capreqId, string? expected)
    {
        Assert.All(TransitionActions(), action => Assert.Equal(expected, Reason(new CapreqTransition(action, capreqId, "ref"))));
    }

    [Fact]
    public void Validate_TransitionOfKindCreateDraft_IsFieldInvalid()
    {
        Assert.Equal(FieldInvalid, Reason(new CapreqTransition(CapreqAction.CreateDraft, WellFormedId, null)));
    }

    [Fact]
    public void Validate_UnknownCommandType_IsSchemaInvalid()
    {
        Assert.Equal("INPUT_SCHEMA_INVALID", Reason(new UnknownCommand()));
    }

    [Fact]
    public void Validate_FirstBadField_IsReportedInDeclarationOrder()
    {
        var rejected = CapreqDecider.Validate(new CreateCapreqDraft("bad id", "", ""));
        Assert.NotNull(rejected);
        Assert.Contains("requested_capability_id", rejected.Detail, StringComparison.Ordinal);
        Assert.Contains("target_scope_ref", CapreqDecider.Validate(new CreateCapreqDraft(Capability, "", ""))!.Detail, StringComparison.Ordinal);
        Assert.Contains("justification", CapreqDecider.Validate(new CreateCapreqDraft(Capability, Scope, ""))!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_InvalidCommand_IsRefusedBeforeTheStateIsConsulted()
    {
        // No row, but the refusal names the bad input rather than CAPREQ_NOT_FOUND.
        var rejected = Rejected(CapreqDecider.Decide(null, new CapreqTransition(CapreqAction.Approve, "not-an-id", null), Context()));
        Assert.Equal(ReasonCodes.InputFieldInvalid, rejected.Reason);
        Assert.Equal(CapreqReasons.CapreqIdRequired, Rejected(CapreqDecider.Decide(null, new CapreqTransition(CapreqAction.Approve, null, null), Context())).Reason);
        Assert.Equal(ReasonCodes.InputFieldInvalid, Rejected(CapreqDecider.Decide(null, new CreateCapreqDraft(Capability, Scope, " "), Context())).Reason);
    }

    [Fact]
    public void Validate_UnpairedSurrogateInText_IsFieldInvalid()
    {
        Assert.Equal(FieldInvalid, Reason(new CreateCapreqDraft(Capability, Scope, "x\uD800")));
        Assert.Equal(FieldInvalid, Reason(new CreateCapreqDraft(Capability, "scope\uDC00", Justification)));
        Assert.Equal(FieldInvalid, Reason(new CapreqTransition(CapreqAction.Approve, WellFormedId, "ref\uD800")));
    }

    private static CapreqAction[] TransitionActions() =>
        [CapreqAction.SubmitForApproval, CapreqAction.Approve, CapreqAction.Reject, CapreqAction.Fulfill, CapreqAction.Cancel];

    private sealed record UnknownCommand() : CapreqCommand(CapreqAction.Approve)
    {
        public override string? TargetCapreqId(string tenantId) => null;
    }
}
