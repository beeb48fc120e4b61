// LabFixture: the xunit fixtures that share one pair of private database servers and one running lab across the test collection.
namespace Lab19.Tests.Infrastructure;

/// <summary>One private PostgreSQL and one private MariaDB for the whole test run; each AppHost instance uses databases of its own on them.</summary>
public sealed class SharedDatabases : IAsyncLifetime
{
    public DatabaseServer Postgres { get; } = DatabaseServer.PostgreSql("shared");
    public DatabaseServer MariaDb { get; } = DatabaseServer.MySql("shared");

    public async ValueTask InitializeAsync() => await Task.WhenAll(Postgres.StartAsync(), MariaDb.StartAsync());

    public async ValueTask DisposeAsync()
    {
        await Postgres.DisposeAsync();
        await MariaDb.DisposeAsync();
    }
}

/// <summary>The lab running against the shared databases; the tests in <see cref="LabCollection"/> run one after another on it.</summary>
public sealed class LabFixture(SharedDatabases databases) : IAsyncLifetime
{
    public const string UserDb = "userdb";
    public const string PointDb = "pointdb";

    public LabApp Lab { get; private set; } = null!;
    public SharedDatabases Databases => databases;

    public async ValueTask InitializeAsync() =>
        Lab = await LabApp.StartAsync(databases.Postgres.ConnectionString(UserDb), databases.MariaDb.ConnectionString(PointDb));

    public async ValueTask DisposeAsync() => await Lab.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}
