-- Tamper evidence that reaches the ledgers (issue 15): the first journal entry a transaction appends names the engine
-- ledger rows the transaction wrote (ledger_refs: 'store:event_id …') and the SHA-256 digest of their contents
-- (ledger_hash); both are covered by the entry's hash. Entries written before carry neither.
ALTER TABLE selene.journal
    ADD COLUMN ledger_refs text CHECK (length(ledger_refs) BETWEEN 3 AND 1000000),
    ADD COLUMN ledger_hash text CHECK (ledger_hash ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT journal_ledger_binding_whole CHECK ((ledger_refs IS NULL) = (ledger_hash IS NULL));

-- Rows written before the binding existed are bound by no entry: per ledger, the last event id its identity had handed
-- out when this migration ran. `selene audit verify` requires a binding of every row above it; a ledger created later
-- has no row here, so all of its rows must be bound.
CREATE TABLE selene.ledger_binding_floor (
    store                  text PRIMARY KEY CHECK (store ~ '^[a-z][a-z0-9_]{0,39}$'),
    last_unbound_event_id  bigint NOT NULL CHECK (last_unbound_event_id >= 0)
);
INSERT INTO selene.ledger_binding_floor (store, last_unbound_event_id)
SELECT left(c.relname, -length('_ledger')), coalesce(pg_sequence_last_value(pg_get_serial_sequence(format('selene.%I', c.relname), 'event_id')::regclass), 0)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'selene'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'event_id' AND a.attidentity <> ''
WHERE c.relkind = 'r' AND c.relname LIKE '%\_ledger';
REVOKE ALL ON selene.ledger_binding_floor FROM PUBLIC;
GRANT SELECT ON selene.ledger_binding_floor TO selene_reader;
