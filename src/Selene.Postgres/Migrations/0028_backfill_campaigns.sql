-- 0028: issue 13: PH1.ONB requirement backfill (reference §4.4): campaigns (stream = campaign id) and their targets
-- (stream = campaign id + ':' + user id).
SELECT selene.create_engine_store('onb_backfill_campaign');
SELECT selene.create_engine_store('onb_backfill_target');

-- Each target's personal link is derived like an invite's (HMAC of the tenant and the target id under the link key) and
-- indexed the same way: only its SHA-256, in the one index of link secrets, which now also names backfill targets
-- ({campaign_id}:{user_id}). resolve_invite returns either kind; each page accepts only its own.
ALTER TABLE selene.link_token_index DROP CONSTRAINT link_token_index_token_id_check;
ALTER TABLE selene.link_token_index ADD CONSTRAINT link_token_index_token_id_check
    CHECK (token_id ~ '^link_[0-9a-f]{16}$' OR token_id ~ '^bfc_[0-9a-f]{16}:[A-Za-z0-9_.-]{1,64}$');
