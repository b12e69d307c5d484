using Selene.Engines.Onb;

namespace Selene.Engines.Tests;

/// <summary>PH1.ONB business onboarding, pure: STARTED → VALIDATED → COMPLETE against the company's lifecycle, every step in every state.</summary>
public sealed class OnbBusinessDeciderTests
{
    private static readonly OnbContext Ctx = new("acme", "alice", new UnixNanos(1_800_000_000_000_000_000), "k");

    private static OnbBusiness At(OnbBusinessStatus s) => new("acme", "newco", s, "alice", "X", 1, 1, 1);

    public static TheoryData<string, OnbBusinessStatus?, string?, string> Table => new()
    {
        // step, business status (null: none), company lifecycle (null: none), expected reason
        { "START", null, null, "ONB_OK_BIZ_START_DRAFT" },
        { "START", null, "DRAFT", "ONB_BIZ_COMPANY_INVALID" },
        { "START", null, "ACTIVE", "ONB_BIZ_COMPANY_INVALID" },
        { "START", OnbBusinessStatus.Started, "DRAFT", "ONB_OK_BIZ_START_DRAFT" },
        { "START", OnbBusinessStatus.Complete, "ACTIVE", "ONB_OK_BIZ_START_DRAFT" },
        { "VALIDATE", null, "DRAFT", "ONB_REFUSE_NOT_FOUND" },
        { "VALIDATE", OnbBusinessStatus.Started, "DRAFT", "ONB_OK_BIZ_VALIDATE_COMPANY_COMMIT" },
        { "VALIDATE", OnbBusinessStatus.Started, "ACTIVE", "ONB_BIZ_COMPANY_INVALID" },
        { "VALIDATE", OnbBusinessStatus.Started, "RETIRED", "ONB_BIZ_COMPANY_INVALID" },
        { "VALIDATE", OnbBusinessStatus.Validated, "ACTIVE", "ONB_OK_BIZ_VALIDATE_COMPANY_COMMIT" },
        { "COMPLETE", null, "ACTIVE", "ONB_REFUSE_NOT_FOUND" },
        { "COMPLETE", OnbBusinessStatus.Started, "DRAFT", "ONB_REFUSE_STATE_INVALID" },
        { "COMPLETE", OnbBusinessStatus.Validated, "ACTIVE", "ONB_OK_BIZ_COMPLETE_COMMIT" },
        { "COMPLETE", OnbBusinessStatus.Validated, "SUSPENDED", "ONB_BIZ_COMPANY_INVALID" },
        { "COMPLETE", OnbBusinessStatus.Complete, "ACTIVE", "ONB_OK_BIZ_COMPLETE_COMMIT" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void EveryStepInEveryState(string step, OnbBusinessStatus? status, string? company, string expected)
    {
        OnbBusinessCommand command = step switch
        {
            "START" => new StartBusiness("newco", "New Co GmbH", "DE-BE"),
            "VALIDATE" => new ValidateBusinessCompany("newco"),
            _ => new CompleteBusiness("newco"),
        };
        var business = status is { } s ? At(s) : null;
        var decision = OnbBusinessDecider.Decide(business, command, company, Ctx);
        var reason = decision switch
        {
            Decision<OnbBusinessStepped>.Accepted a => a.Reason.Name,
            Decision<OnbBusinessStepped>.Rejected r => r.Reason.Name,
            _ => throw new InvalidOperationException(),
        };
        Assert.Equal(expected, reason);
        if (decision is Decision<OnbBusinessStepped>.Accepted { Events: [var e] })
        {
            // A step that moves folds into the next status; a repeat moves nothing.
            var after = OnbBusinessDecider.Evolve(business, e, 2);
            Assert.Equal((e.To, 2L), (after.Status, after.SourceEventId));
            Assert.True(business is null || after.Status > business.Status);
        }
    }

    [Fact]
    public void BadInput_IsRefusedBeforeAnyState()
    {
        Assert.Equal(OnbReasons.OnbRefuseInvalid, Assert.IsType<Decision<OnbBusinessStepped>.Rejected>(
            OnbBusinessDecider.Decide(null, new StartBusiness("bad id", "x", "y"), null, Ctx)).Reason);
        Assert.Equal(OnbReasons.OnbRefuseInvalid, Assert.IsType<Decision<OnbBusinessStepped>.Rejected>(
            OnbBusinessDecider.Decide(null, new StartBusiness("newco", "", "y"), null, Ctx)).Reason);
    }
}
