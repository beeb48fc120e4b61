using Lab19.AppHost.Preflight;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>Stands in the dashboard where a resource was left out because the host failed the preflight: its state and console say why.</summary>
public sealed class PreflightFailedResource(string name, PreflightReport report) : Resource(name)
{
    public PreflightReport Report { get; } = report;

    /// <summary>The dashboard state: short, the details are in the properties and the console.</summary>
    public string StateText => Report.DockerReachable ? "Host cannot run eBPF" : "Docker not reachable";
}
