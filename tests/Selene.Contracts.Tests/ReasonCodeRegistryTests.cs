using System.Text.RegularExpressions;

namespace Selene.Contracts.Tests;

public sealed partial class ReasonCodeRegistryTests
{
    /// <summary>The id block of each engine (ReasonCodes.cs: 1xxx edge/API, 2xxx PH1.J, 3xxx PH1.F, 5xxx PH1.POSITION, 6xxx PH1.CAPREQ, 7xxx PH1.ACCESS).</summary>
    internal static readonly IReadOnlyDictionary<string, uint> EngineBlocks = new Dictionary<string, uint>(StringComparer.Ordinal)
    {
        [ReasonCodes.EngineApi] = 1,
        [ReasonCodes.EngineJournal] = 2,
        [ReasonCodes.EngineStorage] = 3,
        [ReasonCodes.EngineOs] = 4,
        [ReasonCodes.EnginePosition] = 5,
        [ReasonCodes.EngineCapreq] = 6,
        [ReasonCodes.EngineAccess] = 7,
    };

    [GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")]
    private static partial Regex UpperSnake();

    [Fact]
    public void All_IsNotEmptyAndInIdOrder()
    {
        Assert.NotEmpty(ReasonCodes.All);
        Assert.Equal(ReasonCodes.All.OrderBy(c => c.Id), ReasonCodes.All);
    }

    [Fact]
    public void All_Ids_AreUnique()
    {
        var duplicates = ReasonCodes.All.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void All_Names_AreUnique()
    {
        var duplicates = ReasonCodes.All.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void All_Names_AreUpperSnake()
    {
        var bad = ReasonCodes.All.Where(c => !UpperSnake().IsMatch(c.Name)).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void All_Ids_LieInTheirEngineBlock()
    {
        var bad = ReasonCodes.All
            .Where(c => !EngineBlocks.TryGetValue(c.Engine, out var block) || c.Id / 1000 != block)
            .Select(c => $"{c.Name} ({c.Id}, {c.Engine})")
            .ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void All_SuccessBand_HoldsExactlyTheInfoCodes()
    {
        // Inside a block, x0xx are success codes and x1xx.. are refusals and failures.
        var bad = ReasonCodes.All.Where(c => (c.Id % 1000 < 100) != (c.Severity == Severity.Info)).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void InternalError_IsNotRetryable_TheSameInputFailsTheSameWay()
    {
        // Retryable failures have codes of their own (STORAGE_UNAVAILABLE, F_SERIALIZATION_RETRY); INTERNAL_ERROR is a bug.
        Assert.False(ReasonCodes.InternalError.Retryable);
        Assert.True(ReasonCodes.StorageUnavailable.Retryable);
        Assert.True(ReasonCodes.StorageSerializationRetry.Retryable);
    }

    [Fact]
    public void All_InfoCodes_AreNotRetryable()
    {
        var bad = ReasonCodes.All.Where(c => c.Severity == Severity.Info && c.Retryable).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void All_Ids_AreGreaterThanZero()
    {
        // PH1.J: reason_code > 0 is mandatory (reference §12.1).
        Assert.All(ReasonCodes.All, c => Assert.True(c.Id > 0, c.Name));
    }

    [Fact]
    public void TryGet_EveryRegisteredName_RoundTrips()
    {
        Assert.All(ReasonCodes.All, c =>
        {
            Assert.True(ReasonCodes.TryGet(c.Name, out var found), c.Name);
            Assert.Same(c, found);
        });
    }

    [Fact]
    public void RetiredNames_ResolveToTheirCode_AndAreNoCurrentName()
    {
        Assert.NotEmpty(ReasonCodes.RetiredNames);
        Assert.All(ReasonCodes.RetiredNames, r =>
        {
            Assert.Matches(UpperSnake(), r.Key);
            Assert.DoesNotContain(ReasonCodes.All, c => c.Name == r.Key);
            Assert.True(ReasonCodes.TryGet(r.Key, out var found), r.Key);
            Assert.Same(r.Value, found);
        });
    }

    [Theory]
    [InlineData("CAPREQ_CREATED", "CAPREQ_OK_CREATE_DRAFT")]
    [InlineData("CAPREQ_SUBMITTED", "CAPREQ_OK_SUBMIT_FOR_APPROVAL")]
    [InlineData("CAPREQ_APPROVED", "CAPREQ_OK_APPROVE")]
    [InlineData("CAPREQ_REJECTED", "CAPREQ_OK_REJECT")]
    [InlineData("CAPREQ_FULFILLED", "CAPREQ_OK_FULFILL")]
    [InlineData("CAPREQ_CANCELED", "CAPREQ_OK_CANCEL")]
    public void TryGet_CapreqNameBeforeTheSeedsNames_ResolvesToTheRenamedCode(string retired, string current)
    {
        // Results stored and journaled before issue 9 carry the old name; a replay must still resolve it.
        Assert.True(ReasonCodes.TryGet(retired, out var code));
        Assert.Equal(current, code.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("NOT_A_REGISTERED_CODE")]
    [InlineData("capreq_created")]
    [InlineData(" CAPREQ_OK_CREATE_DRAFT")]
    public void TryGet_UnknownName_ReturnsFalseAndInternalError(string name)
    {
        Assert.False(ReasonCodes.TryGet(name, out var code));
        Assert.Same(ReasonCodes.InternalError, code);
    }

    [Fact]
    public void ToString_IsTheName()
    {
        Assert.All(ReasonCodes.All, c => Assert.Equal(c.Name, c.ToString()));
    }
}
