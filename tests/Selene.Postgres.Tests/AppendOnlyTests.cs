namespace Selene.Postgres.Tests;

/// <summary>Ledgers and the journal are append-only for selene_app: by grants, and by trigger for everyone else.</summary>
public sealed class AppendOnlyTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    public static TheoryData<string, string> Mutations => new()
    {
        { "capreq_ledger", "UPDATE selene.capreq_ledger SET event_type = 'APPROVE'" },
        { "capreq_ledger", "DELETE FROM selene.capreq_ledger" },
        { "capreq_ledger", "TRUNCATE selene.capreq_ledger CASCADE" },
        { "journal", "UPDATE selene.journal SET reason_code = 'X'" },
        { "journal", "DELETE FROM selene.journal" },
        { "journal", "TRUNCATE selene.journal" },
        { "tenant_company_ledger", "UPDATE selene.tenant_company_ledger SET payload = '{}'" },
        { "position_ledger", "DELETE FROM selene.position_ledger" },
        { "position_requirements_schema_ledger", "UPDATE selene.position_requirements_schema_ledger SET reason_code = 'x'" },
        { "position_requirements_schema_ledger", "TRUNCATE selene.position_requirements_schema_ledger CASCADE" },
        { "access_instance_ledger", "UPDATE selene.access_instance_ledger SET payload = '{}'" },
        { "access_instance_ledger", "DELETE FROM selene.access_instance_ledger" },
        { "access_override_ledger", "UPDATE selene.access_override_ledger SET payload = '{}'" },
        { "access_override_ledger", "DELETE FROM selene.access_override_ledger" },
        { "access_board_policy_ledger", "UPDATE selene.access_board_policy_ledger SET payload = '{}'" },
        { "access_board_policy_ledger", "TRUNCATE selene.access_board_policy_ledger CASCADE" },
        { "access_escalation_case_ledger", "UPDATE selene.access_escalation_case_ledger SET event_type = 'APPROVE'" },
        { "access_escalation_case_ledger", "DELETE FROM selene.access_escalation_case_ledger" },
        { "access_board_votes_ledger", "UPDATE selene.access_board_votes_ledger SET payload = '{}'" },
        { "access_board_votes_ledger", "DELETE FROM selene.access_board_votes_ledger" },
        { "access_ap_schema_ledger", "UPDATE selene.access_ap_schema_ledger SET event_type = 'ACTIVATE'" },
        { "access_ap_authoring_review_ledger", "DELETE FROM selene.access_ap_authoring_review_ledger" },
        { "access_ap_rule_review_actions_ledger", "UPDATE selene.access_ap_rule_review_actions_ledger SET event_type = 'DISAGREE'" },
        { "access_ap_overlay_ledger", "TRUNCATE selene.access_ap_overlay_ledger CASCADE" },
        { "os_turn_decisions", "UPDATE selene.os_turn_decisions SET next_move = 'DISPATCH_SIMULATION'" },
        { "os_turn_decisions", "DELETE FROM selene.os_turn_decisions" },
        { "os_outcome_utilization", "UPDATE selene.os_outcome_utilization SET decision_delta = NOT decision_delta" },
        { "os_outcome_utilization", "DELETE FROM selene.os_outcome_utilization" },
        { "os_outcome_utilization", "TRUNCATE selene.os_outcome_utilization" },
        { "os_utility_review", "UPDATE selene.os_utility_review SET fail_streak_days = 0" },
        { "os_utility_review", "DELETE FROM selene.os_utility_review" },
        { "os_utility_review", "TRUNCATE selene.os_utility_review" },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public async Task AppRole_MutatingLedgerOrJournal_IsDeniedAndChangesNothing(string table, string sql)
    {
        var before = await Sql.CountAsync(fixture.Db.Owner, "acme", table);
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", sql);
        Assert.Equal("42501", error.SqlState); // insufficient_privilege: the grants say no
        Assert.Equal(before, await Sql.CountAsync(fixture.Db.Owner, "acme", table));
    }

    [Theory]
    [MemberData(nameof(Mutations))]
    public async Task OwnerRole_MutatingLedgerOrJournal_IsStoppedByTheTrigger(string table, string sql)
    {
        var before = await Sql.CountAsync(fixture.Db.Owner, "acme", table);
        var error = await Sql.FailsAsync(fixture.Db.Owner, "acme", sql);
        Assert.Equal("SE001", error.SqlState);
        Assert.Contains(table == "journal" ? "SELENE:J_APPEND_ONLY_VIOLATION" : "SELENE:F_APPEND_ONLY_VIOLATION", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(before, await Sql.CountAsync(fixture.Db.Owner, "acme", table));
    }

    [Fact]
    public async Task AppRole_InsertIntoLedger_IsAllowed()
    {
        await Sql.ExecAsync(fixture.Db.App, "acme", """
            INSERT INTO selene.capreq_ledger (tenant_id, stream_id, event_type, actor_user_id, reason_code, payload, correlation_id, created_at)
            VALUES ('acme', 'capreq_00000000000000b2', 'APPROVE', 'u1', 'CAPREQ_OK_APPROVE', '{}', 9, 2)
            """);
        Assert.True(await Sql.CountAsync(fixture.Db.App, "acme", "capreq_ledger") >= 2);
    }

    [Fact]
    public async Task CompletedIdempotencyResult_CannotBeRewritten()
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", "UPDATE selene.idempotency_keys SET result_body = '{\"x\":1}'");
        Assert.Equal("SE001", error.SqlState);
    }

    [Fact]
    public async Task OutboxPayload_IsImmutable_ButStatusMayChange()
    {
        var error = await Sql.FailsAsync(fixture.Db.App, "acme", "UPDATE selene.outbox SET payload = '{\"a\":\"c\"}'");
        Assert.Equal("SE001", error.SqlState);
        await Sql.ExecAsync(fixture.Db.App, "acme", "UPDATE selene.outbox SET status = 'SENT', attempt_count = 1");
        var delete = await Sql.FailsAsync(fixture.Db.App, "acme", "DELETE FROM selene.outbox");
        Assert.Equal("42501", delete.SqlState);
    }
}
