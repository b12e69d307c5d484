-- 0017: the outbox worker (issue 10, item 1).
--
-- A handoff runs as the user of the turn that enqueued it: the row names that actor and the turn, and neither ever
-- changes. Rows written before this migration name no actor; the worker dead-letters them
-- (OUTBOX_HANDOFF_ACTOR_MISSING) rather than run them as anyone.

ALTER TABLE selene.outbox
    ADD COLUMN actor_user_id   text,
    ADD COLUMN origin_turn_id  bigint CHECK (origin_turn_id > 0),
    ADD COLUMN completed_at    bigint,
    ADD CONSTRAINT outbox_actor_identity FOREIGN KEY (tenant_id, actor_user_id) REFERENCES selene.identities (tenant_id, user_id);

-- Payload and identity of an outbox row are immutable (the actor and the originating turn included); only status,
-- attempts, the last error, the lease and the completion time change.
CREATE OR REPLACE FUNCTION selene.outbox_immutable_payload() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.payload <> OLD.payload OR NEW.idempotency_key <> OLD.idempotency_key OR NEW.operation_type <> OLD.operation_type
       OR NEW.event_type <> OLD.event_type OR NEW.tenant_id <> OLD.tenant_id OR NEW.correlation_id <> OLD.correlation_id
       OR NEW.created_at <> OLD.created_at OR NEW.actor_user_id IS DISTINCT FROM OLD.actor_user_id
       OR NEW.origin_turn_id IS DISTINCT FROM OLD.origin_turn_id THEN
        RAISE EXCEPTION 'SELENE:F_APPEND_ONLY_VIOLATION an outbox payload is immutable' USING ERRCODE = 'SE001';
    END IF;
    RETURN NEW;
END $$;

-- Claimable rows: due (PENDING or FAILED) or in flight (SENT) under an expired lease, by event type.
DROP INDEX selene.outbox_due;
CREATE INDEX outbox_due ON selene.outbox (event_type, next_attempt_at) WHERE status IN ('PENDING', 'FAILED');
CREATE INDEX outbox_in_flight ON selene.outbox (event_type, lease_expires_at) WHERE status = 'SENT';
CREATE INDEX outbox_by_status ON selene.outbox (tenant_id, status, outbox_id);

-- Claiming reads every tenant's rows. The claim function runs as the owner, which FORCE row-level security binds
-- like any role; this policy lets the owner see every row only while the function has switched
-- selene.outbox_claim on in its own transaction. The runtime's role gains nothing: the policy is the owner's, who
-- could lift row-level security on its own table anyway.
CREATE POLICY outbox_worker_claim ON selene.outbox TO selene_owner
    USING (current_setting('selene.outbox_claim', true) = 'on')
    WITH CHECK (current_setting('selene.outbox_claim', true) = 'on');

-- Claims up to p_limit claimable rows of the given event types, oldest due first, across tenants, with
-- FOR UPDATE SKIP LOCKED (two workers never claim one row): status SENT, lease owner, token and expiry. A row whose
-- lease expired while SENT (its worker died) is claimable again. Returns (tenant, id) of each claimed row.
CREATE FUNCTION selene.claim_outbox(p_event_types text[], p_owner text, p_token uuid, p_now bigint, p_lease_expires_at bigint, p_limit integer)
RETURNS TABLE (tenant_id text, outbox_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = selene, pg_temp AS $$
BEGIN
    IF p_limit < 1 OR p_limit > 1000 OR p_lease_expires_at <= p_now OR length(p_owner) NOT BETWEEN 1 AND 128 THEN
        RAISE EXCEPTION 'claim_outbox: limit 1..1000, a lease in the future and an owner of 1..128 characters';
    END IF;
    PERFORM set_config('selene.outbox_claim', 'on', true);
    RETURN QUERY
    WITH claimable AS (
        SELECT o.tenant_id, o.outbox_id FROM selene.outbox o
        WHERE o.event_type = ANY (p_event_types)
          AND ((o.status IN ('PENDING', 'FAILED') AND o.next_attempt_at <= p_now)
               OR (o.status = 'SENT' AND o.lease_expires_at <= p_now))
        ORDER BY o.next_attempt_at, o.outbox_id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE selene.outbox o
    SET status = 'SENT', lease_owner = p_owner, lease_token = p_token, lease_expires_at = p_lease_expires_at
    FROM claimable c
    WHERE o.tenant_id = c.tenant_id AND o.outbox_id = c.outbox_id
    RETURNING o.tenant_id, o.outbox_id;
    PERFORM set_config('selene.outbox_claim', '', true);
END $$;
REVOKE ALL ON FUNCTION selene.claim_outbox(text[], text, uuid, bigint, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION selene.claim_outbox(text[], text, uuid, bigint, bigint, integer) TO selene_app;
