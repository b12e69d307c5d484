-- 0006: the approval paths of PH1.ACCESS / PH2.ACCESS.002 (reference §7.3–§7.6): per-user overrides, board
-- policies, escalation cases opened by the executor when the gate says ESCALATE, and board votes on them.
-- Every ledger is append-only for selene_app; every projection is rebuildable from its ledger.

-- Overrides: GRANT rows (ONE_SHOT | TEMPORARY | PERMANENT) and REVOKE rows naming the override they end.
CREATE TABLE selene.access_override_ledger (
    tenant_id                   text   NOT NULL,
    event_id                    bigint GENERATED ALWAYS AS IDENTITY,
    override_id                 text   NOT NULL CHECK (override_id ~ '^ovr_[0-9a-f]{16}$'),
    event_action                text   NOT NULL CHECK (event_action IN ('GRANT', 'REVOKE')),
    access_instance_id          text   NOT NULL,
    target_user_id              text   NOT NULL,
    override_type               text   NOT NULL CHECK (override_type IN ('ONE_SHOT', 'TEMPORARY', 'PERMANENT', 'REVOKE')),
    scope                       text   NOT NULL CHECK (length(scope) BETWEEN 1 AND 128),
    grant_mode                  text   CHECK (grant_mode IN ('R', 'W', 'A', 'X')),
    starts_at                   bigint NOT NULL,
    expires_at                  bigint,
    escalation_case_id          text,
    approved_by_user_id         text   NOT NULL,
    approved_via_simulation_id  text   NOT NULL CHECK (length(approved_via_simulation_id) <= 96),
    approval_ref                text   CHECK (length(approval_ref) <= 256),
    reason                      text   NOT NULL CHECK (length(reason) BETWEEN 1 AND 512),
    reason_code                 text   NOT NULL,
    correlation_id              numeric(39, 0) NOT NULL,
    idempotency_key             text   NOT NULL,
    created_at                  bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, target_user_id) REFERENCES selene.identities (tenant_id, user_id),
    FOREIGN KEY (tenant_id, approved_by_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK (expires_at IS NULL OR expires_at > starts_at),
    CHECK ((event_action = 'REVOKE') = (override_type = 'REVOKE')),
    CHECK ((event_action = 'GRANT') = (grant_mode IS NOT NULL)),
    CHECK ((override_type = 'TEMPORARY') = (expires_at IS NOT NULL)),
    CHECK (override_type <> 'ONE_SHOT' OR escalation_case_id IS NOT NULL)
);
-- An Idempotency-Key is scoped per simulation (as everywhere in the executor): the same approver key may serve a TEMP
-- grant and a PERM grant of one user.
CREATE UNIQUE INDEX access_override_ledger_idempotency
    ON selene.access_override_ledger (tenant_id, access_instance_id, approved_via_simulation_id, event_action, idempotency_key);
CREATE UNIQUE INDEX access_override_ledger_one_grant ON selene.access_override_ledger (tenant_id, override_id) WHERE event_action = 'GRANT';
SELECT selene.enable_tenant_isolation('selene.access_override_ledger');
SELECT selene.make_append_only('selene.access_override_ledger', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.access_overrides (
    tenant_id                   text   NOT NULL,
    override_id                 text   NOT NULL,
    access_instance_id          text   NOT NULL,
    target_user_id              text   NOT NULL,
    override_type               text   NOT NULL CHECK (override_type IN ('ONE_SHOT', 'TEMPORARY', 'PERMANENT')),
    scope                       text   NOT NULL,
    grant_mode                  text   NOT NULL CHECK (grant_mode IN ('R', 'W', 'A', 'X')),
    status                      text   NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED')),
    starts_at                   bigint NOT NULL,
    expires_at                  bigint,
    escalation_case_id          text,
    approved_by_user_id         text   NOT NULL,
    approved_via_simulation_id  text   NOT NULL,
    approval_ref                text,
    source_event_id             bigint NOT NULL,
    created_at                  bigint NOT NULL,
    updated_at                  bigint NOT NULL,
    PRIMARY KEY (tenant_id, override_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.access_override_ledger (tenant_id, event_id)
);
CREATE INDEX access_overrides_by_user ON selene.access_overrides (tenant_id, target_user_id, status, starts_at, expires_at);
-- At most one ONE_SHOT override answers an escalation case.
CREATE UNIQUE INDEX access_overrides_one_per_case ON selene.access_overrides (tenant_id, escalation_case_id) WHERE override_type = 'ONE_SHOT';
SELECT selene.enable_tenant_isolation('selene.access_overrides');
GRANT SELECT, INSERT, UPDATE ON selene.access_overrides TO selene_app;
GRANT SELECT ON selene.access_overrides TO selene_reader;

-- Board policies: versioned payloads (primitive, members, numbers, the actions they govern).
CREATE TABLE selene.access_board_policy_ledger (
    tenant_id            text   NOT NULL,
    event_id             bigint GENERATED ALWAYS AS IDENTITY,
    board_policy_id      text   NOT NULL CHECK (board_policy_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    policy_version_id    integer NOT NULL CHECK (policy_version_id > 0),
    event_action         text   NOT NULL CHECK (event_action IN ('CREATE_DRAFT', 'UPDATE_DRAFT', 'ACTIVATE', 'RETIRE')),
    lifecycle_state      text   NOT NULL CHECK (lifecycle_state IN ('DRAFT', 'ACTIVE', 'RETIRED')),
    policy_payload_json  text   NOT NULL CHECK (jsonb_typeof(policy_payload_json::jsonb) = 'object' AND length(policy_payload_json) <= 16384),
    reason               text   NOT NULL CHECK (length(reason) BETWEEN 1 AND 512),
    reason_code          text   NOT NULL,
    actor_user_id        text   NOT NULL,
    correlation_id       numeric(39, 0) NOT NULL,
    idempotency_key      text   NOT NULL,
    created_at           bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id)
);
CREATE UNIQUE INDEX access_board_policy_ledger_idempotency
    ON selene.access_board_policy_ledger (tenant_id, board_policy_id, policy_version_id, event_action, idempotency_key);
CREATE INDEX access_board_policy_ledger_by_policy ON selene.access_board_policy_ledger (tenant_id, board_policy_id, policy_version_id, event_id);
SELECT selene.enable_tenant_isolation('selene.access_board_policy_ledger');
SELECT selene.make_append_only('selene.access_board_policy_ledger', 'F_APPEND_ONLY_VIOLATION');

-- The active version of each board policy (none when its active version was retired).
CREATE TABLE selene.access_board_policies (
    tenant_id                   text    NOT NULL,
    board_policy_id             text    NOT NULL,
    active_policy_version_id    integer NOT NULL,
    active_policy_payload_json  text    NOT NULL,
    source_event_id             bigint  NOT NULL,
    updated_at                  bigint  NOT NULL,
    PRIMARY KEY (tenant_id, board_policy_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.access_board_policy_ledger (tenant_id, event_id)
);
SELECT selene.enable_tenant_isolation('selene.access_board_policies');
GRANT SELECT, INSERT, UPDATE, DELETE ON selene.access_board_policies TO selene_app;
GRANT SELECT ON selene.access_board_policies TO selene_reader;

-- Escalation cases: opened by the executor when the gate answers ESCALATE (AP_APPROVAL_REQUIRED) for a
-- governed request; one per (user, simulation, idempotency key); resolved by a board vote or an override.
CREATE TABLE selene.access_escalation_case_ledger (
    tenant_id                text   NOT NULL,
    event_id                 bigint GENERATED ALWAYS AS IDENTITY,
    escalation_case_id       text   NOT NULL CHECK (escalation_case_id ~ '^esc_[0-9a-f]{16}$'),
    event_action             text   NOT NULL CHECK (event_action IN ('OPEN', 'APPROVE', 'DENY')),
    status                   text   NOT NULL CHECK (status IN ('OPEN', 'APPROVED', 'DENIED')),
    resolved_via             text   CHECK (resolved_via IN ('BOARD_VOTE', 'OVERRIDE')),
    override_id              text,
    case_snapshot_json       text   NOT NULL CHECK (jsonb_typeof(case_snapshot_json::jsonb) = 'object'),
    reason_code              text   NOT NULL,
    actor_user_id            text   NOT NULL,
    correlation_id           numeric(39, 0) NOT NULL,
    created_at               bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((event_action = 'OPEN') = (resolved_via IS NULL))
);
CREATE UNIQUE INDEX access_escalation_case_ledger_once ON selene.access_escalation_case_ledger (tenant_id, escalation_case_id, event_action);
SELECT selene.enable_tenant_isolation('selene.access_escalation_case_ledger');
SELECT selene.make_append_only('selene.access_escalation_case_ledger', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.access_escalation_cases (
    tenant_id                text    NOT NULL,
    escalation_case_id       text    NOT NULL,
    target_user_id           text    NOT NULL,
    access_instance_id       text    NOT NULL,
    simulation_id            text    NOT NULL,
    request_idempotency_key  text    NOT NULL,
    request_hash             text    NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    requested_action         text    NOT NULL,
    requested_mode           text    NOT NULL CHECK (requested_mode IN ('R', 'W', 'A', 'X')),
    effective_mode           text    NOT NULL CHECK (effective_mode IN ('R', 'W', 'A', 'X')),
    escalation_trigger       text    NOT NULL CHECK (escalation_trigger IN ('AP_APPROVAL_REQUIRED')),
    board_policy_id          text,
    policy_version_id        integer,
    policy_payload_json      text,
    status                   text    NOT NULL CHECK (status IN ('OPEN', 'APPROVED', 'DENIED')),
    resolved_via             text    CHECK (resolved_via IN ('BOARD_VOTE', 'OVERRIDE')),
    override_id              text,
    opened_correlation_id    numeric(39, 0) NOT NULL,
    opened_at                bigint  NOT NULL,
    resolved_at              bigint,
    source_event_id          bigint  NOT NULL,
    PRIMARY KEY (tenant_id, escalation_case_id),
    UNIQUE (tenant_id, target_user_id, simulation_id, request_idempotency_key),
    FOREIGN KEY (tenant_id, target_user_id) REFERENCES selene.identities (tenant_id, user_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.access_escalation_case_ledger (tenant_id, event_id),
    CHECK ((board_policy_id IS NULL) = (policy_version_id IS NULL) AND (board_policy_id IS NULL) = (policy_payload_json IS NULL)),
    CHECK ((status = 'OPEN') = (resolved_at IS NULL))
);
CREATE INDEX access_escalation_cases_by_status ON selene.access_escalation_cases (tenant_id, status, opened_at);
SELECT selene.enable_tenant_isolation('selene.access_escalation_cases');
GRANT SELECT, INSERT, UPDATE ON selene.access_escalation_cases TO selene_app;
GRANT SELECT ON selene.access_escalation_cases TO selene_reader;

-- Board votes: one per member per case; the threshold status is recomputed from these rows and the policy
-- version the case bound when it opened (docs/access-approvals.md).
CREATE TABLE selene.access_board_votes_ledger (
    tenant_id           text    NOT NULL,
    vote_row_id         bigint  GENERATED ALWAYS AS IDENTITY,
    escalation_case_id  text    NOT NULL,
    board_policy_id     text    NOT NULL,
    policy_version_id   integer NOT NULL,
    voter_user_id       text    NOT NULL,
    vote_value          text    NOT NULL CHECK (vote_value IN ('APPROVE', 'REJECT', 'ABSTAIN')),
    reason              text    NOT NULL CHECK (length(reason) BETWEEN 1 AND 512),
    threshold_status    text    NOT NULL CHECK (threshold_status IN ('PENDING', 'SATISFIED', 'REJECTED')),
    correlation_id      numeric(39, 0) NOT NULL,
    idempotency_key     text    NOT NULL,
    created_at          bigint  NOT NULL,
    PRIMARY KEY (tenant_id, vote_row_id),
    UNIQUE (tenant_id, escalation_case_id, voter_user_id),
    FOREIGN KEY (tenant_id, escalation_case_id) REFERENCES selene.access_escalation_cases (tenant_id, escalation_case_id),
    FOREIGN KEY (tenant_id, voter_user_id) REFERENCES selene.identities (tenant_id, user_id)
);
SELECT selene.enable_tenant_isolation('selene.access_board_votes_ledger');
SELECT selene.make_append_only('selene.access_board_votes_ledger', 'F_APPEND_ONLY_VIOLATION');

-- Users come into a tenant through PH2.ACCESS.002 (ACCESS_INSTANCE_UPSERT_COMMIT creates the identity it
-- governs), so the runtime may add identities to its own tenant (row-level security holds it there).
GRANT INSERT ON selene.identities TO selene_app;
