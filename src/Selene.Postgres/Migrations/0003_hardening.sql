-- 0003: hardening found in review.

-- The executor scopes idempotency keys per simulation, so one key may serve two different actions on the same
-- capability request; the ledger's backstop must allow that (it forbids only the same action twice per key).
DROP INDEX selene.capreq_ledger_idempotency;
CREATE UNIQUE INDEX capreq_ledger_idempotency ON selene.capreq_ledger (tenant_id, capreq_id, action, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The chain head may only move forward, onto an entry that exists with that hash and is the last one.
-- (The app role writes it in the same transaction as the entries; this keeps it from pointing anywhere else.)
CREATE FUNCTION selene.journal_head_follows_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.last_seq < OLD.last_seq
       OR NOT EXISTS (SELECT 1 FROM selene.journal j
                      WHERE j.tenant_id = NEW.tenant_id AND j.seq = NEW.last_seq AND j.hash = NEW.last_hash)
       OR EXISTS (SELECT 1 FROM selene.journal j WHERE j.tenant_id = NEW.tenant_id AND j.seq = NEW.last_seq + 1) THEN
        IF NEW.last_seq = OLD.last_seq AND NEW.last_hash = OLD.last_hash AND NEW.tenant_id = OLD.tenant_id THEN
            RETURN NEW; -- the no-op update that takes the row lock
        END IF;
        RAISE EXCEPTION 'SELENE:J_APPEND_ONLY_VIOLATION the journal head must point at the last entry of its chain'
            USING ERRCODE = 'SE001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER journal_head_follows_chain BEFORE UPDATE ON selene.journal_heads
    FOR EACH ROW EXECUTE FUNCTION selene.journal_head_follows_chain();

-- A disabled identity's keys stop working. The function runs as the owner, which row-level security also
-- binds, so it scopes itself to the key's tenant for the identity lookup and restores the caller's setting.
CREATE OR REPLACE FUNCTION selene.resolve_api_key(p_key_hash text)
RETURNS TABLE (tenant_id text, user_id text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = selene, pg_temp AS $$
DECLARE
    k_tenant text;
    k_user text;
    previous text := current_setting('selene.tenant_id', true);
    active boolean;
BEGIN
    SELECT k.tenant_id, k.user_id INTO k_tenant, k_user FROM selene.api_keys k
    WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('selene.tenant_id', k_tenant, true);
    SELECT i.status = 'ACTIVE' INTO active FROM selene.identities i WHERE i.tenant_id = k_tenant AND i.user_id = k_user;
    PERFORM set_config('selene.tenant_id', coalesce(previous, ''), true);
    IF coalesce(active, false) THEN
        tenant_id := k_tenant;
        user_id := k_user;
        RETURN NEXT;
    END IF;
END $$;
