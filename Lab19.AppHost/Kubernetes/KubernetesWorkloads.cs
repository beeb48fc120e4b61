using System.Diagnostics;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace Lab19.AppHost;

/// <summary>
/// Each resource of the model as Kubernetes objects, read from the resource itself: image and tag, ports, environment, arguments, mounts
/// and health checks. A project becomes a Deployment of the image `dotnet publish -t:PublishContainer` builds; a container with a data
/// volume a StatefulSet; a container started on request (WithExplicitStart) a suspended Job; another container a Deployment; each with a
/// Service for the endpoints it serves. Beyla's DaemonSet is <see cref="BeylaOnKubernetes"/>.
/// </summary>
internal sealed partial class KubernetesWorkloads(DistributedApplicationModel model, DistributedApplicationExecutionContext context,
    LabSettings.KubernetesSettings settings, string repositoryRoot)
{
    /// <summary>The route ServiceDefaults' MapDefaultEndpoints answers while the process lives (its "live" checks only): the liveness probe.</summary>
    public const string LivenessPath = "/alive";

    /// <summary>What each data volume claims; the cluster's default storage class provides it.</summary>
    public const string VolumeSize = "1Gi";

    /// <summary>The data volume's folder inside its claim, so that a new file system's lost+found is not in the database's directory (docker-library/mysql#186).</summary>
    public const string VolumeSubPath = "data";

    /// <summary>The runtime agent's image (`dotnet publish Lab19.Agent -t:PublishContainer`, Lab19.Agent.csproj): busybox with the agent in /app.</summary>
    public const string AgentImageName = "lab19-agent";

    /// <summary>Where the agent's image holds the agent (the SDK's ContainerWorkingDirectory).</summary>
    public const string AgentImageFolder = "/app";

    /// <summary>Where the init container copies the agent and the service reads it: an emptyDir both mount.</summary>
    public const string AgentFolder = "/lab19-agent";

    public const string StartupHooksVariable = "DOTNET_STARTUP_HOOKS";

    /// <summary>The files the lab mounts into containers (beyla-config.yml, the dashboards, the k6 script), as ConfigMaps of the base.</summary>
    public List<ConfigMapFiles> ConfigMaps { get; } = [];

    /// <summary>The images built from the lab's projects.</summary>
    public List<LabImage> Images { get; } = [];

    /// <summary>What the manifests leave out of the model, and why.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The port the cluster serves an endpoint on (its Service's port, the container's port): the target port; none, not served.</summary>
    public static int? ServedPort(EndpointAnnotation endpoint) => endpoint.TargetPort;

    /// <summary>The objects of <paramref name="resource"/>; none for a resource another one carries (a database, a parameter).</summary>
    public async Task<IReadOnlyList<IKubernetesObject>> ObjectsAsync(IResource resource, CancellationToken cancellationToken)
    {
        switch (resource)
        {
            case ParameterResource or ConnectionStringResource:
                return []; // a key of the Secret, read where a value names it
            case StandInResource standIn:
                Notes.Add($"{standIn.Name}: {standIn.Why.State}");
                return [];
            case PostgresDatabaseResource or MySqlDatabaseResource or DatabaseAccountResource:
                return []; // created by its server's image on its first start (FirstStartVariables)
            case ProjectResource project:
                return await ProjectAsync(project, cancellationToken);
            case HostNetworkContainerResource hostNetwork:
                return await BeylaOnKubernetes.ObjectsAsync(this, hostNetwork, settings.Namespace, cancellationToken);
            case ContainerResource container when container.HasAnnotationOfType<ExplicitStartupAnnotation>():
                return [await JobAsync(container, cancellationToken)];
            case ContainerResource container:
                return await ContainerAsync(container, cancellationToken);
            default:
                throw new NotSupportedException($"{resource.Name} ({resource.GetType().Name}) has no Kubernetes form in Lab19.AppHost/Kubernetes/.");
        }
    }

    private async Task<IReadOnlyList<IKubernetesObject>> ProjectAsync(ProjectResource project, CancellationToken cancellationToken)
    {
        var image = LabImage.Of(project.Name, project.GetProjectMetadata().ProjectPath, settings);
        Images.Add(image);
        var pod = await PodAsync(project, image.Reference, cancellationToken);
        var container = pod.Containers[0];
        container.ImagePullPolicy = "IfNotPresent";
        container.LivenessProbe = HttpProbe(LivenessPath, HttpPortName(project));
        if (project.InstrumentedBy() == Instrumenter.RuntimeAgent)
        {
            WithRuntimeAgent(project, pod);
        }
        return [Deployment(project, pod), .. Service(project)];
    }

    /// <summary>
    /// The runtime agent: an init container copies it from its image into an emptyDir, and DOTNET_STARTUP_HOOKS names it there, as
    /// the OpenTelemetry Operator injects .NET auto-instrumentation (pkg/instrumentation/dotnet.go). The service's image stays the same in every mode.
    /// </summary>
    private void WithRuntimeAgent(ProjectResource project, V1PodSpec pod)
    {
        var agentPath = RuntimeAgent.Path;
        var hooks = pod.Containers[0].Env.SingleOrDefault(e => e.Name == StartupHooksVariable && e.Value == agentPath)
            ?? throw new InvalidOperationException($"{project.Name} is marked for the runtime agent but its {StartupHooksVariable} is not {agentPath}.");
        hooks.Value = $"{AgentFolder}/{Path.GetFileName(agentPath)}";

        var agent = LabImage.Of(AgentImageName, RuntimeAgent.ProjectPath, settings);
        if (!Images.Contains(agent)) Images.Add(agent);
        var volume = new V1Volume { Name = AgentImageName, EmptyDir = new V1EmptyDirVolumeSource() };
        pod.Volumes = [.. pod.Volumes ?? [], volume];
        pod.InitContainers =
        [
            new V1Container
            {
                Name = AgentImageName,
                Image = agent.Reference,
                ImagePullPolicy = "IfNotPresent",
                Command = ["cp", "-a", $"{AgentImageFolder}/.", $"{AgentFolder}/"],
                VolumeMounts = [new V1VolumeMount { Name = volume.Name, MountPath = AgentFolder }],
            },
        ];
        pod.Containers[0].VolumeMounts = [.. pod.Containers[0].VolumeMounts ?? [], new V1VolumeMount { Name = volume.Name, MountPath = AgentFolder, ReadOnlyProperty = true }];
    }

    private async Task<IReadOnlyList<IKubernetesObject>> ContainerAsync(ContainerResource container, CancellationToken cancellationToken)
    {
        var pod = await PodAsync(container, ImageOf(container), cancellationToken);
        var claims = Volumes(container).Select((mount, i) => new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = ClaimName(i) },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(VolumeSize) } },
            },
        }).ToList();
        if (claims.Count == 0)
        {
            return [Deployment(container, pod), .. Service(container)];
        }
        pod.Containers[0].Env = [.. pod.Containers[0].Env ?? [], .. FirstStartVariables(container)];
        var statefulSet = new V1StatefulSet
        {
            ApiVersion = "apps/v1",
            Kind = "StatefulSet",
            Metadata = Metadata(container),
            Spec = new V1StatefulSetSpec
            {
                ServiceName = container.Name,
                Replicas = 1,
                Selector = Selector(container),
                Template = Template(container, pod),
                VolumeClaimTemplates = claims,
            },
        };
        return [statefulSet, .. Service(container)];
    }

    /// <summary>A container started on request: a Job created suspended; `kubectl patch job NAME -p '{"spec":{"suspend":false}}'` starts it.</summary>
    private async Task<V1Job> JobAsync(ContainerResource container, CancellationToken cancellationToken)
    {
        var pod = await PodAsync(container, ImageOf(container), cancellationToken);
        pod.RestartPolicy = "Never";
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = Metadata(container),
            Spec = new V1JobSpec { Suspend = true, BackoffLimit = 0, Template = Template(container, pod) },
        };
    }

    /// <summary>A pod of one container with the resource's image, ports, environment, arguments, mounts and readiness.</summary>
    public async Task<V1PodSpec> PodAsync(IResource resource, string image, CancellationToken cancellationToken)
    {
        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();
        foreach (var (mount, i) in Volumes(resource).Select((m, i) => (m, i)))
        {
            mounts.Add(new V1VolumeMount { Name = ClaimName(i), MountPath = mount.Target, SubPath = VolumeSubPath, ReadOnlyProperty = mount.IsReadOnly ? true : null });
        }
        foreach (var mount in resource.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.BindMount))
        {
            var (volume, volumeMount) = BindMount(resource, mount);
            volumes.Add(volume);
            mounts.Add(volumeMount);
        }
        var container = new V1Container
        {
            Name = resource.Name,
            Image = image,
            // A host-network container's arguments are its `docker run` line; the image's own arguments are none.
            Args = resource is HostNetworkContainerResource ? null : NullIfEmpty(await ArgumentsAsync(resource, cancellationToken)),
            Ports = NullIfEmpty(ServedEndpoints(resource).Select(e => new V1ContainerPort { Name = PortName(resource, e), ContainerPort = ServedPort(e)!.Value, Protocol = "TCP" }).ToList()),
            Env = NullIfEmpty(await EnvironmentAsync(resource, cancellationToken)),
            ReadinessProbe = Readiness(resource),
            VolumeMounts = NullIfEmpty(mounts),
        };
        return new V1PodSpec { Containers = [container], Volumes = NullIfEmpty(volumes) };
    }

    /// <summary>The resource's environment in publish mode, each value in its Kubernetes form (<see cref="KubernetesValues"/>).</summary>
    private async Task<List<V1EnvVar>> EnvironmentAsync(IResource resource, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, object>();
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(new EnvironmentCallbackContext(context, resource, values, cancellationToken));
        }
        var renderer = new KubernetesValues();
        var env = new List<V1EnvVar>();
        foreach (var (name, value) in values)
        {
            try
            {
                env.Add(renderer.Variable(name, value));
            }
            catch (EndpointNotInClusterException e)
            {
                Notes.Add($"{resource.Name}'s {name}: it names {e.Endpoint}, an endpoint with no port of its own, which the cluster does not serve");
            }
        }
        // Kubernetes fills in $(NAME) only from variables listed before it.
        var secrets = renderer.SecretVariables().ToList();
        if (secrets.FirstOrDefault(s => env.Any(e => e.Name == s.Name)) is { } clash)
        {
            throw new InvalidOperationException($"{resource.Name} already has a variable {clash.Name}, the name its parameter {clash.ValueFrom.SecretKeyRef.Key} would be read into.");
        }
        return [.. secrets, .. env];
    }

    private async Task<List<string>> ArgumentsAsync(IResource resource, CancellationToken cancellationToken)
    {
        var args = new List<object>();
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(new CommandLineArgsCallbackContext(args, resource, cancellationToken) { ExecutionContext = context });
        }
        var renderer = new KubernetesValues();
        var texts = args.Select(a => renderer.Variable("arg", a).Value ?? throw new NotSupportedException($"{resource.Name}: a parameter as an argument has no Kubernetes form in Lab19.AppHost/Kubernetes/.")).ToList();
        return renderer.EmbeddedParameters.Any()
            ? throw new NotSupportedException($"{resource.Name}: a parameter inside an argument has no Kubernetes form in Lab19.AppHost/Kubernetes/.")
            : texts;
    }

    /// <summary>
    /// What a database server's image needs to create, on its first start, what the AppHost creates with SQL on every start: the database
    /// (POSTGRES_DB, MYSQL_DATABASE) and a service's own account on it (MYSQL_USER, MYSQL_PASSWORD: all rights on MYSQL_DATABASE only).
    /// </summary>
    private IEnumerable<V1EnvVar> FirstStartVariables(ContainerResource server)
    {
        var variables = new List<V1EnvVar>();
        foreach (var resource in model.Resources)
        {
            switch (resource)
            {
                case PostgresDatabaseResource database when database.Parent == server:
                    variables.Add(new V1EnvVar { Name = "POSTGRES_DB", Value = database.DatabaseName });
                    break;
                case MySqlDatabaseResource database when database.Parent == server:
                    variables.Add(new V1EnvVar { Name = "MYSQL_DATABASE", Value = database.DatabaseName });
                    break;
                case DatabaseAccountResource account when account.Parent is MySqlDatabaseResource database && database.Parent == server:
                    variables.Add(new V1EnvVar { Name = "MYSQL_USER", Value = account.UserName });
                    variables.Add(KubernetesValues.FromSecret("MYSQL_PASSWORD", account.PasswordParameter.Name));
                    break;
            }
        }
        return variables.GroupBy(v => v.Name).FirstOrDefault(g => g.Count() > 1) is { } twice
            ? throw new NotSupportedException($"{server.Name}: its image creates one database and one account on its first start, and the model has more ({twice.Key}).")
            : variables;
    }

    /// <summary>
    /// A bind mount of a file or folder of the lab's repository becomes a ConfigMap mounted at the same path (a file by subPath, a folder's
    /// files as a folder; subfolders are not mounted); a bind mount of a host path (Beyla's /sys/...) a hostPath volume.
    /// </summary>
    private (V1Volume Volume, V1VolumeMount Mount) BindMount(IResource resource, ContainerMountAnnotation mount)
    {
        var source = mount.Source ?? throw new InvalidOperationException($"{resource.Name} has a bind mount without a source ({mount.Target}).");
        var name = VolumeName(resource, mount.Target);
        if (!Path.GetFullPath(source).StartsWith(Path.GetFullPath(repositoryRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return (new V1Volume { Name = name, HostPath = new V1HostPathVolumeSource { Path = source } },
                new V1VolumeMount { Name = name, MountPath = mount.Target, ReadOnlyProperty = mount.IsReadOnly ? true : null });
        }
        var isFile = File.Exists(source);
        var files = isFile ? [source] : Directory.Exists(source)
            ? Directory.GetFiles(source).Order(StringComparer.Ordinal).ToList()
            : throw new FileNotFoundException($"{resource.Name} mounts {source}, which does not exist.", source);
        ConfigMaps.Add(new ConfigMapFiles(name, files));
        var volume = new V1Volume { Name = name, ConfigMap = new V1ConfigMapVolumeSource { Name = name } };
        return (volume, new V1VolumeMount
        {
            Name = name,
            MountPath = mount.Target,
            SubPath = isFile ? Path.GetFileName(source) : null,
            ReadOnlyProperty = true, // a ConfigMap is read-only whatever the mount says
        });
    }

    /// <summary>A volume's name from where it is mounted: the resource's name and the target's last part (beyla-config-yml, lgtm-custom, k6-scripts).</summary>
    public static string VolumeName(IResource resource, string target)
    {
        var last = KubernetesNames.Sanitize(Path.GetFileName(target.TrimEnd('/')));
        return last.StartsWith(resource.Name, StringComparison.Ordinal) ? last : $"{resource.Name}-{last}";
    }

    private static IEnumerable<ContainerMountAnnotation> Volumes(IResource resource) =>
        resource.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.Volume);

    private static string ClaimName(int index) => index == 0 ? "data" : $"data-{index}";

    public static IEnumerable<EndpointAnnotation> ServedEndpoints(IResource resource) =>
        resource.Annotations.OfType<EndpointAnnotation>().Where(e => ServedPort(e) is not null);

    private static string PortName(IResource resource, EndpointAnnotation endpoint) => KubernetesNames.IsPortName(endpoint.Name)
        ? endpoint.Name
        : throw new NotSupportedException($"{resource.Name}'s endpoint '{endpoint.Name}' is no Kubernetes port name (at most 15 lowercase letters, digits and '-').");

    private static string HttpPortName(IResource resource) =>
        ServedEndpoints(resource).FirstOrDefault(e => e.UriScheme == "http")?.Name
        ?? throw new InvalidOperationException($"{resource.Name} serves no http endpoint in the cluster.");

    /// <summary>
    /// Readiness from the resource's health checks: an HTTP check (WithHttpHealthCheck) becomes an httpGet of its path, on its endpoint where
    /// the cluster serves that, else on the resource's http endpoint (Aspire points a project's check at its https endpoint in publish mode,
    /// and the cluster serves http only); any other check (a database's connection check) a TCP check of the resource's first port.
    /// </summary>
    private static V1Probe? Readiness(IResource resource)
    {
        var checks = resource.Annotations.OfType<HealthCheckAnnotation>().Select(h => h.Key).ToList();
        if (checks.Count == 0)
        {
            return null;
        }
        if (checks.Select(k => HttpCheck(resource, k)).FirstOrDefault(c => c is not null) is { } http)
        {
            var port = ServedEndpoints(resource).Any(e => e.Name == http.Endpoint) ? http.Endpoint : HttpPortName(resource);
            return HttpProbe(http.Path, port);
        }
        var first = ServedEndpoints(resource).FirstOrDefault()
            ?? throw new NotSupportedException($"{resource.Name} has a health check ({checks[0]}) and no port to probe in the cluster.");
        return new V1Probe { TcpSocket = new V1TCPSocketAction { Port = first.Name } };
    }

    /// <summary>
    /// The endpoint and path of an HTTP health check, read from its key: Aspire names the check of WithHttpHealthCheck
    /// "{resource}_{endpoint}_{path}_{status}_check" (Aspire.Hosting ResourceBuilderExtensions.WithHttpHealthCheck); null for another check.
    /// </summary>
    public static (string Endpoint, string Path)? HttpCheck(IResource resource, string key) =>
        HttpCheckKey().Match(key) is { Success: true } match && match.Groups["resource"].Value == resource.Name
            ? (match.Groups["endpoint"].Value, match.Groups["path"].Value)
            : null;

    [GeneratedRegex("^(?<resource>.+?)_(?<endpoint>[^_/]+)_(?<path>/.*)_(?<status>[0-9]{3})_check$")]
    private static partial Regex HttpCheckKey();

    private static V1Probe HttpProbe(string path, string port) => new() { HttpGet = new V1HTTPGetAction { Path = path, Port = port } };

    private static string ImageOf(ContainerResource container)
    {
        var image = container.Annotations.OfType<ContainerImageAnnotation>().LastOrDefault()
            ?? throw new InvalidOperationException($"{container.Name} has no image.");
        return $"{(image.Registry is { } registry ? registry + "/" : "")}{image.Image}:{image.Tag}";
    }

    public static V1ObjectMeta Metadata(IResource resource) => new() { Name = resource.Name, Labels = Labels(resource) };

    private static Dictionary<string, string> Labels(IResource resource) => new() { [KubernetesNames.NameLabel] = resource.Name };

    public static V1LabelSelector Selector(IResource resource) => new() { MatchLabels = Labels(resource) };

    public static V1PodTemplateSpec Template(IResource resource, V1PodSpec pod) => new() { Metadata = new V1ObjectMeta { Labels = Labels(resource) }, Spec = pod };

    private static V1Deployment Deployment(IResource resource, V1PodSpec pod) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = Metadata(resource),
        Spec = new V1DeploymentSpec { Replicas = 1, Selector = Selector(resource), Template = Template(resource, pod) },
    };

    /// <summary>The Service that gives the resource's served endpoints the resource's name: other pods reach them at NAME:PORT.</summary>
    private static IEnumerable<V1Service> Service(IResource resource)
    {
        var ports = ServedEndpoints(resource).Select(e => new V1ServicePort { Name = PortName(resource, e), Port = ServedPort(e)!.Value, TargetPort = e.Name }).ToList();
        if (ports.Count == 0)
        {
            yield break;
        }
        if (!KubernetesNames.IsServiceName(resource.Name))
        {
            throw new NotSupportedException($"{resource.Name} is no Kubernetes Service name (lowercase letters, digits and '-', starting with a letter).");
        }
        yield return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Metadata(resource),
            Spec = new V1ServiceSpec { Selector = Labels(resource), Ports = ports },
        };
    }

    private static List<T>? NullIfEmpty<T>(List<T> list) => list.Count == 0 ? null : list;
}

/// <summary>A ConfigMap of the base made from files of the lab's repository, each under its own file name.</summary>
internal sealed record ConfigMapFiles(string Name, IReadOnlyList<string> Files);

/// <summary>
/// An image built from one of the lab's projects with the SDK's container support: its name is the resource's (or the agent's), its
/// registry and tag those of Lab19:Kubernetes. A registry with a path (registry.example.com/lab19) puts the path before the name.
/// </summary>
internal sealed record LabImage(string Name, string ProjectPath, string? RegistryHost, string Repository, string Tag)
{
    public string Reference => $"{(RegistryHost is null ? "" : RegistryHost + "/")}{Repository}:{Tag}";

    public static LabImage Of(string name, string projectPath, LabSettings.KubernetesSettings settings)
    {
        var (host, path) = settings.Registry?.Split('/', 2) switch
        {
            null => ((string?)null, (string?)null),
            [var only] => (only, null),
            [var first, var rest] => (first, rest),
            _ => throw new UnreachableException(),
        };
        return new LabImage(name, projectPath, host, path is null ? name : $"{path}/{name}", settings.ImageTag);
    }

    /// <summary>The command that builds the image and, with a registry, pushes it there (else it goes to the local Docker engine).</summary>
    public string PublishCommand(string project) =>
        $"dotnet publish {project} -c Release -t:PublishContainer -p:ContainerRepository={Repository} -p:ContainerImageTag={Tag}" +
        (RegistryHost is null ? "" : $" -p:ContainerRegistry={RegistryHost}");
}
