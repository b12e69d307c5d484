-- 0016: PH1.GOV — incident switches, daily execution budgets and definition governance (issue 10).
--
-- Two engine store pairs with GLOBAL rows (a platform operator's settings apply to every tenant):
--   gov_control    streams TENANT and GLOBAL: safe mode, kill switch, daily budgets;
--   gov_definition streams SIMULATION:<id> / BLUEPRINT:<id> (GLOBAL:-prefixed for the platform): activated,
--                  deprecated, rolled back.
-- And the day's execution counters the quota gate reads, counted in the same transaction as each execution.
SELECT selene.create_engine_store('gov_control', true);
SELECT selene.create_engine_store('gov_definition', true);

-- One row per (tenant, UTC day, user) and one per (tenant, UTC day) with user_id '*': the executions that committed.
-- quota_limit is the budget in force at the last increment; the CHECK is the backstop of the gate's read (two
-- executions racing for the last unit): its name ends in _retry, so the loser is run again and then refused.
CREATE TABLE selene.gov_quota_usage (
    tenant_id    text   NOT NULL,
    day          date   NOT NULL,
    user_id      text   NOT NULL CHECK (length(user_id) BETWEEN 1 AND 64),
    executions   bigint NOT NULL CHECK (executions >= 0),
    quota_limit  bigint NOT NULL CHECK (quota_limit >= 1),
    PRIMARY KEY (tenant_id, day, user_id),
    CONSTRAINT gov_quota_usage_within_limit_retry CHECK (executions <= quota_limit)
);
SELECT selene.enable_tenant_isolation('selene.gov_quota_usage');
REVOKE ALL ON selene.gov_quota_usage FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON selene.gov_quota_usage TO selene_app;
GRANT SELECT ON selene.gov_quota_usage TO selene_reader;
