-- 0015: GLOBAL rows on the engine platform, and ACCESS profiles (AP schema versions, authoring reviews, rule
-- actions) moved onto it.
--
-- A store pair created with `selene.create_engine_store(name, true)` may hold GLOBAL rows next to tenant rows:
-- platform truth shared by every tenant, kept under the reserved tenant key `selene.global_tenant_key()`
-- ('@global': no tenant id can take it, a tenant id starts with a letter or a digit). Its tenant_isolation policy
-- lets every tenant read the GLOBAL rows and only a platform-operator tenant write them; tenant rows stay the
-- session tenant's alone. The ledger records the actor's own tenant (actor_tenant_id, the session tenant by
-- default): the actor of a GLOBAL row is an identity of the operator tenant, so the foreign key to identities is
-- (actor_tenant_id, actor_user_id), and a tenant row's actor must be of that tenant.

CREATE FUNCTION selene.global_tenant_key() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '@global' $$;

CREATE FUNCTION selene.create_engine_store(name text, global_rows boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ledger  text := format('selene.%I', name || '_ledger');
    current text := format('selene.%I', name || '_current');
    fk text;
    t text;
BEGIN
    PERFORM selene.create_engine_store(name);
    IF NOT global_rows THEN RETURN; END IF;

    SELECT conname INTO fk FROM pg_constraint
    WHERE conrelid = ledger::regclass AND contype = 'f' AND confrelid = 'selene.identities'::regclass;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', ledger, fk);
    EXECUTE format($t$ALTER TABLE %s
        ADD COLUMN actor_tenant_id text NOT NULL DEFAULT current_setting('selene.tenant_id'),
        ADD FOREIGN KEY (actor_tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id),
        ADD CHECK (tenant_id = selene.global_tenant_key() OR actor_tenant_id = tenant_id)$t$, ledger);
    -- The backstop per actor tenant: two operator tenants may each use their key on one GLOBAL stream.
    EXECUTE format('DROP INDEX selene.%I', name || '_ledger_idempotency');
    EXECUTE format('CREATE UNIQUE INDEX %I ON %s (tenant_id, stream_id, event_type, actor_tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL',
                   name || '_ledger_idempotency', ledger);

    FOREACH t IN ARRAY ARRAY[ledger, current] LOOP
        EXECUTE format('DROP POLICY tenant_isolation ON %s', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
            USING (tenant_id = current_setting('selene.tenant_id', true)
                   OR (tenant_id = selene.global_tenant_key() AND coalesce(current_setting('selene.tenant_id', true), '') <> ''))
            WITH CHECK (tenant_id = current_setting('selene.tenant_id', true)
                   OR (tenant_id = selene.global_tenant_key() AND selene.session_tenant_is_platform_operator()))$p$, t);
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION selene.create_engine_store(text, boolean) FROM PUBLIC;

-- The write-back of 0010, extended: a pair with GLOBAL rows keeps each row's actor_tenant_id too.
CREATE OR REPLACE FUNCTION selene.refill_engine_store(name text, ledger_rows regclass, current_rows regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ledger  text := format('selene.%I', name || '_ledger');
    current text := format('selene.%I', name || '_current');
    actor_tenant text := CASE WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ledger::regclass AND attname = 'actor_tenant_id' AND NOT attisdropped)
                              THEN ', actor_tenant_id' ELSE '' END;
    t text;
    previous text := current_setting('selene.tenant_id', true);
    last_id bigint;
BEGIN
    FOR t IN EXECUTE format('SELECT DISTINCT tenant_id FROM %s ORDER BY 1', ledger_rows) LOOP
        PERFORM set_config('selene.tenant_id', t, true);
        EXECUTE format($i$INSERT INTO %s (tenant_id, event_id, stream_id, event_type, actor_user_id, reason_code, payload,
                                            correlation_id, idempotency_key, created_at%s)
            OVERRIDING SYSTEM VALUE
            SELECT tenant_id, event_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, idempotency_key, created_at%s
            FROM %s WHERE tenant_id = $1 ORDER BY event_id$i$, ledger, actor_tenant, actor_tenant, ledger_rows) USING t;
        EXECUTE format($i$INSERT INTO %s (tenant_id, stream_id, status, doc, source_event_id, updated_at)
            SELECT tenant_id, stream_id, status, doc, source_event_id, updated_at FROM %s WHERE tenant_id = $1$i$, current, current_rows) USING t;
    END LOOP;
    PERFORM set_config('selene.tenant_id', coalesce(previous, ''), true);
    -- New events continue after the last kept id.
    EXECUTE format('SELECT max(event_id) FROM %s', ledger_rows) INTO last_id;
    PERFORM setval(pg_get_serial_sequence(ledger, 'event_id'), coalesce(last_id, 1), last_id IS NOT NULL);
END $$;
REVOKE ALL ON FUNCTION selene.refill_engine_store(text, regclass, regclass) FROM PUBLIC;

-- AP schema versions (PH1.ACCESS, profiles half): store pair `access_ap_schema` (same table names), keeping every
-- row and event id. One stream per profile and scope (stream id `<scope>:<access_profile_id>`, GLOBAL streams under
-- the reserved tenant key); its document is the profile's every version (lifecycle, payload, time of its last
-- event) and its current version; its status is ACTIVE while a version is current, INACTIVE otherwise (the old
-- projection held only current versions, so its rows are recomputed from the ledger). Each ledger row becomes one
-- event, its action the event_type.

ALTER TABLE selene.access_ap_schema_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_ap_schema_current NO FORCE ROW LEVEL SECURITY;

CREATE TEMPORARY TABLE access_ap_schema_ledger_0007 ON COMMIT DROP AS
SELECT coalesce(l.tenant_id, selene.global_tenant_key()) AS tenant_id, l.event_id, l.scope || ':' || l.access_profile_id AS stream_id,
       l.event_action AS event_type, l.actor_user_id, l.reason_code,
       jsonb_build_object('scope', l.scope, 'scope_key', l.scope_key, 'access_profile_id', l.access_profile_id,
                          'schema_version_id', l.schema_version_id, 'actor_user_id', l.actor_user_id, 'at', l.created_at, 'reason', l.reason)
       || CASE l.event_action
              WHEN 'ACTIVATE' THEN jsonb_build_object('lineage', CASE WHEN l.activation_review_event_id IS NULL THEN 'null'::jsonb
                  ELSE jsonb_build_object('review_event_id', l.activation_review_event_id, 'rule_action_count', l.activation_rule_action_count,
                                          'rule_action_set_ref', l.activation_rule_action_set_ref) END)
              -- A version leaves ACTIVE only by retiring, so it was current when retired iff it was activated before.
              WHEN 'RETIRE' THEN jsonb_build_object('superseded_by', l.superseded_by_version_id,
                  'was_current', EXISTS (SELECT 1 FROM selene.access_ap_schema_ledger a
                                         WHERE a.scope_key = l.scope_key AND a.access_profile_id = l.access_profile_id
                                           AND a.schema_version_id = l.schema_version_id AND a.event_action = 'ACTIVATE' AND a.event_id < l.event_id))
              -- The payload as the engine writes it: every member named, nulls included.
              ELSE jsonb_build_object('is_update', l.event_action = 'UPDATE_DRAFT',
                  'payload', l.profile_payload_json::jsonb
                             || jsonb_build_object('derived_from_global_profile_id',
                                                   coalesce(l.profile_payload_json::jsonb -> 'derived_from_global_profile_id', 'null'::jsonb)))
          END AS payload,
       l.correlation_id, l.idempotency_key, l.created_at, l.actor_tenant_id, l.schema_version_id, l.lifecycle_state,
       l.scope, l.scope_key, l.access_profile_id
FROM selene.access_ap_schema_ledger l;

-- Each version as its last event left it, with the payload of its last write.
CREATE TEMPORARY TABLE access_ap_schema_versions_0007 ON COMMIT DROP AS
SELECT DISTINCT ON (v.tenant_id, v.stream_id, v.schema_version_id)
       v.tenant_id, v.stream_id, v.schema_version_id, v.lifecycle_state, v.created_at AS last_event_at,
       (SELECT w.payload->'payload' FROM access_ap_schema_ledger_0007 w
        WHERE w.tenant_id = v.tenant_id AND w.stream_id = v.stream_id AND w.schema_version_id = v.schema_version_id
          AND w.event_type IN ('CREATE_DRAFT', 'UPDATE_DRAFT')
        ORDER BY w.event_id DESC LIMIT 1) AS payload
FROM access_ap_schema_ledger_0007 v
ORDER BY v.tenant_id, v.stream_id, v.schema_version_id, v.event_id DESC;

CREATE TEMPORARY TABLE access_ap_schema_current_0007 ON COMMIT DROP AS
SELECT v.tenant_id, v.stream_id,
       CASE WHEN bool_or(v.lifecycle_state = 'ACTIVE') THEN 'ACTIVE' ELSE 'INACTIVE' END AS status,
       jsonb_build_object(
           'scope', last.scope, 'scope_key', last.scope_key, 'access_profile_id', last.access_profile_id,
           'profile', jsonb_build_object(
               'versions', jsonb_object_agg(v.schema_version_id::text, jsonb_build_object(
                   'schema_version_id', v.schema_version_id, 'lifecycle', v.lifecycle_state, 'payload', v.payload, 'last_event_at', v.last_event_at)),
               'current_version_id', max(v.schema_version_id) FILTER (WHERE v.lifecycle_state = 'ACTIVE'))) AS doc,
       last.event_id AS source_event_id, last.created_at AS updated_at
FROM access_ap_schema_versions_0007 v
JOIN (SELECT DISTINCT ON (tenant_id, stream_id) tenant_id, stream_id, event_id, created_at, scope, scope_key, access_profile_id
      FROM access_ap_schema_ledger_0007 ORDER BY tenant_id, stream_id, event_id DESC) last
  ON last.tenant_id = v.tenant_id AND last.stream_id = v.stream_id
GROUP BY v.tenant_id, v.stream_id, last.event_id, last.created_at, last.scope, last.scope_key, last.access_profile_id;

DROP TABLE selene.access_ap_schema_current;
DROP TABLE selene.access_ap_schema_ledger;

SELECT selene.create_engine_store('access_ap_schema', true);

SELECT selene.refill_engine_store('access_ap_schema', 'access_ap_schema_ledger_0007', 'access_ap_schema_current_0007');

-- Authoring reviews and rule actions: two pairs, `access_ap_authoring_review` and `access_ap_rule_review_actions`
-- (same table names; the rule actions gain a projection), each with GLOBAL rows, keeping every row and event id of
-- their own ledger (activation lineage names review event ids and hashes rule-action ids). One stream per version,
-- stream id `<scope>:<access_profile_id>:<schema_version_id>`. A review's document is its channel (the last one
-- chosen), its confirmation state and the review event that produced it, its status the confirmation state; the
-- rule actions' document is the ids of the version's rule actions, its status RECORDED. Projections are recomputed
-- from the ledgers (the old review row took the time of the last rule action too).

ALTER TABLE selene.access_ap_authoring_review_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_ap_rule_review_actions_ledger NO FORCE ROW LEVEL SECURITY;

CREATE TEMPORARY TABLE access_ap_review_ledger_0007 ON COMMIT DROP AS
SELECT coalesce(l.tenant_id, selene.global_tenant_key()) AS tenant_id, l.review_event_id AS event_id,
       l.scope || ':' || l.access_profile_id || ':' || l.schema_version_id AS stream_id, l.event_kind AS event_type, l.actor_user_id, l.reason_code,
       jsonb_build_object('scope', l.scope, 'scope_key', l.scope_key, 'access_profile_id', l.access_profile_id,
                          'schema_version_id', l.schema_version_id, 'actor_user_id', l.actor_user_id, 'at', l.created_at, 'reason', l.reason)
       || CASE l.event_kind WHEN 'REVIEW_CHANNEL_COMMIT' THEN jsonb_build_object('channel', l.review_channel)
                            ELSE jsonb_build_object('state', l.confirmation_state) END AS payload,
       l.correlation_id, l.idempotency_key, l.created_at, l.actor_tenant_id,
       l.scope, l.scope_key, l.access_profile_id, l.schema_version_id, l.review_channel, l.confirmation_state
FROM selene.access_ap_authoring_review_ledger l;

CREATE TEMPORARY TABLE access_ap_review_current_0007 ON COMMIT DROP AS
SELECT DISTINCT ON (r.tenant_id, r.stream_id) r.tenant_id, r.stream_id, r.confirmation_state AS status,
       jsonb_build_object('scope', r.scope, 'scope_key', r.scope_key, 'access_profile_id', r.access_profile_id,
           'schema_version_id', r.schema_version_id,
           -- The last channel chosen; JSON null for a review declined before any.
           'channel', (SELECT to_jsonb(c.review_channel) FROM access_ap_review_ledger_0007 c
                       WHERE c.tenant_id = r.tenant_id AND c.stream_id = r.stream_id AND c.event_type = 'REVIEW_CHANNEL_COMMIT'
                       ORDER BY c.event_id DESC LIMIT 1),
           'state', r.confirmation_state, 'latest_review_event_id', r.event_id) AS doc,
       r.event_id AS source_event_id, r.created_at AS updated_at
FROM access_ap_review_ledger_0007 r
ORDER BY r.tenant_id, r.stream_id, r.event_id DESC;

CREATE TEMPORARY TABLE access_ap_rule_actions_ledger_0007 ON COMMIT DROP AS
SELECT coalesce(l.tenant_id, selene.global_tenant_key()) AS tenant_id, l.review_action_row_id AS event_id,
       l.scope || ':' || l.access_profile_id || ':' || l.schema_version_id AS stream_id, l.rule_action AS event_type, l.actor_user_id, l.reason_code,
       jsonb_build_object('scope', l.scope, 'scope_key', l.scope_key, 'access_profile_id', l.access_profile_id,
                          'schema_version_id', l.schema_version_id, 'actor_user_id', l.actor_user_id, 'at', l.created_at, 'reason', l.reason,
                          'action', l.rule_action, 'suggested_rule_ref', l.suggested_rule_ref, 'capability_id', l.capability_id,
                          'constraint_ref', l.constraint_ref, 'escalation_policy_ref', l.escalation_policy_ref) AS payload,
       l.correlation_id, l.idempotency_key, l.created_at, l.actor_tenant_id,
       l.scope, l.scope_key, l.access_profile_id, l.schema_version_id
FROM selene.access_ap_rule_review_actions_ledger l;

CREATE TEMPORARY TABLE access_ap_rule_actions_current_0007 ON COMMIT DROP AS
SELECT a.tenant_id, a.stream_id, 'RECORDED' AS status,
       jsonb_build_object('scope', min(a.scope), 'scope_key', min(a.scope_key), 'access_profile_id', min(a.access_profile_id),
           'schema_version_id', min(a.schema_version_id), 'rule_action_ids', jsonb_agg(a.event_id ORDER BY a.event_id)) AS doc,
       max(a.event_id) AS source_event_id,
       (SELECT l.created_at FROM access_ap_rule_actions_ledger_0007 l WHERE l.tenant_id = a.tenant_id AND l.event_id = max(a.event_id)) AS updated_at
FROM access_ap_rule_actions_ledger_0007 a
GROUP BY a.tenant_id, a.stream_id;

DROP TABLE selene.access_ap_authoring_review_current;
DROP TABLE selene.access_ap_authoring_review_ledger;
DROP TABLE selene.access_ap_rule_review_actions_ledger;

SELECT selene.create_engine_store('access_ap_authoring_review', true);
SELECT selene.create_engine_store('access_ap_rule_review_actions', true);

SELECT selene.refill_engine_store('access_ap_authoring_review', 'access_ap_review_ledger_0007', 'access_ap_review_current_0007');
SELECT selene.refill_engine_store('access_ap_rule_review_actions', 'access_ap_rule_actions_ledger_0007', 'access_ap_rule_actions_current_0007');

-- As 0007's scope checks did: a GLOBAL stream lives under the reserved key and only there.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['access_ap_schema', 'access_ap_authoring_review', 'access_ap_rule_review_actions'] LOOP
        EXECUTE format($c$ALTER TABLE selene.%I ADD CONSTRAINT %I CHECK ((tenant_id = selene.global_tenant_key()) = (stream_id LIKE 'GLOBAL:%%'))$c$,
                       t || '_ledger', t || '_ledger_global_scope');
        EXECUTE format($c$ALTER TABLE selene.%I ADD CONSTRAINT %I CHECK ((tenant_id = selene.global_tenant_key()) = (stream_id LIKE 'GLOBAL:%%'))$c$,
                       t || '_current', t || '_current_global_scope');
    END LOOP;
END $$;

-- The tables that held GLOBAL rows as tenant_id NULL are gone; so is their policy helper.
DROP FUNCTION selene.enable_tenant_or_global_isolation(regclass);
