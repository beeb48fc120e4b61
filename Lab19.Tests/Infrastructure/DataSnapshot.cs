using MySqlConnector;
using Npgsql;

namespace Lab19.Tests.Infrastructure;

/// <summary>What both databases hold, read directly with SQL: compared before and after requests that must change nothing.</summary>
public sealed record DataSnapshot(long PointRows, long PointSum, long MaxPointId, long UserRows, long MaxUserId)
{
    public static async Task<DataSnapshot> TakeAsync(LabFixture fixture)
    {
        await using var my = await OpenPointsAsync(fixture);
        await using var points = my.CreateCommand();
        points.CommandText = "SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(MAX(id), 0) FROM points";
        await using var p = await points.ExecuteReaderAsync();
        await p.ReadAsync();
        var (pointRows, pointSum, maxPointId) = (p.GetInt64(0), Convert.ToInt64(p.GetValue(1)), p.GetInt64(2));

        await using var pg = new NpgsqlConnection(fixture.Databases.Postgres.ConnectionString(LabFixture.UserDb));
        await pg.OpenAsync();
        await using var users = new NpgsqlCommand("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM users", pg);
        await using var u = await users.ExecuteReaderAsync();
        await u.ReadAsync();
        return new DataSnapshot(pointRows, pointSum, maxPointId, u.GetInt64(0), u.GetInt32(1));
    }

    public static async Task<long> ScalarAsync(LabFixture fixture, string pointsSql)
    {
        await using var my = await OpenPointsAsync(fixture);
        await using var command = new MySqlCommand(pointsSql, my);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>Runs a statement against the point database directly (e.g. to plant rows a test needs), returning the rows affected.</summary>
    public static async Task<int> ExecuteAsync(LabFixture fixture, string pointsSql)
    {
        await using var my = await OpenPointsAsync(fixture);
        await using var command = new MySqlCommand(pointsSql, my);
        return await command.ExecuteNonQueryAsync();
    }

    private static async Task<MySqlConnection> OpenPointsAsync(LabFixture fixture)
    {
        var my = new MySqlConnection(fixture.Databases.MariaDb.ConnectionString(LabFixture.PointDb));
        await my.OpenAsync();
        return my;
    }

    public static async Task<long> UsersScalarAsync(LabFixture fixture, string usersSql)
    {
        await using var pg = new NpgsqlConnection(fixture.Databases.Postgres.ConnectionString(LabFixture.UserDb));
        await pg.OpenAsync();
        await using var command = new NpgsqlCommand(usersSql, pg);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
