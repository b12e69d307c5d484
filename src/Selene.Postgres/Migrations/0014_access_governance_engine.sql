-- 0014: the rest of ACCESS governance onto the engine store (issue 9): access instances, overrides, escalation cases
-- and board votes.
-- Every row and every event id is kept, as 0010 did for CAPREQ: the old tables are read without row-level security
-- (the owner lifts FORCE on tables it is about to drop), copied aside in the standard shape, dropped, and written
-- back tenant by tenant by selene.refill_engine_store. Payloads and documents are the engines' records
-- (src/Selene.Engines/Access/EscalationDecider.cs), every member named.

ALTER TABLE selene.access_instance_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_instances NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_override_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_overrides NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_escalation_case_ledger NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_escalation_cases NO FORCE ROW LEVEL SECURITY;
ALTER TABLE selene.access_board_votes_ledger NO FORCE ROW LEVEL SECURITY;

-- Access instances: one stream per user id; every write (BOOTSTRAP_ADMIN, UPSERT, COMPILE) is the whole new instance
-- (AccessInstanceWritten), its lineage an object for a compile and null otherwise. A bootstrap row had no actor: its
-- actor is the administrator it created.
CREATE TEMPORARY TABLE access_instance_ledger_0005 ON COMMIT DROP AS
SELECT tenant_id, event_id, user_id AS stream_id, event_action AS event_type, coalesce(actor_user_id, user_id) AS actor_user_id, reason_code,
       jsonb_build_object(
           'access_instance_id', access_instance_id, 'tenant_id', tenant_id, 'user_id', user_id, 'event_action', event_action,
           'role_template_id', role_template_id, 'access_mode', access_mode, 'baseline_permissions_json', baseline_permissions_json,
           'identity_verified', identity_verified, 'verification_level', verification_level, 'device_trust_level', device_trust_level,
           'lifecycle_state', lifecycle_state,
           'lineage', CASE WHEN compiled_global_profile_id IS NULL THEN 'null'::jsonb ELSE jsonb_build_object(
               'global_profile_id', compiled_global_profile_id, 'global_profile_version', compiled_global_profile_version,
               'tenant_profile_id', compiled_tenant_profile_id, 'tenant_profile_version', compiled_tenant_profile_version,
               'overlay_set_ref', compiled_overlay_set_ref, 'position_id', compiled_position_id) END,
           'created_at', created_at) AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.access_instance_ledger;

CREATE TEMPORARY TABLE access_instance_current_0005 ON COMMIT DROP AS
SELECT tenant_id, user_id AS stream_id, lifecycle_state AS status,
       jsonb_build_object(
           'access_instance_id', access_instance_id, 'tenant_id', tenant_id, 'user_id', user_id, 'role_template_id', role_template_id,
           'access_mode', effective_access_mode, 'baseline_permissions_json', baseline_permissions_json, 'identity_verified', identity_verified,
           'verification_level', verification_level, 'device_trust_level', device_trust_level, 'lifecycle_state', lifecycle_state,
           'lineage', CASE WHEN compiled_global_profile_id IS NULL THEN 'null'::jsonb ELSE jsonb_build_object(
               'global_profile_id', compiled_global_profile_id, 'global_profile_version', compiled_global_profile_version,
               'tenant_profile_id', compiled_tenant_profile_id, 'tenant_profile_version', compiled_tenant_profile_version,
               'overlay_set_ref', compiled_overlay_set_ref, 'position_id', compiled_position_id) END,
           'created_at', created_at, 'updated_at', updated_at) AS doc,
       source_event_id, updated_at
FROM selene.access_instances;

-- Overrides: one stream per override id; GRANT (OverrideGranted) and REVOKE (OverrideRevoked). The approver of a
-- row is the acting user of the write (for a REVOKE row, the user who revoked).
CREATE TEMPORARY TABLE access_override_ledger_0006 ON COMMIT DROP AS
SELECT tenant_id, event_id, override_id AS stream_id, event_action AS event_type, approved_by_user_id AS actor_user_id, reason_code,
       CASE event_action
           WHEN 'GRANT' THEN jsonb_build_object(
               'override_id', override_id, 'access_instance_id', access_instance_id, 'target_user_id', target_user_id,
               'override_type', override_type, 'scope', scope, 'grant_mode', grant_mode, 'starts_at', starts_at, 'expires_at', expires_at,
               'escalation_case_id', escalation_case_id, 'approved_by_user_id', approved_by_user_id,
               'approved_via_simulation_id', approved_via_simulation_id, 'approval_ref', approval_ref, 'reason', reason, 'created_at', created_at)
           ELSE jsonb_build_object(
               'override_id', override_id, 'revoked_by_user_id', approved_by_user_id, 'revoked_via_simulation_id', approved_via_simulation_id,
               'approval_ref', approval_ref, 'reason', reason, 'created_at', created_at)
       END AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.access_override_ledger;

CREATE TEMPORARY TABLE access_override_current_0006 ON COMMIT DROP AS
SELECT tenant_id, override_id AS stream_id, status,
       jsonb_build_object(
           'override_id', override_id, 'access_instance_id', access_instance_id, 'target_user_id', target_user_id,
           'override_type', override_type, 'scope', scope, 'grant_mode', grant_mode, 'status', status, 'starts_at', starts_at,
           'expires_at', expires_at, 'escalation_case_id', escalation_case_id, 'approved_by_user_id', approved_by_user_id,
           'approved_via_simulation_id', approved_via_simulation_id, 'approval_ref', approval_ref, 'created_at', created_at,
           'updated_at', updated_at) AS doc,
       source_event_id, updated_at
FROM selene.access_overrides;

-- Escalation cases: one stream per case id; OPEN (EscalationCaseOpened, the request as the projection holds it) and
-- APPROVE | DENY (EscalationCaseResolved).
CREATE TEMPORARY TABLE access_escalation_case_ledger_0006 ON COMMIT DROP AS
SELECT l.tenant_id, l.event_id, l.escalation_case_id AS stream_id, l.event_action AS event_type, l.actor_user_id, l.reason_code,
       CASE l.event_action
           WHEN 'OPEN' THEN jsonb_build_object(
               'escalation_case_id', c.escalation_case_id, 'target_user_id', c.target_user_id, 'access_instance_id', c.access_instance_id,
               'simulation_id', c.simulation_id, 'request_idempotency_key', c.request_idempotency_key, 'request_hash', c.request_hash,
               'requested_action', c.requested_action, 'requested_mode', c.requested_mode, 'effective_mode', c.effective_mode,
               'escalation_trigger', c.escalation_trigger, 'board_policy_id', c.board_policy_id, 'policy_version_id', c.policy_version_id,
               'policy_payload_json', c.policy_payload_json, 'opened_correlation_id', c.opened_correlation_id::text, 'opened_at', c.opened_at)
           ELSE jsonb_build_object(
               'escalation_case_id', l.escalation_case_id, 'status', l.status, 'resolved_via', l.resolved_via, 'override_id', l.override_id,
               'resolved_at', l.created_at)
       END AS payload,
       l.correlation_id, NULL::text AS idempotency_key, l.created_at
FROM selene.access_escalation_case_ledger l
JOIN selene.access_escalation_cases c ON c.tenant_id = l.tenant_id AND c.escalation_case_id = l.escalation_case_id;

CREATE TEMPORARY TABLE access_escalation_case_current_0006 ON COMMIT DROP AS
SELECT c.tenant_id, c.escalation_case_id AS stream_id, c.status,
       jsonb_build_object(
           'escalation_case_id', c.escalation_case_id, 'target_user_id', c.target_user_id, 'access_instance_id', c.access_instance_id,
           'simulation_id', c.simulation_id, 'request_idempotency_key', c.request_idempotency_key, 'request_hash', c.request_hash,
           'requested_action', c.requested_action, 'requested_mode', c.requested_mode, 'effective_mode', c.effective_mode,
           'escalation_trigger', c.escalation_trigger, 'board_policy_id', c.board_policy_id, 'policy_version_id', c.policy_version_id,
           'policy_payload_json', c.policy_payload_json, 'status', c.status, 'resolved_via', c.resolved_via, 'override_id', c.override_id,
           'opened_correlation_id', c.opened_correlation_id::text, 'opened_at', c.opened_at, 'resolved_at', c.resolved_at) AS doc,
       c.source_event_id, l.created_at AS updated_at
FROM selene.access_escalation_cases c
JOIN selene.access_escalation_case_ledger l ON l.tenant_id = c.tenant_id AND l.event_id = c.source_event_id;

-- Board votes: one stream per case id (every vote on it, in row order); the vote row id is the event id. The old
-- ledger kept no reason code: every vote was recorded as ACCESS_BOARD_VOTE_OK.
CREATE TEMPORARY TABLE access_board_votes_ledger_0006 ON COMMIT DROP AS
SELECT tenant_id, vote_row_id AS event_id, escalation_case_id AS stream_id, 'VOTE'::text AS event_type, voter_user_id AS actor_user_id,
       'ACCESS_BOARD_VOTE_OK'::text AS reason_code,
       jsonb_build_object(
           'escalation_case_id', escalation_case_id, 'board_policy_id', board_policy_id, 'policy_version_id', policy_version_id,
           'voter_user_id', voter_user_id, 'vote_value', vote_value, 'reason', reason, 'threshold_status', threshold_status,
           'created_at', created_at) AS payload,
       correlation_id, idempotency_key, created_at
FROM selene.access_board_votes_ledger;

CREATE TEMPORARY TABLE access_board_votes_current_0006 ON COMMIT DROP AS
SELECT v.tenant_id, v.escalation_case_id AS stream_id, last.threshold_status AS status,
       jsonb_build_object(
           'escalation_case_id', v.escalation_case_id, 'threshold_status', last.threshold_status,
           'votes', jsonb_agg(jsonb_build_object(
               'vote_row_id', v.vote_row_id, 'board_policy_id', v.board_policy_id, 'policy_version_id', v.policy_version_id,
               'voter_user_id', v.voter_user_id, 'vote_value', v.vote_value, 'reason', v.reason, 'threshold_status_after', v.threshold_status,
               'created_at', v.created_at) ORDER BY v.vote_row_id)) AS doc,
       last.vote_row_id AS source_event_id, last.created_at AS updated_at
FROM selene.access_board_votes_ledger v
JOIN (SELECT DISTINCT ON (tenant_id, escalation_case_id) tenant_id, escalation_case_id, vote_row_id, threshold_status, created_at
      FROM selene.access_board_votes_ledger ORDER BY tenant_id, escalation_case_id, vote_row_id DESC) last
  ON last.tenant_id = v.tenant_id AND last.escalation_case_id = v.escalation_case_id
GROUP BY v.tenant_id, v.escalation_case_id, last.threshold_status, last.vote_row_id, last.created_at;

DROP TABLE selene.access_board_votes_ledger;
DROP TABLE selene.access_escalation_cases;
DROP TABLE selene.access_escalation_case_ledger;
DROP TABLE selene.access_overrides;
DROP TABLE selene.access_override_ledger;
DROP TABLE selene.access_instances;
DROP TABLE selene.access_instance_ledger;

SELECT selene.create_engine_store('access_instance');
SELECT selene.create_engine_store('access_override');
SELECT selene.create_engine_store('access_escalation_case');
SELECT selene.create_engine_store('access_board_votes');

-- The gate reads a user's overrides in force on every turn (AccessGovernanceQueries.GateFactsAsync).
CREATE INDEX access_override_current_by_user ON selene.access_override_current (tenant_id, (doc->>'target_user_id')) WHERE status = 'ACTIVE';
-- At most one ONE_SHOT override answers an escalation case (the decider refuses a second one under the case's lock;
-- this is the backstop).
CREATE UNIQUE INDEX access_override_current_one_per_case ON selene.access_override_current (tenant_id, (doc->>'escalation_case_id'))
    WHERE doc->>'override_type' = 'ONE_SHOT';

SELECT selene.refill_engine_store('access_instance', 'access_instance_ledger_0005', 'access_instance_current_0005');
SELECT selene.refill_engine_store('access_override', 'access_override_ledger_0006', 'access_override_current_0006');
SELECT selene.refill_engine_store('access_escalation_case', 'access_escalation_case_ledger_0006', 'access_escalation_case_current_0006');
SELECT selene.refill_engine_store('access_board_votes', 'access_board_votes_ledger_0006', 'access_board_votes_current_0006');
