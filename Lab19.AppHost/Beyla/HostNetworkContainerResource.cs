namespace Lab19.AppHost;

/// <summary>
/// A container in the host's network namespace, run by the Docker CLI as an executable resource.
/// DCP (Aspire 13.6.5) cannot do this for a container resource: it attaches every container to its own network, and
/// `docker create` then rejects --network=host ("conflicting options: cannot attach both user-defined and non-user-defined
/// network-modes"). Run in the foreground, `docker run --rm` gives the container DCP's executable lifecycle: its output is the
/// resource's console, its exit is the resource's exit, and DCP's stop (SIGTERM) reaches it through the CLI's signal proxy.
/// The builder is HostNetworkContainerResourceBuilderExtensions.cs; the `docker run` line DockerRunArguments.cs; clean-up LeftoverContainers.cs.
/// </summary>
internal sealed class HostNetworkContainerResource(string name, string image, string tag, string containerName, string workingDirectory)
    : ExecutableResource(name, "docker", workingDirectory)
{
    public string? Registry { get; set; }
    public string ImageName { get; set; } = image;
    public string Tag { get; set; } = tag;

    /// <summary>The image reference `docker run` gets.</summary>
    public string Image => Registry is null ? $"{ImageName}:{Tag}" : $"{Registry}/{ImageName}:{Tag}";

    /// <summary>Fixed per AppHost and resource, so a container left by a crashed run is found and removed before the next start.</summary>
    public string ContainerName { get; } = containerName;

    /// <summary>This run of the lab, as the owner of the container (its label <see cref="LeftoverContainers.OwnerLabel"/>).</summary>
    public LabOwner Owner { get; } = LabOwner.ForThisProcess();
}
