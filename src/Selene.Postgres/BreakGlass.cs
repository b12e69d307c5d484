using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres;

/// <summary>What an open or close did: a success code with the window, or the reason it changed nothing.</summary>
public sealed record BreakGlassOutcome(ReasonCode Reason, string Detail, IReadOnlyList<BreakGlassWindow> Windows)
{
    public bool Succeeded => Reason.Kind == ReasonKind.Success;
}

/// <summary>One window of <c>selene.breakglass_windows</c>, with the row changes recorded under it (empty where not read).</summary>
/// <param name="CloseReasonCode">BREAKGLASS_CLOSED or BREAKGLASS_EXPIRED once ended; null while open.</param>
public sealed record BreakGlassWindow(long WindowId, string Login, string Reason, string OpenedBy, long OpenedAt, long ExpiresAt,
    long? ClosedAt, string? ClosedBy, string? CloseReasonCode, IReadOnlyList<BreakGlassEntry> Statements);

/// <summary>
/// One entry of the break-glass chain (<c>selene.breakglass_audit</c>). The jsonb columns are their PostgreSQL text, the
/// exact text the entry's hash was computed over. <see cref="Hash"/> = <see cref="BreakGlass.ComputeHash"/> of the entry.
/// </summary>
public sealed record BreakGlassEntry(long Seq, long WindowId, string ReasonCode, long At, string Login, string Actor, string? Table,
    string? Operation, string? RowKey, string? OldRow, string? NewRow, string? Statement, string PrevHash, string Hash);

/// <summary>The first place the break-glass chain (or a window against its last entry) does not hold.</summary>
public sealed record BreakGlassChainBreak(long Seq, string Why);

/// <summary>Every window with what was recorded under it, and whether the chain verified.</summary>
public sealed record BreakGlassReport(IReadOnlyList<BreakGlassWindow> Windows, long Entries, string HeadHash, BreakGlassChainBreak? Break)
{
    public bool Intact => Break is null;
}

/// <summary>
/// The audited break-glass (issue 15 item 3, docs/breakglass.md): opening a window grants a named PostgreSQL login the
/// <c>selene_breakglass</c> role and records it; closing (or the expiry sweep) revokes it and records that. Invariants: a
/// login holds the role only while it has an open window — grant and window commit together, as do revoke and close;
/// one open window per login; every change is an entry of the hash chain written by the database (migration 0026), never
/// by this class. Granting roles needs the cluster's superuser (SELENE_DB: the bootstrap login), so open, close and the
/// sweep run on that connection; verification reads as the owner.
/// </summary>
public sealed partial class BreakGlass(SeleneDatabase db)
{
    /// <summary>The shortest and the longest window: break-glass is for an incident, not a standing grant.</summary>
    public static readonly TimeSpan MinTtl = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);

    /// <summary>The first entry's <see cref="BreakGlassEntry.PrevHash"/>.</summary>
    public static readonly string GenesisHash = new('0', 64);

    /// <summary>Who ends an expired window in the chain (the sweep is Selene's, not an operator's).</summary>
    public const string SweepActor = "selene";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex LoginPattern();

    [GeneratedRegex(@"^(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,7})s)?$")]
    private static partial Regex TtlPattern();

    /// <summary>A plain lower-case PostgreSQL identifier (the only logins break-glass accepts, so no quoting rule is ever needed).</summary>
    public static bool IsLoginName(string login) => LoginPattern().IsMatch(login);

    /// <summary>Parses <c>90s</c>, <c>30m</c>, <c>2h</c>, <c>1h30m</c>; false for anything else or outside <see cref="MinTtl"/>..<see cref="MaxTtl"/>.</summary>
    public static bool TryParseTtl(string text, out TimeSpan ttl)
    {
        ttl = TimeSpan.Zero;
        var match = TtlPattern().Match(text);
        if (!match.Success || text.Length == 0) return false;
        static long Part(Group g) => g.Success ? long.Parse(g.Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
        ttl = TimeSpan.FromHours(Part(match.Groups[1])) + TimeSpan.FromMinutes(Part(match.Groups[2])) + TimeSpan.FromSeconds(Part(match.Groups[3]));
        return ttl >= MinTtl && ttl <= MaxTtl;
    }

    /// <summary>
    /// Opens a window for <paramref name="login"/> from <paramref name="now"/> for <paramref name="ttl"/> and grants it the role,
    /// after ending every expired window. A login that does not exist is created (LOGIN and nothing else); one that could
    /// switch the audit off or write around it is refused (<see cref="ReasonCodes.BreakGlassLoginRefused"/>).
    /// </summary>
    public async Task<BreakGlassOutcome> OpenAsync(string login, string reason, TimeSpan ttl, string openedBy, long now, CancellationToken ct = default)
    {
        if (!IsLoginName(login))
            return Refused(ReasonCodes.InputFieldInvalid, "--login must be a plain lower-case PostgreSQL name: [a-z_][a-z0-9_]*, at most 63 characters");
        if (login == EmbeddedSuperuser || login.StartsWith("selene_", StringComparison.Ordinal) || login.StartsWith("pg_", StringComparison.Ordinal))
            return Refused(ReasonCodes.BreakGlassLoginRefused, $"{login} is a role of the cluster or of Selene itself, not a person's login");
        if (reason.Length is 0 or > 500 || reason.Any(char.IsControl) || string.IsNullOrWhiteSpace(reason))
            return Refused(ReasonCodes.InputFieldInvalid, "--reason must be 1..500 characters of plain text (it is recorded with every change)");
        if (ttl < MinTtl || ttl > MaxTtl)
            return Refused(ReasonCodes.InputFieldInvalid, $"--ttl must be between {MinTtl.TotalMinutes:0} minute and {MaxTtl.TotalHours:0} hours");

        await SweepAsync(now, ct);
        await using var conn = await OpenSuperuserAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);

        bool created;
        await using (var role = new NpgsqlCommand("""
            SELECT rolsuper OR rolcreaterole OR NOT rolcanlogin
                   OR pg_has_role(oid, 'selene_owner', 'MEMBER') OR pg_has_role(oid, 'selene_app', 'MEMBER')
            FROM pg_roles WHERE rolname = $1
            """, conn, tx).Bind(login))
        {
            var refused = await role.ExecuteScalarAsync(ct);
            created = refused is null;
            if (refused is true)
                return Refused(ReasonCodes.BreakGlassLoginRefused,
                    $"{login} is a superuser, may create roles, cannot log in, or is a member of selene_owner or selene_app: " +
                    "it could switch the audit off or write around it. Use a login of its own for break-glass");
        }
        if (created)
        {
            await using var create = new NpgsqlCommand($"CREATE ROLE {Bootstrap.Quote(login)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS", conn, tx);
            await create.ExecuteNonQueryAsync(ct);
        }
        await using (var open = new NpgsqlCommand("SELECT window_id FROM selene.breakglass_windows WHERE login = $1 AND closed_at IS NULL", conn, tx).Bind(login))
        {
            if (await open.ExecuteScalarAsync(ct) is long existing)
                return Refused(ReasonCodes.BreakGlassWindowAlreadyOpen, $"{login} has window {existing} open already; close it first (`selene breakglass close --login {login}`)");
        }
        long windowId;
        await using (var insert = new NpgsqlCommand("SELECT selene.breakglass_open($1, $2, $3, $4, $5)", conn, tx)
            .Bind(login, reason, openedBy, now, checked(now + (long)(ttl.Ticks * 100))))
        {
            windowId = (long)(await insert.ExecuteScalarAsync(ct))!;
        }
        await using (var grant = new NpgsqlCommand($"GRANT {Bootstrap.BreakGlassRole} TO {Bootstrap.Quote(login)}", conn, tx))
            await grant.ExecuteNonQueryAsync(ct);
        var window = await WindowAsync(conn, tx, windowId, ct);
        await tx.CommitAsync(ct);
        return new BreakGlassOutcome(ReasonCodes.BreakGlassOpened, created ? $"created login {login}" : $"login {login}", [window]);
    }

    /// <summary>
    /// Ends the open window of <paramref name="login"/> (every open window when null) and revokes the role: recorded as
    /// BREAKGLASS_CLOSED by <paramref name="closedBy"/>, or BREAKGLASS_EXPIRED when it had expired by <paramref name="now"/>.
    /// </summary>
    public async Task<BreakGlassOutcome> CloseAsync(string? login, string closedBy, long now, CancellationToken ct = default)
    {
        if (login is not null && !IsLoginName(login))
            return Refused(ReasonCodes.InputFieldInvalid, "--login must be a plain lower-case PostgreSQL name: [a-z_][a-z0-9_]*, at most 63 characters");
        var ended = await EndAsync(login, expiredOnly: false, closedBy, now, ct);
        return ended.Count == 0
            ? Refused(ReasonCodes.BreakGlassNoOpenWindow, login is null ? "no break-glass window is open" : $"{login} has no open break-glass window")
            : new BreakGlassOutcome(ReasonCodes.BreakGlassClosed, $"{ended.Count} window(s) ended", ended);
    }

    /// <summary>
    /// Ends every window that has expired by <paramref name="now"/> and revokes its role (BREAKGLASS_EXPIRED). The trigger
    /// refuses an expired window's login anyway; this takes the role back so it does not linger.
    /// </summary>
    public Task<IReadOnlyList<BreakGlassWindow>> SweepAsync(long now, CancellationToken ct = default) =>
        EndAsync(null, expiredOnly: true, SweepActor, now, ct);

    private async Task<IReadOnlyList<BreakGlassWindow>> EndAsync(string? login, bool expiredOnly, string by, long now, CancellationToken ct)
    {
        await using var conn = await OpenSuperuserAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var targets = new List<(long Id, string Login, bool Expired)>();
        await using (var select = new NpgsqlCommand("""
            SELECT window_id, login, expires_at <= $3 FROM selene.breakglass_windows
            WHERE closed_at IS NULL AND ($1::text IS NULL OR login = $1) AND (NOT $2 OR expires_at <= $3)
            ORDER BY window_id
            """, conn, tx).Bind(login, expiredOnly, now))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) targets.Add((reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2)));
        }
        var ended = new List<BreakGlassWindow>();
        foreach (var (id, windowLogin, expired) in targets)
        {
            var code = expired ? ReasonCodes.BreakGlassExpired : ReasonCodes.BreakGlassClosed;
            await using (var end = new NpgsqlCommand("SELECT selene.breakglass_end($1, $2, $3, $4)", conn, tx).Bind(id, now, by, code.Name))
                await end.ExecuteNonQueryAsync(ct);
            // The login may have been dropped by hand; a role that no longer exists has nothing to revoke.
            await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", conn, tx).Bind(windowLogin))
            {
                if (await exists.ExecuteScalarAsync(ct) is not null)
                {
                    await using var revoke = new NpgsqlCommand($"REVOKE {Bootstrap.BreakGlassRole} FROM {Bootstrap.Quote(windowLogin)}", conn, tx);
                    await revoke.ExecuteNonQueryAsync(ct);
                }
            }
            ended.Add(await WindowAsync(conn, tx, id, ct));
        }
        await tx.CommitAsync(ct);
        return ended;
    }

    /// <summary>
    /// Reads every window with its recorded changes and verifies the chain in one snapshot: each entry links to the one
    /// before and hashes to what it says, the head names the last entry, and each window row equals the image its last
    /// OPENED/CLOSED/EXPIRED entry recorded (so a window's reason, login or expiry altered in place is found too).
    /// </summary>
    public async Task<BreakGlassReport> VerifyAsync(CancellationToken ct = default)
    {
        await using var conn = await db.Owner.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var entries = new List<BreakGlassEntry>();
        await using (var read = new NpgsqlCommand("""
            SELECT seq, window_id, reason_code, at, login, actor, table_name, operation, row_key::text, old_row::text, new_row::text,
                   statement, prev_hash, hash
            FROM selene.breakglass_audit ORDER BY seq
            """, conn, tx))
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                entries.Add(new BreakGlassEntry(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4),
                    reader.GetString(5), Text(6), Text(7), Text(8), Text(9), Text(10), Text(11), reader.GetString(12), reader.GetString(13)));
            }
        }
        var rows = new List<(BreakGlassWindow Window, string Image)>();
        await using (var read = new NpgsqlCommand("""
            SELECT window_id, login, reason, opened_by, opened_at, expires_at, closed_at, closed_by, close_reason_code, to_jsonb(w)::text
            FROM selene.breakglass_windows w ORDER BY window_id
            """, conn, tx))
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetInt64(0);
                rows.Add((new BreakGlassWindow(id, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5),
                    reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                    entries.Where(e => e.WindowId == id && e.ReasonCode == ReasonCodes.BreakGlassStatementRecorded.Name).ToArray()), reader.GetString(9)));
            }
        }
        long headSeq;
        string headHash;
        await using (var head = new NpgsqlCommand("SELECT last_seq, last_hash FROM selene.breakglass_audit_head", conn, tx))
        await using (var reader = await head.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("selene.breakglass_audit_head has no row (migration 0026 writes it)");
            (headSeq, headHash) = (reader.GetInt64(0), reader.GetString(1));
        }
        await tx.CommitAsync(ct);

        var broken = Verify(entries, headSeq, headHash, rows);
        return new BreakGlassReport(rows.Select(r => r.Window).ToArray(), entries.Count, entries.Count == 0 ? GenesisHash : entries[^1].Hash, broken);
    }

    private static BreakGlassChainBreak? Verify(IReadOnlyList<BreakGlassEntry> entries, long headSeq, string headHash,
        IReadOnlyList<(BreakGlassWindow Window, string Image)> windows)
    {
        var prev = GenesisHash;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Seq != i + 1) return new BreakGlassChainBreak(i + 1, $"entry {i + 1} is missing (the next entry is seq {e.Seq})");
            if (!string.Equals(e.PrevHash, prev, StringComparison.Ordinal)) return new BreakGlassChainBreak(e.Seq, "prev_hash does not match the previous entry's hash");
            if (!string.Equals(ComputeHash(e), e.Hash, StringComparison.Ordinal)) return new BreakGlassChainBreak(e.Seq, "the entry does not hash to its recorded hash: it was altered");
            prev = e.Hash;
        }
        if (headSeq != entries.Count || !string.Equals(headHash, prev, StringComparison.Ordinal))
            return new BreakGlassChainBreak(Math.Min(headSeq, entries.Count) + 1, $"the chain head records seq {headSeq} but the audit ends at seq {entries.Count}");
        foreach (var (window, image) in windows)
        {
            var last = entries.LastOrDefault(e => e.WindowId == window.WindowId && e.ReasonCode != ReasonCodes.BreakGlassStatementRecorded.Name);
            if (last is null) return new BreakGlassChainBreak(entries.Count + 1, $"window {window.WindowId} has no OPENED entry in the chain");
            if (!string.Equals(last.NewRow, image, StringComparison.Ordinal))
                return new BreakGlassChainBreak(last.Seq, $"window {window.WindowId} differs from the image its entry seq {last.Seq} recorded: it was altered");
        }
        return null;
    }

    /// <summary>
    /// The entry's hash, as migration 0026's <c>selene.breakglass_hash</c> computes it: SHA-256 over each column's UTF-8
    /// byte length, ':', its text and ';' ("~;" for NULL), in column order, ending with prev_hash.
    /// </summary>
    public static string ComputeHash(BreakGlassEntry e)
    {
        var input = new StringBuilder();
        void Field(string? value) => input.Append(value is null ? "~;" : string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(value)}:{value};"));
        Field(e.Seq.ToString(CultureInfo.InvariantCulture));
        Field(e.WindowId.ToString(CultureInfo.InvariantCulture));
        Field(e.ReasonCode);
        Field(e.At.ToString(CultureInfo.InvariantCulture));
        Field(e.Login);
        Field(e.Actor);
        Field(e.Table);
        Field(e.Operation);
        Field(e.RowKey);
        Field(e.OldRow);
        Field(e.NewRow);
        Field(e.Statement);
        Field(e.PrevHash);
        return Hashing.Sha256Hex(input.ToString());
    }

    private const string EmbeddedSuperuser = "postgres";

    private static BreakGlassOutcome Refused(ReasonCode reason, string detail) => new(reason, detail, []);

    private async Task<NpgsqlConnection> OpenSuperuserAsync(CancellationToken ct)
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.SuperuserConnectionString) { Database = db.Database, Pooling = false }.ConnectionString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    // Serializes open, close and the sweep across processes through the one advisory-lock key scheme (the database's
    // windows are one entity of no tenant, under the reserved GLOBAL key).
    private static async Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(conn, tx) { BatchCommands = { TenantTransaction.EntityLock("breakglass", Stores.EngineStore.GlobalTenantKey, "windows") } };
        await batch.ExecuteNonQueryAsync(ct);
    }

    private static async Task<BreakGlassWindow> WindowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT login, reason, opened_by, opened_at, expires_at, closed_at, closed_by, close_reason_code
            FROM selene.breakglass_windows WHERE window_id = $1
            """, conn, tx).Bind(id);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new BreakGlassWindow(id, reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4),
            reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7), []);
    }
}
