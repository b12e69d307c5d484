using Selene.Engines.Position;

namespace Selene.Engines.Tests;

/// <summary>POSITION holders, pure: assign to ACTIVE positions, a repeated assignment changes nothing, end only a current holder, re-assign after an end.</summary>
public sealed class HolderDeciderTests
{
    private static readonly UnixNanos Now = new(1_800_000_000_000_000_000);
    private const string PositionId = "pos_0123456789abcdef";

    private static PositionState Position(PositionLifecycle lifecycle) =>
        new("acme", PositionId, "acme_co", "Driver", "Ops", "DE-BE", ScheduleType.FullTime, "p", "b", lifecycle, 1, 1);

    private static Decision<HolderChanged> Decide(PositionHolder? holder, PositionState? position, HolderCommand command) =>
        HolderDecider.Decide(holder, position, command, "acme", "alice", Now);

    private static PositionHolder Fold(PositionHolder? holder, Decision<HolderChanged> d) =>
        Assert.IsType<Decision<HolderChanged>.Accepted>(d).Events.Aggregate(holder, (h, e) => HolderDecider.Evolve(h, e))!;

    [Fact]
    public void Assign_ToActivePosition_MakesACurrentHolder_WithTheStreamIdOfPositionAndUser()
    {
        var d = Decide(null, Position(PositionLifecycle.Active), new AssignHolder(PositionId, "bob"));
        var e = Assert.Single(Assert.IsType<Decision<HolderChanged>.Accepted>(d).Events);
        Assert.Equal(PositionId + ":bob", e.HolderId);
        Assert.True(HolderDecider.IsHolderIdOf(PositionId, e.HolderId));
        Assert.False(HolderDecider.IsHolderIdOf("pos_fedcba9876543210", e.HolderId));
        var h = Fold(null, d);
        Assert.Equal(HolderStatus.Current, h.Status);
        Assert.Equal(HolderDecider.AssignSource, h.Source);
        Assert.Equal(Now.Value, h.AssignedAt);
        Assert.Equal("POSITION_OK_HOLDER_ASSIGN_COMMIT", h.LastReasonCode);
    }

    [Theory]
    [InlineData(PositionLifecycle.Draft)]
    [InlineData(PositionLifecycle.Suspended)]
    [InlineData(PositionLifecycle.Retired)]
    public void Assign_ToPositionNotActive_IsRefused(PositionLifecycle lifecycle)
    {
        var d = Assert.IsType<Decision<HolderChanged>.Rejected>(Decide(null, Position(lifecycle), new AssignHolder(PositionId, "bob")));
        Assert.Equal(PositionReasons.PositionTransitionInvalid, d.Reason);
    }

    [Fact]
    public void Assign_WithoutPosition_IsNotFound() =>
        Assert.Equal(PositionReasons.PositionNotFound, Assert.IsType<Decision<HolderChanged>.Rejected>(Decide(null, null, new AssignHolder(PositionId, "bob"))).Reason);

    [Fact]
    public void Assign_CurrentHolderAgain_IsAcceptedWithoutEvents()
    {
        var h = Fold(null, Decide(null, Position(PositionLifecycle.Active), new AssignHolder(PositionId, "bob", HolderDecider.OnboardingSource)));
        var again = Assert.IsType<Decision<HolderChanged>.Accepted>(Decide(h, Position(PositionLifecycle.Active), new AssignHolder(PositionId, "bob")));
        Assert.Empty(again.Events);
        Assert.Equal(PositionReasons.HolderAssigned, again.Reason);
    }

    [Fact]
    public void End_CurrentHolder_EndsIt_AndASecondEndIsRefused_AndReassignMakesItCurrentAgain()
    {
        var active = Position(PositionLifecycle.Active);
        var h = Fold(null, Decide(null, active, new AssignHolder(PositionId, "bob", HolderDecider.OnboardingSource)));
        var ended = Fold(h, Decide(h, active, new EndHolder(PositionId, "bob")));
        Assert.Equal(HolderStatus.Ended, ended.Status);
        Assert.Equal(Now.Value, ended.EndedAt);
        Assert.Equal(PositionReasons.HolderNotCurrent, Assert.IsType<Decision<HolderChanged>.Rejected>(Decide(ended, active, new EndHolder(PositionId, "bob"))).Reason);
        var again = Fold(ended, Decide(ended, active, new AssignHolder(PositionId, "bob")));
        Assert.Equal(HolderStatus.Current, again.Status);
        Assert.Null(again.EndedAt);
        Assert.Equal(HolderDecider.AssignSource, again.Source);
    }

    [Fact]
    public void End_OfNoHolder_IsRefused_EvenOnARetiredPosition() =>
        Assert.Equal(PositionReasons.HolderNotCurrent,
            Assert.IsType<Decision<HolderChanged>.Rejected>(Decide(null, Position(PositionLifecycle.Retired), new EndHolder(PositionId, "bob"))).Reason);

    [Theory]
    [InlineData("pos_bad", "bob", "ASSIGN")]
    [InlineData(PositionId, "", "ASSIGN")]
    [InlineData(PositionId, "bob smith", "ASSIGN")]
    [InlineData(PositionId, "bob", "MAGIC")]
    public void Assign_BadInput_IsInputFieldInvalid(string positionId, string userId, string source) =>
        Assert.Equal(ReasonCodes.InputFieldInvalid,
            Assert.IsType<Decision<HolderChanged>.Rejected>(Decide(null, Position(PositionLifecycle.Active), new AssignHolder(positionId, userId, source))).Reason);

    [Fact]
    public void Evolve_EndOfAHolderThatIsNotCurrent_Throws()
    {
        var e = new HolderChanged("acme", "poh_x", PositionId, "bob", "alice", "X", 1, HolderStatus.Ended, "ASSIGN");
        Assert.Throws<InvalidOperationException>(() => HolderDecider.Evolve(null, e));
    }
}
