-- 0013: tenant overlays (PH1.ACCESS, profiles half) moved onto the standard engine store pair
-- `access_ap_overlay` (same table names), keeping every row and every event id, as 0010 did for CAPREQ.
--
-- One stream per overlay id; its document is the overlay's every version (lifecycle, ops, time of the last event)
-- and its ACTIVE version; its status is ACTIVE while a version is in force, INACTIVE otherwise (the old projection
-- held only ACTIVE overlays, so its rows are recomputed from the ledger). Each ledger row becomes one event
-- (`event`: VERSION_WRITTEN | VERSION_ACTIVATED | VERSION_RETIRED), its action the event_type.

ALTER TABLE selene.access_ap_overlay_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_ap_overlay_current NO FORCE ROW LEVEL SECURITY;

CREATE TEMPORARY TABLE access_ap_overlay_ledger_0007 ON COMMIT DROP AS
SELECT l.tenant_id, l.event_id, l.overlay_id AS stream_id, l.event_action AS event_type, l.actor_user_id, l.reason_code,
       jsonb_build_object('tenant_id', l.tenant_id, 'overlay_id', l.overlay_id, 'overlay_version_id', l.overlay_version_id,
                          'actor_user_id', l.actor_user_id, 'at', l.created_at, 'reason', l.reason)
       || CASE l.event_action
              WHEN 'ACTIVATE' THEN '{}'::jsonb
              -- A version leaves ACTIVE only by retiring, so it was active when retired iff it was activated before.
              WHEN 'RETIRE' THEN jsonb_build_object('superseded_by', l.superseded_by_version_id,
                  'was_active', EXISTS (SELECT 1 FROM selene.access_ap_overlay_ledger a
                                        WHERE a.tenant_id = l.tenant_id AND a.overlay_id = l.overlay_id
                                          AND a.overlay_version_id = l.overlay_version_id AND a.event_action = 'ACTIVATE'
                                          AND a.event_id < l.event_id))
              -- Ops as the engine writes them: every member named, nulls included.
              ELSE jsonb_build_object('is_update', l.event_action = 'UPDATE_DRAFT',
                  'ops', (SELECT jsonb_agg(jsonb_build_object(
                                     'op', o->'op',
                                     'capability_id', coalesce(o->'capability_id', 'null'::jsonb),
                                     'constraint_ref', coalesce(o->'constraint_ref', 'null'::jsonb),
                                     'escalation_policy_ref', coalesce(o->'escalation_policy_ref', 'null'::jsonb)) ORDER BY n)
                          FROM jsonb_array_elements(l.overlay_ops_json::jsonb) WITH ORDINALITY AS t (o, n)))
          END AS payload,
       l.correlation_id, l.idempotency_key, l.created_at, l.overlay_version_id, l.lifecycle_state
FROM selene.access_ap_overlay_ledger l;

-- Each version as its last event left it, with the ops of its last write.
CREATE TEMPORARY TABLE access_ap_overlay_versions_0007 ON COMMIT DROP AS
SELECT DISTINCT ON (v.tenant_id, v.stream_id, v.overlay_version_id)
       v.tenant_id, v.stream_id, v.overlay_version_id, v.lifecycle_state, v.created_at AS last_event_at,
       (SELECT w.payload->'ops' FROM access_ap_overlay_ledger_0007 w
        WHERE w.tenant_id = v.tenant_id AND w.stream_id = v.stream_id AND w.overlay_version_id = v.overlay_version_id
          AND w.event_type IN ('CREATE_DRAFT', 'UPDATE_DRAFT')
        ORDER BY w.event_id DESC LIMIT 1) AS ops
FROM access_ap_overlay_ledger_0007 v
ORDER BY v.tenant_id, v.stream_id, v.overlay_version_id, v.event_id DESC;

CREATE TEMPORARY TABLE access_ap_overlay_current_0007 ON COMMIT DROP AS
SELECT v.tenant_id, v.stream_id,
       CASE WHEN bool_or(v.lifecycle_state = 'ACTIVE') THEN 'ACTIVE' ELSE 'INACTIVE' END AS status,
       jsonb_build_object(
           'overlay_id', v.stream_id,
           'versions', jsonb_object_agg(v.overlay_version_id::text, jsonb_build_object(
               'overlay_version_id', v.overlay_version_id, 'lifecycle', v.lifecycle_state, 'ops', v.ops, 'last_event_at', v.last_event_at)),
           'active_version_id', max(v.overlay_version_id) FILTER (WHERE v.lifecycle_state = 'ACTIVE')) AS doc,
       last.event_id AS source_event_id, last.created_at AS updated_at
FROM access_ap_overlay_versions_0007 v
JOIN (SELECT DISTINCT ON (tenant_id, stream_id) tenant_id, stream_id, event_id, created_at
      FROM access_ap_overlay_ledger_0007 ORDER BY tenant_id, stream_id, event_id DESC) last
  ON last.tenant_id = v.tenant_id AND last.stream_id = v.stream_id
GROUP BY v.tenant_id, v.stream_id, last.event_id, last.created_at;

DROP TABLE selene.access_ap_overlay_current;
DROP TABLE selene.access_ap_overlay_ledger;

SELECT selene.create_engine_store('access_ap_overlay');

SELECT selene.refill_engine_store('access_ap_overlay', 'access_ap_overlay_ledger_0007', 'access_ap_overlay_current_0007');
