namespace Lab19.AppHost;

/// <summary>grafana/k6 running the lab's load script: started from the dashboard's Start button, not with the lab.</summary>
internal sealed class K6Resource(string name) : ContainerResource(name);

/// <summary>The image k6 runs (entrypoint `k6`).</summary>
internal static class K6ContainerImageTags
{
    public const string Registry = "docker.io";
    public const string Image = "grafana/k6";
    public const string Tag = "1.8.1";
}
