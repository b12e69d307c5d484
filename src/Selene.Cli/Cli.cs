using Selene.Postgres;
using Selene.Postgres.Embedded;

namespace Selene.Cli;

/// <summary>What every command shares: where the data is, and how failures are printed.</summary>
internal static class Cli
{
    public static string? ExternalDatabase => Environment.GetEnvironmentVariable("SELENE_DB") is { Length: > 0 } s ? s : null;

    public static string DataDir(string? option) =>
        option ?? (Environment.GetEnvironmentVariable("SELENE_DATA_DIR") is { Length: > 0 } env ? env : EmbeddedCluster.DefaultDataDir());

    public static Task<SeleneDatabase> OpenAsync(string? dataDirOption, bool register, CancellationToken ct) =>
        SeleneDatabase.OpenAsync(new DatabaseOptions(ExternalDatabase, DataDir(dataDirOption), Register: register), ct);

    public static string Describe(SeleneDatabase db) =>
        db.Cluster is null ? "database: SELENE_DB" : $"embedded PostgreSQL in {db.Cluster.DataDir}";

    public static int Fail(ReasonCode reason, string message)
    {
        Console.Error.WriteLine($"selene: {reason.Name}: {message}");
        return 2;
    }
}
