// StandInImages: the official postgres and mysql images of the AppHost's container mode where the Docker engine has or can pull them, else
// stand-ins built from Debian's packages (StandInImages/build.sh) and tagged with the AppHost's image references.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// Makes the images of the AppHost's default mode available in the local Docker engine. An official image the engine has, or can pull, is
/// used as it is. Otherwise a stand-in, which is NOT the official image: a Debian 12 root file system made by mmdebstrap from Debian's own
/// packages (PostgreSQL 15; MariaDB 10.11 in place of MySQL) with an entrypoint (StandInImages/*-entrypoint.sh) that honours only the part
/// of the official image's contract the AppHost relies on, imported by StandInImages/build.sh as lab19/stand-in:&lt;kind&gt; and tagged here
/// with the AppHost's exact image reference, in the local engine only (nothing is pushed). A label holds a hash of build.sh and the
/// entrypoint: an unchanged stand-in is reused (also one .ci/run built ahead of the tests), a changed one rebuilt.
/// `docker rmi $(docker images -q --filter label=lab19.stand-in)` removes the stand-ins.
/// </summary>
internal static class StandInImages
{
    public const string KindLabel = "lab19.stand-in", HashLabel = "lab19.stand-in.hash", ServerLabel = "lab19.stand-in.server";

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim Gate = new(1, 1);

    private static string Folder => Path.Combine(AppContext.BaseDirectory, "StandInImages");

    private static string BuildScript => Path.Combine(Folder, "build.sh");

    /// <summary>An image of the AppHost's model: its full reference, its name (e.g. library/postgres), its container port and its data volume's mount target.</summary>
    public sealed record ModelImage(string Reference, string Name, int? Port, string? DataVolume);

    /// <summary>The images are there (<paramref name="Used"/>: each image and what it is), or why they cannot be had (<paramref name="Missing"/>).</summary>
    public sealed record Outcome(IReadOnlyList<string> Used, string? Missing);

    /// <summary>Makes each image of <paramref name="images"/> available: the official one where the engine has or can pull it, else a stand-in.</summary>
    public static async Task<Outcome> EnsureAsync(IReadOnlyList<ModelImage> images)
    {
        await Gate.WaitAsync();
        try
        {
            var used = new List<string>();
            var pending = new List<(ModelImage Image, string Kind, string Hash, string? Stale)>();
            var pullErrors = new List<string>();
            foreach (var image in images)
            {
                var kind = image.Name.Split('/')[^1]; // library/postgres: postgres
                if (!File.Exists(Path.Combine(Folder, $"{kind}-entrypoint.sh")))
                {
                    throw new InvalidOperationException($"{image.Reference}: Lab19 has no stand-in for the image {image.Name} (StandInImages/)");
                }
                var hash = Hash(kind);
                var existing = await InspectAsync(image.Reference);
                if (existing is { } official && official.Label(KindLabel) is null)
                {
                    used.Add($"{image.Reference}: the official image, present in the engine");
                    continue;
                }
                if (existing is { } current && current.Label(HashLabel) == hash)
                {
                    used.Add(Checked(image, current, "built earlier"));
                    continue;
                }
                if (existing is null)
                {
                    if (await PullAsync(image.Reference) is not { } pullError)
                    {
                        used.Add($"{image.Reference}: the official image, pulled");
                        continue;
                    }
                    pullErrors.Add(pullError);
                }
                pending.Add((image, kind, hash, existing?.Id));
            }
            if (pending.Count == 0) return new(used, null);

            // Stand-ins built earlier (by .ci/run, or for another tag) are found by their hash; the others are built now.
            var toBuild = new List<string>();
            foreach (var (_, kind, hash, _) in pending)
            {
                if (await StandInWithHashAsync(hash) is null) toBuild.Add(kind);
            }
            var clock = Stopwatch.StartNew();
            if (toBuild.Count > 0)
            {
                var wanted = pending.Where(p => toBuild.Contains(p.Kind)).Select(p => p.Image.Reference).ToList();
                var them = wanted.Count == 1 ? "it" : "them";
                var why = pullErrors.Count > 0 ? $"the engine cannot pull {them} ({pullErrors[0]})" : $"the stand-in{(wanted.Count == 1 ? " is" : "s are")} out of date";
                if (FindOnPath("mmdebstrap") is null)
                {
                    return new(used, $"Needs {string.Join(" and ", wanted)}: {why}. The test builds stand-ins for {them} from Debian's packages with " +
                        "Lab19.Tests/StandInImages/build.sh (about 2 minutes, once), which needs mmdebstrap: install it " +
                        "(Debian/Ubuntu: sudo apt-get install -y mmdebstrap) and run the test again, or pull the official images.");
                }
                var build = await Processes.ExecAsync("bash", [BuildScript, .. toBuild], timeout: BuildTimeout);
                if (build.ExitCode != 0)
                {
                    var output = string.Join('\n', (build.Error + build.Output).Trim().Split('\n').TakeLast(20));
                    return new(used, $"Needs {string.Join(" and ", wanted)}: {why}, and StandInImages/build.sh {string.Join(' ', toBuild)} exited with {build.ExitCode}: {output}");
                }
                used.AddRange(build.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => $"build.sh: {l}"));
            }
            foreach (var (image, kind, hash, stale) in pending)
            {
                var id = await StandInWithHashAsync(hash) ?? throw new InvalidOperationException($"StandInImages/build.sh {kind} made no image with the hash {hash}");
                await Processes.RunAsync("docker", "tag", id, image.Reference);
                if (stale is not null && stale != id) await Docker.TryAsync(["rmi", stale]); // a stopped container may still hold it
                var how = toBuild.Contains(kind) ? $"built now in {clock.Elapsed.TotalSeconds:F0} s" : "built earlier";
                used.Add(Checked(image, (await InspectAsync(image.Reference))!.Value, how));
            }
            return new(used, null);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// A hash of what makes a stand-in: build.sh and its entrypoint, as build.sh computes it
    /// (<c>cat build.sh KIND-entrypoint.sh | sha256sum | cut -c1-16</c>).
    /// </summary>
    private static string Hash(string kind) =>
        Convert.ToHexStringLower(SHA256.HashData([.. File.ReadAllBytes(BuildScript), .. File.ReadAllBytes(Path.Combine(Folder, $"{kind}-entrypoint.sh"))]))[..16];

    /// <summary>An image in the engine: its id and its configuration (labels, ports, volumes).</summary>
    private readonly record struct LocalImage(string Id, JsonElement Config)
    {
        public string? Label(string name) =>
            Config.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object && labels.TryGetProperty(name, out var value) ? value.GetString() : null;

        public bool Declares(string property, string key) =>
            Config.TryGetProperty(property, out var map) && map.ValueKind == JsonValueKind.Object && map.TryGetProperty(key, out _);
    }

    private static async Task<LocalImage?> InspectAsync(string reference)
    {
        var inspect = await Processes.ExecAsync("docker", ["image", "inspect", reference]);
        if (inspect.ExitCode != 0) return null;
        var image = JsonDocument.Parse(inspect.Output).RootElement[0];
        return new LocalImage(image.GetProperty("Id").GetString()!, image.GetProperty("Config").Clone());
    }

    /// <summary>The stand-in's line for the test's output, once its image is checked against the model's port and data volume.</summary>
    private static string Checked(ModelImage model, LocalImage standIn, string how)
    {
        if (model.Port is { } port && !standIn.Declares("ExposedPorts", $"{port}/tcp"))
        {
            throw new InvalidOperationException($"{model.Reference}: the AppHost uses the container port {port}, which the stand-in does not expose");
        }
        if (model.DataVolume is { } volume && !standIn.Declares("Volumes", volume))
        {
            throw new InvalidOperationException($"{model.Reference}: the AppHost mounts its data volume at {volume}, which is not the stand-in's data volume");
        }
        return $"{model.Reference}: Lab19's stand-in ({standIn.Label(ServerLabel)}, {standIn.Id[..19]}), {how}";
    }

    /// <summary>Null when `docker pull` fetched the official image; otherwise its error.</summary>
    private static async Task<string?> PullAsync(string reference)
    {
        var pull = await Docker.TryAsync(["pull", "--quiet", reference], PullTimeout);
        return pull switch
        {
            null => $"`docker pull {reference}` did not finish within {PullTimeout.TotalMinutes} min",
            { ExitCode: 0 } => null,
            _ => $"`docker pull {reference}`: {(pull.Error + pull.Output).Trim()}",
        };
    }

    private static async Task<string?> StandInWithHashAsync(string hash)
    {
        var ids = await Processes.RunAsync("docker", "images", "--quiet", "--no-trunc", "--filter", $"label={HashLabel}={hash}");
        return ids.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
    }

    private static string? FindOnPath(string file) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);
}
