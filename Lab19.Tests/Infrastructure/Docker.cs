// Docker: whether a Docker engine answers (a bounded probe), and docker commands that report success instead of throwing.
namespace Lab19.Tests.Infrastructure;

internal static class Docker
{
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Whether `docker info` answers with a server version within <see cref="ProbeTimeout"/>.</summary>
    public static bool IsAvailable() =>
        IsAvailable(ct => SucceedsAsync(ct, "info", "--format", "{{.ServerVersion}}"), ProbeTimeout);

    /// <summary>
    /// Whether <paramref name="probe"/> reports success within <paramref name="timeout"/>. A probe still running then counts as
    /// not available and is cancelled (a probe run through <see cref="Processes"/> has its process killed), never waited for.
    /// </summary>
    public static bool IsAvailable(Func<CancellationToken, Task<bool>> probe, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource();
        var answer = probe(cancel.Token);
        var finished = answer.Wait(timeout);
        if (!finished) cancel.Cancel();
        return finished && answer.Result;
    }

    /// <summary>Whether `docker args` exits with 0 (false also where the docker CLI is missing or does not finish in time).</summary>
    public static Task<bool> SucceedsAsync(params string[] args) => SucceedsAsync(CancellationToken.None, args);

    private static async Task<bool> SucceedsAsync(CancellationToken cancellationToken, params string[] args)
    {
        try
        {
            return (await Processes.ExecAsync("docker", args, cancellationToken: cancellationToken)).ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Whether the engine has <paramref name="image"/> or can pull it (no registry may be reachable).</summary>
    public static async Task<bool> HasOrCanPullAsync(string image) =>
        await SucceedsAsync("image", "inspect", image) || await SucceedsAsync("pull", "--quiet", image);
}
