-- 0026: audited break-glass (issue 15 item 3, reference §13.2; docs/breakglass.md).
--
-- `selene breakglass open` gives a named PostgreSQL login the selene_breakglass role for a bounded window. Until
-- now a member of that role passed the append-only trigger silently. From here on the trigger lets through only the
-- session login of an open, unexpired window, and records every row it lets through in a hash chain of its own
-- (breakglass_audit, separate from the tenants' journal). The chain, the windows and the head are owned by
-- selene_owner, which a break-glass login is never a member of; nobody but that owner has any privilege on them, a
-- trigger keeps the chain append-only for every role, and the only writer a login reaches is the SECURITY DEFINER
-- trigger function itself.

-- A window: who may act, why, from when to when, and how it ended (closed by an operator, or expired and swept).
CREATE TABLE selene.breakglass_windows (
    window_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login              text   NOT NULL CHECK (login ~ '^[a-z_][a-z0-9_]{0,62}$'),
    reason             text   NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    opened_by          text   NOT NULL CHECK (length(opened_by) BETWEEN 1 AND 128),
    opened_at          bigint NOT NULL CHECK (opened_at > 0),
    expires_at         bigint NOT NULL CHECK (expires_at > opened_at),
    closed_at          bigint,
    closed_by          text CHECK (length(closed_by) BETWEEN 1 AND 128),
    close_reason_code  text CHECK (close_reason_code IN ('BREAKGLASS_CLOSED', 'BREAKGLASS_EXPIRED')),
    CHECK ((closed_at IS NULL) = (closed_by IS NULL) AND (closed_at IS NULL) = (close_reason_code IS NULL))
);
-- One open window per login: the trigger finds "the" window of a session by its login.
CREATE UNIQUE INDEX breakglass_one_open_window ON selene.breakglass_windows (login) WHERE closed_at IS NULL;

-- The chain: one entry per window opened or closed and per row a break-glass session changed. hash = SHA-256 over
-- the length-prefixed text of every column (selene.breakglass_hash); prev_hash is the previous entry's hash, and the
-- first entry chains to 64 zeros. old_row/new_row of OPENED and CLOSED entries are the window row before and after.
CREATE TABLE selene.breakglass_audit (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    window_id    bigint NOT NULL REFERENCES selene.breakglass_windows (window_id),
    reason_code  text   NOT NULL CHECK (reason_code IN ('BREAKGLASS_OPENED', 'BREAKGLASS_CLOSED', 'BREAKGLASS_EXPIRED', 'BREAKGLASS_STATEMENT_RECORDED')),
    at           bigint NOT NULL CHECK (at > 0),
    login        text   NOT NULL,
    actor        text   NOT NULL,
    table_name   text,
    operation    text CHECK (operation IN ('UPDATE', 'DELETE')),
    row_key      jsonb,
    old_row      jsonb,
    new_row      jsonb,
    statement    text,
    prev_hash    text   NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash         text   NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX breakglass_audit_by_window ON selene.breakglass_audit (window_id, seq);

-- The head of the chain: locking it serializes appends; it may only move forward onto the chain's last entry.
CREATE TABLE selene.breakglass_audit_head (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq   bigint NOT NULL CHECK (last_seq >= 0),
    last_hash  text   NOT NULL CHECK (last_hash ~ '^[0-9a-f]{64}$')
);
INSERT INTO selene.breakglass_audit_head (only_row, last_seq, last_hash) VALUES (true, 0, repeat('0', 64));

REVOKE ALL ON selene.breakglass_windows, selene.breakglass_audit, selene.breakglass_audit_head FROM PUBLIC;
GRANT SELECT ON selene.breakglass_windows, selene.breakglass_audit, selene.breakglass_audit_head TO selene_reader;

-- One field of the hash input: its UTF-8 length, a colon, the text, a semicolon; '~;' for NULL (a length never starts with ~).
CREATE FUNCTION selene.breakglass_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN '~;' ELSE octet_length(value)::text || ':' || value || ';' END
$$;

CREATE FUNCTION selene.breakglass_hash(p_seq bigint, p_window_id bigint, p_reason_code text, p_at bigint, p_login text, p_actor text,
    p_table text, p_operation text, p_row_key jsonb, p_old jsonb, p_new jsonb, p_statement text, p_prev_hash text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(
        selene.breakglass_field(p_seq::text) || selene.breakglass_field(p_window_id::text) || selene.breakglass_field(p_reason_code)
        || selene.breakglass_field(p_at::text) || selene.breakglass_field(p_login) || selene.breakglass_field(p_actor)
        || selene.breakglass_field(p_table) || selene.breakglass_field(p_operation) || selene.breakglass_field(p_row_key::text)
        || selene.breakglass_field(p_old::text) || selene.breakglass_field(p_new::text) || selene.breakglass_field(p_statement)
        || selene.breakglass_field(p_prev_hash), 'UTF8')), 'hex')
$$;

-- Appends one entry at the head. Only the owner (and the SECURITY DEFINER functions below, which run as it) may call it.
CREATE FUNCTION selene.breakglass_append(p_window_id bigint, p_reason_code text, p_at bigint, p_login text, p_actor text,
    p_table text, p_operation text, p_row_key jsonb, p_old jsonb, p_new jsonb, p_statement text) RETURNS bigint
LANGUAGE plpgsql SET search_path = selene, pg_temp AS $$
DECLARE
    head selene.breakglass_audit_head;
    next_seq bigint;
    next_hash text;
BEGIN
    SELECT * INTO STRICT head FROM selene.breakglass_audit_head FOR UPDATE;
    next_seq := head.last_seq + 1;
    next_hash := selene.breakglass_hash(next_seq, p_window_id, p_reason_code, p_at, p_login, p_actor, p_table, p_operation,
                                        p_row_key, p_old, p_new, p_statement, head.last_hash);
    INSERT INTO selene.breakglass_audit (seq, window_id, reason_code, at, login, actor, table_name, operation, row_key, old_row, new_row,
                                         statement, prev_hash, hash)
    VALUES (next_seq, p_window_id, p_reason_code, p_at, p_login, p_actor, p_table, p_operation, p_row_key, p_old, p_new,
            p_statement, head.last_hash, next_hash);
    UPDATE selene.breakglass_audit_head SET last_seq = next_seq, last_hash = next_hash;
    RETURN next_seq;
END $$;

-- Opens a window and records it; the caller grants the role in the same transaction (BreakGlass.OpenAsync).
CREATE FUNCTION selene.breakglass_open(p_login text, p_reason text, p_opened_by text, p_opened_at bigint, p_expires_at bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = selene, pg_temp AS $$
DECLARE
    w selene.breakglass_windows;
BEGIN
    INSERT INTO selene.breakglass_windows (login, reason, opened_by, opened_at, expires_at)
    VALUES (p_login, p_reason, p_opened_by, p_opened_at, p_expires_at) RETURNING * INTO w;
    PERFORM selene.breakglass_append(w.window_id, 'BREAKGLASS_OPENED', p_opened_at, p_login, p_opened_by,
                                     NULL, NULL, NULL, NULL, to_jsonb(w), NULL);
    RETURN w.window_id;
END $$;

-- Ends an open window (BREAKGLASS_CLOSED by an operator, BREAKGLASS_EXPIRED by the sweep) and records it; the caller
-- revokes the role in the same transaction.
CREATE FUNCTION selene.breakglass_end(p_window_id bigint, p_at bigint, p_by text, p_reason_code text) RETURNS void
LANGUAGE plpgsql SET search_path = selene, pg_temp AS $$
DECLARE
    before_row selene.breakglass_windows;
    after_row selene.breakglass_windows;
BEGIN
    SELECT * INTO STRICT before_row FROM selene.breakglass_windows WHERE window_id = p_window_id AND closed_at IS NULL FOR UPDATE;
    UPDATE selene.breakglass_windows SET closed_at = p_at, closed_by = p_by, close_reason_code = p_reason_code
    WHERE window_id = p_window_id RETURNING * INTO after_row;
    PERFORM selene.breakglass_append(p_window_id, p_reason_code, p_at, before_row.login, p_by,
                                     NULL, NULL, NULL, to_jsonb(before_row), to_jsonb(after_row), NULL);
END $$;

REVOKE ALL ON FUNCTION selene.breakglass_field(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION selene.breakglass_hash(bigint, bigint, text, bigint, text, text, text, text, jsonb, jsonb, jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION selene.breakglass_append(bigint, text, bigint, text, text, text, text, jsonb, jsonb, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION selene.breakglass_open(text, text, text, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION selene.breakglass_end(bigint, bigint, text, text) FROM PUBLIC;

-- The chain never changes in place, for any role (the break-glass role included: it has no privilege here at all).
CREATE FUNCTION selene.breakglass_audit_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'SELENE:J_APPEND_ONLY_VIOLATION % on %.% is not allowed: the break-glass audit is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'SE001';
END $$;
CREATE TRIGGER audit_append_only_row BEFORE UPDATE OR DELETE ON selene.breakglass_audit
    FOR EACH ROW EXECUTE FUNCTION selene.breakglass_audit_immutable();
CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON selene.breakglass_audit
    FOR EACH STATEMENT EXECUTE FUNCTION selene.breakglass_audit_immutable();

-- A window row is never deleted, and changes once: from open to closed (closed_at, closed_by, close_reason_code).
CREATE FUNCTION selene.breakglass_window_closes_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR OLD.closed_at IS NOT NULL OR NEW.closed_at IS NULL
       OR (NEW.window_id, NEW.login, NEW.reason, NEW.opened_by, NEW.opened_at, NEW.expires_at)
          IS DISTINCT FROM (OLD.window_id, OLD.login, OLD.reason, OLD.opened_by, OLD.opened_at, OLD.expires_at) THEN
        RAISE EXCEPTION 'SELENE:J_APPEND_ONLY_VIOLATION % on %.% is not allowed: a break-glass window only closes, once',
            TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'SE001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER window_closes_once BEFORE UPDATE OR DELETE ON selene.breakglass_windows
    FOR EACH ROW EXECUTE FUNCTION selene.breakglass_window_closes_once();
CREATE TRIGGER window_no_truncate BEFORE TRUNCATE ON selene.breakglass_windows
    FOR EACH STATEMENT EXECUTE FUNCTION selene.breakglass_audit_immutable();

-- The head moves forward only, onto the chain's last entry.
CREATE FUNCTION selene.breakglass_head_follows_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.last_seq <> OLD.last_seq + 1
       OR NOT EXISTS (SELECT 1 FROM selene.breakglass_audit a WHERE a.seq = NEW.last_seq AND a.hash = NEW.last_hash) THEN
        RAISE EXCEPTION 'SELENE:J_APPEND_ONLY_VIOLATION the break-glass audit head must move to the next entry of its chain'
            USING ERRCODE = 'SE001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER head_follows_chain BEFORE UPDATE OR DELETE ON selene.breakglass_audit_head
    FOR EACH ROW EXECUTE FUNCTION selene.breakglass_head_follows_chain();

-- The append-only trigger, now with break-glass. SECURITY DEFINER: it reads the windows and writes the chain as the
-- owner, while session_user stays the login that connected (SET ROLE does not change it, and only a superuser may
-- SET SESSION AUTHORIZATION — a superuser is never given a window). Every other case — no window, another role,
-- a TRUNCATE — is refused exactly as before. "Now" is the database's own clock, read per row, so a session opened
-- before the window expired is refused the moment it has.
CREATE OR REPLACE FUNCTION selene.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = selene, pg_temp AS $$
DECLARE
    w selene.breakglass_windows;
    now_ns bigint;
    old_row jsonb;
    row_key jsonb;
BEGIN
    IF TG_OP <> 'TRUNCATE' THEN
        SELECT * INTO w FROM selene.breakglass_windows WHERE login = session_user AND closed_at IS NULL;
        IF FOUND THEN
            now_ns := (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint;
            IF now_ns >= w.expires_at THEN
                RAISE EXCEPTION 'SELENE:BREAKGLASS_WINDOW_EXPIRED % on %.% is not allowed: break-glass window % of % has expired',
                    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME, w.window_id, w.login
                    USING ERRCODE = 'SE001';
            END IF;
            old_row := to_jsonb(OLD);
            SELECT jsonb_object_agg(a.attname, old_row -> a.attname::text) INTO row_key
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
            WHERE i.indrelid = TG_RELID AND i.indisprimary;
            PERFORM selene.breakglass_append(w.window_id, 'BREAKGLASS_STATEMENT_RECORDED', now_ns, w.login, session_user::text,
                TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, row_key, old_row,
                CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(NEW) END, current_query());
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
    END IF;
    RAISE EXCEPTION 'SELENE:% % on %.% is not allowed: the table is append-only',
        TG_ARGV[0], TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'SE001';
END $$;

-- What the role may do: read, update and delete the protected tables (those the append-only trigger guards), nothing
-- else. No INSERT (new events come through the runtime) and no TRUNCATE (it has no rows to record), so every change
-- a break-glass login can make passes the trigger and is recorded. Tables made append-only later get the same grant.
CREATE OR REPLACE FUNCTION selene.make_append_only(tbl regclass, reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC, selene_app, selene_reader', tbl);
    EXECUTE format('GRANT SELECT, INSERT ON %s TO selene_app', tbl);
    EXECUTE format('GRANT SELECT ON %s TO selene_reader', tbl);
    EXECUTE format('GRANT SELECT, UPDATE, DELETE ON %s TO selene_breakglass', tbl);
    EXECUTE format('CREATE TRIGGER append_only_row BEFORE UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION selene.forbid_mutation(%L)', tbl, reason);
    EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION selene.forbid_mutation(%L)', tbl, reason);
END $$;

GRANT USAGE ON SCHEMA selene TO selene_breakglass;
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT DISTINCT tgrelid::regclass FROM pg_trigger
             WHERE tgname = 'append_only_row' AND tgfoid = 'selene.forbid_mutation'::regproc LOOP
        EXECUTE format('GRANT SELECT, UPDATE, DELETE ON %s TO selene_breakglass', t);
    END LOOP;
END $$;
