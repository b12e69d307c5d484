using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Npgsql;
using Selene.Contracts;
using Selene.Testing;

namespace Selene.Postgres.Tests;

/// <summary>Opening, using and ending a break-glass window against the real database (issue 15 item 3; docs/breakglass.md).</summary>
public sealed class BreakGlassTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    private BreakGlass BreakGlass => new(fixture.Db);

    private static long Now => UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow).Value;

    [Fact]
    public async Task Login_WithoutAWindow_IsRefused_EvenWhenGrantedTheRoleByHand()
    {
        var login = NewLogin();
        await SuperuserAsync($"CREATE ROLE {login} LOGIN");
        await using (var plain = await ConnectAsync(login, "acme"))
        {
            var denied = await FailsAsync(plain, "UPDATE selene.capreq_ledger SET reason_code = 'X'");
            Assert.Equal("42501", denied.SqlState);
        }

        // A member of selene_breakglass with no window (granted outside `selene breakglass open`) passed silently before.
        await SuperuserAsync($"GRANT selene_breakglass TO {login}");
        var before = await LedgerReasonAsync("acme");
        await using (var member = await ConnectAsync(login, "acme"))
        {
            var refused = await FailsAsync(member, "UPDATE selene.capreq_ledger SET reason_code = 'X'");
            Assert.Equal("SE001", refused.SqlState);
            Assert.Contains("SELENE:F_APPEND_ONLY_VIOLATION", refused.MessageText, StringComparison.Ordinal);
        }
        Assert.Equal(before, await LedgerReasonAsync("acme"));
    }

    [Fact]
    public async Task OpenWindow_UpdateAndDeleteOnProtectedTables_SucceedAndAreAuditedWithTheReason()
    {
        var login = NewLogin();
        var opened = await BreakGlass.OpenAsync(login, "INC-7: wrong reason code on the draft", TimeSpan.FromMinutes(30), "oncall", Now);
        Assert.True(opened.Succeeded, opened.Detail);
        Assert.Equal(ReasonCodes.BreakGlassOpened, opened.Reason);
        var window = Assert.Single(opened.Windows);

        var before = await LedgerReasonAsync("globex");
        await using (var session = await ConnectAsync(login, "globex"))
        {
            Assert.Equal(1, await ExecAsync(session, "UPDATE selene.capreq_ledger SET reason_code = 'CAPREQ_OK_REJECT' WHERE stream_id = 'capreq_00000000000000a1'"));
            Assert.Equal(1, await ExecAsync(session, "DELETE FROM selene.os_turn_decisions"));
        }
        Assert.Equal("CAPREQ_OK_REJECT", await LedgerReasonAsync("globex"));
        Assert.NotEqual("CAPREQ_OK_REJECT", before);

        var report = await BreakGlass.VerifyAsync();
        Assert.True(report.Intact, report.Break?.Why);
        var audited = Assert.Single(report.Windows, w => w.WindowId == window.WindowId);
        Assert.Equal(login, audited.Login);
        Assert.Equal("INC-7: wrong reason code on the draft", audited.Reason);
        Assert.Equal("oncall", audited.OpenedBy);
        Assert.Null(audited.ClosedAt);
        Assert.Equal(2, audited.Statements.Count);

        var update = audited.Statements[0];
        Assert.Equal(login, update.Actor);
        Assert.Equal("selene.capreq_ledger", update.Table);
        Assert.Equal("UPDATE", update.Operation);
        var key = JsonNode.Parse(update.RowKey!)!.AsObject();
        Assert.Equal("globex", key["tenant_id"]!.GetValue<string>());
        Assert.True(key.ContainsKey("event_id"));
        Assert.Equal(before, JsonNode.Parse(update.OldRow!)!["reason_code"]!.GetValue<string>());
        Assert.Equal("CAPREQ_OK_REJECT", JsonNode.Parse(update.NewRow!)!["reason_code"]!.GetValue<string>());
        Assert.Contains("UPDATE selene.capreq_ledger", update.Statement, StringComparison.Ordinal);

        var delete = audited.Statements[1];
        Assert.Equal("selene.os_turn_decisions", delete.Table);
        Assert.Equal("DELETE", delete.Operation);
        Assert.Equal("globex", JsonNode.Parse(delete.OldRow!)!["tenant_id"]!.GetValue<string>());
        Assert.Null(delete.NewRow);

        Assert.True((await BreakGlass.CloseAsync(login, "oncall", Now)).Succeeded);
    }

    [Fact]
    public async Task Login_CannotAlterTheAudit_AndNotEvenTheOwnerChangesItInPlace()
    {
        var login = NewLogin();
        Assert.True((await BreakGlass.OpenAsync(login, "audit probe", TimeSpan.FromMinutes(5), "oncall", Now)).Succeeded);
        await using (var session = await ConnectAsync(login, "acme"))
        {
            foreach (var sql in new[]
            {
                "UPDATE selene.breakglass_audit SET statement = 'nothing'",
                "DELETE FROM selene.breakglass_audit", "TRUNCATE selene.breakglass_audit",
                "INSERT INTO selene.breakglass_audit (seq, window_id, reason_code, at, login, actor, prev_hash, hash) SELECT 999, 1, 'BREAKGLASS_OPENED', 1, 'x', 'x', repeat('0', 64), repeat('0', 64)",
                "UPDATE selene.breakglass_windows SET expires_at = expires_at + 3600000000000",
                "UPDATE selene.breakglass_audit_head SET last_seq = 0",
                "SELECT selene.breakglass_append(1, 'BREAKGLASS_STATEMENT_RECORDED', 1, 'x', 'x', NULL, NULL, NULL, NULL, NULL, NULL)",
                "ALTER TABLE selene.breakglass_audit DISABLE TRIGGER audit_append_only_row",
                "TRUNCATE selene.capreq_ledger CASCADE",
            })
            {
                var error = await FailsAsync(session, sql);
                Assert.True(error.SqlState == "42501", $"{sql}: {error.SqlState} {error.MessageText}"); // insufficient privilege
            }
        }
        var entries = (await BreakGlass.VerifyAsync()).Entries;

        // The owner has privileges on the chain, yet the trigger keeps it append-only (switching it off is what verify catches).
        var owner = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecAsync(fixture.Db.Owner, null, "UPDATE selene.breakglass_audit SET actor = 'someone else'"));
        Assert.Equal("SE001", owner.SqlState);
        var ownerDelete = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecAsync(fixture.Db.Owner, null, "DELETE FROM selene.breakglass_audit"));
        Assert.Equal("SE001", ownerDelete.SqlState);
        var head = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecAsync(fixture.Db.Owner, null, "UPDATE selene.breakglass_audit_head SET last_seq = 1"));
        Assert.Equal("SE001", head.SqlState);
        var report = await BreakGlass.VerifyAsync();
        Assert.True(report.Intact, report.Break?.Why);
        Assert.Equal(entries, report.Entries);
        Assert.True((await BreakGlass.CloseAsync(login, "oncall", Now)).Succeeded);
    }

    [Fact]
    public async Task ExpiredWindow_RefusesTheLogin_EvenInASessionOpenedBefore_AndTheSweepRevokesIt()
    {
        var login = NewLogin();
        await SuperuserAsync($"CREATE ROLE {login} LOGIN");
        // The session exists before the window; the window is opened with an explicit time two hours ago for one hour,
        // so by the database's clock it has expired while the login still holds the role.
        await using var session = await ConnectAsync(login, "acme");
        var past = UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-2)).Value;
        var opened = await BreakGlass.OpenAsync(login, "INC-8", TimeSpan.FromHours(1), "oncall", past);
        Assert.True(opened.Succeeded, opened.Detail);
        Assert.True(await ScalarAsync<bool>(session, $"SELECT pg_has_role('{login}', 'selene_breakglass', 'MEMBER')"));

        var before = await LedgerReasonAsync("acme");
        var refused = await FailsAsync(session, "UPDATE selene.capreq_ledger SET reason_code = 'CAPREQ_OK_REJECT'");
        Assert.Equal("SE001", refused.SqlState);
        Assert.Contains("SELENE:BREAKGLASS_WINDOW_EXPIRED", refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(before, await LedgerReasonAsync("acme"));

        var swept = Assert.Single(await BreakGlass.SweepAsync(Now), w => w.Login == login);
        Assert.Equal(ReasonCodes.BreakGlassExpired.Name, swept.CloseReasonCode);
        Assert.Equal(BreakGlass.SweepActor, swept.ClosedBy);
        Assert.False(await ScalarAsync<bool>(session, $"SELECT pg_has_role('{login}', 'selene_breakglass', 'MEMBER')"));
        var afterSweep = await FailsAsync(session, "UPDATE selene.capreq_ledger SET reason_code = 'CAPREQ_OK_REJECT'");
        Assert.Equal("42501", afterSweep.SqlState);

        var report = await BreakGlass.VerifyAsync();
        Assert.True(report.Intact, report.Break?.Why);
        var window = Assert.Single(report.Windows, w => w.Login == login);
        Assert.Empty(window.Statements);
        Assert.Equal(ReasonCodes.BreakGlassExpired.Name, window.CloseReasonCode);
    }

    [Fact]
    public async Task Close_RevokesTheRole_AndASessionStillOpenIsRefused()
    {
        var login = NewLogin();
        Assert.True((await BreakGlass.OpenAsync(login, "INC-9", TimeSpan.FromMinutes(10), "oncall", Now)).Succeeded);
        await using var session = await ConnectAsync(login, "acme");
        Assert.Equal(1, await ExecAsync(session, "UPDATE selene.capreq_ledger SET correlation_id = correlation_id"));

        var closed = await BreakGlass.CloseAsync(login, "oncall", Now);
        Assert.Equal(ReasonCodes.BreakGlassClosed, closed.Reason);
        var window = Assert.Single(closed.Windows);
        Assert.Equal(ReasonCodes.BreakGlassClosed.Name, window.CloseReasonCode);
        Assert.Equal("oncall", window.ClosedBy);

        Assert.False(await ScalarAsync<bool>(session, $"SELECT pg_has_role('{login}', 'selene_breakglass', 'MEMBER')"));
        var refused = await FailsAsync(session, "UPDATE selene.capreq_ledger SET correlation_id = correlation_id");
        Assert.Equal("42501", refused.SqlState);
        Assert.Equal(ReasonCodes.BreakGlassNoOpenWindow, (await BreakGlass.CloseAsync(login, "oncall", Now)).Reason);
    }

    [Fact]
    public async Task Open_RefusesLoginsThatCouldWriteAroundTheAudit_AndASecondWindow()
    {
        Assert.Equal(ReasonCodes.BreakGlassLoginRefused, (await BreakGlass.OpenAsync("postgres", "r", TimeSpan.FromMinutes(5), "op", Now)).Reason);
        Assert.Equal(ReasonCodes.BreakGlassLoginRefused, (await BreakGlass.OpenAsync("selene_app", "r", TimeSpan.FromMinutes(5), "op", Now)).Reason);
        Assert.Equal(ReasonCodes.InputFieldInvalid, (await BreakGlass.OpenAsync("Robert'); DROP", "r", TimeSpan.FromMinutes(5), "op", Now)).Reason);
        Assert.Equal(ReasonCodes.InputFieldInvalid, (await BreakGlass.OpenAsync(NewLogin(), "", TimeSpan.FromMinutes(5), "op", Now)).Reason);
        Assert.Equal(ReasonCodes.InputFieldInvalid, (await BreakGlass.OpenAsync(NewLogin(), "r", TimeSpan.FromDays(2), "op", Now)).Reason);

        var ownerMember = NewLogin();
        await SuperuserAsync($"CREATE ROLE {ownerMember} LOGIN; GRANT selene_owner TO {ownerMember}");
        Assert.Equal(ReasonCodes.BreakGlassLoginRefused, (await BreakGlass.OpenAsync(ownerMember, "r", TimeSpan.FromMinutes(5), "op", Now)).Reason);
        var creator = NewLogin();
        await SuperuserAsync($"CREATE ROLE {creator} LOGIN CREATEROLE");
        Assert.Equal(ReasonCodes.BreakGlassLoginRefused, (await BreakGlass.OpenAsync(creator, "r", TimeSpan.FromMinutes(5), "op", Now)).Reason);

        var login = NewLogin();
        var first = await BreakGlass.OpenAsync(login, "r", TimeSpan.FromMinutes(5), "op", Now);
        Assert.True(first.Succeeded, first.Detail);
        Assert.Contains("created login", first.Detail, StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.BreakGlassWindowAlreadyOpen, (await BreakGlass.OpenAsync(login, "again", TimeSpan.FromMinutes(5), "op", Now)).Reason);
        Assert.True((await BreakGlass.CloseAsync(login, "op", Now)).Succeeded);
    }

    [Theory]
    [InlineData("30m", 30 * 60)]
    [InlineData("2h", 2 * 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("90s", 90)]
    [InlineData("24h", 24 * 3600)]
    public void TryParseTtl_AcceptsHoursMinutesSeconds(string text, int seconds)
    {
        Assert.True(BreakGlass.TryParseTtl(text, out var ttl));
        Assert.Equal(TimeSpan.FromSeconds(seconds), ttl);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("59s")]
    [InlineData("25h")]
    [InlineData("1d")]
    [InlineData("-5m")]
    [InlineData("5 m")]
    [InlineData("m")]
    public void TryParseTtl_RefusesAnythingElse(string text) => Assert.False(BreakGlass.TryParseTtl(text, out _));

    internal static string NewLogin() => "bg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

    private async Task<string> LedgerReasonAsync(string tenant)
    {
        await using var conn = await fixture.Db.Owner.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand($"SELECT set_config('selene.tenant_id', '{tenant}', true)", conn, tx)) await set.ExecuteNonQueryAsync();
        await using var cmd = new NpgsqlCommand("SELECT reason_code FROM selene.capreq_ledger WHERE stream_id = 'capreq_00000000000000a1' ORDER BY event_id LIMIT 1", conn, tx);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task SuperuserAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(await TestCluster.SuperuserConnectionStringAsync(fixture.Db.Database) + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>A session of <paramref name="login"/> (what an operator's psql is), with the tenant set for the session.</summary>
    internal static async Task<NpgsqlConnection> ConnectAsync(SeleneDatabase db, string login, string tenant)
    {
        var cluster = await TestCluster.ClusterAsync();
        var conn = new NpgsqlConnection(cluster.NpgsqlConnectionString(login, db.Database) + ";Pooling=false");
        await conn.OpenAsync();
        await ExecAsync(conn, $"SELECT set_config('selene.tenant_id', '{tenant}', false)");
        return conn;
    }

    private Task<NpgsqlConnection> ConnectAsync(string login, string tenant) => ConnectAsync(fixture.Db, login, tenant);

    internal static async Task<int> ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<PostgresException> FailsAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
    }
}

/// <summary>The break-glass chain found altered: each test on a database of its own, since the chain stays broken.</summary>
public sealed class BreakGlassTamperTests
{
    private static long Now => UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow).Value;

    /// <summary>A fresh database with one capreq ledger row, changed once under a window that is then closed.</summary>
    private static async Task<(SeleneDatabase Db, long Seq)> OneAuditedChangeAsync()
    {
        var db = await TestCluster.CreateDatabaseAsync();
        await TestCluster.SeedUserAsync(db, "acme", "u1");
        await using (var tx = await TenantTransaction.BeginAsync(db.App, "acme"))
        {
            await new Selene.Postgres.Stores.EngineStore(new Selene.Postgres.Stores.StorePair("capreq")).AppendAsync(tx,
                new Selene.Postgres.Stores.NewLedgerEvent("capreq_00000000000000a1", "CREATE_DRAFT", "u1", "CAPREQ_OK_CREATE_DRAFT", "{}", "7", "k1", 1), default);
            await tx.CommitAsync();
        }
        var breakGlass = new BreakGlass(db);
        var login = BreakGlassTests.NewLogin();
        Assert.True((await breakGlass.OpenAsync(login, "INC-10", TimeSpan.FromMinutes(5), "oncall", Now)).Succeeded);
        await using (var session = await BreakGlassTests.ConnectAsync(db, login, "acme"))
            Assert.Equal(1, await BreakGlassTests.ExecAsync(session, "UPDATE selene.capreq_ledger SET reason_code = 'CAPREQ_OK_REJECT'"));
        Assert.True((await breakGlass.CloseAsync(login, "oncall", Now)).Succeeded);
        var report = await breakGlass.VerifyAsync();
        Assert.True(report.Intact, report.Break?.Why);
        Assert.Equal(3, report.Entries); // opened, the update, closed
        return (db, Assert.Single(Assert.Single(report.Windows).Statements).Seq);
    }

    [Theory]
    [InlineData("old_row = jsonb_set(old_row, '{reason_code}', '\"CAPREQ_OK_APPROVE\"')")]
    [InlineData("actor = 'nobody'")]
    [InlineData("table_name = 'selene.journal'")]
    [InlineData("at = at + 1")]
    public async Task Verify_AuditEntryAlteredWithTheTriggerOff_FailsAtThatEntry(string change)
    {
        var (db, seq) = await OneAuditedChangeAsync();
        await using var _ = db;
        await Sql.ExecAsync(db.Owner, null, $"""
            ALTER TABLE selene.breakglass_audit DISABLE TRIGGER audit_append_only_row;
            UPDATE selene.breakglass_audit SET {change} WHERE seq = {seq};
            ALTER TABLE selene.breakglass_audit ENABLE TRIGGER audit_append_only_row;
            """);
        var report = await new BreakGlass(db).VerifyAsync();
        Assert.False(report.Intact);
        Assert.Equal(seq, report.Break!.Seq);
        Assert.Contains("altered", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_WindowReasonRewrittenInPlace_IsFound()
    {
        var (db, _) = await OneAuditedChangeAsync();
        await using var __ = db;
        await Sql.ExecAsync(db.Owner, null, """
            ALTER TABLE selene.breakglass_windows DISABLE TRIGGER window_closes_once;
            UPDATE selene.breakglass_windows SET reason = 'routine';
            ALTER TABLE selene.breakglass_windows ENABLE TRIGGER window_closes_once;
            """);
        var report = await new BreakGlass(db).VerifyAsync();
        Assert.False(report.Intact);
        Assert.Equal(3, report.Break!.Seq);
        Assert.Contains("differs from the image", report.Break.Why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_LastEntryDeleted_IsFoundThroughTheHead()
    {
        var (db, _) = await OneAuditedChangeAsync();
        await using var __ = db;
        await Sql.ExecAsync(db.Owner, null, """
            ALTER TABLE selene.breakglass_audit DISABLE TRIGGER audit_append_only_row;
            DELETE FROM selene.breakglass_audit WHERE seq = 3;
            ALTER TABLE selene.breakglass_audit ENABLE TRIGGER audit_append_only_row;
            """);
        var report = await new BreakGlass(db).VerifyAsync();
        Assert.False(report.Intact);
        Assert.Equal(3, report.Break!.Seq);
        Assert.Contains("head", report.Break.Why, StringComparison.Ordinal);
    }
}
