-- 0002: PH1.CAPREQ capability requests (reference §6.4): an append-only ledger and its projection.

CREATE TABLE selene.capreq_ledger (
    tenant_id                text   NOT NULL,
    capreq_event_id          bigint GENERATED ALWAYS AS IDENTITY,
    capreq_id                text   NOT NULL CHECK (capreq_id ~ '^capreq_[0-9a-f]{16}$'),
    actor_user_id            text   NOT NULL,
    action                   text   NOT NULL CHECK (action IN ('CREATE_DRAFT', 'SUBMIT_FOR_APPROVAL', 'APPROVE', 'REJECT', 'FULFILL', 'CANCEL')),
    status                   text   NOT NULL CHECK (status IN ('DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'REJECTED', 'FULFILLED', 'CANCELED')),
    reason_code              text   NOT NULL,
    payload_hash             text   NOT NULL,
    requested_capability_id  text,
    target_scope_ref         text,
    justification            text,
    reference                text,
    correlation_id           numeric(39, 0) NOT NULL CHECK (correlation_id > 0),
    idempotency_key          text CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    created_at               bigint NOT NULL,
    PRIMARY KEY (tenant_id, capreq_event_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((action = 'CREATE_DRAFT') = (requested_capability_id IS NOT NULL AND target_scope_ref IS NOT NULL AND justification IS NOT NULL))
);
CREATE UNIQUE INDEX capreq_ledger_idempotency ON selene.capreq_ledger (tenant_id, capreq_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX capreq_ledger_by_request ON selene.capreq_ledger (tenant_id, capreq_id, capreq_event_id);
SELECT selene.enable_tenant_isolation('selene.capreq_ledger');
SELECT selene.make_append_only('selene.capreq_ledger', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.capreq_current (
    tenant_id                text   NOT NULL,
    capreq_id                text   NOT NULL,
    requester_user_id        text   NOT NULL,
    requested_capability_id  text   NOT NULL,
    target_scope_ref         text   NOT NULL,
    justification            text   NOT NULL,
    status                   text   NOT NULL,
    last_action              text   NOT NULL,
    last_actor_user_id       text   NOT NULL,
    payload_hash             text   NOT NULL,
    source_event_id          bigint NOT NULL,
    last_reason_code         text   NOT NULL,
    created_at               bigint NOT NULL,
    updated_at               bigint NOT NULL,
    PRIMARY KEY (tenant_id, capreq_id),
    UNIQUE (tenant_id, capreq_id, source_event_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.capreq_ledger (tenant_id, capreq_event_id)
);
CREATE INDEX capreq_current_by_status ON selene.capreq_current (tenant_id, status, capreq_id);
SELECT selene.enable_tenant_isolation('selene.capreq_current');
GRANT SELECT, INSERT, UPDATE ON selene.capreq_current TO selene_app;
GRANT SELECT ON selene.capreq_current TO selene_reader;
