using Selene.Engines.CapReq;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

public sealed class ExecutorTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    [Fact]
    public async Task Execute_Lifecycle_WalksTheStateMachineAndJournalsEachTransition()
    {
        var created = await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("payroll.read"));
        Assert.Equal(ExecutionOutcome.Executed, created.Outcome);
        Assert.Equal(CapreqReasons.CapreqCreated, created.Reason);
        var id = CapreqIdOf(created);

        var steps = new (string Actor, string Sim, ReasonCode Reason, string Status)[]
        {
            ("alice", CapreqSimulations.SubmitForApproval, CapreqReasons.CapreqSubmitted, "PENDING_APPROVAL"),
            ("bob", CapreqSimulations.Approve, CapreqReasons.CapreqApproved, "APPROVED"),
            ("bob", CapreqSimulations.Fulfill, CapreqReasons.CapreqFulfilled, "FULFILLED"),
        };
        foreach (var (actor, sim, reason, status) in steps)
        {
            var result = await f.RunAsync(actor, sim, Key("s"), IdBody(id));
            Assert.Equal(ExecutionOutcome.Executed, result.Outcome);
            Assert.Equal(reason, result.Reason);
            Assert.Equal(status, StatusOf(result));
        }
        Assert.Equal(4, await f.CountAsync("acme", "capreq_ledger", $"stream_id = '{id}'"));
        Assert.Equal(4, await f.CountAsync("acme", "journal", $"event_type = 'STATE_TRANSITION' AND payload LIKE '%{id}%'"));
    }

    [Fact]
    public async Task Execute_SameKeySameRequest_ReturnsTheStoredResultAndChangesNothing()
    {
        var key = Key("same");
        var first = await f.RunAsync("alice", CapreqSimulations.CreateDraft, key, CreateBody("hr.read"));
        var ledger = await f.CountAsync("acme", "capreq_ledger");
        var journal = await f.CountAsync("acme", "journal");

        // A retry may carry a different correlation id: the result is still the original one.
        var again = await f.RunAsync("alice", CapreqSimulations.CreateDraft, key, CreateBody("hr.read"));
        Assert.Equal(ExecutionOutcome.Executed, first.Outcome);
        Assert.Equal(ExecutionOutcome.Replayed, again.Outcome);
        Assert.Equal(first.Body, again.Body);
        Assert.Equal(CapreqReasons.CapreqCreated, again.Reason);
        Assert.Equal(ledger, await f.CountAsync("acme", "capreq_ledger"));
        Assert.Equal(journal, await f.CountAsync("acme", "journal"));
    }

    [Fact]
    public async Task Execute_RetryAfterLaterTransitions_StillReturnsTheOriginalResult()
    {
        // Idempotency is checked before transition validation (reference §6.3 ordering gap).
        var created = await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("hr.write"));
        var id = CapreqIdOf(created);
        var submitKey = Key("submit");
        var submitted = await f.RunAsync("alice", CapreqSimulations.SubmitForApproval, submitKey, IdBody(id));
        await f.RunAsync("bob", CapreqSimulations.Approve, Key("a"), IdBody(id));

        var retried = await f.RunAsync("alice", CapreqSimulations.SubmitForApproval, submitKey, IdBody(id));
        Assert.Equal(ExecutionOutcome.Replayed, retried.Outcome);
        Assert.Equal(submitted.Body, retried.Body);
    }

    [Fact]
    public async Task Execute_SameKeyDifferentRequest_IsRefusedWithoutEffect()
    {
        var key = Key("reuse");
        await f.RunAsync("alice", CapreqSimulations.CreateDraft, key, CreateBody("crm.read"));
        var ledger = await f.CountAsync("acme", "capreq_ledger");
        var journal = await f.CountAsync("acme", "journal");

        var otherBody = await f.RunAsync("alice", CapreqSimulations.CreateDraft, key, CreateBody("crm.write"));
        var otherActor = await f.RunAsync("bob", CapreqSimulations.CreateDraft, key, CreateBody("crm.read"));
        Assert.All(new[] { otherBody, otherActor }, r =>
        {
            Assert.Equal(ExecutionOutcome.Invalid, r.Outcome);
            Assert.Equal(ReasonCodes.IdempotencyKeyReused, r.Reason);
        });
        Assert.Equal(ledger, await f.CountAsync("acme", "capreq_ledger"));
        Assert.Equal(journal, await f.CountAsync("acme", "journal"));
    }

    [Fact]
    public async Task Execute_IllegalTransition_IsRefusedJournaledAndDoesNotConsumeTheKey()
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("erp.read")));
        var ledger = await f.CountAsync("acme", "capreq_ledger");
        var approveKey = Key("approve");

        var refused = await f.RunAsync("bob", CapreqSimulations.Approve, approveKey, IdBody(id));
        Assert.Equal(ExecutionOutcome.Refused, refused.Outcome);
        Assert.Equal(CapreqReasons.CapreqTransitionInvalid, refused.Reason);
        Assert.Equal(ledger, await f.CountAsync("acme", "capreq_ledger"));
        Assert.Equal(0, await f.CountAsync("acme", "idempotency_keys", $"idem_key = '{approveKey}'"));
        Assert.Equal(1, await f.CountAsync("acme", "journal",
            $"event_type = 'SIMULATION_REFUSED' AND reason_code = 'CAPREQ_TRANSITION_INVALID' AND idempotency_key = '{approveKey}'"));

        // Once the transition is legal, the same key executes.
        await f.RunAsync("alice", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id));
        var approved = await f.RunAsync("bob", CapreqSimulations.Approve, approveKey, IdBody(id));
        Assert.Equal(ExecutionOutcome.Executed, approved.Outcome);
        Assert.Equal("APPROVED", StatusOf(approved));
    }

    [Fact]
    public async Task Execute_RequesterOnlyActionsByAnotherUser_AreRefused()
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("erp.write")));
        var submit = await f.RunAsync("bob", CapreqSimulations.SubmitForApproval, Key("s"), IdBody(id));
        var cancel = await f.RunAsync("bob", CapreqSimulations.CancelRevoke, Key("x"), IdBody(id));
        Assert.Equal(CapreqReasons.CapreqRequesterMismatch, submit.Reason);
        Assert.Equal(CapreqReasons.CapreqRequesterMismatch, cancel.Reason);
        Assert.Equal(1, await f.CountAsync("acme", "capreq_ledger", $"stream_id = '{id}'"));
    }

    public static TheoryData<string, string, string?, ReasonCode> InvalidRequests => new()
    {
        { CapreqSimulations.CreateDraft, "{}", "has space", ReasonCodes.IdempotencyKeyInvalid },
        { CapreqSimulations.CreateDraft, "{}", new string('k', 129), ReasonCodes.IdempotencyKeyInvalid },
        { CapreqSimulations.CreateDraft, "[]", "k-inv-2", ReasonCodes.InputSchemaInvalid },
        { CapreqSimulations.CreateDraft, "{\"requested_capability_id\":\"a\"}", "k-inv-3", ReasonCodes.InputSchemaInvalid },
        { CapreqSimulations.CreateDraft, "{\"requested_capability_id\":1,\"target_scope_ref\":\"s\",\"justification\":\"j\"}", "k-inv-4", ReasonCodes.InputSchemaInvalid },
        { CapreqSimulations.CreateDraft, "{\"requested_capability_id\":\"a\",\"target_scope_ref\":\"s\",\"justification\":\"j\",\"extra\":1}", "k-inv-5", ReasonCodes.InputUnknownField },
        { CapreqSimulations.CreateDraft, "{\"requested_capability_id\":\"a b\",\"target_scope_ref\":\"s\",\"justification\":\"j\"}", "k-inv-6", ReasonCodes.InputFieldInvalid },
        { CapreqSimulations.CreateDraft, "{\"requested_capability_id\":\"a\",\"target_scope_ref\":\"s\",\"justification\":\"j\",\"tenant_id\":\"globex\"}", "k-inv-7", ReasonCodes.TenantScopeViolation },
        { CapreqSimulations.CreateDraft, "{\"requested_capability_id\":\"a\",\"target_scope_ref\":\"s\",\"justification\":\"j\",\"tenant_id\":7}", "k-inv-8", ReasonCodes.InputSchemaInvalid },
        { CapreqSimulations.Approve, "{}", "k-inv-9", CapreqReasons.CapreqIdRequired },
        { CapreqSimulations.Approve, "{\"capreq_id\":\"capreq_XYZ\"}", "k-inv-10", ReasonCodes.InputFieldInvalid },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Execute_InvalidRequest_IsRefusedBeforeStorageAndStoresNothing(string simulation, string body, string? key, ReasonCode expected)
    {
        var journal = await f.CountAsync("acme", "journal");
        var keys = await f.CountAsync("acme", "idempotency_keys");
        var result = await f.RunAsync("alice", simulation, key, body);
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(expected, result.Reason);
        Assert.Equal(journal, await f.CountAsync("acme", "journal"));
        Assert.Equal(keys, await f.CountAsync("acme", "idempotency_keys"));
    }

    [Theory]
    [InlineData("NOT_A_SIMULATION", "k-inv-1", "OS_FAIL_BLUEPRINT_GATE", "SIMULATION_UNKNOWN", 1)]
    [InlineData(CapreqSimulations.CreateDraft, null, "OS_FAIL_IDEMPOTENCY_GATE", "IDEMPOTENCY_KEY_MISSING", 2)] // + the access gate's ALLOW it was derived from
    public async Task Execute_UnknownSimulationOrMissingKey_IsAGateRefusal_RecordedWithNothingElse(string simulation, string? key, string gateReason, string cause,
        int journaled)
    {
        var correlation = f.NextCorrelation();
        var keys = await f.CountAsync("acme", "idempotency_keys");
        var result = await f.RunAsync("alice", simulation, key, CreateBody("gate.refusal"), correlation);
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(cause, result.Reason.Name);
        // The turn gate decided REFUSE on that gate: the decision is on record, nothing else is.
        Assert.Equal(journaled, await f.CountAsync("acme", "journal", $"correlation_id = {correlation}"));
        Assert.Equal(1, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND event_type = 'TURN_DECISION' AND reason_code = '{gateReason}'"));
        Assert.Equal(1, await f.CountAsync("acme", "os_turn_decisions", $"correlation_id = {correlation} AND next_move = 'REFUSE'"));
        Assert.Equal(keys, await f.CountAsync("acme", "idempotency_keys"));
    }

    [Fact]
    public async Task Execute_BodyNamingItsOwnTenant_IsAccepted()
    {
        var body = "{\"requested_capability_id\":\"wiki.edit\",\"target_scope_ref\":\"s\",\"justification\":\"j\",\"tenant_id\":\"acme\"}";
        var result = await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("t"), body);
        Assert.Equal(ExecutionOutcome.Executed, result.Outcome);
    }

    [Fact]
    public async Task Execute_OtherTenant_CannotSeeOrActOnTheRequest()
    {
        var id = CapreqIdOf(await f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("c"), CreateBody("vault.read")));
        var result = await f.RunAsync("carol", CapreqSimulations.CancelRevoke, Key("x"), IdBody(id), tenant: "globex");
        Assert.Equal(ExecutionOutcome.Refused, result.Outcome);
        Assert.Equal(CapreqReasons.CapreqNotFound, result.Reason);
        Assert.Equal(1, await f.CountAsync("acme", "capreq_ledger", $"stream_id = '{id}'"));
        Assert.Equal(0, await f.CountAsync("globex", "capreq_ledger", $"stream_id = '{id}'"));
    }

    [Fact]
    public async Task Execute_FiftyConcurrentIdenticalRequests_OneEventFiftyIdenticalAnswers()
    {
        var key = Key("burst");
        var body = CreateBody("burst.cap", why: "fifty at once");
        var correlation = f.NextCorrelation();
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            Task.Run(() => f.RunAsync("alice", CapreqSimulations.CreateDraft, key, body, correlation))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Reason.Name));
        Assert.Single(results, r => r.Outcome == ExecutionOutcome.Executed);
        Assert.Single(results.Select(r => Convert.ToHexString(r.Body!)).Distinct());
        var id = CapreqIdOf(results[0]);
        Assert.Equal(1, await f.CountAsync("acme", "capreq_ledger", $"stream_id = '{id}'"));
        // One execution journals the turn decision, the access gate's ALLOW and the transition; the 49 replays journal nothing.
        Assert.Equal(1, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND event_type = 'TURN_DECISION'"));
        Assert.Equal(1, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND event_type = 'ACCESS_DECISION'"));
        Assert.Equal(1, await f.CountAsync("acme", "journal", $"correlation_id = {correlation} AND event_type = 'STATE_TRANSITION'"));
        Assert.Equal(3, await f.CountAsync("acme", "journal", $"correlation_id = {correlation}"));
        Assert.Equal(1, await f.CountAsync("acme", "os_turn_decisions", $"correlation_id = {correlation}"));
    }

    [Fact]
    public async Task Execute_ConcurrentCreatesOfTheSameContentWithDifferentKeys_CreateOnce()
    {
        var body = CreateBody("race.cap", why: "who wins");
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Task.Run(() => f.RunAsync("alice", CapreqSimulations.CreateDraft, Key("race" + i), body))));
        Assert.Single(results, r => r.Outcome == ExecutionOutcome.Executed);
        Assert.All(results.Where(r => r.Outcome != ExecutionOutcome.Executed), r => Assert.Equal(CapreqReasons.CapreqTransitionInvalid, r.Reason));
        var id = CapreqIdOf(results.Single(r => r.Outcome == ExecutionOutcome.Executed));
        Assert.Equal(1, await f.CountAsync("acme", "capreq_ledger", $"stream_id = '{id}'"));
    }
}
