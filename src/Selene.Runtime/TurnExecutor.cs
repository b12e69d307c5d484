using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Selene.Kernel.Access;
using Selene.Kernel.Catalog;
using Selene.Kernel.Os;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Gov;

namespace Selene.Runtime;

/// <summary>How a turn request ended.</summary>
public enum TurnOutcomeKind
{
    /// <summary>The request was not a valid turn; nothing was decided or stored (400/409).</summary>
    Invalid,
    /// <summary>PH1.OS is switched off: nothing was decided (503).</summary>
    NotInvoked,
    /// <summary>The gate decided one move; the decision and its inputs are journaled.</summary>
    Decided,
}

/// <summary>
/// The answer to one turn. For <see cref="TurnOutcomeKind.Decided"/>: the move, its reason code, the fail-closed flag,
/// the guard failures, the optional plan, the hash of the recorded gate input and — for DISPATCH_SIMULATION — the
/// executor's result. <see cref="Cause"/> names what made a gate fail when Selene knows more than the gate's code
/// (the access gate's own refusal, an unknown or inactive simulation, a missing key). <see cref="Policy"/> is the
/// whole OS_POLICY_EVALUATE output when the gate ran (every gate result and the echoed optional budget).
/// <see cref="Suggestions"/> are the learning loop's priors a GUIDED or PRESCRIPTIVE tenant's turn consulted (null otherwise:
/// a SHADOW tenant's answer is the same as with no learning at all; docs/learning.md).
/// </summary>
public sealed record TurnResult(
    TurnOutcomeKind Kind,
    ReasonCode Reason,
    string? Detail,
    CorrelationId Correlation,
    TurnId Turn,
    OsNextMove Move = OsNextMove.Refuse,
    bool FailClosed = true,
    bool DispatchAllowed = false,
    bool ExecutionAllowed = false,
    IReadOnlyList<string>? GuardFailures = null,
    IReadOnlyList<string>? OptionalInvoked = null,
    IReadOnlyList<string>? OptionalSkippedBudget = null,
    string? InputHash = null,
    ReasonCode? Cause = null,
    JsonObject? Problem = null,
    ExecutionResult? Execution = null,
    OsPolicyResult? Policy = null,
    JsonArray? Suggestions = null);

/// <summary>
/// The one path to execution (ARCHITECTURE.md §3): a turn is validated, the authority-bearing gate inputs are
/// derived here (access decision for the actor and the simulation's requested action, catalog status of the
/// simulation and its blueprint, idempotency-key presence, lease, governance decisions), the top-level slice and
/// the gate decide exactly one move, and only DISPATCH_SIMULATION runs a handler — inside the same transaction
/// that claimed the idempotency key and read the access facts. Every decided turn stores its exact gate input
/// (<see cref="TurnDecisionStore"/>) and journals a TURN_DECISION entry carrying that input's hash, so the decision
/// can be replayed. A refused or non-dispatch turn rolls back and is recorded in a transaction of its own. A COMMIT or
/// REVOKE simulation always requires confirmation, and a retry of a committed key passes the same slice and gate
/// before its stored result is returned (docs/decisions.md, "The turn laws").
/// </summary>
/// <param name="services">What the host composed for its simulations (<see cref="ExecutionContext.Services"/>); none when null.</param>
public sealed class TurnExecutor(SeleneDatabase db, SimulationRegistry registry, SimulationCatalog catalog, TimeProvider clock, OsConfig? config = null,
    Platform.HandoffServices? services = null)
{
    private const int MaxAttempts = 3;
    private readonly OsConfig _config = config ?? OsConfig.Mvp;

    /// <summary>The host clock every turn reads its time from (an entry that stamps a request, e.g. an invite's open time, reads the same).</summary>
    public TimeProvider Clock => clock;

    /// <summary>Runs one turn for an authenticated caller.</summary>
    /// <param name="onCommit">Work that must commit with a dispatched simulation's effect or not at all (<see cref="CommitHook"/>).</param>
    /// <param name="lease">The lease a lease-gated execution runs under (a work order's step); null: the turn needs none.</param>
    /// <param name="handoff">True only for the outbox worker's run of a handoff: a <see cref="SimulationRecord.HandoffOnly"/> simulation runs only so.</param>
    /// <param name="key">The caller's API key when the edge accepted it without asking the database: the turn's first batch checks it (<see cref="ApiKeyCheck"/>).</param>
    public async Task<TurnResult> RunAsync(TenantId tenant, UserId actor, TurnRequest request, CancellationToken ct = default, CommitHook? onCommit = null,
        LeaseClaim? lease = null, bool handoff = false, ApiKeyCheck? key = null)
    {
        // One span per turn (docs/observability.md); null, and nothing recorded on it, when no listener samples it.
        var started = clock.GetTimestamp();
        using var span = SeleneTelemetry.Source.StartActivity(SeleneTelemetry.TurnSpan);
        if (span is not null)
        {
            span.SetTag(SeleneTelemetry.Tags.Tenant, tenant.Value);
            span.SetTag(SeleneTelemetry.Tags.Turn, request.TurnId);
            if (CorrelationId.TryParse(request.CorrelationId, out var c)) span.SetTag(SeleneTelemetry.Tags.Correlation, c.ToString());
        }
        // A metric label names only a simulation the catalog knows: the caller's text would make the label set unbounded.
        // Looked up only when something listens.
        var simulationLabel = request.Simulation is { } asked && (span is not null || SeleneTelemetry.Listened)
            ? catalog.Posture(asked.SimulationId).Record?.SimulationId ?? SeleneTelemetry.UnknownSimulation
            : null;
        if (simulationLabel is not null) span?.SetTag(SeleneTelemetry.Tags.Simulation, simulationLabel);
        try
        {
            var result = await RunTurnAsync(tenant, actor, request, onCommit, lease, handoff, key, ct);
            SeleneTelemetry.Record(span, simulationLabel, result, null, clock.GetElapsedTime(started));
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SeleneTelemetry.Record(span, simulationLabel, null,
                ex is ApiKeyRejectedException ? ReasonCodes.AuthKeyInvalid : StorageFailures.Classify(ex)?.Reason ?? ReasonCodes.InternalError, clock.GetElapsedTime(started));
            throw;
        }
    }

    private async Task<TurnResult> RunTurnAsync(TenantId tenant, UserId actor, TurnRequest request, CommitHook? onCommit, LeaseClaim? lease, bool handoff,
        ApiKeyCheck? key, CancellationToken ct)
    {
        if (!CorrelationId.TryParse(request.CorrelationId, out var correlation))
            return Invalid(ReasonCodes.OsInputSchemaInvalid, "correlation_id must be a decimal string between 1 and 2^128-1", default, default);
        if (request.TurnId is 0 or > long.MaxValue)
            return Invalid(ReasonCodes.OsInputSchemaInvalid, "turn_id must be between 1 and 2^63-1", correlation, default);
        var turn = new TurnId(request.TurnId);
        if (!TurnShape.TryRead(request, correlation, turn, out var shape, out var shapeError))
            return Invalid(shapeError!.Reason, shapeError.Detail, correlation, turn);

        PreparedSimulation? simulation = null;
        if (request.Simulation is { } sim)
        {
            var prepared = Prepare(tenant, actor, sim, correlation, turn, handoff);
            if (prepared.Error is { } error) return Invalid(error.Reason, error.Detail, correlation, turn);
            simulation = prepared.Simulation;
        }

        // Confirmation is Selene's to require: a simulation that commits or revokes needs a completed confirmation
        // whatever the caller's posture says. The caller may ask for more confirmation, never for less.
        if (simulation?.Record is { Type: SimulationType.Commit or SimulationType.Revoke })
            shape = shape! with { Posture = shape.Posture with { RequiresConfirmation = true } };

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunOnceAsync(tenant, actor, request, shape!, simulation, correlation, turn, onCommit, lease, key, ct);
            }
            catch (NpgsqlException ex) when (attempt < MaxAttempts && StorageFailures.Classify(ex) is { Kind: StorageFailureKind.Retry })
            {
                // Rolled back entirely: the same turn may run again.
            }
        }
    }

    private async Task<TurnResult> RunOnceAsync(TenantId tenant, UserId actor, TurnRequest request, TurnShape shape, PreparedSimulation? simulation,
        CorrelationId correlation, TurnId turn, CommitHook? onCommit, LeaseClaim? lease, ApiKeyCheck? key, CancellationToken ct)
    {
        var now = UnixNanos.FromDateTimeOffset(clock.GetUtcNow());
        var posture = simulation?.Posture ?? default;
        IdempotencyClaim.Existing? replayOf = null;
        Access.GateVerdict? verdict = null;
        ExecutionContext? context = null;
        TurnResult decided;
        string inputJson;
        JournalDraft? engineRefusal = null;
        Learn.Consultation? consultation = null;

        // The tenant, the caller's key check (when the edge took the key from its cache) and the claim go out with the
        // gate's facts: the transaction's first round trip (docs/performance.md, issue 14).
        await using (var tx = await TenantTransaction.OpenAsync(db.App, tenant.Value, actor.Value, key, ct))
        {
            // The gate stage's span ends once the move is decided (disposing it again at the block's end does nothing).
            using var gateSpan = SeleneTelemetry.Source.StartActivity(SeleneTelemetry.GateSpan);

            // 1. Claim the key, and 2. read the gate's facts, in one round trip: the acting user's access instance, overrides
            //    and the request's escalation case, and what PH1.GOV stored (switches, the day's budgets, the definitions'
            //    status, the required approval). A committed key is a retry: it is checked before any transition is validated
            //    (ARCHITECTURE.md §4), and its stored result is returned only if this turn passes the gate too (step 3).
            var record = simulation?.Handler is not null ? simulation.Record : null;
            var caseId = record is not null ? Access.ExecutorGate.CaseIdOf(record, tenant, actor, simulation!.Key) : null;
            // Read as for a first run: a retry needs a subset of these rows (no approval is looked for), decided below.
            var governanceQuery = GovernanceReads.Query(record, posture.Blueprint?.ProcessId, simulation?.CapabilityScope, false, now);
            (string, string, string)? claimOf = null;
            (EngineStore, string)? firstStream = null;
            if (simulation is { Handler: { } handler, Key: { } idempotencyKey })
            {
                context = new ExecutionContext(tenant, actor, correlation, turn, idempotencyKey, now, services);
                claimOf = (simulation.Scope, idempotencyKey.Value, simulation.RequestHash);
                // The stream the handler works on is locked and loaded in the same round trip (unused when the gate refuses).
                firstStream = handler.FirstStream(simulation.Input!, context);
            }
            var (claim, accessFacts, governanceRows, priors) = await GovernanceQueries.TurnFactsAsync(tx, claimOf, actor.Value, caseId, now.Value,
                governanceQuery.Day, governanceQuery.DefinitionStreams, governanceQuery.Capability, governanceQuery.CapabilityScope, ct, firstStream,
                record?.SimulationId, Learn.LearnAdvisor.CandidatesPerKind);
            if (simulation is { Handler: not null, Key: not null })
            {
                if (claim is IdempotencyClaim.Existing existing)
                {
                    if (!string.Equals(existing.RequestHash, simulation.RequestHash, StringComparison.Ordinal))
                        return Invalid(ReasonCodes.IdempotencyKeyReused, "this idempotency key was already used for a different request", correlation, turn);
                    replayOf = existing;
                    governanceQuery = GovernanceReads.Query(record, posture.Blueprint?.ProcessId, simulation.CapabilityScope, true, now);
                }
            }

            // The learning loop's priors for this actor and simulation came with the facts (none unless the tenant's mode is
            // GUIDED or PRESCRIPTIVE); a retry of a committed request consults nothing.
            consultation = record is not null && replayOf is null ? Learn.LearnAdvisor.Consult(priors, record, now) : null;

            // 3. The access posture: the acting user's instance and overrides, decided for the simulation's requested action
            //    at its declared mode. A retry of a committed request is not asked again: the access decision that let it run
            //    is on record, a replay changes nothing, and asking again would open a second escalation case (or spend a
            //    ONE_SHOT override) for a request that already ran.
            bool accessAllowed;
            if (replayOf is not null)
                accessAllowed = true;
            else if (record is not null)
            {
                verdict = Access.ExecutorGate.Decide(accessFacts, record, actor, caseId, simulation!.RequestHash, now);
                if (verdict is null)
                    return Invalid(ReasonCodes.IdempotencyKeyReused,
                        "this idempotency key was already used for a different request (its escalation case is bound to that request)", correlation, turn);
                accessAllowed = verdict.Allowed;
            }
            else
            {
                // No governed action to ask about (chat, clarify, tool, or a simulation the catalog cannot run): the
                // actor needs an ACTIVE access instance (docs/decisions.md).
                var (instance, _) = Access.ExecutorGate.Views(accessFacts);
                accessAllowed = instance is { Lifecycle: AccessLifecycle.Active };
            }

            //    Governance, from the same read (a required approval that was found is locked here).
            var governance = await GovernanceReads.DecideAsync(tx, governanceRows, governanceQuery, record, request.Tool is not null, replayOf is not null, ct);

            // 4. The lease: a turn that runs under one (a work order's step) needs it valid now, as PH1.LEASE stored it.
            var leaseValid = lease is not null && await Work.WorkModule.HoldsLeaseAsync(tx, lease, now, ct);

            // 5. Decide: the top-level slice, then OS_POLICY_EVALUATE and OS_DECISION_COMPUTE.
            var input = shape.ToTopLevel(new OsExecutionDeps(
                AccessAllowed: accessAllowed,
                BlueprintActive: posture.BlueprintActive && governance.BlueprintDeprecatedIn is null,
                SimulationActive: posture.SimulationActive && simulation?.Handler is not null && governance.SimulationDeprecatedIn is null,
                IdempotencyRequired: request.Simulation is not null,
                IdempotencyKeyPresent: simulation?.Key is not null,
                LeaseRequired: lease is not null,
                LeaseValid: leaseValid), governance.Verdict.Decisions, posture.Legacy);
            var outcome = OsTurnSlice.Run(input, _config);
            if (outcome is OsTurnOutcome.NotInvokedDisabled)
                return new TurnResult(TurnOutcomeKind.NotInvoked, outcome.Reason, "the orchestration gate is switched off: no turn is decided", correlation, turn);
            if (outcome is OsTurnOutcome.Refused { Reason: var code, Message: var message } && IsInputRefusal(code))
                return Invalid(code, message, correlation, turn);

            var inputBytes = CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(OsTurnCodec.Write(input).ToJsonString()));
            inputJson = Encoding.UTF8.GetString(inputBytes);
            decided = ToResult(outcome, correlation, turn, Hashing.Sha256Hex(inputBytes), simulation, verdict, governance);
            if (consultation is not null) decided = decided with { Suggestions = Learn.LearnAdvisor.ToJson(consultation) };
            if (gateSpan is not null)
            {
                gateSpan.SetTag(SeleneTelemetry.Tags.Move, WireNames.Of(decided.Move));
                gateSpan.SetTag(SeleneTelemetry.Tags.Reason, decided.Reason.Name);
                gateSpan.Dispose();
            }

            // A retry that passed the same slice checks gets the stored result; nothing is decided or journaled again
            // (the original decision is on record). A retry the gate refuses is recorded like any other decision.
            if (replayOf is not null && decided.Move == OsNextMove.DispatchSimulation)
            {
                var stored = Encoding.UTF8.GetBytes(replayOf.Body);
                var replay = new ExecutionResult(ExecutionOutcome.Replayed, SimulationExecutor.ReasonCodeOf(stored), null, stored, correlation);
                return decided with { Detail = "replayed: this request committed before under this key", InputHash = null, Execution = replay };
            }

            // 6. DISPATCH_SIMULATION: the handler runs in this transaction, after every gate has passed.
            if (decided.Move == OsNextMove.DispatchSimulation)
            {
                using var executorSpan = SeleneTelemetry.Source.StartActivity(SeleneTelemetry.ExecutorSpan);
                executorSpan?.SetTag(SeleneTelemetry.Tags.Simulation, simulation!.Record!.SimulationId);
                var handled = await simulation!.Handler!.ExecuteAsync(tx, simulation.Input!, context!, ct);
                if (handled is HandlerOutcome.Accepted accepted)
                {
                    var entries = new List<JournalDraft>
                    {
                        TurnJournal(decided, simulation, request),
                        Access.ExecutorGate.Journal(verdict!, ReasonCodes.AccessAllowed, simulation.Record!.SimulationId),
                    };
                    if (consultation is not null) entries.Add(Learn.LearnAdvisor.Journal(consultation, simulation.Record, actor));
                    entries.AddRange(accepted.Journal);
                    // The execution spends the day's budgets and fulfils the approval it needed, in its own transaction.
                    if (governance.CountsAsExecution)
                        GovernanceQueries.DeferCountExecution(tx, actor.Value, governance.Day, governance.TenantLimit, governance.UserLimit);
                    if (governance.ApprovedCapreq is { } approval)
                        entries.Add(await CapReq.CapreqModule.FulfilForAsync(tx, approval, context!, simulation.Record.SimulationId, ct));
                    // The writes nothing reads back go with the journal's batch (TenantTransaction.Defer): the projection,
                    // the decision, the handoffs and the stored result, which names the journal seqs it is written with.
                    TurnDecisionStore.Append(tx, Row(decided, inputJson, actor, simulation, now, context));
                    OutboxStore.Enqueue(tx, correlation, accepted.Outbox, now.Value, new OutboxOrigin(actor.Value, turn));
                    if (onCommit is not null) entries.AddRange(await onCommit(tx, context!, accepted.Result, ct));
                    await RecordOutcomesAsync(tx, shape, now, ct);
                    var result = accepted.Result;
                    result["simulation_id"] = simulation.Record.SimulationId;
                    result["reason_code"] = accepted.Reason.Name;
                    result["reason_code_id"] = accepted.Reason.Id;
                    result["correlation_id"] = correlation.ToString();
                    result["turn_id"] = turn.Value;
                    byte[] bytes = [];
                    // The journal's batch commits too: the chain head is held for one round trip and the flush.
                    tx.CommitWithJournal();
                    await JournalStore.AppendAsync(tx, entries.Select(d => ToEntry(d, actor, correlation, turn, simulation.Key)).ToArray(), now.Value, ct,
                        journal =>
                        {
                            result["journal_seq"] = new JsonArray(journal.Select(j => (JsonNode)j.Seq).ToArray());
                            bytes = CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(result.ToJsonString()));
                            IdempotencyStore.Complete(tx, simulation.Scope, simulation.Key!.Value.Value, 200, Encoding.UTF8.GetString(bytes),
                                accepted.Reason.Name, now.Value);
                        });
                    await tx.CommitAsync(ct);
                    executorSpan?.SetTag(SeleneTelemetry.Tags.Reason, accepted.Reason.Name);
                    return decided with { Execution = new ExecutionResult(ExecutionOutcome.Executed, accepted.Reason, null, bytes, correlation) };
                }

                var rejected = (HandlerOutcome.Rejected)handled;
                executorSpan?.SetTag(SeleneTelemetry.Tags.Reason, rejected.Reason.Name);
                engineRefusal = rejected.Journal;
                decided = decided with { Execution = new ExecutionResult(ExecutionOutcome.Refused, rejected.Reason, rejected.Detail, null, correlation) };
            }
            // Leaving the block disposes the transaction uncommitted: the key claim and every write roll back.
        }

        // 7. Any other decision is recorded on its own: the decision with its input, the access gate's decision, the
        //    engine's refusal, and — when the access gate refused and an approver can resolve it — the request's case.
        using var recordSpan = SeleneTelemetry.Source.StartActivity(SeleneTelemetry.RecordSpan);
        await using (var record = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct))
        {
            var entries = new List<JournalDraft> { TurnJournal(decided, simulation, request) };
            if (verdict is not null)
                entries.Add(Access.ExecutorGate.Journal(verdict, verdict.Allowed ? ReasonCodes.AccessAllowed : verdict.RefusalReason, simulation!.Record!.SimulationId));
            if (consultation is not null) entries.Add(Learn.LearnAdvisor.Journal(consultation, simulation!.Record!, actor));
            if (engineRefusal is not null) entries.Add(engineRefusal);
            if (verdict is { Allowed: false, OpensCase: true } && context is not null && decided.Reason == ReasonCodes.OsFailAccessGate &&
                await Access.ExecutorGate.OpenCaseAsync(record, verdict, simulation!.Record!.SimulationId, context, simulation.RequestHash, ct) is { } opened)
                entries.Add(opened);
            TurnDecisionStore.Append(record, Row(decided, inputJson, actor, simulation, now, context));
            await RecordOutcomesAsync(record, shape, now, ct);
            record.CommitWithJournal();
            await JournalStore.AppendAsync(record, entries.Select(e => ToEntry(e, actor, correlation, turn, simulation?.Key)).ToArray(), now.Value, ct);
            await record.CommitAsync(ct);
        }
        return decided;
    }

    // ---- pieces ----------------------------------------------------------------------------------------------------

    /// <summary>Refusals of the slice or gate that mean "this is not a valid turn": answered 400, nothing recorded.</summary>
    private static bool IsInputRefusal(ReasonCode code) =>
        code == ReasonCodes.OsInputSchemaInvalid || code == ReasonCodes.OsBudgetExceeded || code == ReasonCodes.OsValidationFailed;

    private static TurnResult ToResult(OsTurnOutcome outcome, CorrelationId correlation, TurnId turn, string inputHash, PreparedSimulation? simulation,
        Access.GateVerdict? verdict, TurnGovernance governance)
    {
        TurnResult result = outcome switch
        {
            OsTurnOutcome.Forwarded f => new TurnResult(TurnOutcomeKind.Decided, f.Decision.Reason, f.Decision.Message, correlation, turn,
                f.Decision.Move, f.Decision.FailClosed, f.Decision.DispatchAllowed, f.Decision.ExecutionAllowed,
                OsGuardFailureNames.Render(f.Decision.Guards), [.. f.OptionalInvoked], [.. f.OptionalSkippedBudget], inputHash, Policy: f.Policy),
            OsTurnOutcome.Refused r => new TurnResult(TurnOutcomeKind.Decided, r.Reason, r.Message, correlation, turn, OsNextMove.Refuse, true, false, false,
                [], [], [], inputHash),
            _ => throw new InvalidOperationException("unexpected slice outcome " + outcome.GetType().Name),
        };

        // What Selene knows beyond the gate's code.
        if (result.Reason == ReasonCodes.OsFailAccessGate && verdict is { Allowed: false })
            return result with { Cause = verdict.RefusalReason, Detail = Access.ExecutorGate.RefusalDetail(verdict, simulation!.Record!), Problem = Access.ExecutorGate.Problem(verdict) };
        if (governance.Verdict.Cause is { } governed &&
            (result.Reason == ReasonCodes.OsFailGovGate || result.Reason == ReasonCodes.OsFailQuotaGate || result.Reason == ReasonCodes.OsFailCapreqGate))
            return result with { Cause = governed, Detail = governance.Verdict.Detail };
        if ((result.Reason == ReasonCodes.OsFailSimulationGate || result.Reason == ReasonCodes.OsFailBlueprintGate) && simulation is not null)
            return simulation.Record switch
            {
                null => result with { Cause = ReasonCodes.SimulationUnknown, Detail = $"no simulation '{simulation.SimulationId}' is in the catalog" },
                { Status: not SimulationStatus.Active } r => result with
                {
                    Cause = ReasonCodes.SimulationNotActive, Detail = $"simulation {r.SimulationId} is {WireNames.Of(r.Status)}, not ACTIVE",
                },
                var r when governance.SimulationDeprecatedIn is { } scope => result with
                {
                    Cause = ReasonCodes.SimulationNotActive, Detail = $"simulation {r.SimulationId} is DEPRECATED by {WireNames.Of(scope)} governance",
                },
                _ when governance.BlueprintDeprecatedIn is { } scope => result with
                {
                    Cause = ReasonCodes.SimulationNotActive,
                    Detail = $"the blueprint of simulation {simulation.SimulationId} ({simulation.Posture.Blueprint?.ProcessId}) is DEPRECATED by {WireNames.Of(scope)} governance",
                },
                _ => result with { Detail = $"simulation {simulation.SimulationId} is bound to no ACTIVE blueprint" },
            };
        if (result.Reason == ReasonCodes.OsFailLeaseGate)
            return result with { Detail = "the work order's lease is not this executor's now: it expired, was released or was taken over" };
        if (result.Reason == ReasonCodes.OsFailIdempotencyGate)
            return result with { Cause = ReasonCodes.IdempotencyKeyMissing, Detail = "an idempotency key is required for every simulation" };
        return result;
    }

    /// <summary>The turn's outcome-utilization rows, kept for the daily utility review (GATE-U4/U5), by UTC day of the turn.</summary>
    private static async Task RecordOutcomesAsync(TenantTransaction tx, TurnShape shape, UnixNanos now, CancellationToken ct)
    {
        if (shape.Outcomes.IsEmpty) return;
        var day = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(now.Value / 1_000_000).UtcDateTime);
        await OsOutcomeStore.AppendOutcomesAsync(tx, shape.Correlation, shape.Turn, day, shape.Outcomes, now.Value, ct);
    }

    /// <summary>The turn's decision row, with the engine's decision record when its decider ran (refused or not: replay decides it again).</summary>
    private static TurnDecisionRow Row(TurnResult decided, string inputJson, UserId actor, PreparedSimulation? simulation, UnixNanos now, ExecutionContext? context) =>
        new(0, decided.Correlation.ToString(), checked((long)decided.Turn.Value), actor.Value, inputJson, decided.InputHash!, WireNames.Of(decided.Move),
            decided.Reason.Name, decided.FailClosed, simulation?.SimulationId, simulation?.Key?.Value, now.Value,
            context?.DecisionInput is { } engine ? Platform.DecisionRecord.ToText(engine) : null);

    private static JournalDraft TurnJournal(TurnResult decided, PreparedSimulation? simulation, TurnRequest request)
    {
        var guards = decided.GuardFailures ?? [];
        return new JournalDraft(ReasonCodes.EngineOs, JournalEventTypes.TurnDecision, decided.Reason, JournalPayload.Create(
            ("next_move", WireNames.Of(decided.Move)),
            ("fail_closed", decided.FailClosed ? "true" : "false"),
            ("path", WireNames.Of(request.Path)),
            ("simulation_id", simulation?.SimulationId ?? "NONE"),
            ("tool_id", request.Tool?.ToolId ?? "NONE"),
            ("guard_failure_count", guards.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("first_guard_failure", guards.Count > 0 ? guards[0] : "NONE"),
            ("cause_reason_code", decided.Cause?.Name ?? "NONE"),
            ("optional_invoked", decided.OptionalInvoked is { Count: > 0 } invoked ? string.Join(',', invoked) : "NONE"),
            ("turn_input_hash", decided.InputHash!)));
    }

    private static JournalEntry ToEntry(JournalDraft d, UserId actor, CorrelationId correlation, TurnId turn, IdempotencyKey? key) =>
        new(correlation, turn, d.Engine, d.EventType, d.Reason, d.Payload, actor.Value, key?.Value);

    private static TurnResult Invalid(ReasonCode reason, string detail, CorrelationId correlation, TurnId turn) =>
        new(TurnOutcomeKind.Invalid, reason, detail, correlation, turn);

    // ---- the request, checked before any storage -------------------------------------------------------------------

    /// <summary>A simulation request after the pure checks: its catalog posture, handler, key and validated input.</summary>
    private sealed record PreparedSimulation(
        string SimulationId,
        CatalogPosture Posture,
        ISimulationHandler? Handler,
        IdempotencyKey? Key,
        object? Input,
        string RequestHash,
        string? CapabilityScope = null)
    {
        public SimulationRecord? Record => Posture.Record;
        public string Scope => "sim:" + SimulationId;
    }

    private (PreparedSimulation? Simulation, JsonInputError? Error) Prepare(TenantId tenant, UserId actor, TurnSimulation sim, CorrelationId correlation, TurnId turn,
        bool handoff)
    {
        IdempotencyKey? key = null;
        if (sim.IdempotencyKey is { } k)
        {
            if (!IdRules.IsValidIdempotencyKey(k))
                return (null, new JsonInputError(ReasonCodes.IdempotencyKeyInvalid, "an idempotency key is 1..128 printable ASCII characters without spaces"));
            key = new IdempotencyKey(k);
        }
        var posture = catalog.Posture(sim.SimulationId);
        if (posture.Legacy)
            return (new PreparedSimulation(sim.SimulationId, posture, null, key, null, ""), null);
        if (!registry.TryGet(sim.SimulationId, out var handler) || !posture.SimulationActive)
            return (new PreparedSimulation(IdRules.Shorten(sim.SimulationId), posture, null, key, null, ""), null);
        if (handler.Record.HandoffOnly && !handoff)
            return (null, new JsonInputError(ReasonCodes.SimulationHandoffOnly,
                $"{handler.Record.SimulationId} runs only as a handoff of the outbox worker, never on a caller's request"));

        if (sim.Inputs.ValueKind != JsonValueKind.Object)
            return (null, new JsonInputError(ReasonCodes.InputSchemaInvalid, "the simulation's inputs must be a JSON object"));
        // The tenant comes from the key; inputs that name another tenant are refused, the same tenant is dropped.
        var body = sim.Inputs;
        using var stripped = body.TryGetProperty("tenant_id", out var bodyTenant) ? WithoutTenant(body) : null;
        if (stripped is not null)
        {
            if (bodyTenant.ValueKind != JsonValueKind.String)
                return (null, new JsonInputError(ReasonCodes.InputSchemaInvalid, "field 'tenant_id' must be a string"));
            if (!string.Equals(bodyTenant.GetString(), tenant.Value, StringComparison.Ordinal))
                return (null, new JsonInputError(ReasonCodes.TenantScopeViolation, "tenant_id does not match the tenant of the API key"));
            body = stripped.RootElement;
        }
        if (!handler.TryPrepare(body, out var input, out var error))
            return (null, error);
        var requestHash = Hashing.Sha256Hex(CanonicalJson.Serialize(new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["simulation_id"] = handler.Record.SimulationId,
            ["actor_user_id"] = actor.Value,
            ["body"] = body,
        }));
        return (new PreparedSimulation(sim.SimulationId, posture, handler, key, input, requestHash, handler.CapabilityScopeOf(input!)), null);
    }

    private static JsonDocument WithoutTenant(JsonElement body)
    {
        var copy = JsonObject.Create(body)!;
        copy.Remove("tenant_id");
        return JsonDocument.Parse(copy.ToJsonString());
    }
}
