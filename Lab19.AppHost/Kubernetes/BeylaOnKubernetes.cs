using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;

namespace Lab19.AppHost;

/// <summary>
/// Beyla as a DaemonSet, set up as grafana/beyla v3.33.0 docs/sources/setup/kubernetes.md sets it up, with what the local run gives it: its
/// image, environment, privileges or capabilities, host PID and network namespaces and host mounts, read from the beyla resource.
/// What differs from the local run, and the upstream file that says so, is listed in docs/beyla-facts.md ("Beyla on Kubernetes").
/// </summary>
internal static class BeylaOnKubernetes
{
    /// <summary>
    /// The ClusterRole Beyla's Kubernetes metadata decoration needs, exactly as docs/sources/setup/kubernetes.md ("Configuring Kubernetes
    /// metadata decoration") lists it: list and watch ReplicaSets, Pods, Services and Nodes.
    /// </summary>
    public static List<V1PolicyRule> Rules() =>
    [
        new() { ApiGroups = ["apps"], Resources = ["replicasets"], Verbs = ["list", "watch"] },
        new() { ApiGroups = [""], Resources = ["pods", "services", "nodes"], Verbs = ["list", "watch"] },
    ];

    /// <summary>Turns Kubernetes metadata decoration on (the docs' DaemonSet example; the YAML's attributes.kubernetes.enable).</summary>
    public const string MetadataVariable = "BEYLA_KUBE_METADATA_ENABLE";

    /// <summary>Where every Beyla example of the docs that mounts a configuration or a read-only root file system gives Beyla an emptyDir.</summary>
    public const string RunDirectory = "/var/run/beyla";

    /// <summary>The ServiceAccount, ClusterRole, ClusterRoleBinding and DaemonSet.</summary>
    public static async Task<IReadOnlyList<IKubernetesObject>> ObjectsAsync(KubernetesWorkloads workloads, HostNetworkContainerResource beyla, string @namespace, CancellationToken cancellationToken)
    {
        if (beyla.ImageName != BeylaContainerImageTags.Image)
        {
            throw new NotSupportedException($"{beyla.Name} ({beyla.Image}) runs in the host's network, and only Beyla has a Kubernetes form for that in Lab19.AppHost/Kubernetes/.");
        }
        var pod = await workloads.PodAsync(beyla, beyla.Image, cancellationToken);
        var container = pod.Containers[0];

        // Discovery by Kubernetes attributes (the overlay's beyla-config.yml) instead of ports: in a DaemonSet every pod of the node may open
        // the same port (docs/sources/setup/kubernetes.md, "Deploy Beyla as a Daemonset"), and Beyla adds BEYLA_OPEN_PORT to the YAML's selectors.
        container.Env = [.. container.Env.Where(e => e.Name != BeylaResourceBuilderExtensions.OpenPortVariable), new V1EnvVar { Name = MetadataVariable, Value = "true" }];

        // The local run's `docker run` flags, as the pod spec says them.
        var security = new V1SecurityContext { ReadOnlyRootFilesystem = true };
        foreach (var flag in await RuntimeFlagsAsync(beyla, cancellationToken))
        {
            switch (flag)
            {
                case "--privileged":
                    security.Privileged = true;
                    break;
                case "--pid=host":
                    pod.HostPID = true;
                    break;
                case "--security-opt=apparmor=unconfined":
                    security.AppArmorProfile = new V1AppArmorProfile { Type = "Unconfined" };
                    break;
                default:
                    throw new NotSupportedException($"{beyla.Name}'s docker run flag {flag} has no Kubernetes form in Lab19.AppHost/Kubernetes/.");
            }
        }
        if (beyla.Annotations.OfType<CapabilitiesAnnotation>().SelectMany(a => a.Capabilities).Distinct().ToList() is { Count: > 0 } capabilities)
        {
            // docs/sources/setup/kubernetes.md, "Deploy Beyla unprivileged": root, every other capability dropped.
            security.RunAsUser = 0;
            security.Capabilities = new V1Capabilities { Add = capabilities, Drop = ["ALL"] };
        }
        container.SecurityContext = security;
        container.VolumeMounts = [.. container.VolumeMounts ?? [], new V1VolumeMount { Name = "var-run-beyla", MountPath = RunDirectory }];
        pod.Volumes = [.. pod.Volumes ?? [], new V1Volume { Name = "var-run-beyla", EmptyDir = new V1EmptyDirVolumeSource() }];

        // --network=host, with the DNS policy that keeps cluster names (lgtm) resolvable from the host's network (charts/beyla values.yaml).
        pod.HostNetwork = true;
        pod.DnsPolicy = "ClusterFirstWithHostNet";
        pod.ServiceAccountName = beyla.Name;
        // One Beyla on every node, tainted ones included (docs/sources/setup/kubernetes.md, "Deploy Beyla unprivileged").
        pod.Tolerations = [new V1Toleration { Effect = "NoSchedule", OperatorProperty = "Exists" }, new V1Toleration { Effect = "NoExecute", OperatorProperty = "Exists" }];

        var clusterName = ClusterObjectName(beyla, @namespace);
        return
        [
            new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = KubernetesWorkloads.Metadata(beyla) },
            new V1ClusterRole { ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "ClusterRole", Metadata = new V1ObjectMeta { Name = clusterName }, Rules = Rules() },
            new V1ClusterRoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRoleBinding",
                Metadata = new V1ObjectMeta { Name = clusterName },
                // kustomize's namespace does not rewrite a subject's namespace: the generator writes the one the overlay deploys into.
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = beyla.Name, NamespaceProperty = @namespace }],
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = clusterName },
            },
            new V1DaemonSet
            {
                ApiVersion = "apps/v1",
                Kind = "DaemonSet",
                Metadata = KubernetesWorkloads.Metadata(beyla),
                Spec = new V1DaemonSetSpec { Selector = KubernetesWorkloads.Selector(beyla), Template = KubernetesWorkloads.Template(beyla, pod) },
            },
        ];
    }

    /// <summary>Cluster-wide objects are not namespaced: their name carries the namespace, so that two labs in one cluster keep theirs apart.</summary>
    public static string ClusterObjectName(IResource beyla, string @namespace) => $"{@namespace}-{beyla.Name}";

    private static async Task<List<string>> RuntimeFlagsAsync(IResource resource, CancellationToken cancellationToken)
    {
        var flags = new List<object>();
        foreach (var callback in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await callback.Callback(new ContainerRuntimeArgsCallbackContext(flags, cancellationToken));
        }
        return flags.Select(f => Convert.ToString(f, CultureInfo.InvariantCulture)!).ToList();
    }

    /// <summary>
    /// The lab's beyla-config.yml as it is, then what Kubernetes needs instead of BEYLA_OPEN_PORT: one selector per service Beyla instruments,
    /// by namespace and Deployment (docs/sources/configure/service-discovery.md: a process matches an entry when it matches all its keys).
    /// </summary>
    public static string KubernetesConfig(string labConfig, string @namespace, IEnumerable<string> deployments)
    {
        var text = new StringBuilder(labConfig.TrimEnd('\n')).Append('\n');
        text.Append('\n')
            .Append("# ---- On Kubernetes: added by Lab19.AppHost/Kubernetes/ to the lab's file above (docs/beyla-facts.md, \"Beyla on Kubernetes\") ----\n")
            .Append("# In a DaemonSet Beyla selects the services by their Kubernetes attributes, not by the ports they open (every pod of a node may\n")
            .Append("# open the same one), so BEYLA_OPEN_PORT is not set: grafana/beyla docs/sources/setup/kubernetes.md, \"Deploy Beyla as a Daemonset\".\n")
            .Append("discovery:\n")
            .Append("  instrument:\n");
        foreach (var deployment in deployments)
        {
            text.Append(CultureInfo.InvariantCulture, $"    - k8s_namespace: \"{@namespace}\"\n")
                .Append(CultureInfo.InvariantCulture, $"      k8s_deployment_name: \"{deployment}\"\n");
        }
        return text.ToString();
    }
}
