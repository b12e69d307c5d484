-- 0004: tenant companies and PH1.POSITION (reference §5.4): positions with their lifecycle ledger, and versioned
-- requirement schemas with their ledger and the active-version projection.

CREATE TABLE selene.tenant_company_ledger (
    tenant_id        text   NOT NULL,
    event_id         bigint GENERATED ALWAYS AS IDENTITY,
    company_id       text   NOT NULL CHECK (company_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    legal_name       text   NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 256),
    jurisdiction     text   NOT NULL CHECK (length(jurisdiction) BETWEEN 1 AND 64),
    lifecycle_state  text   NOT NULL CHECK (lifecycle_state IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'RETIRED')),
    actor_user_id    text   NOT NULL,
    correlation_id   numeric(39, 0) NOT NULL,
    idempotency_key  text,
    created_at       bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id)
);
SELECT selene.enable_tenant_isolation('selene.tenant_company_ledger');
SELECT selene.make_append_only('selene.tenant_company_ledger', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.tenant_companies (
    tenant_id        text   NOT NULL,
    company_id       text   NOT NULL,
    legal_name       text   NOT NULL,
    jurisdiction     text   NOT NULL,
    lifecycle_state  text   NOT NULL,
    source_event_id  bigint NOT NULL,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL,
    PRIMARY KEY (tenant_id, company_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.tenant_company_ledger (tenant_id, event_id)
);
SELECT selene.enable_tenant_isolation('selene.tenant_companies');
GRANT SELECT, INSERT, UPDATE ON selene.tenant_companies TO selene_app;
GRANT SELECT ON selene.tenant_companies TO selene_reader;

-- Every position event (creation and lifecycle changes) in one append-only ledger.
CREATE TABLE selene.position_lifecycle_events (
    tenant_id        text   NOT NULL,
    event_id         bigint GENERATED ALWAYS AS IDENTITY,
    position_id      text   NOT NULL CHECK (position_id ~ '^pos_[0-9a-f]{16}$'),
    action           text   NOT NULL CHECK (action IN ('CREATE_DRAFT', 'ACTIVATE', 'SUSPEND', 'RETIRE')),
    from_state       text   CHECK (from_state IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'RETIRED')),
    to_state         text   NOT NULL CHECK (to_state IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'RETIRED')),
    payload          text   NOT NULL CHECK (jsonb_typeof(payload::jsonb) = 'object'),
    reason_code      text   NOT NULL,
    simulation_id    text   NOT NULL,
    actor_user_id    text   NOT NULL,
    correlation_id   numeric(39, 0) NOT NULL,
    idempotency_key  text,
    created_at       bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((action = 'CREATE_DRAFT') = (from_state IS NULL))
);
CREATE UNIQUE INDEX position_lifecycle_idempotency ON selene.position_lifecycle_events (tenant_id, position_id, action, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX position_lifecycle_by_position ON selene.position_lifecycle_events (tenant_id, position_id, event_id);
SELECT selene.enable_tenant_isolation('selene.position_lifecycle_events');
SELECT selene.make_append_only('selene.position_lifecycle_events', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.positions (
    tenant_id               text   NOT NULL,
    position_id             text   NOT NULL,
    company_id              text   NOT NULL,
    position_title          text   NOT NULL,
    department              text   NOT NULL,
    jurisdiction            text   NOT NULL,
    schedule_type           text   NOT NULL CHECK (schedule_type IN ('FULL_TIME', 'PART_TIME', 'CONTRACT', 'SHIFT')),
    permission_profile_ref  text   NOT NULL,
    compensation_band_ref   text   NOT NULL,
    lifecycle_state         text   NOT NULL CHECK (lifecycle_state IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'RETIRED')),
    source_event_id         bigint NOT NULL,
    created_at              bigint NOT NULL,
    updated_at              bigint NOT NULL,
    PRIMARY KEY (tenant_id, position_id),
    UNIQUE (tenant_id, company_id, position_title, department, jurisdiction),
    FOREIGN KEY (tenant_id, company_id) REFERENCES selene.tenant_companies (tenant_id, company_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.position_lifecycle_events (tenant_id, event_id)
);
SELECT selene.enable_tenant_isolation('selene.positions');
GRANT SELECT, INSERT, UPDATE ON selene.positions TO selene_app;
GRANT SELECT ON selene.positions TO selene_reader;

CREATE TABLE selene.position_requirements_schema_ledger (
    tenant_id              text   NOT NULL,
    schema_event_id        bigint GENERATED ALWAYS AS IDENTITY,
    position_id            text   NOT NULL,
    schema_version_id      text   NOT NULL CHECK (schema_version_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    action                 text   NOT NULL CHECK (action IN ('CREATE_DRAFT', 'UPDATE_COMMIT', 'ACTIVATE_COMMIT', 'RETIRE_COMMIT')),
    selector_snapshot_json text,
    field_specs_json       text,
    change_reason          text,
    apply_scope            text   CHECK (apply_scope IN ('NEW_HIRES_ONLY', 'CURRENT_AND_NEW')),
    actor_user_id          text   NOT NULL,
    correlation_id         numeric(39, 0) NOT NULL,
    idempotency_key        text,
    created_at             bigint NOT NULL,
    PRIMARY KEY (tenant_id, schema_event_id),
    FOREIGN KEY (tenant_id, position_id) REFERENCES selene.positions (tenant_id, position_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((action = 'UPDATE_COMMIT') = (change_reason IS NOT NULL AND length(change_reason) BETWEEN 1 AND 256)),
    CHECK ((action = 'ACTIVATE_COMMIT') = (apply_scope IS NOT NULL)),
    CHECK ((action IN ('CREATE_DRAFT', 'UPDATE_COMMIT')) = (field_specs_json IS NOT NULL AND selector_snapshot_json IS NOT NULL))
);
CREATE UNIQUE INDEX position_schema_idempotency ON selene.position_requirements_schema_ledger
    (tenant_id, position_id, schema_version_id, action, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX position_schema_by_position ON selene.position_requirements_schema_ledger (tenant_id, position_id, schema_event_id);
SELECT selene.enable_tenant_isolation('selene.position_requirements_schema_ledger');
SELECT selene.make_append_only('selene.position_requirements_schema_ledger', 'F_APPEND_ONLY_VIOLATION');

-- The one active version per position, with the content it was activated with.
CREATE TABLE selene.position_requirements_schema_current (
    tenant_id                      text   NOT NULL,
    position_id                    text   NOT NULL,
    active_schema_version_id       text   NOT NULL,
    apply_scope                    text   NOT NULL,
    active_selector_snapshot_json  text   NOT NULL,
    active_field_specs_json        text   NOT NULL,
    source_event_id                bigint NOT NULL,
    updated_at                     bigint NOT NULL,
    PRIMARY KEY (tenant_id, position_id),
    UNIQUE (tenant_id, position_id, source_event_id),
    FOREIGN KEY (tenant_id, source_event_id) REFERENCES selene.position_requirements_schema_ledger (tenant_id, schema_event_id)
);
SELECT selene.enable_tenant_isolation('selene.position_requirements_schema_current');
GRANT SELECT, INSERT, UPDATE ON selene.position_requirements_schema_current TO selene_app;
GRANT SELECT ON selene.position_requirements_schema_current TO selene_reader;
