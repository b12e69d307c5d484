using System.Diagnostics;
using System.Text;

namespace Selene.Postgres.Embedded;

/// <summary>Runs a helper program to completion and captures what it printed.</summary>
internal static class ProcessRunner
{
    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken ct = default)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        // The server must not inherit a locale that initdb cannot use, nor our PG* client settings.
        info.Environment["LC_ALL"] = "C.UTF-8";
        info.Environment["LANG"] = "C.UTF-8";
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);

        using var process = new Process { StartInfo = info };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new EmbeddedClusterException($"{Path.GetFileName(fileName)} did not finish within {timeout.TotalSeconds:0} s");
        }
        process.WaitForExit(); // flush the asynchronous readers
        lock (output) return new Result(process.ExitCode, output.ToString());
    }
}
