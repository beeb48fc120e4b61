using System.Text.RegularExpressions;

namespace Lab19.AppHost;

/// <summary>The names Kubernetes accepts, and the Lab19:Kubernetes settings checked against them.</summary>
internal static partial class KubernetesNames
{
    /// <summary>The label every object of a resource carries and its workload selects by: the resource's name.</summary>
    public const string NameLabel = "app.kubernetes.io/name";

    /// <summary>
    /// Namespaces Beyla never instruments, whatever its discovery says: its default exclusions (grafana/beyla v3.33.0
    /// docs/sources/configure/service-discovery.md, "Default exclude services from instrumentation"). The lab cannot live in one of them.
    /// </summary>
    public static readonly string[] NamespacesBeylaExcludes =
    [
        "kube-system", "kube-node-lease", "local-path-storage", "grafana-alloy", "cert-manager", "monitoring", "gke-connect", "gke-gmp-system",
        "gke-managed-cim", "gke-managed-filestorecsi", "gke-managed-metrics-server", "gke-managed-system", "gke-system",
        "gke-managed-volumepopulator", "gatekeeper-system",
    ];

    /// <summary>An RFC 1123 label (namespaces, most object names): lowercase letters, digits and '-', at most 63.</summary>
    public static bool IsLabel(string name) => name.Length <= 63 && Label().IsMatch(name);

    /// <summary>An RFC 1035 label (Service names): as <see cref="IsLabel"/>, starting with a letter.</summary>
    public static bool IsServiceName(string name) => IsLabel(name) && char.IsAsciiLetterLower(name[0]);

    /// <summary>A container port's name (IANA service name): at most 15 lowercase letters, digits and '-', with a letter.</summary>
    public static bool IsPortName(string name) => name.Length <= 15 && Label().IsMatch(name) && name.Any(char.IsAsciiLetterLower);

    /// <summary>A name made of <paramref name="text"/>'s lowercase letters and digits, anything else a '-'.</summary>
    public static string Sanitize(string text) => NotLabel().Replace(text.ToLowerInvariant(), "-").Trim('-');

    /// <summary>What is wrong with <paramref name="settings"/>, one line per problem, each starting with the key.</summary>
    public static IEnumerable<string> Problems(LabSettings.KubernetesSettings settings)
    {
        if (!IsLabel(settings.Namespace))
        {
            yield return $"Namespace must be a Kubernetes namespace name (lowercase letters, digits and '-', at most 63), not '{settings.Namespace}'.";
        }
        else if (NamespacesBeylaExcludes.Contains(settings.Namespace))
        {
            yield return $"Namespace '{settings.Namespace}' is one Beyla never instruments (its default exclusions): choose another.";
        }
        if (settings.Registry is { } registry && !Registry().IsMatch(registry))
        {
            yield return $"Registry must be a registry host with an optional port and path, e.g. registry.example.com/lab19 (no scheme), not '{registry}'.";
        }
        if (!Tag().IsMatch(settings.ImageTag))
        {
            yield return $"ImageTag must be an image tag (letters, digits, '_', '.', '-', at most 128), not '{settings.ImageTag}'.";
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotLabel();

    [GeneratedRegex(@"^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")]
    private static partial Regex Registry();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex Tag();
}
