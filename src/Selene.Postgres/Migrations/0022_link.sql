-- 0022: PH1.LINK (reference §3, issue 11): four engine store pairs — invite drafts (stream = draft id), invite tokens
-- (stream = token id), role proposals and dual-role conflict escalations — and the invite secrets' index.
SELECT selene.create_engine_store('link_draft');
SELECT selene.create_engine_store('link_token');
SELECT selene.create_engine_store('link_role_proposal');
SELECT selene.create_engine_store('link_escalation');

-- The secret in an invite URL is derived (HMAC of the tenant and token id under the process's link key) and never
-- stored; this index holds only its SHA-256, written in the transaction that issues the token (generation,
-- recovery), so an unauthenticated page can find the token a presented secret opens. Append-only, tenant-isolated.
CREATE TABLE selene.link_token_index (
    token_hash  text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    tenant_id   text NOT NULL REFERENCES selene.tenants (tenant_id),
    token_id    text NOT NULL CHECK (token_id ~ '^link_[0-9a-f]{16}$'),
    created_at  bigint NOT NULL,
    UNIQUE (tenant_id, token_id)
);
SELECT selene.enable_tenant_isolation('selene.link_token_index');
SELECT selene.make_append_only('selene.link_token_index', 'F_APPEND_ONLY_VIOLATION');

-- Resolving reads across tenants (the page knows no tenant). The function runs as the owner, which FORCE row-level
-- security binds like any role; this policy lets the owner read only while the function has switched
-- selene.invite_resolve on in its own transaction (the outbox claim's pattern, 0017).
CREATE POLICY link_token_index_resolve ON selene.link_token_index FOR SELECT TO selene_owner
    USING (current_setting('selene.invite_resolve', true) = 'on');

-- The (tenant, token) of a presented secret's hash, or no row. Reveals nothing else.
CREATE FUNCTION selene.resolve_invite(p_token_hash text)
RETURNS TABLE (tenant_id text, token_id text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = selene, pg_temp AS $$
BEGIN
    PERFORM set_config('selene.invite_resolve', 'on', true);
    RETURN QUERY SELECT i.tenant_id, i.token_id FROM selene.link_token_index i WHERE i.token_hash = p_token_hash;
    PERFORM set_config('selene.invite_resolve', '', true);
END $$;
REVOKE ALL ON FUNCTION selene.resolve_invite(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION selene.resolve_invite(text) TO selene_app;
