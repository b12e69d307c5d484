-- 0010: the standard engine store pair, and PH1.CAPREQ moved onto it.
--
-- Every engine keeps its truth in <name>_ledger (append-only events: an envelope plus the event as a jsonb
-- document) and its projection in <name>_current (one row per stream: status plus the state as a jsonb
-- document). Columns beyond these only where a query needs an index. tenant_id leads every key.

CREATE FUNCTION selene.create_engine_store(name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ledger  text := format('selene.%I', name || '_ledger');
    current text := format('selene.%I', name || '_current');
BEGIN
    IF name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'engine store name "%" must be lower_snake (1..40 chars)', name;
    END IF;

    EXECUTE format($t$CREATE TABLE %s (
        tenant_id        text   NOT NULL,
        event_id         bigint GENERATED ALWAYS AS IDENTITY,
        stream_id        text   NOT NULL CHECK (length(stream_id) BETWEEN 1 AND 256),
        event_type       text   NOT NULL CHECK (event_type ~ '^[A-Z][A-Z0-9_]{0,63}$'),
        actor_user_id    text   NOT NULL,
        reason_code      text   NOT NULL,
        payload          jsonb  NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
        correlation_id   numeric(39, 0) NOT NULL CHECK (correlation_id > 0),
        idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 128),
        created_at       bigint NOT NULL,
        PRIMARY KEY (tenant_id, event_id),
        FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id)
    )$t$, ledger);
    -- The idempotency backstop: one key may serve different event types on one stream, never the same one twice.
    EXECUTE format('CREATE UNIQUE INDEX %I ON %s (tenant_id, stream_id, event_type, idempotency_key) WHERE idempotency_key IS NOT NULL',
                   name || '_ledger_idempotency', ledger);
    EXECUTE format('CREATE INDEX %I ON %s (tenant_id, stream_id, event_id)', name || '_ledger_by_stream', ledger);
    PERFORM selene.enable_tenant_isolation(ledger::regclass);
    PERFORM selene.make_append_only(ledger::regclass, 'F_APPEND_ONLY_VIOLATION');

    EXECUTE format($t$CREATE TABLE %s (
        tenant_id        text   NOT NULL,
        stream_id        text   NOT NULL,
        status           text   NOT NULL CHECK (status ~ '^[A-Z][A-Z0-9_]{0,63}$'),
        doc              jsonb  NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
        source_event_id  bigint NOT NULL,
        updated_at       bigint NOT NULL,
        PRIMARY KEY (tenant_id, stream_id),
        FOREIGN KEY (tenant_id, source_event_id) REFERENCES %s (tenant_id, event_id)
    )$t$, current, ledger);
    EXECUTE format('CREATE INDEX %I ON %s (tenant_id, status, stream_id)', name || '_current_by_status', current);
    PERFORM selene.enable_tenant_isolation(current::regclass);
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', current);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO selene_app', current);
    EXECUTE format('GRANT SELECT ON %s TO selene_reader', current);
END $$;
REVOKE ALL ON FUNCTION selene.create_engine_store(text) FROM PUBLIC;

-- Writes rows kept aside by a migration (in the shape of the standard pair, with their original event ids) into a
-- freshly created pair, tenant by tenant (FORCE row-level security checks each row against selene.tenant_id), and
-- moves the ledger's identity past the last kept id. Every engine that moves onto the platform uses it.
CREATE FUNCTION selene.refill_engine_store(name text, ledger_rows regclass, current_rows regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ledger  text := format('selene.%I', name || '_ledger');
    current text := format('selene.%I', name || '_current');
    t text;
    previous text := current_setting('selene.tenant_id', true);
    last_id bigint;
BEGIN
    FOR t IN EXECUTE format('SELECT DISTINCT tenant_id FROM %s ORDER BY 1', ledger_rows) LOOP
        PERFORM set_config('selene.tenant_id', t, true);
        EXECUTE format($i$INSERT INTO %s (tenant_id, event_id, stream_id, event_type, actor_user_id, reason_code, payload,
                                            correlation_id, idempotency_key, created_at)
            OVERRIDING SYSTEM VALUE
            SELECT tenant_id, event_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, idempotency_key, created_at
            FROM %s WHERE tenant_id = $1 ORDER BY event_id$i$, ledger, ledger_rows) USING t;
        EXECUTE format($i$INSERT INTO %s (tenant_id, stream_id, status, doc, source_event_id, updated_at)
            SELECT tenant_id, stream_id, status, doc, source_event_id, updated_at FROM %s WHERE tenant_id = $1$i$, current, current_rows) USING t;
    END LOOP;
    PERFORM set_config('selene.tenant_id', coalesce(previous, ''), true);
    -- New events continue after the last kept id.
    EXECUTE format('SELECT max(event_id) FROM %s', ledger_rows) INTO last_id;
    PERFORM setval(pg_get_serial_sequence(ledger, 'event_id'), coalesce(last_id, 1), last_id IS NOT NULL);
END $$;
REVOKE ALL ON FUNCTION selene.refill_engine_store(text, regclass, regclass) FROM PUBLIC;

-- PH1.CAPREQ: keep every row and every event id. The old tables are read without row-level security (the owner
-- lifts FORCE on tables it is about to drop), copied aside, dropped, and written back tenant by tenant into the
-- new pair (whose FORCE row-level security checks each row against selene.tenant_id).
ALTER TABLE selene.capreq_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.capreq_current NO FORCE ROW LEVEL SECURITY;

CREATE TEMPORARY TABLE capreq_ledger_0002 ON COMMIT DROP AS
SELECT tenant_id, capreq_event_id AS event_id, capreq_id AS stream_id, action AS event_type, actor_user_id, reason_code,
       jsonb_build_object(
           'tenant_id', tenant_id, 'capreq_id', capreq_id, 'action', action, 'status', status,
           'actor_user_id', actor_user_id, 'reason_code', reason_code, 'payload_hash', payload_hash,
           'requested_capability_id', requested_capability_id, 'target_scope_ref', target_scope_ref,
           'justification', justification, 'reference', reference, 'created_at', created_at) AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.capreq_ledger;

CREATE TEMPORARY TABLE capreq_current_0002 ON COMMIT DROP AS
SELECT tenant_id, capreq_id AS stream_id, status,
       jsonb_build_object(
           'tenant_id', tenant_id, 'capreq_id', capreq_id, 'requester_user_id', requester_user_id,
           'requested_capability_id', requested_capability_id, 'target_scope_ref', target_scope_ref,
           'justification', justification, 'status', status, 'last_action', last_action,
           'last_actor_user_id', last_actor_user_id, 'payload_hash', payload_hash, 'source_event_id', source_event_id,
           'last_reason_code', last_reason_code, 'created_at', created_at, 'updated_at', updated_at) AS doc,
       source_event_id, updated_at
FROM selene.capreq_current;

DROP TABLE selene.capreq_current;
DROP TABLE selene.capreq_ledger;

SELECT selene.create_engine_store('capreq');

SELECT selene.refill_engine_store('capreq', 'capreq_ledger_0002', 'capreq_current_0002');
