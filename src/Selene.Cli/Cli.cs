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

    /// <summary>
    /// The delivery providers of this process: the <c>deliveries</c> section of <paramref name="configPath"/>, or the file
    /// sink under the data directory with nothing configured. False, with what is wrong, for a file that cannot be used.
    /// </summary>
    public static bool TryDeliveries(string? configPath, string? dataDirOption, out Selene.Runtime.Delivery.DeliveryProviders? providers, out string problem)
    {
        problem = "";
        try
        {
            providers = configPath is null
                ? Selene.Runtime.Delivery.DeliveryProviders.FileSinkOnly(DataDir(dataDirOption))
                : Selene.Runtime.Delivery.DeliveryProviders.Load(configPath, DataDir(dataDirOption));
            return true;
        }
        catch (Selene.Runtime.Delivery.DeliveryConfigException ex)
        {
            (providers, problem) = (null, ex.Message);
            return false;
        }
    }

    public static string Describe(SeleneDatabase db) =>
        db.Cluster is null ? "database: SELENE_DB" : $"embedded PostgreSQL in {db.Cluster.DataDir}";

    public static int Fail(ReasonCode reason, string message)
    {
        Console.Error.WriteLine($"selene: {reason.Name}: {message}");
        return 2;
    }
}
