using System.ComponentModel;
using System.Diagnostics;

namespace Lab19.AppHost;

/// <summary>Where the preflight reads its facts: <see cref="HostProbe"/> reads this host, tests pass fakes.</summary>
internal interface IHostProbe
{
    bool IsLinux { get; }

    bool IsMacOS { get; }

    /// <summary>Whether the AppHost runs as root (PostgreSQL then needs another account to run as).</summary>
    bool IsRoot { get; }

    /// <summary>Whether a file or directory exists (it may still be unreadable).</summary>
    bool Exists(string path);

    /// <summary>The file's text, or null when it is missing or cannot be read.</summary>
    string? ReadText(string path);

    /// <summary>The directories directly inside <paramref name="path"/> (none when it is missing or unreadable).</summary>
    IReadOnlyList<string> ListDirectories(string path);

    /// <summary>An environment variable of the AppHost's process (PATH, for example).</summary>
    string? GetEnvironmentVariable(string name);

    /// <summary>Runs a command to completion; a command that cannot start or outlives <paramref name="timeout"/> gives exit code -1.</summary>
    Task<CommandResult> RunAsync(string command, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken);
}

internal sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>The real host.</summary>
internal sealed class HostProbe : IHostProbe
{
    public bool IsLinux => OperatingSystem.IsLinux();

    public bool IsMacOS => OperatingSystem.IsMacOS();

    public bool IsRoot => Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows();

    public bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public IReadOnlyList<string> ListDirectories(string path)
    {
        try
        {
            return Directory.Exists(path) ? Directory.GetDirectories(path) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);

    public string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async Task<CommandResult> RunAsync(string command, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            return new CommandResult(-1, "", $"{command}: {e.Message}");
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                // Reaped before the answer: no process of the probe outlives it.
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
                return new CommandResult(-1, "", $"{command} {string.Join(' ', args)} did not answer within {timeout.TotalSeconds:0} s");
            }
            return new CommandResult(process.ExitCode, await stdout, await stderr);
        }
    }
}
