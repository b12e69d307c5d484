-- 0021: reminders (PH1.REM, reference §10): one engine store pair (ledger reminder_ledger, projection reminder_current;
-- stream = reminder id). A reminder's occurrences and their delivery attempts live in its own stream and projection row
-- (at most 365 occurrences), so one lock covers every change to them and a rebuild is one fold per reminder. Firings are
-- timed outbox rows (selene.outbox.next_attempt_at = the due time); REM has no table of its own for them.
SELECT selene.create_engine_store('reminder');
