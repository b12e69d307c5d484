-- 0020: PH1.DELIVERY (reference §9, §11.1): delivery attempts (ledger delivery_attempt_ledger, projection
-- delivery_attempt_current; stream = delivery attempt id) and each user's channel setup — the address per channel and
-- sms_app_setup_complete, read before any send (delivery_channel_setup_ledger / _current; stream = user id).
-- No secret is stored: providers and their secret handles live in the process's configuration only.
SELECT selene.create_engine_store('delivery_attempt');
SELECT selene.create_engine_store('delivery_channel_setup');
