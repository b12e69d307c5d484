-- 0029: the learning loop (issue 16, docs/learning.md): what went wrong and what a rule said no become priors.
--
-- PH1.LEARN's engine store pair: the tenant's mode (stream TENANT: SHADOW, GUIDED or PRESCRIPTIVE), switched only by the
-- governed simulation LEARN_MODE_SET_COMMIT. No row is SHADOW.
SELECT selene.create_engine_store('learn_mode');

-- Facts (K1): one row per journal entry that names a simulation, read as a wrapper (wrapper/v1; doc is its canonical
-- JSON). event_id is derived from the run, the journal seq and the entry's content, so ingesting the same journal again
-- inserts nothing (ON CONFLICT on the primary key). The two reason fields are distinct columns, never both set.
CREATE TABLE selene.learn_facts (
    tenant_id            text   NOT NULL,
    event_id             text   NOT NULL CHECK (event_id ~ '^evt-[0-9a-f]{32}$'),
    seq                  bigint NOT NULL CHECK (seq >= 1),
    run_id               text   NOT NULL CHECK (length(run_id) BETWEEN 1 AND 64),
    group_id             text   NOT NULL CHECK (length(group_id) BETWEEN 1 AND 96),
    idempotency_key      text   NOT NULL CHECK (idempotency_key ~ '^[0-9a-f]{64}$'),
    signal               text   NOT NULL CHECK (signal IN ('FAILED_GATE', 'DENY', 'FAILURE', 'PROMOTED', 'OBSERVED')),
    wrapper_policy       text   NOT NULL CHECK (wrapper_policy IN ('STRICT', 'HYBRID', 'LENIENT')),
    scope                text   NOT NULL,
    target_kind          text   NOT NULL,
    target_id            text   NOT NULL,
    action_kind          text   NOT NULL,
    failure_reason_code  text   NOT NULL,
    policy_reason_code   text   NOT NULL,
    engine               text   NOT NULL,
    event_type           text   NOT NULL,
    observed_at          bigint NOT NULL,
    doc                  text   NOT NULL CHECK (jsonb_typeof(doc::jsonb) = 'object'),
    PRIMARY KEY (tenant_id, event_id),
    UNIQUE (tenant_id, seq),
    CONSTRAINT learn_facts_split CHECK (failure_reason_code = '' OR policy_reason_code = '')
);
CREATE INDEX learn_facts_subject ON selene.learn_facts (tenant_id, target_kind, target_id, action_kind, run_id);

-- Journal entries that name a simulation but cannot be read as a wrapper, with the reason (LEARN_WRAPPER_*).
CREATE TABLE selene.learn_quarantine (
    tenant_id    text   NOT NULL,
    seq          bigint NOT NULL CHECK (seq >= 1),
    reason_code  text   NOT NULL CHECK (reason_code ~ '^LEARN_WRAPPER_[A-Z_]+$'),
    detail       text   NOT NULL CHECK (length(detail) BETWEEN 1 AND 512),
    journal_hash text   NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

-- The ingest watermark: the last journal seq read (ingest reads only what is after it; the keys above make a re-read harmless).
CREATE TABLE selene.learn_cursor (
    tenant_id     text   PRIMARY KEY,
    ingested_seq  bigint NOT NULL CHECK (ingested_seq >= 0)
);

-- The binder's seen-set (K2): one row per bound fact, keyed on its idempotency key (run, task, group, binder version).
CREATE TABLE selene.learn_bindings (
    tenant_id           text NOT NULL,
    idempotency_key     text NOT NULL CHECK (idempotency_key ~ '^[0-9a-f]{64}$'),
    event_id            text NOT NULL,
    derived_upsert_key  text CHECK (derived_upsert_key ~ '^[0-9a-f]{64}$'),
    outcome             text NOT NULL CHECK (outcome IN ('MINTED', 'SUPPORTED', 'CONTRADICTED', 'FACT_ONLY')),
    rule                text NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, event_id) REFERENCES selene.learn_facts (tenant_id, event_id)
);

-- Capsules (K3), two tables: priors keyed on a failure code and priors keyed on a policy code are never merged.
-- doc is the capsule's canonical JSON (capsule/v1); the columns are what the queries filter and order by.
CREATE TABLE selene.learn_failure_priors (
    tenant_id             text   NOT NULL,
    derived_upsert_key    text   NOT NULL CHECK (derived_upsert_key ~ '^[0-9a-f]{64}$'),
    target_kind           text   NOT NULL,
    target_id             text   NOT NULL,
    action_kind           text   NOT NULL,
    failure_reason_code   text   NOT NULL,
    fingerprint_hash      text   NOT NULL CHECK (fingerprint_hash ~ '^[0-9a-f]{64}$'),
    binder_version        text   NOT NULL,
    support_count         bigint NOT NULL CHECK (support_count >= 1),
    contradiction_count   bigint NOT NULL CHECK (contradiction_count >= 0),
    last_seen_ts          bigint NOT NULL,
    doc                   text   NOT NULL CHECK (jsonb_typeof(doc::jsonb) = 'object'),
    PRIMARY KEY (tenant_id, derived_upsert_key)
);
CREATE INDEX learn_failure_priors_subject ON selene.learn_failure_priors (tenant_id, target_kind, target_id, action_kind);

CREATE TABLE selene.learn_policy_priors (
    tenant_id             text   NOT NULL,
    derived_upsert_key    text   NOT NULL CHECK (derived_upsert_key ~ '^[0-9a-f]{64}$'),
    target_kind           text   NOT NULL,
    target_id             text   NOT NULL,
    action_kind           text   NOT NULL,
    policy_reason_code    text   NOT NULL CHECK (policy_reason_code <> ''),
    fingerprint_hash      text   NOT NULL CHECK (fingerprint_hash ~ '^[0-9a-f]{64}$'),
    binder_version        text   NOT NULL,
    support_count         bigint NOT NULL CHECK (support_count >= 1),
    contradiction_count   bigint NOT NULL CHECK (contradiction_count >= 0),
    last_seen_ts          bigint NOT NULL,
    doc                   text   NOT NULL CHECK (jsonb_typeof(doc::jsonb) = 'object'),
    PRIMARY KEY (tenant_id, derived_upsert_key)
);
CREATE INDEX learn_policy_priors_subject ON selene.learn_policy_priors (tenant_id, target_kind, target_id, action_kind);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['learn_facts', 'learn_quarantine', 'learn_cursor', 'learn_bindings', 'learn_failure_priors', 'learn_policy_priors'] LOOP
        PERFORM selene.enable_tenant_isolation(('selene.' || t)::regclass);
        EXECUTE format('REVOKE ALL ON selene.%I FROM PUBLIC', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON selene.%I TO selene_app', t);
        EXECUTE format('GRANT SELECT ON selene.%I TO selene_reader', t);
    END LOOP;
END $$;

-- The three query primitives (K2), read only through LearningStore's named queries. security_invoker: a view reads with
-- the caller's rights, so row-level security keeps each tenant to its own rows. Order is the named query's (ORDER BY
-- inside a view does not survive an outer query).
CREATE VIEW selene.mv_recent_failures_by_taskspec WITH (security_invoker = true) AS
    SELECT tenant_id, seq, event_id, run_id, scope, target_kind, target_id, action_kind, failure_reason_code, policy_reason_code,
           signal, wrapper_policy, engine, event_type, observed_at
    FROM selene.learn_facts WHERE failure_reason_code <> '';

CREATE VIEW selene.mv_gate_rollup_by_failure_reason_code WITH (security_invoker = true) AS
    SELECT tenant_id, failure_reason_code, engine, event_type, signal, count(*) AS fact_count, max(observed_at) AS last_observed_at
    FROM selene.learn_facts GROUP BY tenant_id, failure_reason_code, engine, event_type, signal;

CREATE VIEW selene.mv_guard_denials_by_policy_reason_code WITH (security_invoker = true) AS
    SELECT tenant_id, seq, event_id, run_id, target_kind, target_id, action_kind, policy_reason_code, signal, engine, event_type, observed_at
    FROM selene.learn_facts WHERE policy_reason_code <> '';

GRANT SELECT ON selene.mv_recent_failures_by_taskspec, selene.mv_gate_rollup_by_failure_reason_code,
    selene.mv_guard_denials_by_policy_reason_code TO selene_app, selene_reader;
