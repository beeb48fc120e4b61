namespace Lab19.AppHost;

/// <summary>
/// A service's own account on a MySQL or MariaDB database, with the rights it needs there and nothing else (not root): created, and
/// given this run's password, by the server's root account once the server answers. A child of the database in the dashboard.
/// </summary>
internal sealed class DatabaseAccountResource(string name, string userName, ParameterResource password, IResourceWithConnectionString database,
    string databaseName, EndpointReference server) : Resource(name), IResourceWithParent<IResourceWithConnectionString>, IResourceWithConnectionString
{
    public IResourceWithConnectionString Parent { get; } = database;

    public string UserName { get; } = userName;

    public string DatabaseName { get; } = databaseName;

    public ParameterResource PasswordParameter { get; } = password;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server={server.Property(EndpointProperty.Host)};Port={server.Property(EndpointProperty.Port)};User ID={UserName};Password={PasswordParameter};Database={DatabaseName}");
}
