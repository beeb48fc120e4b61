// ProbeImage: a local busybox image built with `docker import`, standing in for images that cannot be pulled in container-lifecycle tests.
namespace Lab19.Tests.Infrastructure;

/// <summary>
/// lab19/probe:local, a busybox image built on this machine with `docker import` (no registry needed), standing in for
/// images that cannot be pulled when a test only needs a container's lifecycle.
/// </summary>
internal static class ProbeImage
{
    public const string Name = "lab19/probe", Tag = "local";
    public const string Reference = $"{Name}:{Tag}";
    private const string Busybox = "/bin/busybox";

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Builds the image if missing; returns why it cannot be had (in the words of the command that failed), or null when it is ready.</summary>
    public static async Task<string?> EnsureAsync()
    {
        if (Docker.WhyNotAvailable() is { } noDocker) return $"Needs a Docker engine: {noDocker}";
        await Gate.WaitAsync();
        try
        {
            if (await Docker.SucceedsAsync("image", "inspect", Reference)) return null;
            if (!File.Exists(Busybox)) return $"Needs {Busybox} (Debian: sudo apt-get install -y busybox-static) to build {Reference}.";
            // Debian's dynamically linked busybox cannot run in an image without a C library; ldd fails on a static executable.
            var ldd = await Processes.ExecAsync("ldd", [Busybox]);
            if (ldd.ExitCode == 0) return $"{Busybox} is dynamically linked, so it cannot run in an image of its own: install busybox-static. ldd: {ldd.Output.Trim()}";

            var root = Directory.CreateTempSubdirectory("lab19-probe-").FullName;
            try
            {
                Directory.CreateDirectory(Path.Combine(root, "bin"));
                Directory.CreateDirectory(Path.Combine(root, "tmp"));
                File.Copy(Busybox, Path.Combine(root, "bin", "busybox"));
                foreach (var applet in (await Processes.RunAsync(Busybox, "--list")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (applet != "busybox") File.CreateSymbolicLink(Path.Combine(root, "bin", applet), "busybox");
                }
                await Processes.RunAsync("/bin/sh", "-c", $"tar -C '{root}' -c . | docker import - {Reference}");
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
            var run = await Processes.ExecAsync("docker", ["run", "--rm", Reference, "/bin/true"]);
            if (run.ExitCode == 0) return null;
            await Docker.SucceedsAsync("rmi", Reference);
            return $"`docker run --rm {Reference} /bin/true` exited with {run.ExitCode}: {(run.Error + run.Output).Trim()}";
        }
        finally
        {
            Gate.Release();
        }
    }
}
