using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Kernel.Sched;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Outbox;

/// <summary>How one worker claims.</summary>
/// <param name="Owner">The lease owner written on claimed rows (1..128 characters; one per worker).</param>
/// <param name="BatchSize">The most rows one pass claims (1..1000).</param>
/// <param name="LeaseDuration">How long a claim holds a row; after it, another worker may claim the row again.</param>
/// <param name="PollInterval">How long the loop waits (on the worker's clock) after a pass that found less than a batch.</param>
/// <param name="Services">What the host composed for the routes' stages (<see cref="HandoffWorker.Services"/>): e.g. the delivery providers.</param>
public sealed record OutboxWorkerOptions(string Owner, int BatchSize = 32, TimeSpan? LeaseDuration = null, TimeSpan? PollInterval = null,
    HandoffServices? Services = null)
{
    /// <summary>A lease owner naming this host and process, unique per worker.</summary>
    public static string DefaultOwner() =>
        IdRules.Cut($"{Environment.MachineName}/{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}/{Guid.NewGuid():N}", 128);
}

/// <summary>What one pass did: rows claimed, and how each claimed row ended.</summary>
/// <param name="Lost">Rows whose lease was no longer this worker's when it ran or settled them (another worker took them over).</param>
public sealed record OutboxPass(int Claimed, int Confirmed, int RetryScheduled, int Deferred, int DeadLettered, int Lost);

/// <summary>
/// The outbox worker (issue 10 item 1; ARCHITECTURE.md §6): claims due handoffs of the event types some engine module
/// consumes, in batches across tenants (<see cref="OutboxStore.ClaimAsync"/>: FOR UPDATE SKIP LOCKED under a lease),
/// and runs each as its route's simulation through <see cref="SimulationExecutor"/> — the same turn, gate, access gate
/// and idempotency as a direct call — acting as the user whose turn enqueued it, with the idempotency key
/// <see cref="HandoffKey"/> derived from the row. The row is settled CONFIRMED in the effect's own transaction
/// (<see cref="CommitHook"/>); a failure goes to PH1.SCHED (<see cref="StepScheduler"/>) with the route's
/// <see cref="HandoffPolicy"/>: RETRY_AT ⇒ FAILED, due at now + backoff; FAIL or WAIT ⇒ DEAD_LETTER with its reason.
/// Every step is journaled under the row's correlation id. Time comes from the injected clock only.
/// </summary>
public sealed class OutboxWorker
{
    private readonly SeleneDatabase _db;
    private readonly SimulationExecutor _executor;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, HandoffRoute> _routes;
    private readonly string[] _eventTypes;
    private readonly OutboxWorkerOptions _options;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _poll;

    /// <param name="routes">The consumed event types (default <see cref="EngineModules.Handoffs"/>); one route per event type.</param>
    public OutboxWorker(SeleneDatabase db, SimulationExecutor executor, TimeProvider clock, OutboxWorkerOptions? options = null, IReadOnlyList<HandoffRoute>? routes = null)
    {
        _db = db;
        _executor = executor;
        _clock = clock;
        _options = options ?? new OutboxWorkerOptions(OutboxWorkerOptions.DefaultOwner());
        _lease = _options.LeaseDuration ?? TimeSpan.FromMinutes(1);
        _poll = _options.PollInterval ?? TimeSpan.FromSeconds(1);
        if (_options.BatchSize is < 1 or > 1000) throw new ArgumentException("batch size is 1..1000", nameof(options));
        if (!IdRules.IsBoundedText(_options.Owner, 128)) throw new ArgumentException("the lease owner is 1..128 printable characters", nameof(options));
        if (_lease <= TimeSpan.Zero || _poll <= TimeSpan.Zero) throw new ArgumentException("lease duration and poll interval are positive", nameof(options));
        _routes = new Dictionary<string, HandoffRoute>(StringComparer.Ordinal);
        foreach (var route in routes ?? EngineModules.Handoffs)
        {
            if ((route.Policy ?? HandoffPolicy.Default).Problem() is { } problem)
                throw new ArgumentException($"handoff route {route.EventType}: {problem}", nameof(routes));
            if (!_routes.TryAdd(route.EventType, route))
                throw new ArgumentException($"two handoff routes consume {route.EventType}", nameof(routes));
        }
        _eventTypes = [.. _routes.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The idempotency key of a handoff's simulation: <c>handoff:</c> + the row's key, or + a hash of it when that would
    /// pass 128 characters. The same on every attempt, so the effect happens once however often the row runs.
    /// </summary>
    public static string HandoffKey(string tenantId, string rowKey) =>
        "handoff:".Length + rowKey.Length <= 128 ? "handoff:" + rowKey : "handoff:" + Hashing.ShortHash(32, tenantId, rowKey);

    /// <summary>
    /// The turn a handoff runs as: the one after the turn that enqueued it, in the row's correlation (every attempt is
    /// that same turn, as a retried turn is); turn 1 for a row that names none.
    /// </summary>
    public static TurnId HandoffTurn(OutboxRow row) => new(row.OriginTurnId is { } origin && origin is > 0 and < long.MaxValue ? (ulong)(origin + 1) : 1);

    /// <summary>The row's correlation id (the handoff's journal entries and its simulation's turn carry it).</summary>
    public static CorrelationId HandoffCorrelation(OutboxRow row) =>
        CorrelationId.TryParse(row.CorrelationId, out var c) ? c : throw new InvalidOperationException($"outbox row {row.OutboxId} has an invalid correlation id");

    /// <summary>One claim-and-run pass: claims up to a batch of due rows and runs each once.</summary>
    public async Task<OutboxPass> RunOnceAsync(CancellationToken ct = default)
    {
        var now = Now();
        var token = Guid.NewGuid();
        var claimed = await OutboxStore.ClaimAsync(_db.App, _eventTypes, _options.Owner, token, now.Value, now.Value + _lease.Ticks * 100, _options.BatchSize, ct);
        int confirmed = 0, retry = 0, deferred = 0, dead = 0, lost = 0;
        foreach (var (tenant, id) in claimed)
        {
            switch (await RunRowAsync(tenant, id, token, ct))
            {
                case Settled.Confirmed: confirmed++; break;
                case Settled.RetryScheduled: retry++; break;
                case Settled.Deferred: deferred++; break;
                case Settled.DeadLettered: dead++; break;
                default: lost++; break;
            }
        }
        return new OutboxPass(claimed.Count, confirmed, retry, deferred, dead, lost);
    }

    /// <summary>
    /// Runs passes until one claims nothing, at most <paramref name="maxPasses"/>: everything due now is settled, with the
    /// handoffs those passes enqueued due at once. False when the last pass still claimed rows (a chain of handoffs longer
    /// than the bound, or a row that keeps coming due).
    /// </summary>
    public async Task<bool> DrainAsync(int maxPasses, CancellationToken ct = default)
    {
        for (var i = 0; i < maxPasses; i++)
        {
            if ((await RunOnceAsync(ct)).Claimed == 0) return true;
        }
        return false;
    }

    /// <summary>
    /// Runs passes until <paramref name="ct"/> is cancelled; after a pass that claimed less than a batch it waits the
    /// poll interval on the worker's clock. A pass that throws (the database away) is reported to <paramref name="onError"/>
    /// and the loop goes on after the interval: a row it held is claimed again when its lease expires.
    /// <paramref name="onPass"/> sees each finished pass, once the wait after it has begun (so a fake clock advanced
    /// from there wakes the loop).
    /// </summary>
    public async Task RunAsync(CancellationToken ct, Action<Exception>? onError = null, Action<OutboxPass>? onPass = null)
    {
        while (!ct.IsCancellationRequested)
        {
            OutboxPass? pass = null;
            try
            {
                pass = await RunOnceAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A background loop outlives any one failure: it reports it and tries again after the interval.
                onError?.Invoke(ex);
            }
            var wait = pass?.Claimed == _options.BatchSize ? Task.CompletedTask : Task.Delay(_poll, _clock, ct);
            if (pass is not null) onPass?.Invoke(pass);
            try
            {
                await wait;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private enum Settled { Confirmed, RetryScheduled, Deferred, DeadLettered, Lost }

    private UnixNanos Now() => UnixNanos.FromDateTimeOffset(_clock.GetUtcNow());

    private async Task<Settled> RunRowAsync(string tenantId, long outboxId, Guid token, CancellationToken ct)
    {
        OutboxRow? row;
        await using (var tx = await TenantTransaction.BeginAsync(_db.App, tenantId, ct)) row = await OutboxStore.GetAsync(tx, outboxId, ct);
        if (row is null || row.Status != OutboxStatus.Sent || row.LeaseToken != token) return Settled.Lost;
        var route = _routes[row.EventType];
        var policy = route.Policy ?? HandoffPolicy.Default;
        var handoff = new Handoff(row, route, HandoffKey(tenantId, row.IdempotencyKey), token);

        // Written before migration 0017: nobody to act as, so nobody's authority can be checked. Never run as anyone.
        if (row.ActorUserId is null || row.OriginTurnId is null)
            return await FailAsync(handoff, policy, ReasonCodes.OutboxHandoffActorMissing, "the row names no originating actor (written before migration 0017)",
                final: true, ct);

        ExecutionResult result;
        try
        {
            var payload = JsonNode.Parse(row.Payload)!.AsObject();
            var attempt = route.Stage is { } stage
                ? await stage(_db, row, payload, new HandoffWorker(_options.Owner, _lease, _options.Services ?? HandoffServices.None), Now(), ct)
                : new HandoffAttempt.Run(route.SimulationId, route.Inputs(payload), null, null);
            if (attempt is HandoffAttempt.Refused refused)
                return await FailAsync(handoff, policy, refused.Reason, refused.Detail, final: false, ct);
            if (attempt is HandoffAttempt.Done done)
                return await SettleAsync(handoff, new OutboxSettlement(OutboxStatus.Confirmed, row.AttemptCount + 1, row.NextAttemptAt, row.LastErrorReasonCode,
                    Now().Value), [Entry(handoff, JournalEventTypes.OutboxConfirmed, ReasonCodes.OutboxHandoffConfirmed, ("attempt", Text(row.AttemptCount + 1)),
                    ("replayed", "false"), ("done_reason_code", done.Reason.Name), ("detail", done.Detail))], Settled.Confirmed, ct);
            var run = (HandoffAttempt.Run)attempt;
            using var inputs = JsonDocument.Parse(run.Inputs.ToJsonString());
            result = await _executor.ExecuteAsync(new ExecutionRequest(new TenantId(tenantId), new UserId(row.ActorUserId), run.SimulationId, handoff.Key,
                inputs.RootElement, handoff.Correlation, handoff.Turn), ct, async (tx, context, effect, ct) =>
                {
                    var entries = new List<JournalDraft>();
                    if (run.OnCommit is { } own) entries.AddRange(await own(tx, context, effect, ct));
                    OutboxStore.DeferSettle(tx, row.OutboxId, token,
                        new OutboxSettlement(OutboxStatus.Confirmed, row.AttemptCount + 1, row.NextAttemptAt, row.LastErrorReasonCode, context.Now.Value));
                    entries.Add(Confirmed(handoff, replayed: false));
                    return entries;
                }, run.Lease, handoff: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The attempt's transaction rolled back. Either the lease was lost (the settle check failed the commit: another
            // worker holds the row now) or storage failed: a storage failure is an attempt's failure like any refusal.
            if (!await StillHeldAsync(handoff, ct)) return Settled.Lost;
            var failure = StorageFailures.Classify(ex);
            return await FailAsync(handoff, policy, failure?.Reason ?? ReasonCodes.InternalError, failure?.Detail ?? ex.GetType().Name, final: false, ct);
        }

        switch (result.Outcome)
        {
            case ExecutionOutcome.Executed:
                return Settled.Confirmed;
            case ExecutionOutcome.Replayed:
                // The effect committed before under this key (a direct call with the handoff's key and body): it exists once.
                return await SettleAsync(handoff, new OutboxSettlement(OutboxStatus.Confirmed, row.AttemptCount + 1, row.NextAttemptAt, row.LastErrorReasonCode,
                    Now().Value), [handoff.Entry(Confirmed(handoff, replayed: true))], Settled.Confirmed, ct);
            default:
                return await FailAsync(handoff, policy, result.Reason, result.Detail ?? result.Reason.Name, final: false, ct);
        }
    }

    /// <summary>
    /// Records a failed attempt: a deferral reason puts the row back without counting it; otherwise PH1.SCHED decides
    /// RETRY_AT (FAILED, due at now + backoff) or FAIL/WAIT (DEAD_LETTER). <paramref name="final"/> dead-letters at once.
    /// </summary>
    private async Task<Settled> FailAsync(Handoff h, HandoffPolicy policy, ReasonCode failure, string detail, bool final, CancellationToken ct)
    {
        var row = h.Row;
        var now = Now();
        var attempt = row.AttemptCount + 1;
        var failed = Entry(h, JournalEventTypes.OutboxAttemptFailure, failure, ("attempt", Text(attempt)), ("detail", detail));

        if (!final && HandoffDeferrals.Reasons.Contains(failure))
        {
            var due = now.Value + policy.Backoff.Ticks * 100;
            return await SettleAsync(h, new OutboxSettlement(row.AttemptCount == 0 ? OutboxStatus.Pending : OutboxStatus.Failed, row.AttemptCount, due, failure.Name, null),
                // The entry's own code is a success (nothing failed for good); what refused the attempt is its cause.
                [Entry(h, JournalEventTypes.OutboxAttemptDeferred, ReasonCodes.OutboxAttemptDeferred, ("cause_reason_code", failure.Name),
                    ("next_attempt_at", new UnixNanos(due).ToString())) with { Refused = failure }], Settled.Deferred, ct);
        }

        ReasonCode deadReason = failure;
        if (!final)
        {
            const long NanosPerMs = 1_000_000;
            var nowMs = now.Value / NanosPerMs;
            var decided = StepScheduler.Decide(new SchedInput(row.TenantId, "outbox:" + Text(row.OutboxId), h.Route.SimulationId,
                AttemptIndex: row.AttemptCount, MaxRetries: policy.MaxAttempts - 1, TimeoutMs: (long)policy.Timeout.TotalMilliseconds,
                RetryBackoffMs: (long)policy.Backoff.TotalMilliseconds, RetryableReasonCodes: policy.IsRetryable(failure) ? [failure.Name] : [],
                LastFailureReasonCode: failure.Name, StepStartedAtMs: Math.Min(row.CreatedAt / NanosPerMs, nowMs), NowMs: nowMs));
            if (decided is SchedOutcome.Decided { Decision: { Action: SchedNextAction.RetryAt, NextDueAtMs: { } dueMs } decision })
            {
                // PH1.SCHED counts in milliseconds; the row keeps nanoseconds, so the due time is exactly now + backoff.
                var due = now.Value + (dueMs - nowMs) * NanosPerMs;
                return await SettleAsync(h, new OutboxSettlement(OutboxStatus.Failed, attempt, due, failure.Name, null),
                    [failed, Entry(h, JournalEventTypes.OutboxRetryScheduled, decision.Reason, ("attempt", Text(attempt)),
                        ("next_attempt_at", new UnixNanos(due).ToString()))], Settled.RetryScheduled, ct);
            }
            deadReason = decided switch
            {
                SchedOutcome.Decided d => d.Decision.Reason,
                SchedOutcome.Invalid invalid => invalid.Reason,
                _ => throw new InvalidOperationException("unknown PH1.SCHED outcome"),
            };
        }
        return await SettleAsync(h, new OutboxSettlement(OutboxStatus.DeadLetter, attempt, row.NextAttemptAt, failure.Name, null),
            [failed, Entry(h, JournalEventTypes.OutboxDeadLettered, deadReason, ("attempt", Text(attempt)), ("last_error_reason_code", failure.Name))],
            Settled.DeadLettered, ct);
    }

    /// <summary>Settles the row and journals the step in one transaction; Lost when the lease is no longer this worker's.</summary>
    private async Task<Settled> SettleAsync(Handoff h, OutboxSettlement settlement, IReadOnlyList<JournalEntry> entries, Settled outcome, CancellationToken ct)
    {
        var now = Now();
        await using var tx = await TenantTransaction.BeginAsync(_db.App, h.Row.TenantId, ct);
        var row = await OutboxStore.GetAsync(tx, h.Row.OutboxId, ct, forUpdate: true);
        if (row is null || row.Status != OutboxStatus.Sent || row.LeaseToken != h.Token) return Settled.Lost;
        OutboxStore.DeferSettle(tx, row.OutboxId, h.Token, settlement);
        await JournalStore.AppendAsync(tx, entries, now.Value, ct);
        await tx.CommitAsync(ct);
        return outcome;
    }

    private async Task<bool> StillHeldAsync(Handoff h, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, h.Row.TenantId, ct);
        return await OutboxStore.GetAsync(tx, h.Row.OutboxId, ct) is { Status: OutboxStatus.Sent } row && row.LeaseToken == h.Token;
    }

    private static JournalDraft Confirmed(Handoff h, bool replayed) => new(ReasonCodes.EngineWork, JournalEventTypes.OutboxConfirmed, ReasonCodes.OutboxHandoffConfirmed,
        Payload(h, ("attempt", Text(h.Row.AttemptCount + 1)), ("replayed", replayed ? "true" : "false")));

    private static JournalEntry Entry(Handoff h, string eventType, ReasonCode reason, params (string, string)[] fields) =>
        h.Entry(new JournalDraft(ReasonCodes.EngineWork, eventType, reason, Payload(h, fields)));

    private static JournalPayload Payload(Handoff h, params (string, string)[] fields) => JournalPayload.Create([
        ("outbox_id", Text(h.Row.OutboxId)),
        ("event_type", h.Row.EventType),
        ("simulation_id", h.Route.SimulationId),
        .. fields]);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// One claimed row and what its attempt runs under: the row's correlation and turn (<see cref="HandoffTurn"/>) and the derived key.
    /// </summary>
    private sealed record Handoff(OutboxRow Row, HandoffRoute Route, string Key, Guid Token)
    {
        public CorrelationId Correlation { get; } = HandoffCorrelation(Row);

        public TurnId Turn { get; } = HandoffTurn(Row);

        /// <summary>A journal entry of this handoff: its correlation, turn, actor and key, as the executor writes the attempt's own.</summary>
        public JournalEntry Entry(JournalDraft d) => new(Correlation, Turn, d.Engine, d.EventType, d.Reason, d.Payload, Row.ActorUserId, Key);
    }
}
