-- 0011: PH1.POSITION moved onto the standard engine store (0010): three pairs, every row and event id kept.
--
--   tenant_company                 companies; stream = company id; event UPSERT
--   position                       positions; stream = position id; events CREATE_DRAFT, ACTIVATE, SUSPEND, RETIRE
--   position_requirements_schema   each position's requirement schemas; stream = position id;
--                                  events CREATE_DRAFT, UPDATE_COMMIT, ACTIVATE_COMMIT
--
-- Payloads and documents are the engine's records as the runtime writes them (snake_case, every member, nulls
-- too), so a rebuild of the converted data is identical to the converted projection. The old tables are read
-- without row-level security (the owner lifts FORCE on tables it is about to drop), copied aside, dropped, and
-- written back tenant by tenant into the new pairs (whose FORCE row-level security checks each row).

ALTER TABLE selene.tenant_company_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.tenant_companies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.position_lifecycle_events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.positions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.position_requirements_schema_ledger NO FORCE ROW LEVEL SECURITY;

-- Companies: the ledger had no reason code (every row is an upsert's success).
CREATE TEMPORARY TABLE company_ledger_0004 ON COMMIT DROP AS
SELECT tenant_id, event_id, company_id AS stream_id, 'UPSERT'::text AS event_type, actor_user_id,
       'TENANT_COMPANY_OK_UPSERT'::text AS reason_code,
       jsonb_build_object(
           'tenant_id', tenant_id, 'company_id', company_id, 'legal_name', legal_name, 'jurisdiction', jurisdiction,
           'lifecycle', lifecycle_state, 'actor_user_id', actor_user_id, 'at', created_at) AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.tenant_company_ledger;

CREATE TEMPORARY TABLE company_current_0004 ON COMMIT DROP AS
SELECT tenant_id, company_id AS stream_id, lifecycle_state AS status,
       jsonb_build_object(
           'tenant_id', tenant_id, 'company_id', company_id, 'legal_name', legal_name, 'jurisdiction', jurisdiction,
           'lifecycle', lifecycle_state, 'created_at', created_at, 'updated_at', updated_at) AS doc,
       source_event_id, updated_at
FROM selene.tenant_companies;

-- Positions: a creation carries the position's content (kept unchanged in its row), a move its from and to.
CREATE TEMPORARY TABLE position_ledger_0004 ON COMMIT DROP AS
SELECT e.tenant_id, e.event_id, e.position_id AS stream_id, e.action AS event_type, e.actor_user_id, e.reason_code,
       CASE WHEN e.action = 'CREATE_DRAFT' THEN jsonb_build_object(
                'tenant_id', e.tenant_id, 'position_id', e.position_id, 'actor_user_id', e.actor_user_id, 'at', e.created_at,
                'company_id', p.company_id, 'title', p.position_title, 'department', p.department, 'jurisdiction', p.jurisdiction,
                'schedule_type', p.schedule_type, 'permission_profile_ref', p.permission_profile_ref,
                'compensation_band_ref', p.compensation_band_ref)
            ELSE jsonb_build_object(
                'tenant_id', e.tenant_id, 'position_id', e.position_id, 'actor_user_id', e.actor_user_id, 'at', e.created_at,
                'from', e.from_state, 'to', e.to_state)
       END AS payload,
       e.correlation_id, e.idempotency_key, e.created_at
FROM selene.position_lifecycle_events e
LEFT JOIN selene.positions p ON p.tenant_id = e.tenant_id AND p.position_id = e.position_id;

CREATE TEMPORARY TABLE position_current_0004 ON COMMIT DROP AS
SELECT tenant_id, position_id AS stream_id, lifecycle_state AS status,
       jsonb_build_object(
           'tenant_id', tenant_id, 'position_id', position_id, 'company_id', company_id, 'title', position_title,
           'department', department, 'jurisdiction', jurisdiction, 'schedule_type', schedule_type,
           'permission_profile_ref', permission_profile_ref, 'compensation_band_ref', compensation_band_ref,
           'lifecycle', lifecycle_state, 'created_at', created_at, 'updated_at', updated_at) AS doc,
       source_event_id, updated_at
FROM selene.positions;

-- Requirement schemas: the ledger kept selectors and field specs as canonical JSON without null members; the
-- records name every member, so the nulls are written back in.
CREATE TEMPORARY TABLE schema_ledger_0004 ON COMMIT DROP AS
SELECT tenant_id, schema_event_id AS event_id, position_id AS stream_id, schema_version_id, action AS event_type, actor_user_id,
       CASE action
           WHEN 'CREATE_DRAFT' THEN 'POSITION_OK_REQUIREMENTS_SCHEMA_CREATE_DRAFT'
           WHEN 'UPDATE_COMMIT' THEN 'POSITION_OK_REQUIREMENTS_SCHEMA_UPDATE_COMMIT'
           ELSE 'POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT'
       END AS reason_code,
       CASE WHEN action = 'ACTIVATE_COMMIT' THEN jsonb_build_object(
                'tenant_id', tenant_id, 'position_id', position_id, 'actor_user_id', actor_user_id, 'at', created_at,
                'schema_version_id', schema_version_id, 'apply_scope', apply_scope)
            ELSE jsonb_build_object(
                'tenant_id', tenant_id, 'position_id', position_id, 'actor_user_id', actor_user_id, 'at', created_at,
                'schema_version_id', schema_version_id,
                'selectors', '{"company_size":null,"industry_code":null,"jurisdiction":null,"position_family":null}'::jsonb
                             || selector_snapshot_json::jsonb,
                'field_specs', (SELECT coalesce(jsonb_agg('{"required_predicate_ref":null,"validation_ref":null}'::jsonb || f.spec ORDER BY f.ord), '[]'::jsonb)
                                FROM jsonb_array_elements(field_specs_json::jsonb) WITH ORDINALITY AS f(spec, ord)),
                'change_reason', change_reason)
       END AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.position_requirements_schema_ledger;

-- One row per position with schema events, folded as PositionDecider.EvolveSchemas does: each version's content
-- is its last draft or update, it is activated once any activation names it, and its last event time is that of
-- its last event; the active version is the one the position's last activation names.
CREATE TEMPORARY TABLE schema_current_0004 ON COMMIT DROP AS
WITH versions AS (
    SELECT tenant_id, stream_id, schema_version_id,
           (array_agg(payload ORDER BY event_id DESC) FILTER (WHERE event_type <> 'ACTIVATE_COMMIT'))[1] AS written,
           bool_or(event_type = 'ACTIVATE_COMMIT') AS activated,
           (array_agg(created_at ORDER BY event_id DESC))[1] AS last_event_at
    FROM schema_ledger_0004 GROUP BY tenant_id, stream_id, schema_version_id
), streams AS (
    SELECT tenant_id, stream_id, max(event_id) AS source_event_id,
           (array_agg(created_at ORDER BY event_id DESC))[1] AS updated_at,
           (array_agg(payload ORDER BY event_id DESC) FILTER (WHERE event_type = 'ACTIVATE_COMMIT'))[1] AS activation
    FROM schema_ledger_0004 GROUP BY tenant_id, stream_id
)
SELECT s.tenant_id, s.stream_id, CASE WHEN s.activation IS NULL THEN 'DRAFT' ELSE 'ACTIVE' END AS status,
       jsonb_build_object(
           'versions', (SELECT jsonb_object_agg(v.schema_version_id, jsonb_build_object(
                               'schema_version_id', v.schema_version_id, 'selectors', v.written -> 'selectors',
                               'field_specs', v.written -> 'field_specs', 'activated', v.activated, 'last_event_at', v.last_event_at))
                        FROM versions v WHERE v.tenant_id = s.tenant_id AND v.stream_id = s.stream_id),
           'active_version_id', s.activation -> 'schema_version_id',
           'active_apply_scope', s.activation -> 'apply_scope') AS doc,
       s.source_event_id, s.updated_at
FROM streams s;

DROP TABLE selene.position_requirements_schema_current;
DROP TABLE selene.position_requirements_schema_ledger;
DROP TABLE selene.positions;
DROP TABLE selene.position_lifecycle_events;
DROP TABLE selene.tenant_companies;
DROP TABLE selene.tenant_company_ledger;

SELECT selene.create_engine_store('tenant_company');
SELECT selene.create_engine_store('position');
SELECT selene.create_engine_store('position_requirements_schema');

SELECT selene.refill_engine_store('tenant_company', 'company_ledger_0004', 'company_current_0004');
SELECT selene.refill_engine_store('position', 'position_ledger_0004', 'position_current_0004');
SELECT selene.refill_engine_store('position_requirements_schema', 'schema_ledger_0004', 'schema_current_0004');
