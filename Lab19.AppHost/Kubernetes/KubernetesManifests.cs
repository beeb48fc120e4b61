using k8s;
using k8s.Models;

namespace Lab19.AppHost;

/// <summary>
/// The lab on Kubernetes, generated from the AppHost's model: a kustomize base (base/: one file per resource, the files the lab mounts,
/// beyla-config.yml as it is) and the overlay that is applied (kustomization.yaml: the namespace, the Secret the user creates, and
/// beyla-config.yml with what Beyla needs differently on Kubernetes). Paths are relative to the output directory.
/// </summary>
internal sealed record KubernetesManifests(IReadOnlyDictionary<string, string> Files, IReadOnlyList<string> SecretKeys, IReadOnlyList<LabImage> Images, IReadOnlyList<string> Notes)
{
    /// <summary>The keys of <see cref="SecretKeys"/> that hold a whole connection string (a ConnectionStrings:NAME given to the AppHost), not a password.</summary>
    public IReadOnlyList<string> ConnectionStringKeys { get; init; } = [];

    /// <summary>The first line of every file the generator writes (a copied file of the lab excepted); a directory without it is not overwritten.</summary>
    public const string Header = "# Generated from the Lab19 AppHost's model by Lab19.AppHost/Kubernetes/: change the AppHost and generate again instead of editing this file.\n";

    public const string Overlay = "kustomization.yaml";
    public const string BaseKustomization = "base/kustomization.yaml";
    public const string NamespaceFile = "namespace.yaml";
    public const string BeylaConfig = "beyla-config.yml";

    /// <summary>The file the user creates beside the overlay, KEY=VALUE per line, one key per parameter: never generated, never overwritten.</summary>
    public const string SecretsFile = "secrets.env";

    /// <summary>Files of the output directory the generator owns besides base/: removed when a generation does not write them (e.g. no Beyla in agent mode).</summary>
    private static readonly string[] OwnedFiles = [Overlay, NamespaceFile, BeylaConfig];

    public static async Task<KubernetesManifests> GenerateAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext context,
        LabSettings.KubernetesSettings settings, string repositoryRoot, CancellationToken cancellationToken)
    {
        var workloads = new KubernetesWorkloads(model, context, settings, repositoryRoot);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var resources = new List<string>();
        var objects = new List<IKubernetesObject>();
        foreach (var resource in model.Resources)
        {
            var own = await workloads.ObjectsAsync(resource, cancellationToken);
            if (own.Count == 0) continue;
            files[$"base/{resource.Name}.yaml"] = Header + Yaml(KubernetesYaml.SerializeAll(own));
            resources.Add($"{resource.Name}.yaml");
            objects.AddRange(own);
        }

        foreach (var map in workloads.ConfigMaps)
        {
            foreach (var file in map.Files)
            {
                files[$"base/files/{map.Name}/{Path.GetFileName(file)}"] = await File.ReadAllTextAsync(file, cancellationToken);
            }
        }
        files[BaseKustomization] = Header +
            "# The lab's resources as the AppHost models them; ../kustomization.yaml is what is applied (namespace, Secret, Beyla on Kubernetes).\n" +
            Yaml(KubernetesYaml.Serialize(new Kustomization
            {
                Resources = resources,
                ConfigMapGenerator = workloads.ConfigMaps.Count == 0 ? null : workloads.ConfigMaps
                    .Select(m => new Kustomization.Generator { Name = m.Name, Files = [.. m.Files.Select(f => $"files/{m.Name}/{Path.GetFileName(f)}")] }).ToList(),
            }));

        var secretKeys = objects.SelectMany(SecretKeysOf).Distinct().Order(StringComparer.Ordinal).ToList();
        // AddConnectionString's resource is a parameter that is a connection string.
        var connectionStrings = secretKeys.Where(k => model.Resources.Any(r => r.Name == k && r is ParameterResource and IResourceWithConnectionString)).ToList();
        var overlay = new Kustomization
        {
            Namespace = settings.Namespace,
            Resources = [NamespaceFile, "base"],
            SecretGenerator = secretKeys.Count == 0 ? null : [new() { Name = KubernetesValues.SecretName, Envs = [SecretsFile] }],
        };
        files[NamespaceFile] = Header + Yaml(KubernetesYaml.Serialize(new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = settings.Namespace } }));

        if (model.Resources.OfType<HostNetworkContainerResource>().SingleOrDefault() is { } beyla)
        {
            var config = beyla.Annotations.OfType<ContainerMountAnnotation>().Single(m => m.Target == BeylaResourceBuilderExtensions.ConfigTarget);
            if (Path.GetFileName(config.Source) != BeylaConfig)
            {
                throw new InvalidOperationException($"{beyla.Name}'s configuration is {config.Source}; the overlay replaces a file named {BeylaConfig}.");
            }
            files[BeylaConfig] = Header +
                "# The lab's beyla/beyla-config.yml as it is, then, at the end, what Beyla needs differently on Kubernetes.\n" +
                BeylaOnKubernetes.KubernetesConfig(await File.ReadAllTextAsync(config.Source!, cancellationToken), settings.Namespace, beyla.WatchedServices().Select(s => s.Name));
            overlay.ConfigMapGenerator = [new() { Name = KubernetesWorkloads.VolumeName(beyla, config.Target), Behavior = "replace", Files = [BeylaConfig] }];
        }

        files[Overlay] = Header +
            "# The lab on Kubernetes: `kubectl apply -k` this folder once the images are pushed and secrets.env exists (README.md, \"Beyond one machine\").\n" +
            (secretKeys.Count == 0 ? "" : $"# {SecretsFile}, beside this file and never committed: one line KEY=VALUE for each of {string.Join(", ", secretKeys)}" +
                $" ({string.Join("; ", KeyKinds(secretKeys, connectionStrings))}).\n") +
            Yaml(KubernetesYaml.Serialize(overlay));

        return new KubernetesManifests(files, secretKeys, workloads.Images, workloads.Notes) { ConnectionStringKeys = connectionStrings };
    }

    /// <summary>What the user puts under each key: a connection string for a ConnectionStrings:NAME of the AppHost, else a password.</summary>
    private static IEnumerable<string> KeyKinds(IReadOnlyList<string> keys, IReadOnlyList<string> connectionStrings)
    {
        if (connectionStrings.Count < keys.Count) yield return "passwords of letters and digits, which go into connection strings as they are";
        if (connectionStrings.Count > 0) yield return $"{string.Join(", ", connectionStrings)}: the connection string, as the cluster reaches that server";
    }

    /// <summary>KubernetesYaml's text ending in exactly one newline.</summary>
    private static string Yaml(string text) => text.TrimEnd('\n') + "\n";

    /// <summary>The keys of the Secret the objects read.</summary>
    private static IEnumerable<string> SecretKeysOf(IKubernetesObject item)
    {
        var pod = item switch
        {
            V1Deployment deployment => deployment.Spec.Template.Spec,
            V1StatefulSet statefulSet => statefulSet.Spec.Template.Spec,
            V1DaemonSet daemonSet => daemonSet.Spec.Template.Spec,
            V1Job job => job.Spec.Template.Spec,
            _ => null,
        };
        return pod is null ? [] : pod.Containers.Concat(pod.InitContainers ?? [])
            .SelectMany(c => c.Env ?? [])
            .Select(e => e.ValueFrom?.SecretKeyRef?.Key)
            .OfType<string>();
    }

    /// <summary>
    /// Writes the files into <paramref name="directory"/>: base/ is replaced as a whole, the overlay's files are overwritten, anything else
    /// (the user's secrets.env) is left alone. A directory whose kustomization files the generator did not write is refused, untouched.
    /// </summary>
    public void WriteTo(string directory)
    {
        var root = Path.GetFullPath(directory);
        foreach (var owned in new[] { Overlay, BaseKustomization })
        {
            var path = Path.Combine(root, owned);
            if (File.Exists(path) && !File.ReadAllText(path).StartsWith(Header, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{path} was not written by Lab19's Kubernetes generator: choose another --output-path (nothing was written).");
            }
        }
        var @base = Path.Combine(root, "base");
        if (Directory.Exists(@base))
        {
            if (!File.Exists(Path.Combine(root, BaseKustomization)))
            {
                throw new InvalidOperationException($"{@base} exists and was not written by Lab19's Kubernetes generator: choose another --output-path (nothing was written).");
            }
            Directory.Delete(@base, recursive: true);
        }
        Directory.CreateDirectory(root);
        foreach (var stale in OwnedFiles.Where(f => !Files.ContainsKey(f)))
        {
            File.Delete(Path.Combine(root, stale));
        }
        foreach (var (path, text) in Files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }
    }

    /// <summary>What the user does next, with this generation's names: build and push the images, create secrets.env, apply.</summary>
    public IEnumerable<string> NextSteps(string directory, string repositoryRoot)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.GetFullPath(directory)) is var path && !path.StartsWith("..", StringComparison.Ordinal)
            ? path
            : Path.GetFullPath(directory);
        yield return $"Wrote the Kubernetes manifests to {relative}: base/ holds the lab's resources, {Overlay} is what is applied.";
        foreach (var note in Notes)
        {
            yield return $"Left out: {note}";
        }
        yield return "1. Build and push the images (from the repository's root):";
        foreach (var image in Images)
        {
            yield return $"     {image.PublishCommand(Path.GetRelativePath(repositoryRoot, image.ProjectPath))}";
        }
        if (SecretKeys.Count > 0)
        {
            var file = Path.Combine(relative, SecretsFile);
            var passwords = SecretKeys.Except(ConnectionStringKeys).ToList();
            yield return $"2. Create {file} (never commit it), e.g.:";
            if (passwords.Count > 0)
            {
                yield return $"     for key in {string.Join(' ', passwords)}; do echo \"$key=$(openssl rand -hex 16)\"; done > {file}";
            }
            foreach (var (key, i) in ConnectionStringKeys.Select((k, i) => (k, i)))
            {
                yield return $"     echo '{key}=<its connection string, as the cluster reaches that server>' {(passwords.Count == 0 && i == 0 ? ">" : ">>")} {file}";
            }
        }
        yield return $"3. kubectl apply -k {relative}";
    }
}
