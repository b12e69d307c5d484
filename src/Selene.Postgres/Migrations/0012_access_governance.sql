-- 0012: ACCESS governance onto the engine store (issue 9). Every row and every event id is kept, as 0010 did for
-- CAPREQ: the old tables are read without row-level security (the owner lifts FORCE on tables it is about to
-- drop), copied aside, dropped, and written back tenant by tenant into the standard pair.

-- Board policies: one stream per policy (stream id = board_policy_id); the ledger event is the BoardPolicyEvent
-- record, the projection the BoardPolicyState record (every version, the one in force).
ALTER TABLE selene.access_board_policy_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_board_policies NO FORCE ROW LEVEL SECURITY;

CREATE TEMPORARY TABLE access_board_policy_ledger_0006 ON COMMIT DROP AS
SELECT tenant_id, event_id, board_policy_id AS stream_id, event_action AS event_type, actor_user_id, reason_code,
       jsonb_build_object(
           'board_policy_id', board_policy_id, 'policy_version_id', policy_version_id, 'event_action', event_action,
           -- A superseded version takes no further event, so its previous event's state is the state before.
           'version_state_from', lag(lifecycle_state) OVER (PARTITION BY tenant_id, board_policy_id, policy_version_id ORDER BY event_id),
           'lifecycle_state', lifecycle_state, 'policy_payload_json', policy_payload_json, 'reason', reason,
           'actor_user_id', actor_user_id, 'created_at', created_at) AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.access_board_policy_ledger;

-- Each version's last event; an ACTIVE version with a later ACTIVATE of the same policy was superseded (RETIRED).
CREATE TEMPORARY TABLE access_board_policy_versions_0006 ON COMMIT DROP AS
SELECT v.tenant_id, v.board_policy_id, v.policy_version_id,
       CASE WHEN v.lifecycle_state = 'ACTIVE' AND EXISTS (
                SELECT 1 FROM selene.access_board_policy_ledger later
                WHERE later.tenant_id = v.tenant_id AND later.board_policy_id = v.board_policy_id
                  AND later.event_action = 'ACTIVATE' AND later.event_id > v.event_id)
            THEN 'RETIRED' ELSE v.lifecycle_state END AS lifecycle_state,
       v.policy_payload_json, v.event_action, v.created_at
FROM (SELECT DISTINCT ON (tenant_id, board_policy_id, policy_version_id) *
      FROM selene.access_board_policy_ledger ORDER BY tenant_id, board_policy_id, policy_version_id, event_id DESC) v;

CREATE TEMPORARY TABLE access_board_policy_current_0006 ON COMMIT DROP AS
SELECT p.tenant_id, p.board_policy_id AS stream_id, p.status,
       jsonb_build_object(
           'board_policy_id', p.board_policy_id, 'status', p.status, 'active_policy_version_id', p.active_version,
           'versions', p.versions, 'source_event_id', last.event_id, 'updated_at', last.created_at) AS doc,
       last.event_id AS source_event_id, last.created_at AS updated_at
FROM (SELECT tenant_id, board_policy_id,
             CASE WHEN bool_or(lifecycle_state = 'ACTIVE') THEN 'ACTIVE' WHEN bool_or(lifecycle_state = 'DRAFT') THEN 'DRAFT' ELSE 'RETIRED' END AS status,
             max(policy_version_id) FILTER (WHERE lifecycle_state = 'ACTIVE') AS active_version,
             jsonb_agg(jsonb_build_object(
                 'policy_version_id', policy_version_id, 'lifecycle_state', lifecycle_state, 'policy_payload_json', policy_payload_json,
                 'last_event_action', event_action, 'updated_at', created_at) ORDER BY policy_version_id) AS versions
      FROM access_board_policy_versions_0006 GROUP BY tenant_id, board_policy_id) p
JOIN LATERAL (SELECT event_id, created_at FROM selene.access_board_policy_ledger l
              WHERE l.tenant_id = p.tenant_id AND l.board_policy_id = p.board_policy_id ORDER BY event_id DESC LIMIT 1) last ON true;

DROP TABLE selene.access_board_policies;
DROP TABLE selene.access_board_policy_ledger;

SELECT selene.create_engine_store('access_board_policy');

SELECT selene.refill_engine_store('access_board_policy', 'access_board_policy_ledger_0006', 'access_board_policy_current_0006');
