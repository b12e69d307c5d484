-- 0018: work orders (PH1.WORK, reference §11.1): a blueprint run, its fields, prompts, steps and lease, as one engine
-- store pair (ledger work_order_ledger, projection work_order_current; stream = work order id). The lease lives in the
-- work order's own ledger (LEASE_ACQUIRED / LEASE_RENEWED / LEASE_RELEASED, the reference's event types) and
-- projection, so one row says who may run the next step, until when.
SELECT selene.create_engine_store('work_order');
