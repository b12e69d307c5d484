-- 0007: PH2.ACCESS.002 master access schema (reference §7.1, §7.4, §7.6): access profiles (AP schema versions) in
-- GLOBAL or TENANT scope, their authoring review and rule actions, tenant overlays, platform-operator tenants,
-- and the compiled lineage of access instances.

-- Platform operators ------------------------------------------------------------------------------------------

-- Only the actors of a platform-operator tenant may write GLOBAL profiles (checked by the handler). Set by the
-- owner (`selene tenant create --platform-operator`).
ALTER TABLE selene.tenants ADD COLUMN platform_operator boolean NOT NULL DEFAULT false;

-- The runtime cannot read selene.tenants; this answers one question about the session's own tenant.
CREATE FUNCTION selene.session_tenant_is_platform_operator() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = selene, pg_temp AS $$
    SELECT coalesce((SELECT t.platform_operator FROM selene.tenants t
                     WHERE t.tenant_id = current_setting('selene.tenant_id', true)), false)
$$;
REVOKE ALL ON FUNCTION selene.session_tenant_is_platform_operator() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION selene.session_tenant_is_platform_operator() TO selene_app, selene_reader;

-- Row-level security for tables that hold GLOBAL rows (tenant_id NULL, shared by every tenant) next to tenant
-- rows: a row is visible and writable when it is GLOBAL or the session tenant's. Without a session tenant
-- nothing is visible, as for every other tenant table.
CREATE FUNCTION selene.enable_tenant_or_global_isolation(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
        USING (coalesce(current_setting('selene.tenant_id', true), '') <> ''
               AND (tenant_id IS NULL OR tenant_id = current_setting('selene.tenant_id', true)))
        WITH CHECK (coalesce(current_setting('selene.tenant_id', true), '') <> ''
               AND (tenant_id IS NULL OR tenant_id = current_setting('selene.tenant_id', true)))$p$, tbl);
END $$;
REVOKE ALL ON FUNCTION selene.enable_tenant_or_global_isolation(regclass) FROM PUBLIC;

-- Authoring review (before the schema ledger, which references it) -------------------------------------------------

CREATE TABLE selene.access_ap_authoring_review_ledger (
    review_event_id     bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id           text,
    scope               text    NOT NULL CHECK (scope IN ('GLOBAL', 'TENANT')),
    scope_key           text    NOT NULL,
    access_profile_id   text    NOT NULL CHECK (access_profile_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    schema_version_id   integer NOT NULL CHECK (schema_version_id > 0),
    event_kind          text    NOT NULL CHECK (event_kind IN ('REVIEW_CHANNEL_COMMIT', 'CONFIRMATION_COMMIT')),
    review_channel      text    CHECK (review_channel IN ('PHONE_DESKTOP', 'READ_OUT_LOUD')),
    confirmation_state  text    NOT NULL CHECK (confirmation_state IN ('REVIEW_IN_PROGRESS', 'PENDING_ACTIVATION_CONFIRMATION',
                                                                        'CONFIRMED_FOR_ACTIVATION', 'DECLINED')),
    reason              text    NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
    reason_code         text    NOT NULL,
    simulation_id       text    NOT NULL,
    actor_tenant_id     text    NOT NULL,
    actor_user_id       text    NOT NULL,
    correlation_id      numeric(39, 0) NOT NULL,
    idempotency_key     text,
    created_at          bigint  NOT NULL,
    FOREIGN KEY (actor_tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((scope = 'GLOBAL') = (tenant_id IS NULL)),
    CHECK (CASE WHEN scope = 'GLOBAL' THEN scope_key = 'GLOBAL' ELSE scope_key = tenant_id AND scope_key <> 'GLOBAL' END),
    CHECK (tenant_id IS NULL OR actor_tenant_id = tenant_id),
    CHECK ((event_kind = 'REVIEW_CHANNEL_COMMIT') = (confirmation_state = 'REVIEW_IN_PROGRESS')),
    CHECK (event_kind <> 'REVIEW_CHANNEL_COMMIT' OR review_channel IS NOT NULL)
);
CREATE UNIQUE INDEX access_ap_review_channel_idempotency ON selene.access_ap_authoring_review_ledger
    (scope_key, access_profile_id, schema_version_id, review_channel, actor_tenant_id, idempotency_key)
    WHERE event_kind = 'REVIEW_CHANNEL_COMMIT' AND idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX access_ap_review_confirm_idempotency ON selene.access_ap_authoring_review_ledger
    (scope_key, access_profile_id, schema_version_id, confirmation_state, actor_tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
SELECT selene.enable_tenant_or_global_isolation('selene.access_ap_authoring_review_ledger');
SELECT selene.make_append_only('selene.access_ap_authoring_review_ledger', 'F_APPEND_ONLY_VIOLATION');

CREATE TABLE selene.access_ap_authoring_review_current (
    tenant_id               text,
    scope                   text    NOT NULL CHECK (scope IN ('GLOBAL', 'TENANT')),
    scope_key               text    NOT NULL,
    access_profile_id       text    NOT NULL,
    schema_version_id       integer NOT NULL,
    review_channel          text,
    confirmation_state      text    NOT NULL,
    rule_action_count       integer NOT NULL CHECK (rule_action_count >= 0),
    latest_review_event_id  bigint  NOT NULL REFERENCES selene.access_ap_authoring_review_ledger (review_event_id),
    updated_at              bigint  NOT NULL,
    PRIMARY KEY (scope_key, access_profile_id, schema_version_id),
    CHECK ((scope = 'GLOBAL') = (tenant_id IS NULL)),
    CHECK (CASE WHEN scope = 'GLOBAL' THEN scope_key = 'GLOBAL' ELSE scope_key = tenant_id END)
);
SELECT selene.enable_tenant_or_global_isolation('selene.access_ap_authoring_review_current');
GRANT SELECT, INSERT, UPDATE ON selene.access_ap_authoring_review_current TO selene_app;
GRANT SELECT ON selene.access_ap_authoring_review_current TO selene_reader;

CREATE TABLE selene.access_ap_rule_review_actions_ledger (
    review_action_row_id   bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id              text,
    scope                  text    NOT NULL CHECK (scope IN ('GLOBAL', 'TENANT')),
    scope_key              text    NOT NULL,
    access_profile_id      text    NOT NULL,
    schema_version_id      integer NOT NULL CHECK (schema_version_id > 0),
    rule_action            text    NOT NULL CHECK (rule_action IN ('AGREE', 'DISAGREE', 'EDIT', 'DELETE', 'DISABLE', 'ADD_CUSTOM_RULE')),
    suggested_rule_ref     text    CHECK (length(suggested_rule_ref) BETWEEN 1 AND 128),
    capability_id          text    CHECK (capability_id ~ '^[A-Z][A-Z0-9_]{0,127}$'),
    constraint_ref         text    CHECK (length(constraint_ref) BETWEEN 1 AND 128),
    escalation_policy_ref  text    CHECK (length(escalation_policy_ref) BETWEEN 1 AND 128),
    reason                 text    NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
    reason_code            text    NOT NULL,
    simulation_id          text    NOT NULL,
    actor_tenant_id        text    NOT NULL,
    actor_user_id          text    NOT NULL,
    correlation_id         numeric(39, 0) NOT NULL,
    idempotency_key        text,
    created_at             bigint  NOT NULL,
    FOREIGN KEY (actor_tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((scope = 'GLOBAL') = (tenant_id IS NULL)),
    CHECK (CASE WHEN scope = 'GLOBAL' THEN scope_key = 'GLOBAL' ELSE scope_key = tenant_id END),
    CHECK (tenant_id IS NULL OR actor_tenant_id = tenant_id),
    -- Reference §7.1 payload shapes.
    CHECK (CASE rule_action
               WHEN 'ADD_CUSTOM_RULE' THEN capability_id IS NOT NULL AND suggested_rule_ref IS NULL
               WHEN 'EDIT' THEN capability_id IS NOT NULL AND suggested_rule_ref IS NOT NULL
               ELSE suggested_rule_ref IS NOT NULL AND capability_id IS NULL
           END)
);
CREATE UNIQUE INDEX access_ap_rule_action_idempotency ON selene.access_ap_rule_review_actions_ledger
    (scope_key, access_profile_id, schema_version_id, rule_action, coalesce(suggested_rule_ref, ''), actor_tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX access_ap_rule_action_by_version ON selene.access_ap_rule_review_actions_ledger
    (scope_key, access_profile_id, schema_version_id, review_action_row_id);
SELECT selene.enable_tenant_or_global_isolation('selene.access_ap_rule_review_actions_ledger');
SELECT selene.make_append_only('selene.access_ap_rule_review_actions_ledger', 'F_APPEND_ONLY_VIOLATION');

-- AP schema versions -------------------------------------------------------------------------------------------

-- Every event of every version. lifecycle_state is the version's state after the event. A version that loses
-- its place to a newly activated one gets a RETIRE row with superseded_by_version_id.
CREATE TABLE selene.access_ap_schema_ledger (
    event_id                        bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id                       text,
    scope                           text    NOT NULL CHECK (scope IN ('GLOBAL', 'TENANT')),
    scope_key                       text    NOT NULL,
    access_profile_id               text    NOT NULL CHECK (access_profile_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    schema_version_id               integer NOT NULL CHECK (schema_version_id > 0),
    event_action                    text    NOT NULL CHECK (event_action IN ('CREATE_DRAFT', 'UPDATE_DRAFT', 'ACTIVATE', 'RETIRE')),
    lifecycle_state                 text    NOT NULL CHECK (lifecycle_state IN ('DRAFT', 'ACTIVE', 'RETIRED')),
    profile_payload_json            text    CHECK (octet_length(profile_payload_json) <= 32768 AND jsonb_typeof(profile_payload_json::jsonb) = 'object'),
    superseded_by_version_id        integer,
    activation_review_event_id      bigint  REFERENCES selene.access_ap_authoring_review_ledger (review_event_id),
    activation_rule_action_count    integer CHECK (activation_rule_action_count >= 1),
    activation_rule_action_set_ref  text,
    reason                          text    NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
    reason_code                     text    NOT NULL,
    simulation_id                   text    NOT NULL,
    actor_tenant_id                 text    NOT NULL,
    actor_user_id                   text    NOT NULL,
    correlation_id                  numeric(39, 0) NOT NULL,
    idempotency_key                 text,
    created_at                      bigint  NOT NULL,
    FOREIGN KEY (actor_tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK ((scope = 'GLOBAL') = (tenant_id IS NULL)),
    CHECK (CASE WHEN scope = 'GLOBAL' THEN scope_key = 'GLOBAL' ELSE scope_key = tenant_id AND scope_key <> 'GLOBAL' END),
    CHECK (tenant_id IS NULL OR actor_tenant_id = tenant_id),
    CHECK (lifecycle_state = CASE event_action WHEN 'ACTIVATE' THEN 'ACTIVE' WHEN 'RETIRE' THEN 'RETIRED' ELSE 'DRAFT' END),
    CHECK ((event_action IN ('CREATE_DRAFT', 'UPDATE_DRAFT')) = (profile_payload_json IS NOT NULL)),
    CHECK (superseded_by_version_id IS NULL OR event_action = 'RETIRE'),
    CHECK (activation_review_event_id IS NULL OR event_action = 'ACTIVATE'),
    CHECK ((activation_review_event_id IS NULL) = (activation_rule_action_count IS NULL)
           AND (activation_review_event_id IS NULL) = (activation_rule_action_set_ref IS NULL))
);
CREATE UNIQUE INDEX access_ap_schema_idempotency ON selene.access_ap_schema_ledger
    (scope_key, access_profile_id, schema_version_id, event_action, actor_tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX access_ap_schema_by_profile ON selene.access_ap_schema_ledger (scope_key, access_profile_id, event_id);
SELECT selene.enable_tenant_or_global_isolation('selene.access_ap_schema_ledger');
SELECT selene.make_append_only('selene.access_ap_schema_ledger', 'F_APPEND_ONLY_VIOLATION');

-- The single current (ACTIVE) version per (scope_key, profile), with the payload it was activated with. Retiring
-- the current version deletes its row.
CREATE TABLE selene.access_ap_schema_current (
    tenant_id                 text,
    scope                     text    NOT NULL CHECK (scope IN ('GLOBAL', 'TENANT')),
    scope_key                 text    NOT NULL,
    access_profile_id         text    NOT NULL,
    active_schema_version_id  integer NOT NULL,
    profile_payload_json      text    NOT NULL,
    active_event_id           bigint  NOT NULL REFERENCES selene.access_ap_schema_ledger (event_id),
    updated_at                bigint  NOT NULL,
    PRIMARY KEY (scope_key, access_profile_id),
    CHECK ((scope = 'GLOBAL') = (tenant_id IS NULL)),
    CHECK (CASE WHEN scope = 'GLOBAL' THEN scope_key = 'GLOBAL' ELSE scope_key = tenant_id END)
);
SELECT selene.enable_tenant_or_global_isolation('selene.access_ap_schema_current');
GRANT SELECT, INSERT, UPDATE, DELETE ON selene.access_ap_schema_current TO selene_app;
GRANT SELECT ON selene.access_ap_schema_current TO selene_reader;

-- Tenant overlays (tenant rows only) ----------------------------------------------------------------------------

CREATE TABLE selene.access_ap_overlay_ledger (
    tenant_id                 text    NOT NULL,
    event_id                  bigint  GENERATED ALWAYS AS IDENTITY,
    overlay_id                text    NOT NULL CHECK (overlay_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    overlay_version_id        integer NOT NULL CHECK (overlay_version_id > 0),
    event_action              text    NOT NULL CHECK (event_action IN ('CREATE_DRAFT', 'UPDATE_DRAFT', 'ACTIVATE', 'RETIRE')),
    lifecycle_state           text    NOT NULL CHECK (lifecycle_state IN ('DRAFT', 'ACTIVE', 'RETIRED')),
    overlay_ops_json          text    CHECK (octet_length(overlay_ops_json) <= 32768 AND jsonb_typeof(overlay_ops_json::jsonb) = 'array'),
    superseded_by_version_id  integer,
    reason                    text    NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
    reason_code               text    NOT NULL,
    simulation_id             text    NOT NULL,
    actor_user_id             text    NOT NULL,
    correlation_id            numeric(39, 0) NOT NULL,
    idempotency_key           text,
    created_at                bigint  NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
    CHECK (lifecycle_state = CASE event_action WHEN 'ACTIVATE' THEN 'ACTIVE' WHEN 'RETIRE' THEN 'RETIRED' ELSE 'DRAFT' END),
    CHECK ((event_action IN ('CREATE_DRAFT', 'UPDATE_DRAFT')) = (overlay_ops_json IS NOT NULL)),
    CHECK (superseded_by_version_id IS NULL OR event_action = 'RETIRE')
);
CREATE UNIQUE INDEX access_ap_overlay_idempotency ON selene.access_ap_overlay_ledger
    (tenant_id, overlay_id, overlay_version_id, event_action, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX access_ap_overlay_by_overlay ON selene.access_ap_overlay_ledger (tenant_id, overlay_id, event_id);
SELECT selene.enable_tenant_isolation('selene.access_ap_overlay_ledger');
SELECT selene.make_append_only('selene.access_ap_overlay_ledger', 'F_APPEND_ONLY_VIOLATION');

-- The one ACTIVE version per overlay, with its ops. Retiring the active version deletes its row.
CREATE TABLE selene.access_ap_overlay_current (
    tenant_id                  text    NOT NULL,
    overlay_id                 text    NOT NULL,
    active_overlay_version_id  integer NOT NULL,
    overlay_ops_json           text    NOT NULL,
    active_event_id            bigint  NOT NULL,
    updated_at                 bigint  NOT NULL,
    PRIMARY KEY (tenant_id, overlay_id),
    FOREIGN KEY (tenant_id, active_event_id) REFERENCES selene.access_ap_overlay_ledger (tenant_id, event_id)
);
SELECT selene.enable_tenant_isolation('selene.access_ap_overlay_current');
GRANT SELECT, INSERT, UPDATE, DELETE ON selene.access_ap_overlay_current TO selene_app;
GRANT SELECT ON selene.access_ap_overlay_current TO selene_reader;

-- Compiled lineage of access instances (ACCESS_INSTANCE_COMPILE_COMMIT) ---------------------------------------

ALTER TABLE selene.access_instance_ledger
    ADD COLUMN compiled_global_profile_id       text,
    ADD COLUMN compiled_global_profile_version  integer,
    ADD COLUMN compiled_tenant_profile_id       text,
    ADD COLUMN compiled_tenant_profile_version  integer,
    ADD COLUMN compiled_overlay_set_ref         text,
    ADD COLUMN compiled_position_id             text,
    ADD CONSTRAINT access_instance_ledger_compiled_global CHECK ((compiled_global_profile_id IS NULL) = (compiled_global_profile_version IS NULL)),
    ADD CONSTRAINT access_instance_ledger_compiled_tenant CHECK ((compiled_tenant_profile_id IS NULL) = (compiled_tenant_profile_version IS NULL)),
    ADD CONSTRAINT access_instance_ledger_compiled_by_compile CHECK (event_action <> 'COMPILE' OR compiled_global_profile_id IS NOT NULL);
ALTER TABLE selene.access_instances
    ADD COLUMN compiled_global_profile_id       text,
    ADD COLUMN compiled_global_profile_version  integer,
    ADD COLUMN compiled_tenant_profile_id       text,
    ADD COLUMN compiled_tenant_profile_version  integer,
    ADD COLUMN compiled_overlay_set_ref         text,
    ADD COLUMN compiled_position_id             text;

-- A compile creates the target user's identity when it is missing.
GRANT INSERT ON selene.identities TO selene_app;
