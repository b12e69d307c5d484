using Selene.Runtime.Platform;
using Selene.Server;

namespace Selene.Contracts.Tests;

/// <summary>
/// Every reason code carries its kind, and the HTTP status follows from the kind alone (CONVENTIONS.md): no table
/// of codes to keep, and no refusal that falls back to a default status.
/// </summary>
public sealed class ReasonKindTests
{
    [Theory]
    [InlineData(ReasonKind.Success, 200)]
    [InlineData(ReasonKind.Invalid, 400)]
    [InlineData(ReasonKind.Unauthenticated, 401)]
    [InlineData(ReasonKind.Forbidden, 403)]
    [InlineData(ReasonKind.NotFound, 404)]
    [InlineData(ReasonKind.MethodNotAllowed, 405)]
    [InlineData(ReasonKind.Conflict, 409)]
    [InlineData(ReasonKind.TooLarge, 413)]
    [InlineData(ReasonKind.UnsupportedMediaType, 415)]
    [InlineData(ReasonKind.QuotaExceeded, 429)]
    [InlineData(ReasonKind.Unavailable, 503)]
    [InlineData(ReasonKind.Internal, 500)]
    public void StatusFor_Kind_IsItsHttpStatus(ReasonKind kind, int status) =>
        Assert.Equal(status, Problems.StatusFor(kind));

    [Fact]
    public void StatusFor_EveryKind_HasAStatus_AndOnlySuccessIs2xx()
    {
        // Guards the switch: a kind added without an arm throws here instead of becoming some default status.
        Assert.All(Enum.GetValues<ReasonKind>(), kind =>
            Assert.Equal(kind == ReasonKind.Success, Problems.StatusFor(kind) is >= 200 and < 300));
    }

    [Fact]
    public void StatusFor_UndefinedKind_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Problems.StatusFor((ReasonKind)999));

    [Fact]
    public void All_Kinds_AreDeclaredMembers()
    {
        var bad = EngineModules.Reasons.All.Where(c => !Enum.IsDefined(c.Kind)).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void All_SuccessKind_IsExactlyTheInfoCodes()
    {
        // A refusal or failure can never be answered 200, and a success never as an error.
        var bad = EngineModules.Reasons.All.Where(c => (c.Kind == ReasonKind.Success) != (c.Severity == Severity.Info)).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void StatusFor_EveryNonSuccessCode_IsAnErrorStatus_FromItsKind()
    {
        Assert.All(EngineModules.Reasons.All.Where(c => c.Kind != ReasonKind.Success), c =>
        {
            Assert.Equal(Problems.StatusFor(c.Kind), Problems.StatusFor(c));
            Assert.InRange(Problems.StatusFor(c), 400, 599);
        });
    }

    [Fact]
    public void Internal_IsOnlyForErrorSeverity()
    {
        // An INTERNAL code says Selene failed; a WARN code is the caller's refusal and must say which kind of refusal.
        var bad = EngineModules.Reasons.All.Where(c => c.Kind == ReasonKind.Internal && c.Severity != Severity.Error).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Theory]
    [InlineData("CAPREQ_NOT_FOUND", 404)]
    [InlineData("CAPREQ_TRANSITION_INVALID", 409)]
    [InlineData("CAPREQ_REQUESTER_MISMATCH", 403)]
    [InlineData("ACCESS_AP_REQUIRED", 403)]
    [InlineData("IDEMPOTENCY_KEY_REUSED", 409)]
    [InlineData("INPUT_SCHEMA_INVALID", 400)]
    [InlineData("AUTH_KEY_MISSING", 401)]
    [InlineData("INPUT_PAYLOAD_TOO_LARGE", 413)]
    [InlineData("INPUT_MEDIA_TYPE_UNSUPPORTED", 415)]
    [InlineData("METHOD_NOT_ALLOWED", 405)]
    [InlineData("STORAGE_UNAVAILABLE", 503)]
    [InlineData("PH1_OS_NOT_INVOKED_DISABLED", 503)]
    [InlineData("INTERNAL_ERROR", 500)]
    // Answered 500 before kinds: the wiring's validation of caller input (issue 9 item 3).
    [InlineData("PH1_OS_VALIDATION_FAILED", 400)]
    // Answered 400 before kinds: refusals of the access gate that fell through the table.
    [InlineData("OS_FAIL_ACCESS_GATE", 403)]
    [InlineData("ACCESS_DENIED", 403)]
    public void StatusFor_Code_IsTheStatusOfItsKind(string name, int status)
    {
        Assert.True(EngineModules.Reasons.TryGet(name, out var code), name);
        Assert.Equal(status, Problems.StatusFor(code));
    }
}
