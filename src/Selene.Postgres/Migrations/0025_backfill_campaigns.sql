-- 0025: issue 13: PH1.ONB requirement backfill (reference §4.4): campaigns (stream = campaign id) and their targets
-- (stream = campaign id + ':' + user id).
SELECT selene.create_engine_store('onb_backfill_campaign');
SELECT selene.create_engine_store('onb_backfill_target');
