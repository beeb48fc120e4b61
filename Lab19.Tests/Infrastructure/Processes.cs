// Processes: the one way tests run a command to its end (timeout, output captured) or start a long-running process.
using System.Diagnostics;

namespace Lab19.Tests.Infrastructure;

/// <summary>How a command ended and what it printed.</summary>
internal sealed record ProcessResult(int ExitCode, string Output, string Error);

internal static class Processes
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Runs <paramref name="file"/> to its end and returns how it ended, whatever its exit code. A command still running after
    /// <paramref name="timeout"/> (or when <paramref name="cancellationToken"/> fires) is killed with its children, then a
    /// <see cref="TimeoutException"/> (or the cancellation) is thrown.
    /// </summary>
    public static async Task<ProcessResult> ExecAsync(string file, IReadOnlyList<string> args, string? workingDirectory = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default, IDictionary<string, string?>? environment = null)
    {
        var psi = StartInfo(file, args);
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        if (environment is not null)
        {
            psi.Environment.Clear();
            foreach (var (key, value) in environment) psi.Environment[key] = value;
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var limit = timeout ?? DefaultTimeout;
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            if (e is OperationCanceledException) throw;
            throw new TimeoutException($"{Describe(file, args)} did not finish within {limit} and was killed");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <paramref name="file"/> and returns its standard output; a non-zero exit throws with what it printed.</summary>
    public static async Task<string> RunAsync(string file, params string[] args) => Succeeded(file, args, await ExecAsync(file, args));

    /// <summary>As <see cref="RunAsync(string, string[])"/>, in <paramref name="workingDirectory"/> with its own timeout.</summary>
    public static async Task<string> RunInAsync(string workingDirectory, TimeSpan timeout, string file, params string[] args) =>
        Succeeded(file, args, await ExecAsync(file, args, workingDirectory, timeout));

    /// <summary>Starts a long-running process; each line it prints goes to <paramref name="onLine"/>.</summary>
    public static Process Start(ProcessStartInfo psi, Action<string> onLine)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Starts a long-running server process, its output kept in <paramref name="logFile"/> for when it fails.</summary>
    public static Process Start(string file, string logFile, params string[] args)
    {
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        return Start(StartInfo(file, args), line => { lock (log) log.WriteLine(line); });
    }

    /// <summary>SIGTERM to <paramref name="process"/>, as a process manager stops a server.</summary>
    public static Task TerminateAsync(Process process) =>
        RunAsync("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static ProcessStartInfo StartInfo(string file, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        return psi;
    }

    private static string Succeeded(string file, IReadOnlyList<string> args, ProcessResult result) =>
        result.ExitCode == 0
            ? result.Output
            : throw new InvalidOperationException($"{Describe(file, args)} exited with {result.ExitCode}: {result.Error}{result.Output}");

    private static string Describe(string file, IReadOnlyList<string> args) => $"{file} {string.Join(' ', args)}";

    /// <summary>The processes whose parent is <paramref name="parent"/> (Linux: /proc).</summary>
    public static IEnumerable<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == parent)
            .ToList();

    private static int? ParentOf(int pid)
    {
        try
        {
            // /proc/<pid>/stat: "pid (comm) state ppid ...", where comm may itself contain spaces and parentheses
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
        }
        catch (IOException)
        {
            return null; // the process ended while the list was read
        }
    }
}
