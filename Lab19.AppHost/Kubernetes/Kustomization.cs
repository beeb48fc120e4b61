namespace Lab19.AppHost;

/// <summary>
/// A kustomization.yaml, with the fields the lab writes (kustomize's Kustomization, kustomize.config.k8s.io/v1beta1). Not a Kubernetes object,
/// so KubernetesClient has no model for it: KubernetesYaml serialises this class, and loads it with <see cref="TypeMap"/>.
/// </summary>
internal sealed class Kustomization
{
    public const string Version = "kustomize.config.k8s.io/v1beta1";

    /// <summary>For KubernetesYaml.LoadAllFromString: a kustomization is loaded as this class.</summary>
    public static Dictionary<string, Type> TypeMap => new() { [$"{Version}/{nameof(Kustomization)}"] = typeof(Kustomization) };

    public string ApiVersion { get; set; } = Version;

    public string Kind { get; set; } = nameof(Kustomization);

    public string? Namespace { get; set; }

    public List<string>? Resources { get; set; }

    public List<Generator>? ConfigMapGenerator { get; set; }

    public List<Generator>? SecretGenerator { get; set; }

    /// <summary>A ConfigMap or Secret made from files (each file a key) or from env files (each line KEY=VALUE a key).</summary>
    public sealed class Generator
    {
        public string? Name { get; set; }

        /// <summary>create (the default), or replace/merge for one of the base's.</summary>
        public string? Behavior { get; set; }

        public List<string>? Files { get; set; }

        public List<string>? Envs { get; set; }
    }
}
