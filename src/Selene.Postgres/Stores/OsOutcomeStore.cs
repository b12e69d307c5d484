using Npgsql;
using Selene.Contracts;
using Selene.Kernel.Os;

namespace Selene.Postgres.Stores;

/// <summary>One stored outcome-utilization row: the entry, its turn position and the day it counts for.</summary>
/// <param name="EntryIndex">The entry's 0-based position in its turn's list.</param>
public sealed record OsOutcomeRow(long Seq, DateOnly Day, int EntryIndex, OsOutcomeEntry Entry, long RecordedAt);

/// <summary>One stored utility review of (engine, day).</summary>
/// <param name="CorrelationId">The review run that wrote it (its journal entry carries the same id).</param>
public sealed record UtilityReviewRow(long ReviewId, DateOnly Day, UtilityReviewResult Result, string CorrelationId, long ComputedAt);

/// <summary>
/// Storage of PH1.OS outcome utilization and utility reviews (migration 0009). Both tables are append-only; the
/// review in force for (engine, day) is the newest row, read through <c>os_utility_review_current</c>.
/// </summary>
public static class OsOutcomeStore
{
    private const string OutcomeColumns = """
        seq, day, entry_index, engine_id, outcome_type, correlation_id::text, turn_id, action_class, consumed_by, latency_cost_ms,
        decision_delta, reason_code, recorded_at
        """;

    private const string ReviewColumns = """
        review_id, day, engine_id, tier, entries, decision_delta_rate_bps, queue_learn_conversion_rate_bps, no_value_rate_bps,
        latency_p95_ms, latency_p99_ms, gate_u4_pass, gate_u5_triggered, action, fail_streak_days, thresholds_version, reason_code,
        correlation_id::text, computed_at
        """;

    // ---- outcome utilization ---------------------------------------------------------------------------------

    /// <summary>
    /// Appends one turn's outcome entries for <paramref name="day"/> in one statement (one round trip for the batch).
    /// Entries are numbered by their position in the list; a turn whose entries are appended again (a retry) adds
    /// nothing. Every entry must carry <paramref name="correlation"/> and <paramref name="turn"/> (reference §1.2: the
    /// gate refuses a turn whose entries do not; here a mismatch is a caller bug).
    /// </summary>
    /// <returns>How many rows were new.</returns>
    public static async Task<int> AppendOutcomesAsync(TenantTransaction tx, CorrelationId correlation, TurnId turn, DateOnly day,
        IReadOnlyList<OsOutcomeEntry> entries, long nowNanos, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return 0;
        var n = entries.Count;
        var engines = new string[n];
        var types = new string[n];
        var classes = new string[n];
        var consumers = new string[n];
        var latencies = new long[n];
        var deltas = new bool[n];
        var reasons = new string[n];
        for (var i = 0; i < n; i++)
        {
            var e = entries[i];
            if (e.Correlation != correlation || e.Turn != turn)
                throw new ArgumentException($"entry {i} belongs to correlation {e.Correlation} turn {e.Turn}, not {correlation} turn {turn}", nameof(entries));
            engines[i] = e.EngineId;
            types[i] = e.OutcomeType;
            classes[i] = WireNames.Of(e.ActionClass);
            consumers[i] = e.ConsumedBy;
            latencies[i] = e.LatencyCostMs;
            deltas[i] = e.DecisionDelta;
            reasons[i] = e.ReasonCode;
        }

        await using var cmd = tx.Command("""
            INSERT INTO selene.os_outcome_utilization (tenant_id, correlation_id, turn_id, entry_index, day, engine_id, outcome_type, action_class,
                consumed_by, latency_cost_ms, decision_delta, reason_code, recorded_at)
            SELECT $1, $2::numeric, $3, (u.ord - 1)::integer, $4, u.engine_id, u.outcome_type, u.action_class, u.consumed_by, u.latency_cost_ms,
                   u.decision_delta, u.reason_code, $12
            FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::boolean[], $11::text[])
                 WITH ORDINALITY AS u(engine_id, outcome_type, action_class, consumed_by, latency_cost_ms, decision_delta, reason_code, ord)
            ON CONFLICT (tenant_id, correlation_id, turn_id, entry_index) DO NOTHING
            """);
        cmd.Bind(tx.TenantId, correlation.ToString(), checked((long)turn.Value), day, engines, types, classes, consumers, latencies, deltas, reasons, nowNanos);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The rows of <paramref name="day"/>, of one engine or (null) of all, in append order.</summary>
    public static async Task<IReadOnlyList<OsOutcomeRow>> ReadDayAsync(TenantTransaction tx, DateOnly day, string? engineId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        await using var cmd = tx.Command($"""
            SELECT {OutcomeColumns} FROM selene.os_outcome_utilization
            WHERE tenant_id = $1 AND day = $2 AND ($3::text IS NULL OR engine_id = $3) ORDER BY seq
            """);
        cmd.Bind(tx.TenantId, day, engineId);
        var list = new List<OsOutcomeRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (!CorrelationId.TryParse(reader.GetString(5), out var correlation))
                throw new InvalidOperationException($"os_outcome_utilization seq {reader.GetInt64(0)}: correlation id out of range");
            var entry = new OsOutcomeEntry(reader.GetString(3), reader.GetString(4), correlation, new TurnId(checked((ulong)reader.GetInt64(6))),
                WireNames.Parse<OsOutcomeActionClass>(reader.GetString(7)), reader.GetString(8), checked((uint)reader.GetInt64(9)),
                reader.GetBoolean(10), reader.GetString(11));
            list.Add(new OsOutcomeRow(reader.GetInt64(0), reader.GetFieldValue<DateOnly>(1), reader.GetInt32(2), entry, reader.GetInt64(12)));
        }
        return list;
    }

    /// <summary>The engines with at least one row on <paramref name="day"/>, in ordinal order.</summary>
    public static async Task<IReadOnlyList<string>> EnginesOfDayAsync(TenantTransaction tx, DateOnly day, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        await using var cmd = tx.Command("""
            SELECT DISTINCT engine_id COLLATE "C" FROM selene.os_outcome_utilization WHERE tenant_id = $1 AND day = $2 ORDER BY 1
            """);
        cmd.Bind(tx.TenantId, day);
        var list = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(reader.GetString(0));
        return list;
    }

    // ---- utility reviews ---------------------------------------------------------------------------------------

    /// <summary>
    /// Appends the review of (<see cref="UtilityReviewResult.EngineId"/>, <paramref name="day"/>) unless the review in
    /// force for them says exactly the same (metrics, gates, action, streak, tier, thresholds): re-running an unchanged
    /// day appends nothing.
    /// </summary>
    /// <returns>The new review id, or null when nothing was appended.</returns>
    public static async Task<long?> AppendReviewAsync(TenantTransaction tx, DateOnly day, UtilityReviewResult review, CorrelationId correlation,
        long nowNanos, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(review);
        var m = review.Metrics;
        await using var cmd = tx.Command($"""
            INSERT INTO selene.os_utility_review (tenant_id, day, engine_id, tier, entries, decision_delta_rate_bps, queue_learn_conversion_rate_bps,
                no_value_rate_bps, latency_p95_ms, latency_p99_ms, gate_u4_pass, gate_u5_triggered, action, fail_streak_days, thresholds_version,
                reason_code, correlation_id, computed_at)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::numeric, $18
            WHERE NOT EXISTS (
                SELECT 1 FROM selene.os_utility_review_current c
                WHERE c.tenant_id = $1 AND c.day = $2 AND c.engine_id = $3
                  AND (c.tier, c.entries, c.decision_delta_rate_bps, c.queue_learn_conversion_rate_bps, c.no_value_rate_bps, c.latency_p95_ms,
                       c.latency_p99_ms, c.gate_u4_pass, c.gate_u5_triggered, c.action, c.fail_streak_days, c.thresholds_version, c.reason_code)
                    = ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16))
            RETURNING review_id
            """);
        cmd.Bind(tx.TenantId, day, review.EngineId, WireNames.Of(review.Tier), m.Entries, m.DecisionDeltaRateBps, m.QueueLearnConversionRateBps,
            m.NoValueRateBps, (long)m.LatencyP95Ms, (long)m.LatencyP99Ms, review.GateU4Pass, review.GateU5Triggered, WireNames.Of(review.Action),
            review.FailStreakDays, review.ThresholdsVersion, review.Reason.Name, correlation.ToString(), nowNanos);
        return await cmd.ExecuteScalarAsync(ct) is long id ? id : null;
    }

    /// <summary>The review in force for (<paramref name="engineId"/>, <paramref name="day"/>), if any.</summary>
    public static async Task<UtilityReviewRow?> CurrentReviewAsync(TenantTransaction tx, DateOnly day, string engineId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        await using var cmd = tx.Command($"""
            SELECT {ReviewColumns} FROM selene.os_utility_review_current WHERE tenant_id = $1 AND day = $2 AND engine_id = $3
            """);
        cmd.Bind(tx.TenantId, day, engineId);
        var rows = await ReadReviewsAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>The reviews in force for <paramref name="day"/>, one per engine, in ordinal engine order.</summary>
    public static async Task<IReadOnlyList<UtilityReviewRow>> CurrentReviewsAsync(TenantTransaction tx, DateOnly day, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        await using var cmd = tx.Command($"""
            SELECT {ReviewColumns} FROM selene.os_utility_review_current WHERE tenant_id = $1 AND day = $2 ORDER BY engine_id COLLATE "C"
            """);
        cmd.Bind(tx.TenantId, day);
        return await ReadReviewsAsync(cmd, ct);
    }

    /// <summary>Every review ever appended for (<paramref name="engineId"/>, <paramref name="day"/>), oldest first.</summary>
    public static async Task<IReadOnlyList<UtilityReviewRow>> ReviewHistoryAsync(TenantTransaction tx, DateOnly day, string engineId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        await using var cmd = tx.Command($"""
            SELECT {ReviewColumns} FROM selene.os_utility_review WHERE tenant_id = $1 AND day = $2 AND engine_id = $3 ORDER BY review_id
            """);
        cmd.Bind(tx.TenantId, day, engineId);
        return await ReadReviewsAsync(cmd, ct);
    }

    private static async Task<IReadOnlyList<UtilityReviewRow>> ReadReviewsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<UtilityReviewRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var reason = ReasonCodes.Kernel.TryGet(reader.GetString(15), out var code)
                ? code
                : throw new InvalidOperationException($"os_utility_review {reader.GetInt64(0)}: unregistered reason code {reader.GetString(15)}");
            var metrics = new UtilityMetrics(reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7),
                checked((uint)reader.GetInt64(8)), checked((uint)reader.GetInt64(9)));
            var result = new UtilityReviewResult(reader.GetString(2), WireNames.Parse<OsOptionalEngineTier>(reader.GetString(3)), metrics,
                reader.GetBoolean(10), reader.GetBoolean(11), WireNames.Parse<OsUtilityAction>(reader.GetString(12)), reader.GetInt32(13),
                reader.GetString(14), reason);
            list.Add(new UtilityReviewRow(reader.GetInt64(0), reader.GetFieldValue<DateOnly>(1), result, reader.GetString(16), reader.GetInt64(17)));
        }
        return list;
    }
}
