using System.Text.Json;
using Npgsql;
using Selene.Contracts;
using Selene.Learning;

namespace Selene.Postgres.Stores;

/// <summary>One row of <c>mv_recent_failures_by_taskspec</c>.</summary>
public sealed record RecentFailureRow(long Seq, string EventId, string RunId, string TargetKind, string TargetId, string ActionKind, string FailureReasonCode,
    string Signal, string WrapperPolicy, string Engine, string EventType, long ObservedAt);

/// <summary>One row of <c>mv_gate_rollup_by_failure_reason_code</c> (an empty code: the facts without a failure).</summary>
public sealed record GateRollupRow(string FailureReasonCode, string Engine, string EventType, string Signal, long FactCount, long LastObservedAt);

/// <summary>One row of <c>mv_guard_denials_by_policy_reason_code</c>.</summary>
public sealed record GuardDenialRow(long Seq, string EventId, string RunId, string TargetKind, string TargetId, string ActionKind, string PolicyReasonCode,
    string Signal, string Engine, string EventType, long ObservedAt);

/// <summary>What a turn read of the learning loop: the tenant's mode and its priors for the actor and simulation (none in SHADOW).</summary>
public sealed record TurnPriors(LearnMode Mode, IReadOnlyList<Capsule> Capsules)
{
    public static TurnPriors None { get; } = new(LearnMode.Shadow, []);
}

/// <summary>How many rows each learning table holds for the tenant.</summary>
public sealed record LearningCounts(long Facts, long Quarantined, long Bindings, long FailurePriors, long PolicyPriors, long IngestedSeq);

/// <summary>
/// The learning loop's storage (migration 0029): facts and quarantine written by ingest (idempotent on the deterministic
/// event id and the journal seq), the binder's seen-set and the two capsule tables, the three query primitives (views,
/// read only through the named queries here, each with a total ORDER BY so the same snapshot and filters give the same
/// rows in the same order), and the turn's read of mode and priors, which joins a batch the turn already sends.
/// </summary>
public static class LearningStore
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    /// <summary>A query's limit: <see cref="DefaultLimit"/> when absent or not positive, never above <see cref="MaxLimit"/>.</summary>
    public static int Bound(int? limit) => limit is not > 0 ? DefaultLimit : Math.Min(limit.Value, MaxLimit);

    /// <summary>The last journal seq ingested (0 before the first ingest).</summary>
    public static async Task<long> CursorAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT ingested_seq FROM selene.learn_cursor WHERE tenant_id = $1").Bind(tx.TenantId);
        return await cmd.ExecuteScalarAsync(ct) is long seq ? seq : 0;
    }

    /// <summary>
    /// Stores facts and quarantined entries read from the journal and moves the watermark to <paramref name="cursor"/> (never
    /// back). A fact or quarantined seq stored before is left as it is. Returns how many of each were new.
    /// </summary>
    public static async Task<(int Facts, int Quarantined)> StoreIngestAsync(TenantTransaction tx, IReadOnlyList<LearnFact> facts,
        IReadOnlyList<(long Seq, ReasonCode Reason, string Detail, string JournalHash)> quarantined, long cursor, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        foreach (var f in facts)
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO selene.learn_facts (tenant_id, event_id, seq, run_id, group_id, idempotency_key, signal, wrapper_policy, scope, target_kind,
                    target_id, action_kind, failure_reason_code, policy_reason_code, engine, event_type, observed_at, doc)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                ON CONFLICT DO NOTHING
                """).Bind(tx.TenantId, f.EventId, f.Sequence, f.RunId, f.GroupId, Binder.IdempotencyKey(f), WireNames.Of(f.Signal), WireNames.Of(f.WrapperPolicy),
                f.Key.Scope, f.Key.TargetKind, f.Key.TargetId, f.Key.ActionKind, f.Key.FailureReasonCode, f.PolicyReasonCode, f.Engine, f.EventType,
                f.ObservedAt, f.Canonical()));
        var factCommands = batch.BatchCommands.Count;
        foreach (var q in quarantined)
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO selene.learn_quarantine (tenant_id, seq, reason_code, detail, journal_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
                """).Bind(tx.TenantId, q.Seq, q.Reason.Name, IdRules.Cut(q.Detail, 512), q.JournalHash));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO selene.learn_cursor (tenant_id, ingested_seq) VALUES ($1, $2)
            ON CONFLICT (tenant_id) DO UPDATE SET ingested_seq = GREATEST(learn_cursor.ingested_seq, EXCLUDED.ingested_seq)
            """).Bind(tx.TenantId, cursor));
        await batch.ExecuteNonQueryAsync(ct);
        var commands = batch.BatchCommands.Cast<NpgsqlBatchCommand>().ToArray();
        var stored = commands.Take(factCommands).Sum(c => c.RecordsAffected);
        var kept = commands.Skip(factCommands).Take(quarantined.Count).Sum(c => c.RecordsAffected);
        return (checked((int)stored), checked((int)kept));
    }

    /// <summary>
    /// Up to <paramref name="limit"/> facts no binder pass has bound yet (not in the seen-set), in journal order, each with
    /// how many attempts its run holds for its subject (what the anomaly triggers read): the run's turn decisions for that
    /// user and simulation. One attempt journals several entries (the turn's decision, the access gate's, the transition),
    /// so counting every fact would call each ordinary turn a retry storm.
    /// </summary>
    public static async Task<IReadOnlyList<BindInput>> UnboundAsync(TenantTransaction tx, int limit, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT f.doc, (SELECT count(*) FROM selene.learn_facts g WHERE g.tenant_id = f.tenant_id AND g.run_id = f.run_id
                               AND g.target_kind = f.target_kind AND g.target_id = f.target_id AND g.action_kind = f.action_kind
                               AND g.event_type = 'TURN_DECISION')
            FROM selene.learn_facts f
            WHERE f.tenant_id = $1
              AND NOT EXISTS (SELECT 1 FROM selene.learn_bindings b WHERE b.tenant_id = f.tenant_id AND b.idempotency_key = f.idempotency_key)
            ORDER BY f.seq LIMIT $2
            """).Bind(tx.TenantId, limit);
        var list = new List<BindInput>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new BindInput(JsonSerializer.Deserialize<LearnFact>(r.GetString(0), StrictJson.Options)!, checked((int)r.GetInt64(1))));
        return list;
    }

    /// <summary>Both kinds of capsules of the given subjects (target kind, target id, action kind).</summary>
    public static async Task<IReadOnlyList<Capsule>> CapsulesOfAsync(TenantTransaction tx, IReadOnlyCollection<(string TargetKind, string TargetId, string ActionKind)> subjects,
        CancellationToken ct)
    {
        if (subjects.Count == 0) return [];
        await using var cmd = tx.Command("""
            SELECT true, doc FROM selene.learn_policy_priors p
            WHERE p.tenant_id = $1 AND (p.target_kind, p.target_id, p.action_kind) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))
            UNION ALL
            SELECT false, doc FROM selene.learn_failure_priors p
            WHERE p.tenant_id = $1 AND (p.target_kind, p.target_id, p.action_kind) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))
            """).Bind(tx.TenantId, subjects.Select(s => s.TargetKind).ToArray(), subjects.Select(s => s.TargetId).ToArray(), subjects.Select(s => s.ActionKind).ToArray());
        return await ReadCapsulesAsync(cmd, ct);
    }

    /// <summary>Writes a binder pass: each changed capsule in its new state (upsert on the derived key) and the seen-set rows.</summary>
    public static async Task SaveBindAsync(TenantTransaction tx, IReadOnlyList<Capsule> changed, IReadOnlyList<Binding> bindings, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx.Transaction);
        foreach (var c in changed)
        {
            var table = c is PolicyPrior ? "learn_policy_priors" : "learn_failure_priors";
            var codeColumn = c is PolicyPrior ? "policy_reason_code" : "failure_reason_code";
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
                INSERT INTO selene.{table} (tenant_id, derived_upsert_key, target_kind, target_id, action_kind, {codeColumn}, fingerprint_hash, binder_version,
                    support_count, contradiction_count, last_seen_ts, doc)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                ON CONFLICT (tenant_id, derived_upsert_key) DO UPDATE SET support_count = EXCLUDED.support_count,
                    contradiction_count = EXCLUDED.contradiction_count, last_seen_ts = EXCLUDED.last_seen_ts, doc = EXCLUDED.doc
                """).Bind(tx.TenantId, c.DerivedUpsertKey, c.Key.TargetKind, c.Key.TargetId, c.Key.ActionKind, c.Code, c.FingerprintHash, c.BinderVersion,
                c.SupportCount, c.ContradictionCount, c.LastSeenTs, c.Canonical()));
        }
        foreach (var b in bindings)
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO selene.learn_bindings (tenant_id, idempotency_key, event_id, derived_upsert_key, outcome, rule) VALUES ($1, $2, $3, $4, $5, $6)
                """).Bind(tx.TenantId, b.IdempotencyKey, b.EventId, b.DerivedUpsertKey, WireNames.Of(b.Outcome), b.Rule));
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The tenant's priors of one kind, optionally for one action, target or code: most supported first, then the most
    /// recently seen, then by derived key (a total order).
    /// </summary>
    public static async Task<IReadOnlyList<Capsule>> PriorsAsync(TenantTransaction tx, bool policy, string? actionKind, string? targetId, string? code, int? limit,
        CancellationToken ct)
    {
        var table = policy ? "learn_policy_priors" : "learn_failure_priors";
        var codeColumn = policy ? "policy_reason_code" : "failure_reason_code";
        await using var cmd = tx.Command($"""
            SELECT {(policy ? "true" : "false")}, doc FROM selene.{table}
            WHERE tenant_id = $1 AND ($2::text IS NULL OR action_kind = $2) AND ($3::text IS NULL OR target_id = $3) AND ($4::text IS NULL OR {codeColumn} = $4)
            ORDER BY support_count DESC, last_seen_ts DESC, derived_upsert_key LIMIT $5
            """).Bind(tx.TenantId, actionKind, targetId, code, Bound(limit));
        return await ReadCapsulesAsync(cmd, ct);
    }

    /// <summary><c>mv_recent_failures_by_taskspec</c>: newest first, then by seq (unique), optionally for one action or failure code.</summary>
    public static async Task<IReadOnlyList<RecentFailureRow>> RecentFailuresAsync(TenantTransaction tx, string? actionKind, string? failureReasonCode, int? limit,
        CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT seq, event_id, run_id, target_kind, target_id, action_kind, failure_reason_code, signal, wrapper_policy, engine, event_type, observed_at
            FROM selene.mv_recent_failures_by_taskspec
            WHERE tenant_id = $1 AND ($2::text IS NULL OR action_kind = $2) AND ($3::text IS NULL OR failure_reason_code = $3)
            ORDER BY observed_at DESC, seq DESC LIMIT $4
            """).Bind(tx.TenantId, actionKind, failureReasonCode, Bound(limit));
        var list = new List<RecentFailureRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new RecentFailureRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
                r.GetString(7), r.GetString(8), r.GetString(9), r.GetString(10), r.GetInt64(11)));
        return list;
    }

    /// <summary><c>mv_gate_rollup_by_failure_reason_code</c>: the largest groups first, then by code, engine, event type and signal.</summary>
    public static async Task<IReadOnlyList<GateRollupRow>> GateRollupAsync(TenantTransaction tx, string? failureReasonCode, int? limit, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT failure_reason_code, engine, event_type, signal, fact_count, last_observed_at FROM selene.mv_gate_rollup_by_failure_reason_code
            WHERE tenant_id = $1 AND ($2::text IS NULL OR failure_reason_code = $2)
            ORDER BY fact_count DESC, failure_reason_code, engine, event_type, signal LIMIT $3
            """).Bind(tx.TenantId, failureReasonCode, Bound(limit));
        var list = new List<GateRollupRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new GateRollupRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5)));
        return list;
    }

    /// <summary><c>mv_guard_denials_by_policy_reason_code</c>: newest first, then by seq, optionally for one action or policy code.</summary>
    public static async Task<IReadOnlyList<GuardDenialRow>> GuardDenialsAsync(TenantTransaction tx, string? actionKind, string? policyReasonCode, int? limit,
        CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT seq, event_id, run_id, target_kind, target_id, action_kind, policy_reason_code, signal, engine, event_type, observed_at
            FROM selene.mv_guard_denials_by_policy_reason_code
            WHERE tenant_id = $1 AND ($2::text IS NULL OR action_kind = $2) AND ($3::text IS NULL OR policy_reason_code = $3)
            ORDER BY observed_at DESC, seq DESC LIMIT $4
            """).Bind(tx.TenantId, actionKind, policyReasonCode, Bound(limit));
        var list = new List<GuardDenialRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new GuardDenialRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
                r.GetString(7), r.GetString(8), r.GetString(9), r.GetInt64(10)));
        return list;
    }

    /// <summary>How many rows each learning table holds for the tenant, and the watermark.</summary>
    public static async Task<LearningCounts> CountsAsync(TenantTransaction tx, CancellationToken ct)
    {
        await using var cmd = tx.Command("""
            SELECT (SELECT count(*) FROM selene.learn_facts WHERE tenant_id = $1), (SELECT count(*) FROM selene.learn_quarantine WHERE tenant_id = $1),
                   (SELECT count(*) FROM selene.learn_bindings WHERE tenant_id = $1), (SELECT count(*) FROM selene.learn_failure_priors WHERE tenant_id = $1),
                   (SELECT count(*) FROM selene.learn_policy_priors WHERE tenant_id = $1),
                   COALESCE((SELECT ingested_seq FROM selene.learn_cursor WHERE tenant_id = $1), 0)
            """).Bind(tx.TenantId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new LearningCounts(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5));
    }

    /// <summary>
    /// Adds the turn's read of the learning loop to a batch the turn already sends (<see cref="GovernanceQueries.TurnFactsAsync"/>):
    /// up to <paramref name="perKind"/> priors of each kind for the actor and simulation, with the tenant's mode — no row at all
    /// unless the mode is GUIDED or PRESCRIPTIVE, so a SHADOW tenant's turn costs one empty result and no round trip.
    /// </summary>
    internal static void AddTurnPriors(NpgsqlBatch batch, TenantTransaction tx, string actor, string simulationId, int perKind) =>
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT m.status, p.policy, p.doc FROM selene.learn_mode_current m
            CROSS JOIN LATERAL (
                (SELECT true AS policy, doc, support_count, last_seen_ts, derived_upsert_key FROM selene.learn_policy_priors
                 WHERE tenant_id = $1 AND target_kind = 'USER' AND target_id = $2 AND action_kind = $3
                 ORDER BY support_count DESC, last_seen_ts DESC, derived_upsert_key LIMIT $4)
                UNION ALL
                (SELECT false, doc, support_count, last_seen_ts, derived_upsert_key FROM selene.learn_failure_priors
                 WHERE tenant_id = $1 AND target_kind = 'USER' AND target_id = $2 AND action_kind = $3
                 ORDER BY support_count DESC, last_seen_ts DESC, derived_upsert_key LIMIT $4)) p
            WHERE m.tenant_id = $1 AND m.stream_id = 'TENANT' AND m.status <> 'SHADOW'
            ORDER BY p.support_count DESC, p.last_seen_ts DESC, p.policy DESC, p.derived_upsert_key
            """).Bind(tx.TenantId, actor, simulationId, perKind));

    /// <summary>Reads what <see cref="AddTurnPriors"/> asked for; the reader stands at its result set.</summary>
    internal static async Task<TurnPriors> ReadTurnPriorsAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        LearnMode? mode = null;
        var capsules = new List<Capsule>();
        while (await r.ReadAsync(ct))
        {
            mode ??= WireNames.Parse<LearnMode>(r.GetString(0));
            capsules.Add(ReadCapsule(r.GetBoolean(1), r.GetString(2)));
        }
        return mode is null ? TurnPriors.None : new TurnPriors(mode.Value, capsules);
    }

    private static Capsule ReadCapsule(bool policy, string doc) => policy
        ? JsonSerializer.Deserialize<PolicyPrior>(doc, StrictJson.Options)!
        : JsonSerializer.Deserialize<FailurePrior>(doc, StrictJson.Options)!;

    private static async Task<IReadOnlyList<Capsule>> ReadCapsulesAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<Capsule>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(ReadCapsule(r.GetBoolean(0), r.GetString(1)));
        return list;
    }
}
