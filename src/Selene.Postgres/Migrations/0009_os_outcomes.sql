-- 0009: PH1.OS outcome utilization and the daily optional-engine utility review (reference §1.2, §1.7; GATE-U4 /
-- GATE-U5). PH1.OS itself owns no tables (§1): these are the runtime's record of what optional engines produced and
-- what the review concluded. Both tables are append-only ledgers; docs/decisions.md "PH1.OS utility review".

-- One row per outcome-utilization entry of a turn (reference §1.2 OsOutcomeUtilizationEntry). `day` is the UTC
-- calendar day of the turn, the unit the review works in. (tenant, correlation, turn, entry_index) is the turn's
-- position of the entry: appending a turn's entries again is a no-op, so a retried turn is never counted twice.
CREATE TABLE selene.os_outcome_utilization (
    tenant_id        text    NOT NULL,
    seq              bigint  GENERATED ALWAYS AS IDENTITY,
    correlation_id   numeric(39, 0) NOT NULL CHECK (correlation_id > 0),
    turn_id          bigint  NOT NULL CHECK (turn_id > 0),
    entry_index      integer NOT NULL CHECK (entry_index >= 0),
    day              date    NOT NULL,
    engine_id        text    NOT NULL CHECK (engine_id ~ '^[A-Z0-9._]{1,64}$'),
    outcome_type     text    NOT NULL CHECK (length(outcome_type) BETWEEN 1 AND 64),
    action_class     text    NOT NULL CHECK (action_class IN ('ACT_NOW', 'QUEUE_LEARN', 'AUDIT_ONLY', 'DROP')),
    consumed_by      text    NOT NULL CHECK (length(consumed_by) BETWEEN 1 AND 64),
    latency_cost_ms  bigint  NOT NULL CHECK (latency_cost_ms BETWEEN 0 AND 4294967295),
    decision_delta   boolean NOT NULL,
    reason_code      text    NOT NULL CHECK (length(reason_code) BETWEEN 1 AND 96),
    recorded_at      bigint  NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, correlation_id, turn_id, entry_index)
);
CREATE INDEX os_outcome_utilization_by_day ON selene.os_outcome_utilization (tenant_id, day, engine_id, seq);
SELECT selene.enable_tenant_isolation('selene.os_outcome_utilization');
SELECT selene.make_append_only('selene.os_outcome_utilization', 'F_APPEND_ONLY_VIOLATION');

-- One row per review of (engine, day). Re-running a day appends a new row only when its result differs from the
-- current one; os_utility_review_current shows the newest row per (tenant, engine, day).
CREATE TABLE selene.os_utility_review (
    tenant_id                        text    NOT NULL,
    review_id                        bigint  GENERATED ALWAYS AS IDENTITY,
    day                              date    NOT NULL,
    engine_id                        text    NOT NULL CHECK (engine_id ~ '^[A-Z0-9._]{1,64}$'),
    tier                             text    NOT NULL CHECK (tier IN ('STRICT', 'BALANCED', 'RICH')),
    entries                          integer NOT NULL CHECK (entries > 0),
    decision_delta_rate_bps          integer NOT NULL CHECK (decision_delta_rate_bps BETWEEN 0 AND 10000),
    queue_learn_conversion_rate_bps  integer NOT NULL CHECK (queue_learn_conversion_rate_bps BETWEEN 0 AND 10000),
    no_value_rate_bps                integer NOT NULL CHECK (no_value_rate_bps BETWEEN 0 AND 10000),
    latency_p95_ms                   bigint  NOT NULL CHECK (latency_p95_ms BETWEEN 0 AND 4294967295),
    latency_p99_ms                   bigint  NOT NULL CHECK (latency_p99_ms BETWEEN 0 AND 4294967295),
    gate_u4_pass                     boolean NOT NULL,
    gate_u5_triggered                boolean NOT NULL,
    action                           text    NOT NULL CHECK (action IN ('KEEP', 'DEGRADE', 'DISABLE_CANDIDATE')),
    fail_streak_days                 integer NOT NULL CHECK (fail_streak_days >= 0),
    thresholds_version               text    NOT NULL CHECK (length(thresholds_version) BETWEEN 1 AND 32),
    reason_code                      text    NOT NULL,
    correlation_id                   numeric(39, 0) NOT NULL CHECK (correlation_id > 0),
    computed_at                      bigint  NOT NULL,
    PRIMARY KEY (tenant_id, review_id),
    CHECK (latency_p95_ms <= latency_p99_ms),
    CHECK (gate_u4_pass = (action = 'KEEP')),
    CHECK (gate_u5_triggered = (action = 'DISABLE_CANDIDATE')),
    CHECK (gate_u4_pass = (fail_streak_days = 0))
);
CREATE INDEX os_utility_review_by_day ON selene.os_utility_review (tenant_id, day, engine_id, review_id);
SELECT selene.enable_tenant_isolation('selene.os_utility_review');
SELECT selene.make_append_only('selene.os_utility_review', 'F_APPEND_ONLY_VIOLATION');

-- The review in force per (tenant, engine, day). security_invoker: the caller's row-level security applies.
CREATE VIEW selene.os_utility_review_current WITH (security_invoker = true) AS
    SELECT DISTINCT ON (tenant_id, engine_id, day) *
    FROM selene.os_utility_review
    ORDER BY tenant_id, engine_id, day, review_id DESC;
GRANT SELECT ON selene.os_utility_review_current TO selene_app, selene_reader;
