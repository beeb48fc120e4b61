// Docker: whether a Docker engine answers (a bounded probe that says why not), and docker commands that report success instead of throwing.
namespace Lab19.Tests.Infrastructure;

internal static class Docker
{
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Whether `docker info` answers with a server version within <see cref="ProbeTimeout"/>.</summary>
    public static bool IsAvailable() => WhyNotAvailable() is null;

    /// <summary>Null when `docker info` answers within <see cref="ProbeTimeout"/>; otherwise what went wrong, in the CLI's own words.</summary>
    public static string? WhyNotAvailable() => WhyNotAvailable(async ct =>
    {
        try
        {
            var info = await Processes.ExecAsync("docker", ["info", "--format", "{{.ServerVersion}}"], cancellationToken: ct);
            return info.ExitCode == 0 ? null : $"`docker info` exited with {info.ExitCode}: {(info.Error + info.Output).Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"the docker CLI cannot be run ({e.Message}): install Docker Engine (Debian: sudo apt-get install -y docker.io)";
        }
    }, ProbeTimeout);

    /// <summary>
    /// What <paramref name="probe"/> reports (null: available) within <paramref name="timeout"/>. A probe still running then counts as not
    /// available and is cancelled (a probe run through <see cref="Processes"/> has its process killed), never waited for.
    /// </summary>
    public static string? WhyNotAvailable(Func<CancellationToken, Task<string?>> probe, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource();
        var answer = probe(cancel.Token);
        if (answer.Wait(timeout)) return answer.Result;
        cancel.Cancel();
        return $"`docker info` did not answer within {timeout.TotalSeconds:0.#} s";
    }

    /// <summary>Whether `docker args` exits with 0 (false also where the docker CLI is missing or does not finish in time).</summary>
    public static async Task<bool> SucceedsAsync(params string[] args) => await TryAsync(args) is { ExitCode: 0 };

    /// <summary>How `docker args` ended, or null where the docker CLI is missing or does not finish within <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult?> TryAsync(string[] args, TimeSpan? timeout = null)
    {
        try
        {
            return await Processes.ExecAsync("docker", args, timeout: timeout);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return null;
        }
    }
}
