using MySqlConnector;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>A database on a <see cref="MySqlServerResource"/>, created when the server is ready; shaped like Aspire.Hosting.MySql's.</summary>
public class MySqlDatabaseResource(string name, string databaseName, MySqlServerResource parent)
    : Resource(name), IResourceWithParent<MySqlServerResource>, IResourceWithConnectionString
{
    public MySqlServerResource Parent { get; } = parent ?? throw new ArgumentNullException(nameof(parent));

    public string DatabaseName { get; } = string.IsNullOrEmpty(databaseName) ? throw new ArgumentException("A database needs a name.", nameof(databaseName)) : databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};{new MySqlConnectionStringBuilder { ["Database"] = DatabaseName }.ToString()}");

    public ReferenceExpression UriExpression => Parent.BuildUri(DatabaseName);

    public ReferenceExpression JdbcConnectionString => Parent.BuildJdbcConnectionString(DatabaseName);

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
        ((IResourceWithConnectionString)Parent).GetConnectionProperties()
            .Where(p => p.Key is not ("Uri" or "JdbcConnectionString"))
            .Concat(
            [
                new("DatabaseName", ReferenceExpression.Create($"{DatabaseName}")),
                new("Uri", UriExpression),
                new("JdbcConnectionString", JdbcConnectionString),
            ]);
}
