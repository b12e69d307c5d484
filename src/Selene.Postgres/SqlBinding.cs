using Npgsql;

namespace Selene.Postgres;

/// <summary>
/// The one parameter-binding idiom of the stores: positional <c>$n</c> parameters bound in order with
/// <c>cmd.Bind(a, b, c)</c>. A null binds as SQL NULL of no declared type, so PostgreSQL takes the type from the
/// statement (a column, or a cast such as <c>$n::text IS NULL</c>).
/// </summary>
internal static class SqlBinding
{
    public static NpgsqlCommand Bind(this NpgsqlCommand cmd, params object?[] values)
    {
        AddTo(cmd.Parameters, values);
        return cmd;
    }

    public static NpgsqlBatchCommand Bind(this NpgsqlBatchCommand cmd, params object?[] values)
    {
        AddTo(cmd.Parameters, values);
        return cmd;
    }

    private static void AddTo(NpgsqlParameterCollection parameters, object?[] values)
    {
        foreach (var v in values) parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
    }
}
