using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres;

/// <summary>What to do about a database failure.</summary>
public enum StorageFailureKind
{
    /// <summary>The transaction lost a race (serialization failure, deadlock, a concurrent insert): run it again from the start.</summary>
    Retry,
    /// <summary>An idempotency backstop saw the key before: the request is a duplicate (409).</summary>
    Duplicate,
    /// <summary>The database cannot serve now (connection lost or refused, shutting down, out of resources): 503, retry later.</summary>
    Unavailable,
    /// <summary>The database's own checks refused a value (bad encoding, too long, a CHECK): 400.</summary>
    InvalidInput,
    /// <summary>Row-level security or a grant refused the statement: 403.</summary>
    Forbidden,
    /// <summary>An append-only trigger refused a change (SQLSTATE SE001): 409.</summary>
    AppendOnly,
}

/// <summary>A classified database failure: the kind, its reason code, a caller-safe detail and the SQLSTATE (or the exception's type).</summary>
public sealed record StorageFailure(StorageFailureKind Kind, ReasonCode Reason, string Detail, string Code);

/// <summary>
/// The one classifier of database failures, applied where storage meets the runtime and the HTTP edge. Known
/// SQLSTATEs and Npgsql's own transient failures get a kind and a reason code, so none of them becomes a 500;
/// only what is unknown is left to the caller's last-resort handler (null). A unique violation is a duplicate when
/// the violated constraint is an idempotency backstop (its name contains "idempotency"), otherwise a lost race; a CHECK
/// whose name ends in "_retry" is a lost race too.
/// </summary>
public static class StorageFailures
{
    public static StorageFailure? Classify(Exception exception)
    {
        switch (exception)
        {
            case PostgresException pg:
                return pg.SqlState switch
                {
                    PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected =>
                        Failure(StorageFailureKind.Retry, ReasonCodes.StorageSerializationRetry, "a concurrent change won; retry", pg),
                    PostgresErrorCodes.UniqueViolation when pg.ConstraintName?.Contains("idempotency", StringComparison.Ordinal) == true =>
                        Failure(StorageFailureKind.Duplicate, ReasonCodes.IdempotencyKeyReused, "this idempotency key was already used", pg),
                    PostgresErrorCodes.UniqueViolation =>
                        Failure(StorageFailureKind.Retry, ReasonCodes.StorageSerializationRetry, "a concurrent change won; retry", pg),
                    // A CHECK named *_retry is a backstop against a race the transaction's own read lost (a quota's last unit).
                    PostgresErrorCodes.CheckViolation when pg.ConstraintName?.EndsWith("_retry", StringComparison.Ordinal) == true =>
                        Failure(StorageFailureKind.Retry, ReasonCodes.StorageSerializationRetry, "a concurrent change won; retry", pg),
                    "SE001" => Failure(StorageFailureKind.AppendOnly, ReasonCodes.StorageAppendOnlyViolation, "recorded history cannot be changed", pg),
                    PostgresErrorCodes.InsufficientPrivilege =>
                        Failure(StorageFailureKind.Forbidden, ReasonCodes.StorageTenantScopeViolation, "the row is outside the caller's tenant", pg),
                    { } s when s.StartsWith("22", StringComparison.Ordinal) || s is PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation =>
                        Failure(StorageFailureKind.InvalidInput, ReasonCodes.InputFieldInvalid, "a value was refused by the database's checks", pg),
                    { } s when pg.IsTransient || s.StartsWith("08", StringComparison.Ordinal) || s.StartsWith("53", StringComparison.Ordinal) ||
                               s.StartsWith("57", StringComparison.Ordinal) =>
                        Failure(StorageFailureKind.Unavailable, ReasonCodes.StorageUnavailable, "the database is unavailable; retry later", pg),
                    _ => null,
                };
            case NpgsqlException npgsql:
                // Not a server answer: the connection could not be opened, broke or timed out.
                return new StorageFailure(StorageFailureKind.Unavailable, ReasonCodes.StorageUnavailable, "the database is unavailable; retry later",
                    (npgsql.InnerException ?? npgsql).GetType().Name);
            case TimeoutException or System.Net.Sockets.SocketException:
                return new StorageFailure(StorageFailureKind.Unavailable, ReasonCodes.StorageUnavailable, "the database is unavailable; retry later",
                    exception.GetType().Name);
            default:
                return null;
        }
    }

    private static StorageFailure Failure(StorageFailureKind kind, ReasonCode reason, string detail, PostgresException pg) =>
        new(kind, reason, detail, pg.SqlState);
}
