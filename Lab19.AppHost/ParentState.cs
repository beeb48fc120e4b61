namespace Lab19.AppHost;

internal static class ParentState
{
    /// <summary>
    /// The resource shows its parent's state (and so its health check runs while the parent runs). Aspire does this itself for the
    /// children of a container, but not for the children of an executable (a local database server) or of their children.
    /// </summary>
    public static IResourceBuilder<T> WithStateOfParent<T>(this IResourceBuilder<T> child) where T : IResourceWithParent =>
        child.OnInitializeResource((resource, e, ct) =>
        {
            _ = Task.Run(async () =>
            {
                await foreach (var update in e.Notifications.WatchAsync(ct).Where(u => u.Resource == resource.Parent))
                {
                    await e.Notifications.PublishUpdateAsync(resource, s => s with
                    {
                        State = update.Snapshot.State,
                        StartTimeStamp = update.Snapshot.StartTimeStamp,
                        StopTimeStamp = update.Snapshot.StopTimeStamp,
                    });
                }
            }, ct);
            return Task.CompletedTask;
        });
}
