using Npgsql;
using OpenTelemetry.Trace;

namespace Selene.Postgres;

/// <summary>
/// The database's part of a host's traces (docs/observability.md): Npgsql's span per command, under the turn's span. Here
/// rather than in the server, so that Npgsql stays inside Selene.Postgres (the server touches no SQL).
/// </summary>
public static class DatabaseTelemetry
{
    /// <summary>Adds Npgsql's activity source to the tracer provider.</summary>
    public static TracerProviderBuilder AddSeleneDatabase(this TracerProviderBuilder tracing) => tracing.AddNpgsql();
}
