-- 0024: issue 13: who holds a position (PH1.POSITION; stream = position id + ':' + user id).
SELECT selene.create_engine_store('position_holder');
