using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Selene.Kernel.Lease;

namespace Selene.Kernel.Tests;

/// <summary>PH1.LEASE (reference §11.3): grant rules per operation, reason precedence, ttl and expiry boundaries, the token.</summary>
public sealed class LeaseDeciderTests
{
    private const string Tenant = "tenant-a";
    private const string WorkOrder = "wo_1";
    private const string Me = "executor-1";
    private const string Other = "executor-2";
    private const long Now = 1_700_000_000_000;
    private const string MyToken = "lease_00000000000000aa";

    private static readonly ActiveLease Mine = new(Me, MyToken, Now + 10_000);
    private static readonly ActiveLease Theirs = new(Other, "lease_00000000000000bb", Now + 10_000);
    private static readonly ActiveLease MineExpired = Mine with { ExpiresAtMs = Now };
    private static readonly ActiveLease TheirsExpired = Theirs with { ExpiresAtMs = Now };

    private static LeaseInput Input(LeaseOperation op, ActiveLease? active, long ttl = 30_000, string? token = MyToken, string owner = Me) =>
        new(Tenant, WorkOrder, owner, op, ttl, Now, token, active);

    private static string ExpectedToken(long ttl = 30_000, string owner = Me) => LeaseDecider.Token(Tenant, WorkOrder, owner, Now, ttl);

    // ---- grants ----------------------------------------------------------------------------------------------

    [Fact]
    public void Acquire_NoLease_GrantsWithoutResume()
    {
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Acquire, null, token: null)));
        Assert.Equal(new LeaseOutcome.Granted(ExpectedToken(), Now + 30_000, false, ReasonCodes.LeaseAcquired), g);
    }

    [Theory]
    [InlineData(0)]        // expired exactly at now: the instant of expiry belongs to the next holder
    [InlineData(-1)]
    [InlineData(-60_000)]
    public void Acquire_ExpiredLeaseOfAnother_TakesOverAndRequiresResumeFromLedger(long expiresRelativeToNow)
    {
        var expired = Theirs with { ExpiresAtMs = Now + expiresRelativeToNow };
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Acquire, expired, token: null)));
        Assert.Equal(new LeaseOutcome.Granted(ExpectedToken(), Now + 30_000, true, ReasonCodes.LeaseAcquired), g);
    }

    [Fact]
    public void Acquire_OwnExpiredLease_AlsoResumesFromLedger()
    {
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Acquire, MineExpired)));
        Assert.True(g.ResumeFromLedgerRequired);
    }

    [Fact]
    public void Acquire_OwnLiveLease_GrantsANewTokenWithoutResume()
    {
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Acquire, Mine, token: null)));
        Assert.Equal(new LeaseOutcome.Granted(ExpectedToken(), Now + 30_000, false, ReasonCodes.LeaseAcquired), g);
        Assert.NotEqual(MyToken, g.Token);
    }

    [Fact]
    public void Renew_OwnLiveLeaseWithItsToken_GrantsANewExpiry()
    {
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Renew, Mine, ttl: 5_000)));
        Assert.Equal(new LeaseOutcome.Granted(ExpectedToken(5_000), Now + 5_000, false, ReasonCodes.LeaseRenewed), g);
    }

    [Fact]
    public void Release_OwnLiveLeaseWithItsToken_ClearsTheTokenAndEndsNow()
    {
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Release, Mine)));
        Assert.Equal(new LeaseOutcome.Granted(null, Now, false, ReasonCodes.LeaseReleased), g);
    }

    [Fact]
    public void Renew_OneMillisecondBeforeExpiry_IsStillLive()
    {
        var almost = Mine with { ExpiresAtMs = Now + 1 };
        Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Renew, almost)));
        Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Release, almost)));
    }

    // ---- denials and their precedence ------------------------------------------------------------------------

    public static TheoryData<LeaseOperation, ActiveLease?, long, string?, string, bool> Denials => new()
    {
        // operation, active lease, ttl, token, expected reason, holder reported
        // ttl bounds come first, whoever holds the lease (ACQUIRE and RENEW)
        { LeaseOperation.Acquire, null, 0, null, "LEASE_TTL_OUT_OF_BOUNDS", false },
        { LeaseOperation.Acquire, null, 300_001, null, "LEASE_TTL_OUT_OF_BOUNDS", false },
        { LeaseOperation.Acquire, null, -1, null, "LEASE_TTL_OUT_OF_BOUNDS", false },
        { LeaseOperation.Acquire, Theirs, 0, null, "LEASE_TTL_OUT_OF_BOUNDS", true },
        { LeaseOperation.Renew, null, 0, MyToken, "LEASE_TTL_OUT_OF_BOUNDS", false },
        { LeaseOperation.Renew, Theirs, 300_001, "wrong", "LEASE_TTL_OUT_OF_BOUNDS", true },
        // ACQUIRE over another's live lease
        { LeaseOperation.Acquire, Theirs, 30_000, null, "LEASE_HELD_BY_OTHER", true },
        // RENEW / RELEASE: no live lease, then another owner, then the token
        { LeaseOperation.Renew, null, 30_000, MyToken, "LEASE_NOT_FOUND", false },
        { LeaseOperation.Renew, MineExpired, 30_000, MyToken, "LEASE_NOT_FOUND", false },
        { LeaseOperation.Renew, TheirsExpired, 30_000, "wrong", "LEASE_NOT_FOUND", false },
        { LeaseOperation.Renew, Theirs, 30_000, MyToken, "LEASE_HELD_BY_OTHER", true },
        { LeaseOperation.Renew, Mine, 30_000, "lease_00000000000000cc", "LEASE_TOKEN_INVALID", true },
        { LeaseOperation.Renew, Mine, 30_000, null, "LEASE_TOKEN_INVALID", true },
        { LeaseOperation.Release, null, 30_000, MyToken, "LEASE_NOT_FOUND", false },
        { LeaseOperation.Release, MineExpired, 30_000, MyToken, "LEASE_NOT_FOUND", false },
        { LeaseOperation.Release, Theirs, 30_000, MyToken, "LEASE_HELD_BY_OTHER", true },
        { LeaseOperation.Release, Mine, 30_000, "wrong", "LEASE_TOKEN_INVALID", true },
        { LeaseOperation.Release, Mine, 30_000, null, "LEASE_TOKEN_INVALID", true },
    };

    [Theory]
    [MemberData(nameof(Denials))]
    public void Decide_Denials_FollowTheReasonPrecedence(LeaseOperation op, ActiveLease? active, long ttl, string? token, string reason, bool holderReported)
    {
        var d = Assert.IsType<LeaseOutcome.Denied>(LeaseDecider.Decide(Input(op, active, ttl, token)));
        Assert.Equal(reason, d.Reason.Name);
        Assert.Equal(holderReported ? new LeaseHolder(active!.OwnerId, active.ExpiresAtMs) : null, d.Holder);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(300_000)]
    public void Acquire_TtlAtEitherBound_IsGranted(long ttl)
    {
        var g = Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Acquire, null, ttl)));
        Assert.Equal(Now + ttl, g.ExpiresAtMs);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300_001)]
    public void Release_IgnoresTheTtl(long ttl) =>
        Assert.Equal(ReasonCodes.LeaseReleased, Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(Input(LeaseOperation.Release, Mine, ttl))).Reason);

    // ---- input shape -------------------------------------------------------------------------------------------

    public static TheoryData<LeaseInput, string> InvalidInputs => new()
    {
        { Input(LeaseOperation.Acquire, null) with { TenantId = "bad tenant" }, "tenant_id" },
        { Input(LeaseOperation.Acquire, null) with { WorkOrderId = "" }, "work_order_id" },
        { Input(LeaseOperation.Acquire, null, owner: " "), "lease_owner_id" },
        { Input((LeaseOperation)7, null), "operation" },
        { Input(LeaseOperation.Acquire, null) with { NowMs = -1 }, "now" },
        { Input(LeaseOperation.Acquire, null) with { NowMs = long.MaxValue - 299_999 }, "now" },
        { Input(LeaseOperation.Renew, Mine, token: "has\ttab"), "lease_token" },
        { Input(LeaseOperation.Acquire, Mine with { OwnerId = "" }), "owner" },
        { Input(LeaseOperation.Acquire, Mine with { Token = new string('t', 129) }), "token" },
        { Input(LeaseOperation.Acquire, Mine with { ExpiresAtMs = -1 }), "expires_at" },
        // shape is checked before the ttl
        { Input(LeaseOperation.Acquire, null, ttl: 0) with { TenantId = "" }, "tenant_id" },
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void Decide_MalformedInput_IsInvalidNeverAnException(LeaseInput input, string detail)
    {
        var invalid = Assert.IsType<LeaseOutcome.Invalid>(LeaseDecider.Decide(input));
        Assert.Equal(ReasonCodes.LeaseInputInvalid, invalid.Reason);
        Assert.Contains(detail, invalid.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_LatestValidNowWithTheLongestTtl_DoesNotOverflow()
    {
        var input = Input(LeaseOperation.Acquire, null, 300_000) with { NowMs = long.MaxValue - 300_000 };
        Assert.Equal(long.MaxValue, Assert.IsType<LeaseOutcome.Granted>(LeaseDecider.Decide(input)).ExpiresAtMs);
    }

    // ---- the token ----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]           // FNV-1a-64 published test vectors
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void Fnv1a64_MatchesTheReferenceVectors(string text, ulong expected) =>
        Assert.Equal(expected, LeaseDecider.Fnv1a64(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Token_IsDeterministicAndDependsOnEveryPart()
    {
        var token = LeaseDecider.Token(Tenant, WorkOrder, Me, Now, 30_000);
        Assert.Equal(token, LeaseDecider.Token(Tenant, WorkOrder, Me, Now, 30_000));
        Assert.Equal("lease_" + LeaseDecider.Fnv1a64(Encoding.UTF8.GetBytes($"{Tenant}|{WorkOrder}|{Me}|{Now}|30000")).ToString("x16"), token);
        Assert.True(IdRules.IsShortHashId(token, "lease_"));
        string[] variants =
        [
            LeaseDecider.Token("tenant-b", WorkOrder, Me, Now, 30_000),
            LeaseDecider.Token(Tenant, "wo_2", Me, Now, 30_000),
            LeaseDecider.Token(Tenant, WorkOrder, Other, Now, 30_000),
            LeaseDecider.Token(Tenant, WorkOrder, Me, Now + 1, 30_000),
            LeaseDecider.Token(Tenant, WorkOrder, Me, Now, 30_001),
        ];
        Assert.DoesNotContain(token, variants);
        Assert.Equal(variants.Length, variants.Distinct().Count());
    }

    [Fact]
    public void Decide_SameInput_SameOutcome()
    {
        foreach (var op in Enum.GetValues<LeaseOperation>())
        {
            foreach (var active in new ActiveLease?[] { null, Mine, Theirs, MineExpired })
                Assert.Equal(LeaseDecider.Decide(Input(op, active)), LeaseDecider.Decide(Input(op, active)));
        }
    }

    /// <summary>Over arbitrary snapshots and requests: no grant while another owner's lease is live, and resume exactly on an expired takeover.</summary>
    [Fact]
    public void Decide_Property_NeverGrantsOverAnotherOwnersLiveLease()
    {
        var gen =
            from op in Gen.Elements(LeaseOperation.Acquire, LeaseOperation.Renew, LeaseOperation.Release)
            from owner in Gen.Elements(Me, Other)
            from hasActive in Gen.Elements(true, false)
            from activeOwner in Gen.Elements(Me, Other)
            from expiresIn in Gen.Choose(-3, 3)
            from ttl in Gen.Elements(0L, 1L, 30_000L, 300_000L, 300_001L)
            from token in Gen.Elements<string?>(MyToken, "lease_00000000000000bb", null)
            select new LeaseInput(Tenant, WorkOrder, owner, op, ttl, Now, token,
                hasActive ? new ActiveLease(activeOwner, activeOwner == Me ? MyToken : "lease_00000000000000bb", Now + expiresIn) : null);
        Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var outcome = LeaseDecider.Decide(input);
            var live = input.Active is { } a && Now < a.ExpiresAtMs;
            if (outcome is not LeaseOutcome.Granted g) return;
            Assert.False(live && input.Active!.OwnerId != input.LeaseOwnerId);
            Assert.Equal(input.Operation == LeaseOperation.Acquire && input.Active is not null && !live, g.ResumeFromLedgerRequired);
            if (input.Operation != LeaseOperation.Acquire) Assert.Equal(input.Active!.Token, input.LeaseToken);
        }).Check(Config.QuickThrowOnFailure.WithReplay(11UL, 3UL).WithMaxTest(1000));
    }

    [Fact]
    public void Decide_NullInput_IsACallerBug() =>
        Assert.Throws<ArgumentNullException>(() => LeaseDecider.Decide(null!));
}
