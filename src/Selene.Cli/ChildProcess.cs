using System.Diagnostics;
using System.Text;

namespace Selene.Cli.Processes;

/// <summary>The outcome of one finished child process.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// Child processes: <c>dotnet selene.dll …</c>, psql and kill, for <c>selene chaos</c> (which runs and SIGKILLs a real
/// <c>selene serve</c>) and the end-to-end tests. The environment is scrubbed of SELENE_DB, SELENE_DATA_DIR and PG* so
/// that nothing outside the given data directory is reached.
/// </summary>
public static class ChildProcess
{
    /// <summary>The dotnet host that runs this process (the one `dotnet test` or `dotnet run` names), else the one on PATH.</summary>
    public static string DotnetHost { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    /// <summary>selene.dll: this program's own assembly, or the copy next to a test assembly that references the project.</summary>
    public static string SeleneDll { get; } = Path.Combine(AppContext.BaseDirectory, "selene.dll");

    /// <summary>How to start <c>selene</c>: its apphost when this process is one, else the dotnet host with selene.dll.</summary>
    public static (string FileName, IReadOnlyList<string> Prefix) Selene { get; } =
        Environment.ProcessPath is { } path && Path.GetFileName(path) == "selene" && File.Exists(path) ? (path, []) : (DotnetHost, [SeleneDll]);

    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in arguments) psi.ArgumentList.Add(argument);
        var scrubbed = psi.Environment.Keys
            .Where(k => k.StartsWith("PG", StringComparison.Ordinal) || k is "SELENE_DB" or "SELENE_DATA_DIR")
            .ToList();
        foreach (var name in scrubbed) psi.Environment.Remove(name);
        return psi;
    }

    /// <summary>Runs a program to completion within <paramref name="timeout"/>; kills it and throws when it overruns.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        using var process = Process.Start(StartInfo(fileName, arguments))
            ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>dotnet selene.dll --data-dir DIR args…</c>.</summary>
    public static Task<ProcessResult> SeleneAsync(string dataDir, params string[] args) =>
        RunAsync(DotnetHost, [SeleneDll, "--data-dir", dataDir, .. args], TimeSpan.FromSeconds(90));

    /// <summary>Sends SIGTERM (a graceful stop; Process.Kill would be SIGKILL).</summary>
    public static async Task TerminateAsync(Process process)
    {
        var kill = File.Exists("/bin/kill") ? "/bin/kill" : "kill";
        var result = await RunAsync(kill, ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        if (result.ExitCode != 0 && !process.HasExited)
            throw new InvalidOperationException($"kill -TERM {process.Id} failed: {result}");
    }
}

/// <summary>A long-running child process whose output is collected for diagnostics.</summary>
public sealed class RunningProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _awaited = [];

    private RunningProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public static RunningProcess Start(string fileName, IEnumerable<string> arguments)
    {
        var process = new Process { StartInfo = ChildProcess.StartInfo(fileName, arguments) };
        var running = new RunningProcess(process);
        process.OutputDataReceived += (_, e) => running.Append(e.Data);
        process.ErrorDataReceived += (_, e) => running.Append(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"could not start {fileName}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>SIGTERM, then wait; true when the process exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (Process.HasExited) return true;
        await ChildProcess.TerminateAsync(Process);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
            return false;
        }
    }

    /// <summary>Completes when the output holds <paramref name="text"/>; fails after <paramref name="timeout"/> or when the process exits first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal)) return;
            _awaited.Add((text, seen));
        }
        var exited = Process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited).WaitAsync(timeout);
        if (first != seen.Task) throw new InvalidOperationException($"the process exited before printing '{text}':\n{Output}");
    }

    public void Dispose() => Process.Dispose();

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            var all = _output.ToString();
            foreach (var (text, seen) in _awaited.Where(a => all.Contains(a.Text, StringComparison.Ordinal)).ToArray())
            {
                seen.TrySetResult();
                _awaited.Remove((text, seen));
            }
        }
    }
}
