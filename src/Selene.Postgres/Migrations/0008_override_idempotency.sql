-- 0008: an approver's Idempotency-Key is scoped per simulation (as everywhere in the executor), so the override
-- ledger's backstop must be too: the same key used for a TEMP grant and a PERM grant of one user are two requests.
DROP INDEX selene.access_override_ledger_idempotency;
CREATE UNIQUE INDEX access_override_ledger_idempotency
    ON selene.access_override_ledger (tenant_id, access_instance_id, approved_via_simulation_id, event_action, idempotency_key);
