using Selene.Engines.Bcast;
using static Selene.Engines.Tests.BcastFixture;

namespace Selene.Engines.Tests;

/// <summary>BCAST's reason codes, simulation records and input validation against reference §8.3.</summary>
public sealed class BcastCatalogTests
{
    [Fact]
    public void Reasons_AreTheNamesOfReference83_InBlock14xxx()
    {
        string[] successes =
        [
            "BCAST_DRAFT_CREATED", "BCAST_DELIVERED", "BCAST_DEFERRED", "BCAST_ACK_RECORDED", "BCAST_ESCALATED", "BCAST_EXPIRED",
            "BCAST_CANCELED", "BCAST_REMINDER_SET", "BCAST_REMINDER_FIRED", "BCAST_FOLLOWUP_IMMEDIATE_URGENT",
            // Not named by §8.3: DELIVERY's proofs coming back, and the fallback walk they cause (docs/decisions.md).
            "BCAST_DELIVERY_PROOF_RECORDED", "BCAST_FALLBACK_ADVANCED",
        ];
        string[] failures =
        [
            "BCAST_FAIL_SCHEMA_INVALID", "BCAST_FAIL_NOT_FOUND", "BCAST_FAIL_STATE_TRANSITION_INVALID", "BCAST_FAIL_SIMULATION_CONTEXT_MISSING",
            "BCAST_FAIL_WAITING_WINDOW_NOT_ELAPSED", "BCAST_FAIL_FALLBACK_POLICY", "BCAST_FAIL_INTERNAL",
            // Not named by §8.3: the refusal of an acknowledgement below required_ack (docs/decisions.md).
            "BCAST_FAIL_ACK_REQUIREMENT_NOT_MET", "BCAST_FAIL_ACK_NOT_RECIPIENT",
        ];
        Assert.Equal(successes.Concat(failures), BcastReasons.All.Select(c => c.Name));
        Assert.All(BcastReasons.All, c => Assert.Equal(("PH1.BCAST", 14u), (c.Engine, c.Id / 1000)));
        Assert.All(BcastReasons.All.Where(c => successes.Contains(c.Name)), c =>
            Assert.Equal((true, Severity.Info, ReasonKind.Success, false), (c.Id % 1000 < 100, c.Severity, c.Kind, c.Retryable)));
        Assert.All(BcastReasons.All.Where(c => failures.Contains(c.Name)), c => Assert.True(c.Id % 1000 is >= 100 and < 200, c.Name));
    }

    [Fact]
    public void Reasons_KindsAndRetryable()
    {
        Assert.Equal(ReasonKind.Invalid, BcastReasons.BcastFailSchemaInvalid.Kind);
        Assert.Equal(ReasonKind.Invalid, BcastReasons.BcastFailSimulationContextMissing.Kind);
        Assert.Equal(ReasonKind.NotFound, BcastReasons.BcastFailNotFound.Kind);
        Assert.Equal(ReasonKind.Conflict, BcastReasons.BcastFailStateTransitionInvalid.Kind);
        Assert.Equal(ReasonKind.Conflict, BcastReasons.BcastFailFallbackPolicy.Kind);
        Assert.Equal(ReasonKind.Conflict, BcastReasons.BcastFailWaitingWindowNotElapsed.Kind);
        Assert.Equal(ReasonKind.Conflict, BcastReasons.BcastFailAckRequirementNotMet.Kind);
        Assert.Equal((ReasonKind.Internal, Severity.Error), (BcastReasons.BcastFailInternal.Kind, BcastReasons.BcastFailInternal.Severity));
        // Only the window refusal passes later with the same request.
        Assert.Equal(["BCAST_FAIL_WAITING_WINDOW_NOT_ELAPSED"], BcastReasons.All.Where(c => c.Retryable).Select(c => c.Name));
    }

    [Fact]
    public void Reasons_JoinTheKernelRegistryWithoutAClash()
    {
        var registry = ReasonCodes.Kernel.Extend(BcastReasons.All);
        Assert.All(BcastReasons.All, c => Assert.True(registry.TryGet(c.Name, out _), c.Name));
    }

    [Fact]
    public void Simulations_AreTheEightOfReference83_AndTheHandoffOnlyProof()
    {
        Assert.Equal(
            ["BCAST_CREATE_DRAFT", "BCAST_DELIVER_COMMIT", "BCAST_DEFER_COMMIT", "BCAST_REMINDER_FIRED_COMMIT", "BCAST_ACK_COMMIT",
             "BCAST_ESCALATE_COMMIT", "BCAST_EXPIRE_COMMIT", "BCAST_CANCEL_COMMIT", "BCAST_DELIVERY_PROOF_COMMIT"],
            BcastSimulations.All.Select(s => s.SimulationId));
        Assert.Equal(["BCAST_DELIVERY_PROOF_COMMIT"], BcastSimulations.All.Where(s => s.HandoffOnly).Select(s => s.SimulationId));
        Assert.All(BcastSimulations.All, s => Assert.Equal((BcastReasons.EngineId, SimulationStatus.Active, AccessMode.W), (s.OwningEngine, s.Status, s.RequiredMode)));
        Assert.Equal(SimulationType.Draft, BcastSimulations.All[0].Type);
        Assert.All(BcastSimulations.All.Skip(1), s => Assert.Equal(SimulationType.Commit, s.Type));
        Assert.Equal(
            ["BCAST_DRAFT_CREATE", "BCAST_DELIVER_COMMIT", "BCAST_DEFER_AND_SCHEDULE_RETRY_COMMIT", "BCAST_REMINDER_FIRED_COMMIT",
             "BCAST_ACK_RECORD_COMMIT", "BCAST_ESCALATE_TO_SENDER_COMMIT", "BCAST_EXPIRE_COMMIT", "BCAST_CANCEL_COMMIT", "BCAST_DELIVER_COMMIT"],
            BcastSimulations.All.Select(s => s.RequestedAction));
        Assert.All(Enum.GetValues<BcastAction>(), a => Assert.Contains(BcastSimulations.Of(a), BcastSimulations.All.Select(s => s.SimulationId)));
    }

    [Fact]
    public void Simulations_ListOnlyBcastCodes_AndEveryCodeTheDeciderEmits()
    {
        var listed = BcastSimulations.All.SelectMany(s => s.ReasonCodes).Distinct().ToArray();
        Assert.All(listed, c => Assert.Contains(c, BcastReasons.All));
        // Every code but the internal failure (which only the runtime raises) is some simulation's outcome.
        Assert.Equal(BcastReasons.All.Where(c => c != BcastReasons.BcastFailInternal).OrderBy(c => c.Id), listed.OrderBy(c => c.Id));
    }

    public static TheoryData<string, BcastCommand, string> Invalid() => new()
    {
        { "empty audience", Draft() with { AudienceSpec = " " }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "long payload ref", Draft() with { ContentPayloadRef = new string('x', 257) }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "undefined classification", Draft((BcastClassification)9), "BCAST_FAIL_SCHEMA_INVALID" },
        { "undefined required ack", Draft(ack: (BcastRequiredAck)9), "BCAST_FAIL_SCHEMA_INVALID" },
        { "negative expiry", Draft(expiryAt: -5), "BCAST_FAIL_SCHEMA_INVALID" },
        { "bad prompt key", Draft(promptKey: "has space"), "BCAST_FAIL_SCHEMA_INVALID" },
        { "bad broadcast id", Deliver() with { BroadcastId = "bcast_xyz" }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "missing recipient", Deliver() with { RecipientId = null }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "undefined method", Deliver((BcastDeliveryMethod)9), "BCAST_FAIL_SCHEMA_INVALID" },
        { "undefined region", Deliver(region: (BcastRecipientRegion)9), "BCAST_FAIL_SCHEMA_INVALID" },
        { "empty plan", Deliver(plan: ""), "BCAST_FAIL_SCHEMA_INVALID" },
        { "no simulation context", Deliver(simulationContext: null), "BCAST_FAIL_SIMULATION_CONTEXT_MISSING" },
        { "defer with both times", Defer(false, until: Now.Value + 1) with { DeferDurationMs = 5 }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "defer with neither", Defer(false) with { DeferUntil = null }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "defer of zero ms", Defer(false, durationMs: 0), "BCAST_FAIL_SCHEMA_INVALID" },
        { "empty reminder ref", ReminderFired(""), "BCAST_FAIL_SCHEMA_INVALID" },
        { "undefined ack", Ack((BcastAckType)9), "BCAST_FAIL_SCHEMA_INVALID" },
        { "empty escalation reason", Escalate() with { EscalationReason = "" }, "BCAST_FAIL_SCHEMA_INVALID" },
        { "expire bad id", new ExpireBroadcast("nope", "TIME_UP"), "BCAST_FAIL_SCHEMA_INVALID" },
        { "cancel without reason", new CancelBroadcast(BroadcastId, ""), "BCAST_FAIL_SCHEMA_INVALID" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_BadInput_IsRefusedBeforeAnyStateIsRead(string why, BcastCommand command, string reason)
    {
        var rejected = BcastDecider.Validate(command);
        Assert.NotNull(rejected);
        Assert.Equal(reason, rejected.Reason.Name);
        // Decide refuses the same way, even where the state would allow the action.
        Assert.Equal(rejected, BcastDecider.Decide(State(BcastRecipientStatus.Waiting), command, Context()));
        Assert.NotNull(why);
    }

    [Fact]
    public void Validate_TheFixturesCommands_AreValid()
    {
        BcastCommand[] valid = [Draft(), Deliver(), Defer(false), Defer(true, durationMs: 1000), ReminderFired(), Ack(), Escalate(),
            new ExpireBroadcast(BroadcastId, "TIME_UP"), new CancelBroadcast(BroadcastId, "SENDER_CANCELED")];
        Assert.All(valid, c => Assert.Null(BcastDecider.Validate(c)));
    }

    [Fact]
    public void Draft_WithExpiryInThePast_IsRefused()
    {
        AssertRejected(BcastReasons.BcastFailSchemaInvalid, BcastDecider.Decide(BcastState.Empty, Draft(expiryAt: Now.Value), Context()));
    }
}
