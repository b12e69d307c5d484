-- 0001: the storage kernel shared by every engine (ARCHITECTURE.md §5, reference §12 and §13).
-- Runs as selene_owner. Roles, the database and the schema come from the bootstrap (Bootstrap.cs).

-- Helpers every later migration uses -----------------------------------------------------------------

-- Rejects UPDATE, DELETE and TRUNCATE on a ledger. TG_ARGV[0] is the reason code raised. Only members of
-- selene_breakglass (granted through the audited break-glass procedure) pass.
CREATE FUNCTION selene.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_has_role(current_user, 'selene_breakglass', 'MEMBER') THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'SELENE:% % on %.% is not allowed: the table is append-only',
        TG_ARGV[0], TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'SE001';
END $$;

-- Makes a table append-only: INSERT and SELECT only for the app, and a trigger for everyone else.
CREATE FUNCTION selene.make_append_only(tbl regclass, reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC, selene_app, selene_reader', tbl);
    EXECUTE format('GRANT SELECT, INSERT ON %s TO selene_app', tbl);
    EXECUTE format('GRANT SELECT ON %s TO selene_reader', tbl);
    EXECUTE format('CREATE TRIGGER append_only_row BEFORE UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION selene.forbid_mutation(%L)', tbl, reason);
    EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION selene.forbid_mutation(%L)', tbl, reason);
END $$;

-- Tenant isolation by the database: FORCE row-level security on selene.tenant_id, set per transaction.
-- Without the setting no row is visible and no row can be written.
CREATE FUNCTION selene.enable_tenant_isolation(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
        USING (tenant_id = current_setting('selene.tenant_id', true))
        WITH CHECK (tenant_id = current_setting('selene.tenant_id', true))$p$, tbl);
END $$;

REVOKE ALL ON FUNCTION selene.forbid_mutation() FROM PUBLIC;
REVOKE ALL ON FUNCTION selene.make_append_only(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION selene.enable_tenant_isolation(regclass) FROM PUBLIC;

-- Tenants and identities ------------------------------------------------------------------------------

-- The registry of tenant ids. It holds no tenant data, is written only by the owner (CLI), and is not
-- visible to the app role at all.
CREATE TABLE selene.tenants (
    tenant_id   text PRIMARY KEY CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    created_at  bigint NOT NULL
);
GRANT SELECT ON selene.tenants TO selene_reader;

CREATE TABLE selene.identities (
    tenant_id   text NOT NULL REFERENCES selene.tenants (tenant_id),
    user_id     text NOT NULL CHECK (user_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    status      text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
    created_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
SELECT selene.enable_tenant_isolation('selene.identities');
GRANT SELECT ON selene.identities TO selene_app, selene_reader;

-- API keys are stored only as SHA-256 hashes. Nobody but resolve_api_key reads them at run time.
CREATE TABLE selene.api_keys (
    key_hash    text PRIMARY KEY CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    key_prefix  text NOT NULL,
    tenant_id   text NOT NULL,
    user_id     text NOT NULL,
    created_at  bigint NOT NULL,
    revoked_at  bigint,
    FOREIGN KEY (tenant_id, user_id) REFERENCES selene.identities (tenant_id, user_id)
);

CREATE FUNCTION selene.resolve_api_key(p_key_hash text)
RETURNS TABLE (tenant_id text, user_id text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = selene, pg_temp AS $$
    SELECT k.tenant_id, k.user_id FROM selene.api_keys k
    WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION selene.resolve_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION selene.resolve_api_key(text) TO selene_app;

-- Idempotency keys (reference §13.1) ------------------------------------------------------------------

-- (tenant, scope, key) -> the hash of the request that claimed it and the result it produced. The claim
-- and the result are written in the executor's single transaction, so a committed row always has a result.
CREATE TABLE selene.idempotency_keys (
    tenant_id      text NOT NULL,
    scope          text NOT NULL,
    idem_key       text NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 128),
    request_hash   text NOT NULL,
    result_status  integer,
    result_body    text,
    reason_code    text,
    created_at     bigint NOT NULL,
    completed_at   bigint,
    PRIMARY KEY (tenant_id, scope, idem_key)
);
SELECT selene.enable_tenant_isolation('selene.idempotency_keys');
GRANT SELECT, INSERT, UPDATE ON selene.idempotency_keys TO selene_app;
GRANT SELECT ON selene.idempotency_keys TO selene_reader;

-- A claim may be completed once; a completed result never changes.
CREATE FUNCTION selene.idempotency_complete_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.result_body IS NOT NULL OR NEW.request_hash <> OLD.request_hash
       OR NEW.tenant_id <> OLD.tenant_id OR NEW.scope <> OLD.scope OR NEW.idem_key <> OLD.idem_key THEN
        RAISE EXCEPTION 'SELENE:F_APPEND_ONLY_VIOLATION a completed idempotency result is immutable'
            USING ERRCODE = 'SE001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER idempotency_complete_once BEFORE UPDATE ON selene.idempotency_keys
    FOR EACH ROW EXECUTE FUNCTION selene.idempotency_complete_once();

-- The journal (PH1.J, reference §12.1) --------------------------------------------------------------------

-- One hash chain per tenant: hash = SHA-256(canonical JSON of the entry's fields and prev_hash).
-- payload is canonical JSON text (not jsonb) so that it replays byte for byte.
CREATE TABLE selene.journal (
    tenant_id        text   NOT NULL,
    seq              bigint NOT NULL CHECK (seq > 0),
    correlation_id   numeric(39, 0) NOT NULL CHECK (correlation_id > 0),
    turn_id          bigint NOT NULL CHECK (turn_id > 0),
    engine           text   NOT NULL CHECK (length(engine) BETWEEN 1 AND 64),
    event_type       text   NOT NULL CHECK (length(event_type) BETWEEN 1 AND 64),
    reason_code      text   NOT NULL,
    reason_code_id   bigint NOT NULL CHECK (reason_code_id > 0),
    payload          text   NOT NULL CHECK (octet_length(payload) <= 4096 AND jsonb_typeof(payload::jsonb) = 'object'),
    actor_user_id    text,
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    created_at       bigint NOT NULL CHECK (created_at > 0),
    prev_hash        text   NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash             text   NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX journal_by_correlation ON selene.journal (tenant_id, correlation_id, seq);
SELECT selene.enable_tenant_isolation('selene.journal');
SELECT selene.make_append_only('selene.journal', 'J_APPEND_ONLY_VIOLATION');

-- The head of each tenant's chain; locking it serializes appends within a tenant.
CREATE TABLE selene.journal_heads (
    tenant_id  text PRIMARY KEY,
    last_seq   bigint NOT NULL,
    last_hash  text NOT NULL
);
SELECT selene.enable_tenant_isolation('selene.journal_heads');
GRANT SELECT, INSERT, UPDATE ON selene.journal_heads TO selene_app;
GRANT SELECT ON selene.journal_heads TO selene_reader;

-- The outbox (KC.13.2), ready for the workers that come later --------------------------------------------

CREATE TABLE selene.outbox (
    tenant_id               text NOT NULL,
    outbox_id               bigint GENERATED ALWAYS AS IDENTITY,
    correlation_id          numeric(39, 0) NOT NULL CHECK (correlation_id > 0),
    idempotency_key         text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    operation_type          text NOT NULL CHECK (operation_type IN ('TOOL_CALL', 'NOTIFICATION', 'BROADCAST', 'WEB_FETCH', 'SIMULATION_COMMIT')),
    event_type              text NOT NULL,
    payload                 text NOT NULL CHECK (octet_length(payload) <= 8192 AND jsonb_typeof(payload::jsonb) = 'object'),
    status                  text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'CONFIRMED', 'FAILED', 'DEAD_LETTER')),
    attempt_count           integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    next_attempt_at         bigint NOT NULL,
    last_error_reason_code  text,
    lease_owner             text,
    lease_token             uuid,
    lease_expires_at        bigint,
    created_at              bigint NOT NULL,
    PRIMARY KEY (tenant_id, outbox_id),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX outbox_due ON selene.outbox (next_attempt_at) WHERE status IN ('PENDING', 'FAILED');
SELECT selene.enable_tenant_isolation('selene.outbox');
GRANT SELECT, INSERT, UPDATE ON selene.outbox TO selene_app;
GRANT SELECT ON selene.outbox TO selene_reader;

-- Payload and identity of an outbox row are immutable; only status, attempts and lease change.
CREATE FUNCTION selene.outbox_immutable_payload() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.payload <> OLD.payload OR NEW.idempotency_key <> OLD.idempotency_key OR NEW.operation_type <> OLD.operation_type
       OR NEW.event_type <> OLD.event_type OR NEW.tenant_id <> OLD.tenant_id OR NEW.correlation_id <> OLD.correlation_id
       OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'SELENE:F_APPEND_ONLY_VIOLATION an outbox payload is immutable' USING ERRCODE = 'SE001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER outbox_immutable_payload BEFORE UPDATE ON selene.outbox
    FOR EACH ROW EXECUTE FUNCTION selene.outbox_immutable_payload();
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON selene.outbox
    FOR EACH ROW EXECUTE FUNCTION selene.forbid_mutation('F_APPEND_ONLY_VIOLATION');
