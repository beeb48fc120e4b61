namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A MySQL server container, with the public shape of Aspire.Hosting.MySql's resource (the package is not on the lab's package source):
/// the same members, connection string and connection properties, so that a package reference can replace this folder unchanged.
/// </summary>
public class MySqlServerResource : ContainerResource, IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";
    private const string DefaultUserName = "root";

    private readonly Dictionary<string, string> _databases = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<MySqlDatabaseResource> _databaseResources = [];

    public MySqlServerResource(string name, ParameterResource password) : base(name)
    {
        ArgumentNullException.ThrowIfNull(password);
        PrimaryEndpoint = new(this, PrimaryEndpointName);
        PasswordParameter = password;
    }

    public EndpointReference PrimaryEndpoint { get; }

    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    public ParameterResource PasswordParameter { get; set; }

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Server={Host};Port={Port};User ID={DefaultUserName};Password={PasswordParameter}");

    public ReferenceExpression UriExpression => BuildUri();

    public ReferenceExpression JdbcConnectionString => BuildJdbcConnectionString();

    /// <summary>Database resource names and the database each names.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    internal IReadOnlyList<MySqlDatabaseResource> DatabaseResources => _databaseResources;

    internal void AddDatabase(MySqlDatabaseResource database)
    {
        _databases.TryAdd(database.Name, database.DatabaseName);
        _databaseResources.Add(database);
    }

    internal ReferenceExpression BuildUri(string? databaseName = null)
    {
        var builder = new ReferenceExpressionBuilder();
        builder.AppendLiteral("mysql://");
        builder.Append($"{DefaultUserName:uri}:{PasswordParameter:uri}@{Host}:{Port}");
        if (databaseName is not null)
        {
            builder.Append($"/{databaseName:uri}");
        }
        return builder.Build();
    }

    internal ReferenceExpression BuildJdbcConnectionString(string? databaseName = null)
    {
        var builder = new ReferenceExpressionBuilder();
        builder.AppendLiteral("jdbc:mysql://");
        builder.Append($"{Host}");
        builder.AppendLiteral(":");
        builder.Append($"{Port}");
        if (databaseName is not null)
        {
            builder.AppendLiteral("/");
            builder.Append($"{databaseName:uri}");
        }
        return builder.Build();
    }

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties()
    {
        yield return new("Host", ReferenceExpression.Create($"{Host}"));
        yield return new("Port", ReferenceExpression.Create($"{Port}"));
        yield return new("Username", ReferenceExpression.Create($"{DefaultUserName}"));
        yield return new("Password", ReferenceExpression.Create($"{PasswordParameter}"));
        yield return new("Uri", UriExpression);
        yield return new("JdbcConnectionString", JdbcConnectionString);
    }
}
