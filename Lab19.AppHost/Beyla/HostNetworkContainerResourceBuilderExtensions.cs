namespace Lab19.AppHost;

/// <summary>
/// Adds a <see cref="HostNetworkContainerResource"/>, and the container methods it needs (an executable resource has none of
/// Aspire's): image, bind mounts, runtime arguments, capabilities.
/// </summary>
internal static class HostNetworkContainerResourceBuilderExtensions
{
    /// <summary>
    /// Adds <paramref name="image"/> as a container in the host network namespace. Mounts, runtime arguments and environment variables
    /// are given with the usual methods; arguments added with WithArgs after this call go to the container, after the image.
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> AddHostNetworkContainer(this IDistributedApplicationBuilder builder, string name, string image, string tag)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(image);
        ArgumentException.ThrowIfNullOrEmpty(tag);

        var resource = new HostNetworkContainerResource(name, image, tag, $"lab19-{name}-{LocalServer.Hash(builder.AppHostDirectory)}", builder.AppHostDirectory);
        return builder.AddResource(resource)
            .WithArgs(context => DockerRunArguments.AddAsync(resource, context))
            .WithLeftoverRemoval();
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithImageRegistry(this IResourceBuilder<HostNetworkContainerResource> builder, string registry)
    {
        builder.Resource.Registry = registry;
        return builder;
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithImage(this IResourceBuilder<HostNetworkContainerResource> builder, string image, string tag, string? registry = null)
    {
        builder.Resource.ImageName = image;
        builder.Resource.Tag = tag;
        builder.Resource.Registry = registry;
        return builder;
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithBindMount(this IResourceBuilder<HostNetworkContainerResource> builder, string source, string target, bool isReadOnly = false) =>
        builder.WithAnnotation(new ContainerMountAnnotation(Path.GetFullPath(source, builder.ApplicationBuilder.AppHostDirectory), target, ContainerMountType.BindMount, isReadOnly));

    public static IResourceBuilder<HostNetworkContainerResource> WithContainerRuntimeArgs(this IResourceBuilder<HostNetworkContainerResource> builder, params string[] args) =>
        builder.WithAnnotation(new ContainerRuntimeArgsCallbackAnnotation(list =>
        {
            foreach (var arg in args)
            {
                list.Add(arg);
            }
        }));

    /// <summary>
    /// Capabilities the container is given (<see cref="CapabilitiesAnnotation"/>): `docker run` gets a --cap-add for each, as the Docker Engine
    /// that runs the container accepts them (<see cref="DockerCapabilities"/>); the Kubernetes manifests list them in the securityContext.
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithCapabilities(this IResourceBuilder<HostNetworkContainerResource> builder, params string[] capabilities) =>
        capabilities.Length == 0 ? builder : builder.WithAnnotation(new CapabilitiesAnnotation(capabilities));
}

/// <summary>Linux capabilities a container is given beyond its runtime's defaults, as their names without CAP_ (e.g. BPF, SYS_ADMIN).</summary>
internal sealed record CapabilitiesAnnotation(IReadOnlyList<string> Capabilities) : IResourceAnnotation;
