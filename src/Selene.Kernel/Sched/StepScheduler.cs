namespace Selene.Kernel.Sched;

/// <summary>What PH1.SCHED says to do next with a failed work-order step (reference §11.4).</summary>
public enum SchedNextAction
{
    /// <summary>Run the step again at <see cref="SchedDecision.NextDueAtMs"/> as attempt <see cref="SchedDecision.NextAttemptIndex"/>.</summary>
    RetryAt,
    /// <summary>Do not retry now (the last failure is not retryable); the attempt index stays as it was.</summary>
    Wait,
    /// <summary>The step has failed for good: it timed out or used up its retries.</summary>
    Fail,
}

/// <summary>
/// PH1.SCHED's input for one failed step (reference §11.4). Times are unix epoch milliseconds, like every
/// <c>*_ms</c> field of §11; durations are milliseconds.
/// </summary>
/// <param name="AttemptIndex">The attempt that just failed, from 0.</param>
/// <param name="MaxRetries">Attempts stop once <see cref="AttemptIndex"/> reaches this (≥ 0).</param>
/// <param name="TimeoutMs">The step's time budget from <see cref="StepStartedAtMs"/> (≥ 1).</param>
/// <param name="RetryBackoffMs">The fixed delay before a retry, 0..<see cref="StepScheduler.MaxRetryBackoffMs"/>; no jitter.</param>
/// <param name="RetryableReasonCodes">Reason-code names whose failures may be retried, at most <see cref="StepScheduler.MaxRetryableReasonCodes"/>.</param>
/// <param name="LastFailureReasonCode">The reason-code name of the failure being decided on; null when unknown (never retryable).</param>
/// <param name="StepStartedAtMs">When the step's first attempt started (≤ <see cref="NowMs"/>).</param>
/// <param name="NowMs">The decision time, passed in: PH1.SCHED never reads a clock.</param>
public sealed record SchedInput(
    string TenantId,
    string WorkOrderId,
    string StepId,
    int AttemptIndex,
    int MaxRetries,
    long TimeoutMs,
    long RetryBackoffMs,
    IReadOnlyList<string> RetryableReasonCodes,
    string? LastFailureReasonCode,
    long StepStartedAtMs,
    long NowMs);

/// <summary>
/// A PH1.SCHED decision. Invariants: <see cref="SchedNextAction.RetryAt"/> has <see cref="NextDueAtMs"/> = now +
/// backoff and <see cref="NextAttemptIndex"/> = attempt + 1; WAIT and FAIL have no due time and keep the attempt index.
/// </summary>
public sealed record SchedDecision(SchedNextAction Action, int NextAttemptIndex, long? NextDueAtMs, ReasonCode Reason);

/// <summary>The outcome of <see cref="StepScheduler.Decide(SchedInput)"/>: a decision, or a reason-coded invalid input.</summary>
public abstract record SchedOutcome
{
    private SchedOutcome() { }

    /// <summary>The input was valid and PH1.SCHED decided.</summary>
    public sealed record Decided(SchedDecision Decision) : SchedOutcome;

    /// <summary>The input breaks a bound of §11.4: SCHED_INPUT_INVALID with what was wrong.</summary>
    public sealed record Invalid(ReasonCode Reason, string Detail) : SchedOutcome;
}

/// <summary>
/// PH1.SCHED, the retry / wait / fail decider of a work-order step (reference §11.4). Pure and deterministic: the
/// same input gives the same decision; no clock, no jitter. Precedence: timeout, then max retries, then a retryable
/// last failure (RETRY_AT), else WAIT. WAIT never advances the attempt index.
/// </summary>
public static class StepScheduler
{
    /// <summary>The largest fixed backoff (reference §11.4: retry_backoff_ms ≤ 300000).</summary>
    public const long MaxRetryBackoffMs = 300_000;

    /// <summary>The most retryable reason codes an input may list (reference §11.4).</summary>
    public const int MaxRetryableReasonCodes = 16;

    /// <summary>Ids and reason-code names are 1..128 printable characters.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Decides the next action for the step, or SCHED_INPUT_INVALID when <paramref name="input"/> breaks a bound.</summary>
    public static SchedOutcome Decide(SchedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Validate(input) is { } invalid) return new SchedOutcome.Invalid(ReasonCodes.SchedInputInvalid, invalid);

        // Both operands are validated non-negative with started ≤ now, so neither line can overflow.
        var timedOut = input.NowMs - input.StepStartedAtMs >= input.TimeoutMs;
        if (timedOut) return Decided(SchedNextAction.Fail, input.AttemptIndex, null, ReasonCodes.SchedTimeout);
        if (input.AttemptIndex >= input.MaxRetries)
            return Decided(SchedNextAction.Fail, input.AttemptIndex, null, ReasonCodes.SchedMaxRetriesReached);
        if (input.LastFailureReasonCode is { } last && input.RetryableReasonCodes.Contains(last, StringComparer.Ordinal))
            return Decided(SchedNextAction.RetryAt, input.AttemptIndex + 1, input.NowMs + input.RetryBackoffMs, ReasonCodes.SchedRetryScheduled);
        return Decided(SchedNextAction.Wait, input.AttemptIndex, null, ReasonCodes.SchedNotRetryable);
    }

    /// <summary>Null when <paramref name="input"/> is within every bound, else the first bound it breaks.</summary>
    public static string? Validate(SchedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!Selene.Contracts.TenantId.IsValid(input.TenantId)) return "tenant_id is not a valid tenant id";
        if (!IdRules.IsBoundedText(input.WorkOrderId, MaxIdLength)) return "work_order_id is 1..128 printable characters";
        if (!IdRules.IsBoundedText(input.StepId, MaxIdLength)) return "step_id is 1..128 printable characters";
        if (input.AttemptIndex < 0) return "attempt_index is ≥ 0";
        if (input.MaxRetries < 0) return "max_retries is ≥ 0";
        if (input.TimeoutMs < 1) return "timeout_ms is ≥ 1";
        if (input.RetryBackoffMs is < 0 or > MaxRetryBackoffMs) return "retry_backoff_ms is 0..300000";
        if (input.RetryableReasonCodes is null) return "retryable_reason_codes is required (it may be empty)";
        if (input.RetryableReasonCodes.Count > MaxRetryableReasonCodes) return "retryable_reason_codes holds at most 16 codes";
        if (input.RetryableReasonCodes.Any(c => !IdRules.IsBoundedText(c, MaxIdLength))) return "each retryable reason code is 1..128 printable characters";
        if (input.LastFailureReasonCode is not null && !IdRules.IsBoundedText(input.LastFailureReasonCode, MaxIdLength))
            return "last_failure_reason_code is 1..128 printable characters when present";
        if (input.StepStartedAtMs < 0) return "step_started_at is a unix time in milliseconds, ≥ 0";
        if (input.NowMs < input.StepStartedAtMs) return "now is not before step_started_at";
        // now + backoff must fit a long: a decision never overflows.
        if (input.NowMs > long.MaxValue - MaxRetryBackoffMs) return "now is out of range";
        return null;
    }

    private static SchedOutcome.Decided Decided(SchedNextAction action, int attempt, long? dueAt, ReasonCode reason) =>
        new(new SchedDecision(action, attempt, dueAt, reason));
}
