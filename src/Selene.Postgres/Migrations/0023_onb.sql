-- 0023: PH1.ONB (reference §4, issue 11): onboarding sessions (stream = session id, one per activated invite token)
-- and business onboardings (stream = company id).
SELECT selene.create_engine_store('onb_session');
SELECT selene.create_engine_store('onb_business');

-- The invitee's first API key, minted in the transaction that completes their onboarding (its plaintext is returned
-- once to the invite page and never stored: only its SHA-256, as for every key). The runtime role cannot touch
-- api_keys; this function lets it add one key, in its own tenant, for an identity that has none yet (a new user),
-- and nothing else. Later keys are the operator's (`selene keys create`).
CREATE FUNCTION selene.issue_first_api_key(p_key_hash text, p_key_prefix text, p_user_id text, p_now bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = selene, pg_temp AS $$
DECLARE
    t text := current_setting('selene.tenant_id', true);
BEGIN
    IF t IS NULL OR t = '' THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('api_key:' || t || ':' || p_user_id, 0));
    IF EXISTS (SELECT 1 FROM selene.api_keys k WHERE k.tenant_id = t AND k.user_id = p_user_id) THEN
        RETURN false;
    END IF;
    INSERT INTO selene.api_keys (key_hash, key_prefix, tenant_id, user_id, created_at) VALUES (p_key_hash, p_key_prefix, t, p_user_id, p_now);
    RETURN true;
END $$;
REVOKE ALL ON FUNCTION selene.issue_first_api_key(text, text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION selene.issue_first_api_key(text, text, text, bigint) TO selene_app;
