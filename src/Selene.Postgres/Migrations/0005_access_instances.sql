-- 0005: PH2.ACCESS.002 per-user access instances (reference §7.1, §7.6): an append-only ledger of every write
-- and the current projection the gate reads. PH2.ACCESS.002 is their only writer.

CREATE TABLE selene.access_instance_ledger (
    tenant_id                  text    NOT NULL,
    event_id                   bigint  GENERATED ALWAYS AS IDENTITY,
    access_instance_id         text    NOT NULL CHECK (access_instance_id ~ '^ai_[0-9a-f]{16}$'),
    user_id                    text    NOT NULL,
    event_action               text    NOT NULL CHECK (event_action IN ('BOOTSTRAP_ADMIN', 'UPSERT', 'COMPILE', 'LIFECYCLE')),
    role_template_id           text    NOT NULL,
    access_mode                text    NOT NULL CHECK (access_mode IN ('R', 'W', 'A', 'X')),
    baseline_permissions_json  text    NOT NULL CHECK (jsonb_typeof(baseline_permissions_json::jsonb) = 'object'),
    identity_verified          boolean NOT NULL,
    verification_level         text    NOT NULL CHECK (verification_level IN ('NONE', 'PASSCODE_TIME', 'BIOMETRIC', 'STEP_UP')),
    device_trust_level         text    NOT NULL CHECK (device_trust_level IN ('DTL1', 'DTL2', 'DTL3', 'DTL4')),
    lifecycle_state            text    NOT NULL CHECK (lifecycle_state IN ('RESTRICTED', 'ACTIVE', 'SUSPENDED')),
    reason_code                text    NOT NULL,
    simulation_id              text,
    actor_user_id              text,
    correlation_id             numeric(39, 0) NOT NULL,
    idempotency_key            text,
    created_at                 bigint  NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES selene.identities (tenant_id, user_id)
);
CREATE INDEX access_instance_ledger_by_instance ON selene.access_instance_ledger (tenant_id, access_instance_id, event_id);
SELECT selene.enable_tenant_isolation('selene.access_instance_ledger');
SELECT selene.make_append_only('selene.access_instance_ledger', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.access_instances (
    tenant_id                  text    NOT NULL,
    access_instance_id         text    NOT NULL,
    user_id                    text    NOT NULL,
    role_template_id           text    NOT NULL,
    effective_access_mode      text    NOT NULL CHECK (effective_access_mode IN ('R', 'W', 'A', 'X')),
    baseline_permissions_json  text    NOT NULL,
    identity_verified          boolean NOT NULL,
    verification_level         text    NOT NULL,
    device_trust_level         text    NOT NULL,
    lifecycle_state            text    NOT NULL CHECK (lifecycle_state IN ('RESTRICTED', 'ACTIVE', 'SUSPENDED')),
    source_event_id            bigint  NOT NULL,
    created_at                 bigint  NOT NULL,
    updated_at                 bigint  NOT NULL,
    PRIMARY KEY (tenant_id, access_instance_id),
    UNIQUE (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES selene.identities (tenant_id, user_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.access_instance_ledger (tenant_id, event_id)
);
SELECT selene.enable_tenant_isolation('selene.access_instances');
GRANT SELECT, INSERT, UPDATE ON selene.access_instances TO selene_app;
GRANT SELECT ON selene.access_instances TO selene_reader;
