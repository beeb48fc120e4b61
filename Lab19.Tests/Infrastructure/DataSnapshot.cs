// DataSnapshot: the lab's two databases read and written directly with SQL, around the HTTP API, to see what a request changed.
using System.Data.Common;
using MySqlConnector;
using Npgsql;

namespace Lab19.Tests.Infrastructure;

/// <summary>One of the lab's two databases on the shared servers.</summary>
public enum LabDatabase { Users, Points }

/// <summary>
/// What both databases hold, read directly with SQL: compared before and after requests that must change nothing.
/// Every table a request can write is counted: points, idempotency keys (stored with a keyed POST's record), users' totals and users.
/// </summary>
public sealed record DataSnapshot(long PointRows, long PointSum, long MaxPointId, long KeyRows, long MaxKeyPointId, long TotalRows, long TotalSum, long UserRows, long MaxUserId)
{
    public static async Task<DataSnapshot> TakeAsync(LabFixture fixture)
    {
        var points = await RowAsync(fixture, LabDatabase.Points, "SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(MAX(id), 0) FROM points");
        var keys = await RowAsync(fixture, LabDatabase.Points, "SELECT COUNT(*), COALESCE(MAX(point_id), 0) FROM idempotency_keys");
        var totals = await RowAsync(fixture, LabDatabase.Points, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM user_totals");
        var users = await RowAsync(fixture, LabDatabase.Users, "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM users");
        return new DataSnapshot(points[0], points[1], points[2], keys[0], keys[1], totals[0], totals[1], users[0], users[1]);
    }

    /// <summary>
    /// Every user whose stored total (user_totals) is not the sum of their records, read straight from MySQL in the database
    /// <paramref name="name"/>: "user 42: total 10, records 15". A user without records may have no total, or a total of 0.
    /// </summary>
    public static async Task<IReadOnlyList<string>> TotalsNotMatchingRecordsAsync(SharedDatabases databases, string name = LabFixture.PointDb)
    {
        await using var connection = await OpenAsync(databases, LabDatabase.Points, name);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT s.user_id, t.total, s.records FROM (SELECT user_id, SUM(points) AS records FROM points GROUP BY user_id) AS s
              LEFT JOIN user_totals AS t ON t.user_id = s.user_id WHERE t.total IS NULL OR t.total <> s.records
            UNION ALL
            SELECT t.user_id, t.total, 0 FROM user_totals AS t WHERE t.total <> 0 AND NOT EXISTS (SELECT 1 FROM points AS p WHERE p.user_id = t.user_id)
            """;
        command.CommandTimeout = 60;
        await using var reader = await command.ExecuteReaderAsync();
        var mismatches = new List<string>();
        while (await reader.ReadAsync())
        {
            mismatches.Add($"user {reader.GetValue(0)}: total {(reader.IsDBNull(1) ? "none" : reader.GetValue(1))}, records {reader.GetValue(2)}");
        }
        return mismatches;
    }

    /// <summary>The first column of the first row of <paramref name="sql"/>, as a number (a COUNT, a SUM).</summary>
    public static async Task<long> ScalarAsync(LabFixture fixture, LabDatabase database, string sql) =>
        (await RowAsync(fixture, database, sql))[0];

    /// <summary>As <see cref="ScalarAsync(LabFixture, LabDatabase, string)"/>, in the database <paramref name="name"/> of a lab of its own on the shared servers.</summary>
    public static async Task<long> ScalarAsync(SharedDatabases databases, LabDatabase database, string name, string sql)
    {
        await using var connection = await OpenAsync(databases, database, name);
        return (await RowAsync(connection, sql))[0];
    }

    /// <summary>Runs a statement directly (e.g. to plant rows a test needs), returning the rows affected.</summary>
    public static async Task<int> ExecuteAsync(LabFixture fixture, LabDatabase database, string sql)
    {
        await using var connection = await OpenAsync(fixture, database);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>The first row of <paramref name="sql"/>, every column as a number.</summary>
    private static async Task<long[]> RowAsync(LabFixture fixture, LabDatabase database, string sql)
    {
        await using var connection = await OpenAsync(fixture, database);
        return await RowAsync(connection, sql);
    }

    private static async Task<long[]> RowAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row from: {sql}");
        return [.. Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToInt64(reader.GetValue(i)))];
    }

    private static Task<DbConnection> OpenAsync(LabFixture fixture, LabDatabase database) =>
        OpenAsync(fixture.Databases, database, database == LabDatabase.Points ? LabFixture.PointDb : LabFixture.UserDb);

    private static async Task<DbConnection> OpenAsync(SharedDatabases databases, LabDatabase database, string name)
    {
        DbConnection connection = database == LabDatabase.Points
            ? new MySqlConnection(databases.MariaDb.ConnectionString(name))
            : new NpgsqlConnection(databases.Postgres.ConnectionString(name));
        await connection.OpenAsync();
        return connection;
    }
}
