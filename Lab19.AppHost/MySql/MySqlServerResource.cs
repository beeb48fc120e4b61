namespace Aspire.Hosting.ApplicationModel;

/// <summary>A MySQL server container; shaped like Aspire.Hosting.MySql's resource so that package can replace it later.</summary>
public class MySqlServerResource(string name, ParameterResource password) : ContainerResource(name), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    private readonly List<MySqlDatabaseResource> _databases = [];

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ParameterResource PasswordParameter { get; } = password;

    public IReadOnlyList<MySqlDatabaseResource> Databases => _databases;

    /// <summary>
    /// Plaintext on purpose: MySQL 8.4 offers TLS and MySqlConnector would take it, and Beyla may then miss the SQL it decodes
    /// (see docs/beyla-facts.md). Without TLS, MySQL's default caching_sha2_password needs the server's RSA key for a first login.
    /// </summary>
    public const string LabConnectionOptions = "SslMode=None;AllowPublicKeyRetrieval=True";

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};User ID=root;Password={PasswordParameter};{LabConnectionOptions}");

    internal void AddDatabase(MySqlDatabaseResource database) => _databases.Add(database);
}

/// <summary>A database on a <see cref="MySqlServerResource"/>, created when the server is ready.</summary>
public class MySqlDatabaseResource(string name, string databaseName, MySqlServerResource parent)
    : Resource(name), IResourceWithParent<MySqlServerResource>, IResourceWithConnectionString
{
    public MySqlServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}
