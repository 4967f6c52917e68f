using System.Diagnostics;
using System.Text;

namespace Deisa.Processes.Tests.Fixtures;

/// <summary>
/// A program the test started, with its output captured. Disposing it kills it (and its
/// children) if it is still running, so a failed test leaves no process behind.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>A short name for messages ("rank 2", "analytics").</summary>
    public string Name { get; }

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/> in <paramref name="workingDirectory"/> with extra environment variables.</summary>
    public static ChildProcess Start(string name, string file, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        // A rank must not take its rank from an MPI launcher that started the tests.
        foreach (var k in new[] { "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMI_SIZE" })
            if (!environment.ContainsKey(k)) info.Environment.Remove(k);
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process, name);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, "");
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, "stderr: ");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Append(string? line, string prefix)
    {
        if (line is null) return;
        lock (_output) _output.Append(prefix).AppendLine(line);
    }

    /// <summary>Everything the program printed so far (standard error lines prefixed with "stderr: ").</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The program has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The lines of standard output so far.</summary>
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(l => !l.StartsWith("stderr: ", StringComparison.Ordinal)).ToArray();

    /// <summary>Waits for the program to end and returns its exit code; fails the test (killing it) after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not end within {timeout.TotalSeconds} s; its output:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits and asserts that the program succeeded.</summary>
    public async Task SucceedsAsync(TimeSpan timeout)
    {
        int code = await WaitAsync(timeout);
        Assert.True(code == 0, $"{Name} exited with {code}; its output:\n{Output}");
    }

    private void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
