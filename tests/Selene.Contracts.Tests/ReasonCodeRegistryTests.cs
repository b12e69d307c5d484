using Selene.Engines.Delivery;
using Selene.Engines.Access;
using Selene.Runtime.Platform;
using Selene.Engines.Position;
using Selene.Engines.CapReq;
using Selene.Engines.Rem;
using System.Text.RegularExpressions;

namespace Selene.Contracts.Tests;

public sealed partial class ReasonCodeRegistryTests
{
    /// <summary>
    /// The blocks the registry is built from today (docs/reason-codes.md): a new engine takes a free block, and the
    /// registry itself refuses two engines in one block (<see cref="Registry_TwoEnginesInOneBlock_Throws"/>).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, uint> KnownBlocks = new Dictionary<string, uint>(StringComparer.Ordinal)
    {
        [ReasonCodes.EngineApi] = 1,
        [ReasonCodes.EngineJournal] = 2,
        [ReasonCodes.EngineStorage] = 3,
        [ReasonCodes.EngineOs] = 4,
        [PositionReasons.EngineId] = 5,
        [CapreqReasons.EngineId] = 6,
        [AccessReasons.EngineId] = 7,
        [Selene.Engines.Link.LinkReasons.EngineId] = 8,
        [Selene.Engines.Onb.OnbReasons.EngineId] = 9,
        [ReasonCodes.EngineWork] = 10,
        [ReasonCodes.EngineLease] = 11,
        [ReasonCodes.EngineSched] = 12,
        [ReasonCodes.EngineGov] = 13,
        [Selene.Engines.Bcast.BcastReasons.EngineId] = 14,
        [DeliveryReasons.EngineId] = 15,
        [RemReasons.EngineId] = 16,
        [Selene.Learning.LearnReasons.EngineId] = 17,
    };

    [GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")]
    private static partial Regex UpperSnake();

    [Fact]
    public void All_IsNotEmptyAndInIdOrder()
    {
        Assert.NotEmpty(EngineModules.Reasons.All);
        Assert.Equal(EngineModules.Reasons.All.OrderBy(c => c.Id), EngineModules.Reasons.All);
    }

    [Fact]
    public void All_Ids_AreUnique()
    {
        var duplicates = EngineModules.Reasons.All.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void All_Names_AreUnique()
    {
        var duplicates = EngineModules.Reasons.All.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void All_Names_AreUpperSnake()
    {
        var bad = EngineModules.Reasons.All.Where(c => !UpperSnake().IsMatch(c.Name)).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void All_Ids_LieInTheirEngineBlock()
    {
        var bad = EngineModules.Reasons.All
            .Where(c => KnownBlocks.TryGetValue(c.Engine, out var block) && c.Id / 1000 != block)
            .Select(c => $"{c.Name} ({c.Id}, {c.Engine})")
            .ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void Registry_EveryModulesCodes_AreRegistered()
    {
        // The registry is derived from the modules: nothing is listed by hand.
        Assert.All(EngineModules.All.SelectMany(m => m.ReasonCodes), c => Assert.Contains(c, EngineModules.Reasons.All));
        Assert.All(ReasonCodes.Kernel.All, c => Assert.Contains(c, EngineModules.Reasons.All));
        Assert.Equal(ReasonCodes.Kernel.All.Concat(EngineModules.All.SelectMany(m => m.ReasonCodes)).Distinct().Count(), EngineModules.Reasons.All.Count);
    }

    private static ReasonCode Code(string name, uint id, string engine) => new(name, id, engine, Severity.Warn, ReasonKind.Conflict, false);

    [Fact]
    public void Registry_DuplicateId_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ReasonCodeRegistry([Code("A_ONE", 9101, "X"), Code("A_TWO", 9101, "X")]));
        Assert.Contains("id 9101", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_DuplicateName_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ReasonCodeRegistry([Code("A_ONE", 9101, "X"), Code("A_ONE", 9102, "X")]));
        Assert.Contains("A_ONE", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_EngineAcrossTwoBlocks_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ReasonCodeRegistry([Code("A_ONE", 9101, "X"), Code("A_TWO", 8101, "X")]));
        Assert.Contains("X spans", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_TwoEnginesInOneBlock_Throws()
    {
        // A new engine that copies a block: its module's registration makes the process fail to start, not drift.
        var ex = Assert.Throws<InvalidOperationException>(() => ReasonCodes.Kernel.Extend([Code("NEW_ENGINE_REFUSED", 6999, "PH1.NEW")]).Extend(CapreqReasons.All));
        Assert.Contains("block 6xxx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_RetiredNameOfALiveCode_Throws()
    {
        var one = Code("A_ONE", 9101, "X");
        var two = Code("A_TWO", 9102, "X");
        Assert.Throws<InvalidOperationException>(() => new ReasonCodeRegistry([one, two], [new("A_TWO", one)]));
        Assert.Throws<InvalidOperationException>(() => new ReasonCodeRegistry([one], [new("A_OLD", two)]));
    }

    [Fact]
    public void All_SuccessBand_HoldsExactlyTheInfoCodes()
    {
        // Inside a block, x0xx are success codes and x1xx.. are refusals and failures.
        var bad = EngineModules.Reasons.All.Where(c => (c.Id % 1000 < 100) != (c.Severity == Severity.Info)).Select(c => c.Name).ToArray();
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
        var bad = EngineModules.Reasons.All.Where(c => c.Severity == Severity.Info && c.Retryable).Select(c => c.Name).ToArray();
        Assert.Empty(bad);
    }

    [Fact]
    public void All_Ids_AreGreaterThanZero()
    {
        // PH1.J: reason_code > 0 is mandatory (reference §12.1).
        Assert.All(EngineModules.Reasons.All, c => Assert.True(c.Id > 0, c.Name));
    }

    [Fact]
    public void TryGet_EveryRegisteredName_RoundTrips()
    {
        Assert.All(EngineModules.Reasons.All, c =>
        {
            Assert.True(EngineModules.Reasons.TryGet(c.Name, out var found), c.Name);
            Assert.Same(c, found);
        });
    }

    [Fact]
    public void RetiredNames_ResolveToTheirCode_AndAreNoCurrentName()
    {
        Assert.NotEmpty(EngineModules.Reasons.RetiredNames);
        Assert.All(EngineModules.Reasons.RetiredNames, r =>
        {
            Assert.Matches(UpperSnake(), r.Key);
            Assert.DoesNotContain(EngineModules.Reasons.All, c => c.Name == r.Key);
            Assert.True(EngineModules.Reasons.TryGet(r.Key, out var found), r.Key);
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
        Assert.True(EngineModules.Reasons.TryGet(retired, out var code));
        Assert.Equal(current, code.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("NOT_A_REGISTERED_CODE")]
    [InlineData("capreq_created")]
    [InlineData(" CAPREQ_OK_CREATE_DRAFT")]
    public void TryGet_UnknownName_ReturnsFalseAndInternalError(string name)
    {
        Assert.False(EngineModules.Reasons.TryGet(name, out var code));
        Assert.Same(ReasonCodes.InternalError, code);
    }

    [Fact]
    public void ToString_IsTheName()
    {
        Assert.All(EngineModules.Reasons.All, c => Assert.Equal(c.Name, c.ToString()));
    }
}
