using Npgsql;
using Selene.Contracts;
using Selene.Postgres.Embedded;

namespace Selene.Postgres;

/// <summary>Where Selene's data lives: an existing server (SELENE_DB) or the embedded cluster in a data directory.</summary>
/// <param name="ConnectionString">SELENE_DB: a connection string for a role that may create roles and databases.</param>
/// <param name="DataDir">The data directory of the embedded cluster (used when no connection string is given).</param>
/// <param name="Database">The database name.</param>
/// <param name="Register">Count this process as a user of the embedded cluster (see <see cref="EmbeddedCluster"/>).</param>
/// <param name="Durable">false: fsync off, for throwaway test clusters.</param>
public sealed record DatabaseOptions(
    string? ConnectionString,
    string DataDir,
    string Database = "selene",
    bool Register = true,
    bool Durable = true);

/// <summary>
/// The process's handle on PostgreSQL: one data source per role (ARCHITECTURE.md §5: one NpgsqlDataSource per
/// process and role). Opening it bootstraps roles, creates the database and applies migrations.
/// </summary>
public sealed class SeleneDatabase : IAsyncDisposable
{
    private readonly ClusterLease? _lease;

    private SeleneDatabase(NpgsqlDataSource app, NpgsqlDataSource owner, NpgsqlDataSource reader, string superuser, EmbeddedCluster? cluster, ClusterLease? lease, string database)
    {
        App = app;
        Owner = owner;
        Reader = reader;
        SuperuserConnectionString = superuser;
        Cluster = cluster;
        _lease = lease;
        Database = database;
    }

    /// <summary>The runtime's role: no DDL, append-only ledgers, row-level security enforced.</summary>
    public NpgsqlDataSource App { get; }
    /// <summary>Migrations and maintenance (rebuild, audit verify, key management).</summary>
    public NpgsqlDataSource Owner { get; }
    /// <summary>Read-only.</summary>
    public NpgsqlDataSource Reader { get; }
    public string SuperuserConnectionString { get; }
    public EmbeddedCluster? Cluster { get; }
    public string Database { get; }

    public static async Task<SeleneDatabase> OpenAsync(DatabaseOptions options, CancellationToken ct = default)
    {
        EmbeddedCluster? cluster = null;
        ClusterLease? lease = null;
        string superuser;
        Func<string, string> forRole;
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            cluster = new EmbeddedCluster(new EmbeddedClusterOptions(options.DataDir, options.Durable));
            lease = await cluster.AcquireAsync(options.Register, ct);
            superuser = cluster.NpgsqlConnectionString(EmbeddedCluster.SuperUser, "postgres");
            forRole = role => cluster.NpgsqlConnectionString(role, options.Database);
        }
        else
        {
            // An existing server: the given login bootstraps, then works through SET ROLE at connect time,
            // so the runtime's privileges are exactly selene_app's.
            superuser = options.ConnectionString;
            forRole = role => new NpgsqlConnectionStringBuilder(options.ConnectionString)
            {
                Database = options.Database,
                SearchPath = "selene",
                Options = $"-c role={role}",
            }.ConnectionString;
        }

        try
        {
            await Bootstrap.EnsureAsync(superuser, options.Database, ct);
            if (cluster is null) await GrantMembershipAsync(superuser, ct);
            var owner = NpgsqlDataSource.Create(forRole(Bootstrap.OwnerRole));
            await Migrator.MigrateAsync(owner, ct: ct);
            var app = AppDataSource(forRole(Bootstrap.AppRole));
            var reader = NpgsqlDataSource.Create(forRole(Bootstrap.ReaderRole));
            return new SeleneDatabase(app, owner, reader, superuser, cluster, lease, options.Database);
        }
        catch
        {
            if (lease is not null) await lease.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens an already bootstrapped and migrated database (tests: a clone of a migrated template).</summary>
    public static SeleneDatabase Attach(EmbeddedCluster cluster, string database) => new(
        AppDataSource(cluster.NpgsqlConnectionString(Bootstrap.AppRole, database)),
        NpgsqlDataSource.Create(cluster.NpgsqlConnectionString(Bootstrap.OwnerRole, database)),
        NpgsqlDataSource.Create(cluster.NpgsqlConnectionString(Bootstrap.ReaderRole, database)),
        cluster.NpgsqlConnectionString(EmbeddedCluster.SuperUser, "postgres"),
        cluster, null, database);

    /// <summary>
    /// The runtime's pool. Its connections carry no session state: the tenant is set with set_config(..., true) and every
    /// lock is transaction-scoped, so the seven-statement reset Npgsql runs when a connection returns to the pool is skipped
    /// (docs/performance.md). The owner pool keeps the reset: the migrator takes a session advisory lock.
    /// </summary>
    private static NpgsqlDataSource AppDataSource(string connectionString) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString);

    private static async Task GrantMembershipAsync(string superuser, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(superuser);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT current_user", conn);
        var me = (string)(await cmd.ExecuteScalarAsync(ct))!;
        await using var grant = new NpgsqlCommand($"GRANT selene_owner, selene_app, selene_reader TO \"{me.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", conn);
        await grant.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Drops every idle pooled connection (after the server restarted, they lead to a process that is gone).</summary>
    public void ClearPools()
    {
        App.Clear();
        Owner.Clear();
        Reader.Clear();
    }

    /// <summary>One round trip on the runtime's pool (<c>SELECT 1</c>): throws what the database throws when it cannot serve.</summary>
    public async Task PingAsync(CancellationToken ct)
    {
        await using var cmd = App.CreateCommand("SELECT 1");
        await cmd.ExecuteScalarAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Owner.DisposeAsync();
        await Reader.DisposeAsync();
        if (_lease is not null) await _lease.DisposeAsync();
    }
}

/// <summary>A transaction scoped to one tenant: row-level security sees only that tenant's rows.</summary>
public sealed class TenantTransaction : IAsyncDisposable
{
    private TenantTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenantId)
    {
        Connection = connection;
        Transaction = transaction;
        TenantId = tenantId;
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }
    public string TenantId { get; }

    public static async Task<TenantTransaction> BeginAsync(NpgsqlDataSource dataSource, string tenantId, CancellationToken ct = default,
        System.Data.IsolationLevel isolation = System.Data.IsolationLevel.ReadCommitted)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var tx = await conn.BeginTransactionAsync(isolation, ct);
            await using var cmd = new NpgsqlCommand(SetTenantSql, conn, tx);
            cmd.Bind(tenantId);
            await cmd.ExecuteNonQueryAsync(ct);
            return new TenantTransaction(conn, tx, tenantId);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens the connection and the transaction without a round trip: the tenant's <c>set_config</c> and, when
    /// <paramref name="key"/> is not verified yet, the API key's check (<see cref="ApiKeyCheck"/>, for
    /// <paramref name="actorUserId"/>) are queued for the transaction's first batch, whose builder takes them with
    /// <see cref="TakePrelude"/> and reads them with <see cref="ReadPreludeAsync"/> (docs/performance.md: one round trip
    /// for the tenant, the key and the turn's first reads). Until then <see cref="Command"/> and the deferred queue refuse to run.
    /// </summary>
    public static async Task<TenantTransaction> OpenAsync(NpgsqlDataSource dataSource, string tenantId, string actorUserId, ApiKeyCheck? key, CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            // Npgsql sends BEGIN with the first statement: no round trip here.
            var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
            var opened = new TenantTransaction(conn, tx, tenantId);
            opened._prelude.Add(new NpgsqlBatchCommand(SetTenantSql).Bind(tenantId));
            if (key is { Verified: false })
            {
                opened._keyCheck = key;
                opened._prelude.Add(key.Command(tenantId, actorUserId));
            }
            return opened;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private const string SetTenantSql = "SELECT set_config('selene.tenant_id', $1, true)";
    private readonly List<NpgsqlBatchCommand> _prelude = [];
    private ApiKeyCheck? _keyCheck;

    /// <summary>
    /// Puts what <see cref="OpenAsync"/> queued at the front of <paramref name="batch"/> (the transaction's first batch);
    /// returns how many result sets <see cref="ReadPreludeAsync"/> must read first (0 when nothing was queued).
    /// </summary>
    public int TakePrelude(NpgsqlBatch batch)
    {
        var taken = _prelude.ToArray();
        _prelude.Clear();
        for (var i = 0; i < taken.Length; i++) batch.BatchCommands.Insert(i, taken[i]);
        return taken.Length;
    }

    /// <summary>
    /// Reads the <paramref name="count"/> result sets of the prelude and moves <paramref name="reader"/> to the first result
    /// set after them; throws <see cref="ApiKeyRejectedException"/> when the key check found no row (the caller's key was
    /// revoked since the edge accepted it: nothing of the transaction may commit).
    /// </summary>
    public async Task ReadPreludeAsync(NpgsqlDataReader reader, int count, CancellationToken ct)
    {
        // The prelude is the tenant's set_config, then (when queued) the key check: only the second result set is read.
        for (var i = 0; i < count; i++)
        {
            if (i == 1)
            {
                if (!await reader.ReadAsync(ct)) throw new ApiKeyRejectedException();
                _keyCheck!.Passed();
            }
            await reader.NextResultAsync(ct);
        }
    }

    private void EnsureNoPrelude()
    {
        if (_prelude.Count > 0)
            throw new InvalidOperationException("the transaction's tenant and key check have not been sent: its first batch must take them (TakePrelude)");
    }

    public NpgsqlCommand Command(string sql)
    {
        EnsureNoPrelude();
        return new(sql, Connection, Transaction);
    }

    private readonly List<(NpgsqlBatchCommand Command, int? ExpectedRows, string What)> _deferred = [];

    /// <summary>
    /// Queues a write whose answer nothing in the transaction reads (docs/performance.md: fewer round trips). It
    /// is sent in the next batch that takes the queue (the journal append's) or in one batch just before commit;
    /// disposing without commit drops it with the rest of the transaction. When <paramref name="expectedRows"/> is
    /// given, a different row count fails the transaction at that batch, naming <paramref name="what"/>.
    /// </summary>
    public void Defer(NpgsqlBatchCommand command, string what, int? expectedRows = null)
    {
        if (_commitSent) throw new InvalidOperationException($"{what}: the transaction already committed with its last batch");
        _deferred.Add((command, expectedRows, what));
    }

    private bool _commitWithLastBatch, _commitSent;

    /// <summary>
    /// Ends the transaction with its next journal append (<see cref="Stores.JournalStore.AppendAsync"/>): that batch carries
    /// <c>COMMIT</c> after its writes, so the chain head it locks is held for that one round trip and the commit's flush, and
    /// the commit costs no round trip of its own (docs/performance.md, issue 14). The batch's success is the commit's: a
    /// failure of any statement in it, the commit's included, rolls the whole transaction back. <see cref="CommitAsync"/>
    /// afterwards only confirms it (or commits on its own when no append ran); nothing may be written after that append.
    /// </summary>
    public void CommitWithJournal() => _commitWithLastBatch = true;

    /// <summary>True when the next journal append ends the transaction (<see cref="CommitWithJournal"/>).</summary>
    internal bool CommitsWithJournal => _commitWithLastBatch;

    /// <summary>Appends <c>COMMIT</c> to <paramref name="batch"/>, the last batch of a transaction that <see cref="CommitWithJournal"/> asked for it.</summary>
    internal void TakeCommit(NpgsqlBatch batch)
    {
        if (_ledgerWrites.Count > 0)
            throw new InvalidOperationException($"ledger rows {string.Join(' ', _ledgerWrites.Select(w => w.Ref))} would commit unbound");
        _commitWithLastBatch = false;
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
    }

    /// <summary>The batch that <see cref="TakeCommit"/> ended ran: the transaction is committed.</summary>
    internal void CommitSent() => _commitSent = true;

    /// <summary>
    /// Moves the queued writes to the front of <paramref name="batch"/>; check them with <see cref="CheckDeferred"/> after it ran.
    /// With <paramref name="checkInBatch"/> (the batch commits: <see cref="CommitWithJournal"/>) each expected row count is
    /// checked by the database instead, inside the batch and before its COMMIT: the write is wrapped so that another count
    /// fails its statement (a text that is no boolean, cast to boolean), which aborts the batch and the transaction with it;
    /// <see cref="DeferredCheckFailure"/> names the write.
    /// </summary>
    public IReadOnlyList<(NpgsqlBatchCommand Command, int? ExpectedRows, string What)> TakeDeferred(NpgsqlBatch batch, bool checkInBatch = false)
    {
        EnsureNoPrelude();
        var taken = _deferred.ToArray();
        _deferred.Clear();
        if (checkInBatch)
        {
            for (var i = 0; i < taken.Length; i++)
            {
                if (taken[i].ExpectedRows is not { } rows) continue;
                var command = taken[i].Command;
                var next = command.Parameters.Count + 1;
                command.CommandText = $"WITH written AS ({command.CommandText.TrimEnd()} RETURNING 1) SELECT CASE WHEN count(*) = ${next} THEN true " +
                    $"ELSE ('{CheckedWrite} {_checkedInBatch.Count} touched ' || count(*) || ' row(s)')::boolean END FROM written";
                command.Parameters.Add(new NpgsqlParameter { Value = (long)rows, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
                _checkedInBatch.Add((rows, taken[i].What));
                taken[i] = (command, null, taken[i].What);
            }
        }
        for (var i = 0; i < taken.Length; i++) batch.BatchCommands.Insert(i, taken[i].Command);
        return taken;
    }

    private const string CheckedWrite = "selene deferred write";
    private readonly List<(int Rows, string What)> _checkedInBatch = [];

    /// <summary>
    /// The failure to report when a batch failed at a write whose row count it checked (<see cref="TakeDeferred"/> with
    /// checkInBatch): the same error as <see cref="CheckDeferred"/>'s; null for any other failure.
    /// </summary>
    public Exception? DeferredCheckFailure(PostgresException failure)
    {
        if (failure.SqlState != PostgresErrorCodes.InvalidTextRepresentation) return null;
        var match = System.Text.RegularExpressions.Regex.Match(failure.MessageText, CheckedWrite + @" (\d+) touched (\d+) row");
        if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture, out var index) ||
            index >= _checkedInBatch.Count) return null;
        var (rows, what) = _checkedInBatch[index];
        return new InvalidOperationException($"{what}: expected {rows} row(s), touched {match.Groups[2].Value}", failure);
    }

    /// <summary>Fails when a deferred write touched another number of rows than it expected.</summary>
    public static void CheckDeferred(IReadOnlyList<(NpgsqlBatchCommand Command, int? ExpectedRows, string What)> ran)
    {
        foreach (var (command, expected, what) in ran)
        {
            if (expected is { } rows && command.RecordsAffected != rows)
                throw new InvalidOperationException($"{what}: expected {rows} row(s), touched {command.RecordsAffected}");
        }
    }

    /// <summary>Sends the queued writes now (one round trip; none when the queue is empty).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_deferred.Count == 0) return;
        await using var batch = new NpgsqlBatch(Connection, Transaction);
        var ran = TakeDeferred(batch);
        await batch.ExecuteNonQueryAsync(ct);
        CheckDeferred(ran);
    }

    /// <summary>Serializes writers of one entity of this tenant until the transaction ends (<see cref="EntityLock"/>).</summary>
    public async Task LockEntityAsync(string kind, string id, CancellationToken ct)
    {
        await using var cmd = Command(EntityLockSql).Bind(kind, TenantId, id);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The one advisory-lock key scheme: a transaction-scoped lock on <c>&lt;kind&gt;:&lt;tenant key&gt;:&lt;id&gt;</c>. An
    /// engine stream's kind is its store's name and its id the stream id (<see cref="Stores.EngineStore"/>); other kinds
    /// (<c>access</c> for a user's access, <c>os_utility_review</c>) are names no store takes.
    /// </summary>
    internal static NpgsqlBatchCommand EntityLock(string kind, string tenantKey, string id) => new NpgsqlBatchCommand(EntityLockSql).Bind(kind, tenantKey, id);

    private const string EntityLockSql = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2 || ':' || $3, 0))";

    private readonly Dictionary<string, Stores.ProjectionRow?> _loaded = new(StringComparer.Ordinal);

    /// <summary>A stream row loaded under its lock by an earlier batch, for its first <see cref="Stores.EngineStore.LockAndLoadAsync"/>.</summary>
    internal void Loaded(string lockKey, Stores.ProjectionRow? row) => _loaded[lockKey] = row;

    /// <summary>Takes (once) the row <see cref="Loaded"/> kept for <paramref name="lockKey"/>.</summary>
    internal bool TryTakeLoaded(string lockKey, out Stores.ProjectionRow? row) => _loaded.Remove(lockKey, out row);

    private readonly List<(LedgerRef Ref, string RowHash)> _ledgerWrites = [];
    private bool _journaled;

    /// <summary>Remembers an engine ledger row this transaction wrote, for the journal entry that binds it (<see cref="LedgerBinding"/>).</summary>
    internal void LedgerWritten(string store, long eventId, string rowHash) => _ledgerWrites.Add((LedgerRef.Of(store, eventId, rowHash), rowHash));

    /// <summary>
    /// The ledger rows written since the last journal append, for the append that is about to bind them
    /// (<see cref="Stores.JournalStore"/>): their refs and digest, or nulls when there are none.
    /// </summary>
    internal (string? Refs, string? Digest) TakeLedgerBinding()
    {
        _journaled = true;
        if (_ledgerWrites.Count == 0) return (null, null);
        var binding = (LedgerBinding.Refs(_ledgerWrites.Select(w => w.Ref)), LedgerBinding.Digest(_ledgerWrites.Select(w => w.RowHash)));
        _ledgerWrites.Clear();
        return binding;
    }

    /// <summary>
    /// Sends what is still queued (<see cref="Defer"/>), then commits. A transaction that journals binds every ledger row
    /// it wrote: rows written after its last journal append would be bound by no entry, so that is a bug, refused here.
    /// </summary>
    public async Task CommitAsync(CancellationToken ct = default)
    {
        if (_commitSent)
        {
            if (_deferred.Count > 0 || _ledgerWrites.Count > 0) throw new InvalidOperationException("writes after the batch that committed the transaction");
            return;
        }
        // Asked to commit with a journal append that had nothing to append: commit on its own.
        _commitWithLastBatch = false;
        if (_journaled && _ledgerWrites.Count > 0)
            throw new InvalidOperationException($"ledger rows {string.Join(' ', _ledgerWrites.Select(w => w.Ref))} were written after the " +
                "transaction's last journal append: no entry binds them");
        await FlushAsync(ct);
        await Transaction.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
