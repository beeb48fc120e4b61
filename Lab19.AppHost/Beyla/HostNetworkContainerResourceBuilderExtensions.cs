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

    /// <summary>--cap-add for each capability, as the Docker Engine that runs the container accepts them (<see cref="DockerCapabilities"/>).</summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithCapabilities(this IResourceBuilder<HostNetworkContainerResource> builder, params string[] capabilities)
    {
        var engine = new Lazy<Task<int?>>(DockerCapabilities.EngineMajorVersionAsync);
        return builder.WithAnnotation(new ContainerRuntimeArgsCallbackAnnotation(async context =>
        {
            foreach (var capability in DockerCapabilities.Accepted(capabilities, await engine.Value))
            {
                context.Args.Add($"--cap-add={capability}");
            }
        }));
    }
}
