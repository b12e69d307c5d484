-- 0019: broadcasts (PH1.BCAST, reference §8): two engine store pairs. bcast_envelope (stream = broadcast id) holds the
-- envelope, immutable after its draft but for its status; bcast_recipient (stream = "<broadcast id>:<recipient id>")
-- holds each recipient's lifecycle, delivery attempts' outcomes included (the reference's recipients and delivery
-- attempts ledgers are one ledger here: every attempt outcome is a recipient event).
SELECT selene.create_engine_store('bcast_envelope');
SELECT selene.create_engine_store('bcast_recipient');
