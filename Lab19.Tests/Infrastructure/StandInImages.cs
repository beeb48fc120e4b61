// StandInImages: stand-ins for the official postgres and mysql images of the AppHost's container mode, built from Debian's packages where
// the Docker engine cannot pull the official ones.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// Stand-ins for the official postgres and mysql images that the AppHost's default mode runs, for Docker engines that cannot pull them.
/// They are not the official images: each is a Debian 12 root file system made by mmdebstrap from Debian's own packages (PostgreSQL 15;
/// MariaDB 10.11 in place of MySQL), plus an entrypoint script (StandInImages/*.sh) that honours only the part of the official image's
/// contract the AppHost relies on, imported with `docker import` and tagged with the AppHost's exact image reference in the local engine
/// only (nothing is pushed). A label holds a hash of the recipe and the script: an unchanged stand-in is reused, a changed one rebuilt.
/// An official image the engine has, or can pull, is always used instead. `docker rmi $(docker images -q --filter label=lab19.stand-in)`
/// removes the stand-ins.
/// </summary>
internal static class StandInImages
{
    public const string KindLabel = "lab19.stand-in", HashLabel = "lab19.stand-in.hash";

    private const string Entrypoint = "/usr/local/bin/docker-entrypoint.sh";
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>
    /// mmdebstrap's arguments for every stand-in: Debian 12 with its updates, only the Essential packages plus the recipe's, no recommended
    /// packages, no documentation.
    /// </summary>
    private static readonly string[] Bootstrap =
    [
        "--quiet", "--variant=essential", "--aptopt=Apt::Install-Recommends \"false\"",
        "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
    ];

    private const string Suite = "bookworm";

    private static readonly string[] Sources =
    [
        "deb http://deb.debian.org/debian bookworm main",
        "deb http://deb.debian.org/debian bookworm-updates main",
        "deb http://deb.debian.org/debian-security bookworm-security main",
    ];

    /// <summary>How one stand-in is made.</summary>
    /// <param name="OfficialImage">The official image it stands in for (the model's image name, without registry and tag).</param>
    /// <param name="Server">What runs in it, for the test's output.</param>
    /// <param name="Packages">Debian packages on top of the Essential set.</param>
    /// <param name="Port">The official image's port.</param>
    /// <param name="DataVolume">The official image's data volume: where the entrypoint keeps the data.</param>
    /// <param name="Script">The entrypoint (under StandInImages/).</param>
    /// <param name="Hooks">Shell commands run on the finished root file system ($1).</param>
    /// <param name="Changes">Image settings beyond the entrypoint, port, volume and labels (`docker import --change`).</param>
    private sealed record Recipe(string OfficialImage, string Server, string Packages, int Port, string DataVolume, string Script, string[] Hooks, string[] Changes);

    private static readonly Recipe[] Recipes =
    [
        new("library/postgres", "PostgreSQL 15 from Debian's postgresql-15", "postgresql-15", 5432, "/var/lib/postgresql", "postgres-entrypoint.sh",
            // Debian's package makes a cluster of its own (15/main); the entrypoint makes the image's on the volume.
            Hooks: ["rm -rf \"$1/var/lib/postgresql/15\" \"$1/etc/postgresql/15\""],
            Changes:
            [
                "CMD [\"postgres\"]", "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                // The official image's layout since PostgreSQL 18: the volume at /var/lib/postgresql, the cluster in <major>/docker.
                "ENV PGDATA=/var/lib/postgresql/15/docker", "ENV LANG=C.UTF-8",
            ]),
        new("library/mysql", "MariaDB 10.11 from Debian's mariadb-server-core, in place of MySQL", "mariadb-server-core,mariadb-client-core", 3306, "/var/lib/mysql", "mysql-entrypoint.sh",
            // The mysql account (uid 999, as in the official image), which Debian's server package would create and its core packages do not.
            Hooks: ["echo 'mysql:x:999:999:MariaDB server:/nonexistent:/usr/sbin/nologin' >> \"$1/etc/passwd\" && echo 'mysql:x:999:' >> \"$1/etc/group\""],
            Changes: ["CMD [\"mysqld\"]"]),
    ];

    /// <summary>An image of the AppHost's model: its full reference, its name (e.g. library/postgres), its container port and its data volume's mount target.</summary>
    public sealed record ModelImage(string Reference, string Name, int? Port, string? DataVolume);

    /// <summary>The images are there (<paramref name="Used"/>: each image and what it is), or why they cannot be had (<paramref name="Missing"/>).</summary>
    public sealed record Outcome(IReadOnlyList<string> Used, string? Missing);

    /// <summary>
    /// Makes each image of <paramref name="images"/> available in the local engine: the official image where the engine has it or can pull it,
    /// else a stand-in, reused when its recipe and script are unchanged and built otherwise (about a minute, the two in parallel).
    /// </summary>
    public static async Task<Outcome> EnsureAsync(IReadOnlyList<ModelImage> images)
    {
        await Gate.WaitAsync();
        try
        {
            var used = new List<string>();
            var builds = new List<(ModelImage Image, Recipe Recipe, string Hash, string? Stale)>();
            var pullErrors = new List<string>();
            foreach (var image in images)
            {
                var recipe = RecipeFor(image);
                var hash = Hash(recipe);
                var existing = await InspectAsync(image.Reference);
                if (existing is { } official && !official.Labels.ContainsKey(KindLabel))
                {
                    used.Add($"{image.Reference}: the official image, present in the engine");
                    continue;
                }
                if (existing?.Labels.GetValueOrDefault(HashLabel) == hash)
                {
                    used.Add($"{image.Reference}: Lab19's stand-in ({recipe.Server}), built earlier ({existing.Value.Id[..19]})");
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
                if (await StandInWithHashAsync(hash) is { } same)
                {
                    // The same stand-in under another tag (the AppHost moved to another tag of the image): tagged, not built again.
                    await Processes.RunAsync("docker", "tag", same, image.Reference);
                    used.Add($"{image.Reference}: Lab19's stand-in ({recipe.Server}), built earlier for another tag ({same[..19]})");
                    continue;
                }
                builds.Add((image, recipe, hash, existing?.Id));
            }
            if (builds.Count == 0) return new(used, null);

            var wanted = string.Join(" and ", builds.Select(b => b.Image.Reference));
            var why = pullErrors.Count > 0 ? $"the engine cannot pull them ({pullErrors[0]})" : "the stand-ins in the engine are out of date";
            if (FindOnPath("mmdebstrap") is null)
            {
                return new(used, $"Needs {wanted}: {why}. The test builds stand-ins for them from Debian's packages (about 2 minutes, once) with " +
                    "mmdebstrap: install it (Debian/Ubuntu: sudo apt-get install -y mmdebstrap) and run the test again, or pull the official images.");
            }
            var results = await Task.WhenAll(builds.Select(b => BuildAsync(b.Image, b.Recipe, b.Hash, b.Stale)));
            var failures = results.Where(r => r.Error is not null).Select(r => r.Error!).ToList();
            if (failures.Count > 0) return new(used, $"Needs {wanted}: {why}, and building stand-ins failed: {string.Join(" | ", failures)}");
            used.AddRange(results.Select(r => r.Used!));
            return new(used, null);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static Recipe RecipeFor(ModelImage image)
    {
        var recipe = Recipes.SingleOrDefault(r => r.OfficialImage == image.Name)
            ?? throw new InvalidOperationException($"{image.Reference}: Lab19 has no stand-in for the image {image.Name}");
        if (image.Port is { } port && port != recipe.Port)
        {
            throw new InvalidOperationException($"{image.Reference}: the AppHost uses the container port {port}, the stand-in's server listens on {recipe.Port}");
        }
        if (image.DataVolume is { } volume && volume != recipe.DataVolume)
        {
            throw new InvalidOperationException($"{image.Reference}: the AppHost mounts its data volume at {volume}, the stand-in keeps its data in {recipe.DataVolume}");
        }
        return recipe;
    }

    private static string ScriptPath(Recipe recipe) => Path.Combine(AppContext.BaseDirectory, "StandInImages", recipe.Script);

    /// <summary>A hash of everything that makes the image: mmdebstrap's arguments, the recipe and the entrypoint script.</summary>
    private static string Hash(Recipe recipe)
    {
        var description = JsonSerializer.Serialize(new { Bootstrap, Suite, Sources, recipe, Script = File.ReadAllText(ScriptPath(recipe)) });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(description)))[..16];
    }

    private readonly record struct LocalImage(string Id, IReadOnlyDictionary<string, string> Labels);

    /// <summary>The image the engine has under <paramref name="reference"/>, or null.</summary>
    private static async Task<LocalImage?> InspectAsync(string reference)
    {
        var inspect = await Processes.ExecAsync("docker", ["image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}", reference]);
        if (inspect.ExitCode != 0) return null;
        var (id, labels) = (inspect.Output.Trim().Split(' ', 2)[0], inspect.Output.Trim().Split(' ', 2)[1]);
        return new LocalImage(id, JsonSerializer.Deserialize<Dictionary<string, string>>(labels) ?? []);
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

    /// <summary>mmdebstrap makes the root file system as a tar file, `docker import` makes it the image; the stand-in it replaces is removed.</summary>
    private static async Task<(string? Used, string? Error)> BuildAsync(ModelImage image, Recipe recipe, string hash, string? stale)
    {
        var clock = Stopwatch.StartNew();
        var directory = Directory.CreateTempSubdirectory("lab19-stand-in-");
        try
        {
            var script = Path.Combine(directory.FullName, "docker-entrypoint.sh");
            File.Copy(ScriptPath(recipe), script);
            var tar = Path.Combine(directory.FullName, "rootfs.tar");
            string[] bootstrap =
            [
                .. Bootstrap, $"--include={recipe.Packages}",
                .. recipe.Hooks.Select(h => $"--customize-hook={h}"),
                $"--customize-hook=upload {script} {Entrypoint}", $"--customize-hook=chmod 755 \"$1{Entrypoint}\"",
                Suite, tar, .. Sources,
            ];
            var made = await Processes.ExecAsync("mmdebstrap", bootstrap, timeout: BuildTimeout);
            if (made.ExitCode != 0) return (null, $"mmdebstrap for {image.Reference} exited with {made.ExitCode}: {Tail(made.Error + made.Output)}");
            var size = new FileInfo(tar).Length;

            string[] changes =
            [
                $"ENTRYPOINT [\"{Entrypoint}\"]", .. recipe.Changes, $"EXPOSE {recipe.Port}", $"VOLUME {recipe.DataVolume}",
                $"LABEL {KindLabel}={recipe.OfficialImage} {HashLabel}={hash}",
            ];
            var imported = await Processes.ExecAsync("docker", ["import", .. changes.SelectMany(c => new[] { "--change", c }), tar, image.Reference], timeout: BuildTimeout);
            if (imported.ExitCode != 0) return (null, $"docker import for {image.Reference} exited with {imported.ExitCode}: {Tail(imported.Error + imported.Output)}");
            if (stale is not null) await Docker.TryAsync(["rmi", stale]); // still in use by a stopped container: it stays until that is removed
            return ($"{image.Reference}: Lab19's stand-in ({recipe.Server}), built in {clock.Elapsed.TotalSeconds:F0} s ({size / 1_000_000} MB)", null);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static string Tail(string output) => string.Join('\n', output.Trim().Split('\n').TakeLast(20));

    private static string? FindOnPath(string file) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);
}
