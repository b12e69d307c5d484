using FsCheck;
using FsCheck.Fluent;
using Selene.Kernel.Sched;

namespace Selene.Kernel.Tests;

/// <summary>PH1.SCHED (reference §11.4): each branch, the precedence between them, the boundaries and the input bounds.</summary>
public sealed class StepSchedulerTests
{
    private const string Retryable = "STORAGE_UNAVAILABLE";
    private const string NotRetryable = "ACCESS_DENIED";
    private const long Started = 1_700_000_000_000;

    /// <summary>Attempt 1 of 3 failed retryably 1 s into a 10 s budget, with a 2 s backoff: a retry.</summary>
    private static SchedInput Input(
        int attempt = 1, int maxRetries = 3, long timeoutMs = 10_000, long backoffMs = 2_000, string? lastFailure = Retryable,
        long elapsedMs = 1_000, IReadOnlyList<string>? retryable = null) =>
        new("tenant-a", "wo_1", "step_1", attempt, maxRetries, timeoutMs, backoffMs, retryable ?? [Retryable, "F_SERIALIZATION_RETRY"],
            lastFailure, Started, Started + elapsedMs);

    private static SchedDecision Decided(SchedInput input) =>
        Assert.IsType<SchedOutcome.Decided>(StepScheduler.Decide(input)).Decision;

    [Fact]
    public void Decide_RetryableFailureWithinBudget_RetriesAtNowPlusBackoffWithTheNextAttempt()
    {
        var input = Input();
        Assert.Equal(new SchedDecision(SchedNextAction.RetryAt, 2, input.NowMs + 2_000, ReasonCodes.SchedRetryScheduled), Decided(input));
    }

    [Fact]
    public void Decide_ZeroBackoff_RetriesAtNow()
    {
        var input = Input(backoffMs: 0);
        Assert.Equal(input.NowMs, Decided(input).NextDueAtMs);
    }

    // One row per branch and per precedence pair: (attempt, max, elapsed, timeout, last failure) ⇒ (action, next attempt, reason).
    public static TheoryData<int, int, long, long, string?, SchedNextAction, int, string> Rules => new()
    {
        // timeout, exactly at the boundary (now − started == timeout) and beyond
        { 1, 3, 10_000, 10_000, Retryable, SchedNextAction.Fail, 1, "SCHED_TIMEOUT" },
        { 1, 3, 50_000, 10_000, Retryable, SchedNextAction.Fail, 1, "SCHED_TIMEOUT" },
        // one millisecond short of the timeout is not a timeout
        { 1, 3, 9_999, 10_000, Retryable, SchedNextAction.RetryAt, 2, "SCHED_RETRY_SCHEDULED" },
        // timeout wins over max retries reached, and over a non-retryable failure
        { 3, 3, 10_000, 10_000, Retryable, SchedNextAction.Fail, 3, "SCHED_TIMEOUT" },
        { 1, 3, 10_000, 10_000, NotRetryable, SchedNextAction.Fail, 1, "SCHED_TIMEOUT" },
        // max retries: attempt == max and attempt > max fail; attempt == max − 1 still retries
        { 3, 3, 1_000, 10_000, Retryable, SchedNextAction.Fail, 3, "SCHED_MAX_RETRIES_REACHED" },
        { 4, 3, 1_000, 10_000, Retryable, SchedNextAction.Fail, 4, "SCHED_MAX_RETRIES_REACHED" },
        { 2, 3, 1_000, 10_000, Retryable, SchedNextAction.RetryAt, 3, "SCHED_RETRY_SCHEDULED" },
        { 0, 0, 0, 10_000, Retryable, SchedNextAction.Fail, 0, "SCHED_MAX_RETRIES_REACHED" },
        // max retries wins over a non-retryable failure
        { 3, 3, 1_000, 10_000, NotRetryable, SchedNextAction.Fail, 3, "SCHED_MAX_RETRIES_REACHED" },
        // not retryable (or unknown) within budget: WAIT with the attempt unchanged
        { 1, 3, 1_000, 10_000, NotRetryable, SchedNextAction.Wait, 1, "SCHED_NOT_RETRYABLE" },
        { 0, 3, 0, 10_000, null, SchedNextAction.Wait, 0, "SCHED_NOT_RETRYABLE" },
        { 1, 3, 1_000, 10_000, "storage_unavailable", SchedNextAction.Wait, 1, "SCHED_NOT_RETRYABLE" }, // names are case-sensitive
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Decide_FollowsTheRulesInPrecedenceOrder(int attempt, int max, long elapsed, long timeout, string? last, SchedNextAction action, int nextAttempt, string reason)
    {
        var input = Input(attempt, max, timeout, lastFailure: last, elapsedMs: elapsed);
        var d = Decided(input);
        Assert.Equal(action, d.Action);
        Assert.Equal(nextAttempt, d.NextAttemptIndex);
        Assert.Equal(reason, d.Reason.Name);
        Assert.Equal(action == SchedNextAction.RetryAt ? input.NowMs + input.RetryBackoffMs : null, d.NextDueAtMs);
    }

    [Fact]
    public void Decide_EmptyRetryableSet_NeverRetries()
    {
        Assert.Equal(SchedNextAction.Wait, Decided(Input(retryable: [])).Action);
    }

    public static TheoryData<SchedInput, string> InvalidInputs => new()
    {
        { Input() with { TenantId = "" }, "tenant_id" },
        { Input() with { TenantId = "bad tenant" }, "tenant_id" },
        { Input() with { WorkOrderId = " " }, "work_order_id" },
        { Input() with { StepId = new string('s', 129) }, "step_id" },
        { Input(attempt: -1), "attempt_index" },
        { Input(maxRetries: -1), "max_retries" },
        { Input(timeoutMs: 0), "timeout_ms" },
        { Input(backoffMs: -1), "retry_backoff_ms" },
        { Input(backoffMs: 300_001), "retry_backoff_ms" },
        { Input(retryable: [.. Enumerable.Range(0, 17).Select(i => $"CODE_{i}")]), "at most 16" },
        { Input(retryable: [Retryable, ""]), "each retryable reason code" },
        { Input(lastFailure: "\n"), "last_failure_reason_code" },
        { Input() with { StepStartedAtMs = -1, NowMs = 0 }, "step_started_at" },
        { Input(elapsedMs: -1), "now is not before" },
        { Input() with { NowMs = long.MaxValue }, "now is out of range" },
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void Decide_InputOutOfBounds_IsInvalidNeverAnException(SchedInput input, string detail)
    {
        var invalid = Assert.IsType<SchedOutcome.Invalid>(StepScheduler.Decide(input));
        Assert.Equal(ReasonCodes.SchedInputInvalid, invalid.Reason);
        Assert.Contains(detail, invalid.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_AtTheUpperBounds_IsValid()
    {
        var input = Input(backoffMs: 300_000, retryable: [.. Enumerable.Range(0, 15).Select(i => $"CODE_{i}"), Retryable]);
        Assert.Equal(new SchedDecision(SchedNextAction.RetryAt, 2, input.NowMs + 300_000, ReasonCodes.SchedRetryScheduled), Decided(input));
        var latest = Input(backoffMs: 300_000) with { StepStartedAtMs = long.MaxValue - 300_000 - 1_000, NowMs = long.MaxValue - 300_000 };
        Assert.Equal(long.MaxValue, Decided(latest).NextDueAtMs);
    }

    [Fact]
    public void Decide_NullInput_IsACallerBug() =>
        Assert.Throws<ArgumentNullException>(() => StepScheduler.Decide(null!));

    /// <summary>Over arbitrary valid inputs: deterministic, WAIT and FAIL never advance the attempt, RETRY_AT advances it by one.</summary>
    [Fact]
    public void Decide_Property_OnlyRetryAdvancesTheAttemptAndOnlyByOne()
    {
        var gen =
            from attempt in Gen.Choose(0, 20)
            from max in Gen.Choose(0, 20)
            from timeout in Gen.Choose(1, 5_000)
            from elapsed in Gen.Choose(0, 6_000)
            from backoff in Gen.Choose(0, 300_000)
            from last in Gen.Elements<string?>(Retryable, NotRetryable, null)
            select Input(attempt, max, timeout, backoff, last, elapsed);
        Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var d = Decided(input);
            Assert.Equal(d, Decided(input));
            if (d.Action == SchedNextAction.RetryAt)
            {
                Assert.Equal(input.AttemptIndex + 1, d.NextAttemptIndex);
                Assert.True(d.NextAttemptIndex <= input.MaxRetries);
                Assert.Equal(input.NowMs + input.RetryBackoffMs, d.NextDueAtMs);
            }
            else
            {
                Assert.Equal(input.AttemptIndex, d.NextAttemptIndex);
                Assert.Null(d.NextDueAtMs);
            }
        }).Check(Config.QuickThrowOnFailure.WithReplay(7UL, 11UL).WithMaxTest(500));
    }
}
