using System.Text;
using System.Text.Json;
using Selene.Engines.CapReq;
using Selene.Kernel.Os;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Tests;

/// <summary>Turns through the runtime: derived posture, one move, recorded inputs that replay to the same decision.</summary>
public sealed class TurnTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private static readonly string[] Text = ["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"];
    private static readonly TurnPosture Confirmed = new(true, true, true, true, true, true);

    private static TurnRequest Turn(CorrelationId correlation, IReadOnlyList<RequestedMove> moves, TurnSimulation? simulation = null,
        TurnPosture? posture = null, IReadOnlyList<string>? optional = null, TurnTool? tool = null, IReadOnlyList<TurnOutcome>? outcomes = null) =>
        new(correlation.ToString(), 1, TurnPath.Text, Text, posture ?? Confirmed, moves, OptionalRequested: optional, Simulation: simulation, Tool: tool,
            Outcomes: outcomes);

    private static TurnSimulation Create(string key, string capability) =>
        new(CapreqSimulations.CreateDraft, Json($$"""{"requested_capability_id":"{{capability}}","target_scope_ref":"scope","justification":"why"}"""), key);

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private Task<TurnResult> RunAsync(string actor, TurnRequest turn) => f.Turns.RunAsync(new TenantId("acme"), new UserId(actor), turn);

    [Fact]
    public async Task DispatchedTurn_RunsTheSimulation_AndJournalsTheDecisionFirst()
    {
        var correlation = f.NextCorrelation();
        var result = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-dispatch", "turn.dispatch"), optional: ["PH1.LANG"]));

        Assert.Equal(TurnOutcomeKind.Decided, result.Kind);
        Assert.Equal(OsNextMove.DispatchSimulation, result.Move);
        Assert.Equal(ReasonCodes.OsOkDecisionCompute, result.Reason);
        Assert.False(result.FailClosed);
        Assert.Equal(["PH1.LANG"], result.OptionalInvoked);
        Assert.Equal(ExecutionOutcome.Executed, result.Execution!.Outcome);
        Assert.Equal(CapreqReasons.CapreqCreated, result.Execution.Reason);
        Assert.Equal(1, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND event_type = 'TURN_DECISION' AND reason_code = 'PH1_OS_OK_DECISION_COMPUTE'"));
        Assert.Equal(1, await f.CountAsync("acme", "os_turn_decisions", $"correlation_id = {correlation} AND next_move = 'DISPATCH_SIMULATION'"));
    }

    [Fact]
    public async Task UnconfirmedCommit_IsAConfirmMove_AndNothingRuns()
    {
        var correlation = f.NextCorrelation();
        var ledger = await f.CountAsync("acme", "capreq_ledger");
        var result = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-confirm", "turn.confirm"),
            posture: Confirmed with { ConfirmationReceived = false }));

        Assert.Equal(OsNextMove.Confirm, result.Move);
        Assert.Equal(ReasonCodes.OsFailConfirmationGate, result.Reason);
        Assert.True(result.FailClosed);
        Assert.Null(result.Execution);
        Assert.Equal(ledger, await f.CountAsync("acme", "capreq_ledger"));
        // The key was not consumed: once confirmed, the same key runs.
        var confirmed = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-confirm", "turn.confirm")));
        Assert.Equal(ExecutionOutcome.Executed, confirmed.Execution!.Outcome);
    }

    [Fact]
    public async Task CommitWithRequiresConfirmationFalse_IsStillAConfirmMove_SeleneRequiresIt()
    {
        var draft = await f.RunAsync("alice", CapreqSimulations.CreateDraft, RuntimeFixture.Key("t-law"), RuntimeFixture.CreateBody("turn.law." + Guid.NewGuid().ToString("N")));
        var id = RuntimeFixture.CapreqIdOf(draft);
        var ledger = await f.CountAsync("acme", "capreq_ledger");
        var submit = new TurnSimulation(CapreqSimulations.SubmitForApproval, Json(RuntimeFixture.IdBody(id)), RuntimeFixture.Key("t-law-submit"));

        var result = await RunAsync("alice", Turn(f.NextCorrelation(), [RequestedMove.DispatchSimulation], submit,
            posture: Confirmed with { RequiresConfirmation = false, ConfirmationReceived = false }));

        Assert.Equal(OsNextMove.Confirm, result.Move);
        Assert.Equal(ReasonCodes.OsFailConfirmationGate, result.Reason);
        Assert.Null(result.Execution);
        Assert.False(result.Policy!.Value.ConfirmationGateOk);
        Assert.Equal(ledger, await f.CountAsync("acme", "capreq_ledger"));
    }

    [Fact]
    public async Task RetryOfAnExecutedKey_PassesTheSameSliceChecks_BeforeItsStoredResultIsReturned()
    {
        var correlation = f.NextCorrelation();
        var key = RuntimeFixture.Key("t-retry");
        var first = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create(key, "turn.retry." + key)));
        Assert.Equal(ExecutionOutcome.Executed, first.Execution!.Outcome);

        // The same request again, unconfirmed: the gate answers CONFIRM, no stored result is handed out.
        var unconfirmed = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create(key, "turn.retry." + key),
            posture: Confirmed with { ConfirmationReceived = false }));
        Assert.Equal(OsNextMove.Confirm, unconfirmed.Move);
        Assert.Null(unconfirmed.Execution);

        // A broken ALWAYS_ON sequence is refused before any stored result too.
        var broken = await RunAsync("alice", new TurnRequest(correlation.ToString(), 1, TurnPath.Text, ["PH1.NLP", "PH1.X"], Confirmed,
            [RequestedMove.DispatchSimulation], Simulation: Create(key, "turn.retry." + key)));
        Assert.Null(broken.Execution);

        // Confirmed, it replays the stored bytes.
        var replay = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create(key, "turn.retry." + key)));
        Assert.Equal(ExecutionOutcome.Replayed, replay.Execution!.Outcome);
        Assert.Equal(first.Execution.Body, replay.Execution.Body);
    }

    [Fact]
    public async Task RetryOfAnExecutedKey_WithTheGateSwitchedOff_IsNotInvoked()
    {
        var key = RuntimeFixture.Key("t-off");
        var first = await RunAsync("alice", Turn(f.NextCorrelation(), [RequestedMove.DispatchSimulation], Create(key, "turn.off." + key)));
        Assert.Equal(ExecutionOutcome.Executed, first.Execution!.Outcome);

        var off = new TurnExecutor(f.Db, SimulationRegistry.Default, SeleneCatalog.Default, TimeProvider.System, OsConfig.Mvp with { OsEnabled = false });
        var retry = await off.RunAsync(new TenantId("acme"), new UserId("alice"),
            Turn(f.NextCorrelation(), [RequestedMove.DispatchSimulation], Create(key, "turn.off." + key)));

        Assert.Equal(TurnOutcomeKind.NotInvoked, retry.Kind);
        Assert.Equal(ReasonCodes.OsNotInvokedDisabled, retry.Reason);
        Assert.Null(retry.Execution);
    }

    [Fact]
    public async Task ChatTurn_OfAUserWithoutAccessInstance_IsRefusedAtTheAccessGate()
    {
        var result = await RunAsync("nobody", Turn(f.NextCorrelation(), [RequestedMove.Respond]));
        Assert.Equal(OsNextMove.Refuse, result.Move);
        Assert.Equal(ReasonCodes.OsFailAccessGate, result.Reason);

        var chat = await RunAsync("alice", Turn(f.NextCorrelation(), [RequestedMove.Respond]));
        Assert.Equal(OsNextMove.Respond, chat.Move);
        Assert.False(chat.FailClosed);
    }

    [Fact]
    public async Task ToolTurn_IsDispatchToolWithoutExecution()
    {
        var result = await RunAsync("alice", Turn(f.NextCorrelation(), [RequestedMove.DispatchTool], tool: new TurnTool("directory.lookup", Json("{}"))));
        Assert.Equal(OsNextMove.DispatchTool, result.Move);
        Assert.True(result.DispatchAllowed);
        Assert.False(result.ExecutionAllowed);
        Assert.Null(result.Execution);
    }

    [Fact]
    public async Task LegacyLinkSendId_IsRefusedAsLegacyDoNotWire()
    {
        var correlation = f.NextCorrelation();
        var result = await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], new TurnSimulation("LINK_INVITE_SEND_COMMIT", Json("{}"), "t-legacy")));
        Assert.Equal(OsNextMove.Refuse, result.Move);
        Assert.Equal(ReasonCodes.LegacyDoNotWire, result.Reason);
        Assert.True(result.FailClosed);
        Assert.Equal(1, await f.CountAsync("acme", "os_turn_decisions", $"correlation_id = {correlation} AND reason_code = 'LEGACY_DO_NOT_WIRE'"));
    }

    [Fact]
    public async Task OutcomeOfAnotherCorrelation_IsInvalidInput_AndRecordsNothing()
    {
        var correlation = f.NextCorrelation();
        var outcome = new TurnOutcome("PH1.LANG", "LANG_HINT", "AUDIT_ONLY", "NONE", 3, false, "LANG_OK", CorrelationId: "999999");
        var result = await RunAsync("alice", Turn(correlation, [RequestedMove.Respond], outcomes: [outcome]));
        Assert.Equal(TurnOutcomeKind.Invalid, result.Kind);
        Assert.Equal(ReasonCodes.OsInputSchemaInvalid, result.Reason);
        Assert.Equal(0, await f.CountAsync("acme", "journal", $"correlation_id = {correlation}"));
        Assert.Equal(0, await f.CountAsync("acme", "os_turn_decisions", $"correlation_id = {correlation}"));
    }

    [Fact]
    public async Task OutcomeRows_OfADecidedTurn_AreKeptForTheUtilityReview()
    {
        var correlation = f.NextCorrelation();
        TurnOutcome[] outcomes =
        [
            new("PH1.LANG", "LANG_HINT", "AUDIT_ONLY", "NONE", 4, false, "LANG_OK"),
            new("PH1.SEARCH", "SEARCH_RESULT", "ACT_NOW", "PH1.X", 12, true, "SEARCH_OK"),
        ];
        var result = await RunAsync("alice", Turn(correlation, [RequestedMove.Respond], outcomes: outcomes));
        Assert.Equal(OsNextMove.Respond, result.Move);
        Assert.Equal(2, await f.CountAsync("acme", "os_outcome_utilization", $"correlation_id = {correlation}"));
        Assert.Equal(1, await f.CountAsync("acme", "os_outcome_utilization", $"correlation_id = {correlation} AND engine_id = 'PH1.SEARCH' AND consumed_by = 'PH1.X'"));

        // An unconsumed ACT_NOW row fails GATE-U2: the turn is refused, and its rows are still on record for the review.
        var unresolved = f.NextCorrelation();
        var refused = await RunAsync("alice", Turn(unresolved, [RequestedMove.Respond],
            outcomes: [new TurnOutcome("PH1.SEARCH", "SEARCH_RESULT", "ACT_NOW", "NONE", 9, false, "SEARCH_OK")]));
        Assert.Equal(ReasonCodes.OsFailOutcomeUnresolvedGate, refused.Reason);
        Assert.Equal(1, await f.CountAsync("acme", "os_outcome_utilization", $"correlation_id = {unresolved}"));
    }

    [Fact]
    public async Task Disabled_NotInvoked_AndNothingRecorded()
    {
        var disabled = new TurnExecutor(f.Db, SimulationRegistry.Default, SeleneCatalog.Default, TimeProvider.System, OsConfig.Mvp with { OsEnabled = false });
        var correlation = f.NextCorrelation();
        var result = await disabled.RunAsync(new TenantId("acme"), new UserId("alice"), Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-off", "turn.off")));
        Assert.Equal(TurnOutcomeKind.NotInvoked, result.Kind);
        Assert.Equal(ReasonCodes.OsNotInvokedDisabled, result.Reason);
        Assert.Equal(0, await f.CountAsync("acme", "journal", $"correlation_id = {correlation}"));
    }

    [Fact]
    public async Task RecordedTurnInputs_FedAgainToTheGate_GiveTheSameMoveAndReason()
    {
        // A spread of decisions under one correlation: dispatched, confirm, refused by access, refused by the slice, legacy, chat.
        var correlation = f.NextCorrelation();
        await f.GiveInstanceAsync("alice", "ruth", "restricted", "R", ["CAPREQ_MANAGE"]);
        await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-replay-1", "turn.replay")));
        await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-replay-2", "turn.replay2"), posture: Confirmed with { ConfirmationReceived = false }));
        await RunAsync("ruth", Turn(correlation, [RequestedMove.DispatchSimulation], Create("t-replay-3", "turn.replay3")));
        await RunAsync("alice", Turn(correlation, [RequestedMove.Respond], optional: ["PH1.PATTERN"]));
        await RunAsync("alice", Turn(correlation, [RequestedMove.DispatchSimulation], new TurnSimulation("LINK_INVITE_RESEND_COMMIT", Json("{}"), "t-replay-4")));
        await RunAsync("alice", Turn(correlation, [RequestedMove.Respond, RequestedMove.Explain]));

        IReadOnlyList<TurnDecisionRow> rows;
        IReadOnlyList<JournalRecord> journal;
        await using (var tx = await TenantTransaction.BeginAsync(f.Db.App, "acme"))
        {
            rows = await TurnDecisionStore.ByCorrelationAsync(tx, correlation, 100, default);
            journal = await JournalStore.ByCorrelationAsync(tx, correlation, 1000, default);
        }
        Assert.Equal(["DISPATCH_SIMULATION", "CONFIRM", "REFUSE", "REFUSE", "REFUSE", "REFUSE"], rows.Select(r => r.NextMove));
        Assert.Equal(["PH1_OS_OK_DECISION_COMPUTE", "OS_FAIL_CONFIRMATION_GATE", "OS_FAIL_ACCESS_GATE", "PH1_OS_TOPLEVEL_RUNTIME_BOUNDARY_VIOLATION",
            "LEGACY_DO_NOT_WIRE", "OS_FAIL_ONE_TURN_ONE_MOVE"], rows.Select(r => r.ReasonCode));
        var journaledHashes = journal.Where(j => j.EventType == "TURN_DECISION")
            .Select(j => JsonDocument.Parse(j.PayloadJson).RootElement.GetProperty("turn_input_hash").GetString()).ToArray();
        Assert.Equal(rows.Select(r => r.InputHash), journaledHashes);

        foreach (var row in rows)
        {
            Assert.Equal(row.InputHash, Hashing.Sha256Hex(Encoding.UTF8.GetBytes(row.InputJson)));
            using var doc = JsonDocument.Parse(row.InputJson);
            Assert.True(OsTurnCodec.TryRead(doc.RootElement, out var input, out var error), error);
            var replayed = OsTurnSlice.Run(input, OsConfig.Mvp);
            var move = replayed is OsTurnOutcome.Forwarded fw ? fw.Decision.Move : OsNextMove.Refuse;
            Assert.Equal(row.NextMove, WireNames.Of(move));
            Assert.Equal(row.ReasonCode, replayed.Reason.Name);
        }
    }
}
