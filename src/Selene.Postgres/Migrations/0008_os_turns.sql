-- 0008: PH1.OS turn decisions (issue 4). Every decided turn keeps the exact gate input it was decided on (the
-- top-level slice input with the posture Selene derived, as canonical JSON) next to the move and reason code, so
-- that the decision can be replayed: the same input fed again to the pure gate must give the same move and reason.
-- The journal entry of the decision carries the input's hash; the input itself is too large for a bounded journal
-- payload (up to 128 outcome rows), so it lives here, append-only like every ledger.

CREATE TABLE selene.os_turn_decisions (
    tenant_id          text    NOT NULL,
    decision_id        bigint  GENERATED ALWAYS AS IDENTITY,
    correlation_id     numeric(39, 0) NOT NULL,
    turn_id            bigint  NOT NULL CHECK (turn_id > 0),
    actor_user_id      text    NOT NULL,
    input_json         text    NOT NULL CHECK (jsonb_typeof(input_json::jsonb) = 'object'),
    input_hash         text    NOT NULL CHECK (input_hash ~ '^[0-9a-f]{64}$'),
    next_move          text    NOT NULL CHECK (next_move IN ('RESPOND', 'CLARIFY', 'CONFIRM', 'DISPATCH_TOOL', 'DISPATCH_SIMULATION', 'EXPLAIN', 'WAIT', 'REFUSE')),
    reason_code        text    NOT NULL,
    fail_closed        boolean NOT NULL,
    simulation_id      text,
    idempotency_key    text,
    created_at         bigint  NOT NULL,
    PRIMARY KEY (tenant_id, decision_id)
);
CREATE INDEX os_turn_decisions_by_turn ON selene.os_turn_decisions (tenant_id, correlation_id, turn_id, decision_id);
SELECT selene.enable_tenant_isolation('selene.os_turn_decisions');
SELECT selene.make_append_only('selene.os_turn_decisions', 'F_APPEND_ONLY_VIOLATION');
