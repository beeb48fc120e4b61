using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using PointService.Contracts;

namespace PointService.Data;

/// <summary>
/// point-service's two writes. Each is one transaction sent as one command, so one round trip: the record, its idempotency key
/// (a keyed POST), and the record's points added to the user's total (<see cref="UserTotal"/>), all committed or none.
/// The total is changed by <c>INSERT ... ON DUPLICATE KEY UPDATE total = total + ?</c>, which holds the user's row lock until the
/// commit, so concurrent POSTs for one user queue on that row (server-side only: the command is already there) and none is lost.
/// The MySQL server stops a multi-statement command at its first failing statement; the transaction is then rolled back before the
/// connection goes back to the pool. A connection that ends mid-command (a crash, a kill) is rolled back by the server.
/// Each write is one unit of EF Core's retrying strategy, as SaveChanges is.
/// </summary>
// Hand-written SQL on EF Core's own connection: EF Core cannot express INSERT ... ON DUPLICATE KEY UPDATE, and its SaveChanges sends
// BEGIN, each dependent INSERT and COMMIT as separate round trips; no package on the lab's source batches a transaction into one command.
public partial class PointsDbContext
{
    /// <summary>A record to store; its id is the database's to give.</summary>
    public sealed record NewPoint(int UserId, int Points, string? Reason, DateTime CreatedAt);

    /// <summary>
    /// What a keyed write did: <paramref name="Created"/> the record it stored, or, when it stored nothing, what the key had stored
    /// before (<paramref name="Earlier"/>; null when another request holds the key and has not committed).
    /// </summary>
    public sealed record KeyedWrite(PointResponse? Created, KeyUse? Earlier);

    // The record's id comes back in the INSERT's OK packet (MySqlCommand.LastInsertedId: the last non-zero one of the command, and the
    // later statements generate none), not from a SELECT LAST_INSERT_ID() of its own.
    private const string InsertPoint = """
        INSERT INTO points (user_id, points, reason, created_at) VALUES (@userId, @points, @reason, @createdAt);
        """;

    // Last before COMMIT: the user's row is locked for the shortest time.
    private const string AddToTotal = """
        INSERT INTO user_totals (user_id, total) VALUES (@userId, @points) ON DUPLICATE KEY UPDATE total = total + @points;
        """;

    private const string AddPointSql = "START TRANSACTION;\n" + InsertPoint + "\n" + AddToTotal + "\nCOMMIT;";

    // No look-up first: a new key (nearly every keyed POST) costs no extra statement. A key seen before (a retry) fails the key's INSERT
    // as a duplicate, which stops the command before anything is committed; its record is then read (KeyUseAsync).
    private const string AddPointOnceSql = "START TRANSACTION;\n" + InsertPoint + "\n" + """
        INSERT INTO idempotency_keys (key_hash, request_hash, point_id, created_at) VALUES (@keyHash, @requestHash, LAST_INSERT_ID(), @createdAt);
        """ + "\n" + AddToTotal + "\nCOMMIT;";

    /// <summary>Stores <paramref name="point"/> and adds it to its user's total, in one transaction and one round trip.</summary>
    public Task<PointResponse> AddPointAsync(NewPoint point, CancellationToken ct) =>
        Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            using var command = AddPointCommand(point);
            return Created(point, await ExecuteWriteAsync(command, ct));
        }, ct);

    /// <summary>
    /// Stores <paramref name="point"/> with the idempotency key whose hash is <paramref name="keyHash"/> and adds it to its user's total,
    /// in one transaction and one round trip; or, when the key is already stored, stores nothing and returns what the key stored.
    /// A request racing another with the same key waits on the key's index entry until the other commits (its INSERT then fails as a
    /// duplicate, and the other's record is read) or until the command timeout (the other has not committed: <see cref="KeyedWrite.Earlier"/> is null).
    /// </summary>
    public Task<KeyedWrite> AddPointOnceAsync(NewPoint point, byte[] keyHash, byte[] requestHash, CancellationToken ct) =>
        // The whole exchange is one unit of the retrying strategy: a retry after a commit whose answer was lost finds the key.
        Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            try
            {
                using var command = AddPointOnceCommand(point, keyHash, requestHash);
                return new KeyedWrite(Created(point, await ExecuteWriteAsync(command, ct)), null);
            }
            catch (MySqlException e) when (e.ErrorCode is MySqlErrorCode.DuplicateKeyEntry or MySqlErrorCode.CommandTimeoutExpired)
            {
                // The key is stored (before, or by the winner of a race since), or the INSERT waited on the key's index entry until the
                // command timeout: another request holds the key and has not committed (its record cannot be read).
                return new KeyedWrite(null, await KeyUseAsync(keyHash, ct));
            }
        }, ct);

    /// <summary>The command <see cref="AddPointAsync"/> sends (the query-plan tests EXPLAIN its statements).</summary>
    internal static MySqlCommand AddPointCommand(NewPoint point) => Command(AddPointSql, point);

    /// <summary>The command <see cref="AddPointOnceAsync"/> sends (the query-plan tests EXPLAIN its statements).</summary>
    internal static MySqlCommand AddPointOnceCommand(NewPoint point, byte[] keyHash, byte[] requestHash)
    {
        var command = Command(AddPointOnceSql, point);
        command.Parameters.AddWithValue("@keyHash", keyHash);
        command.Parameters.AddWithValue("@requestHash", requestHash);
        return command;
    }

    private static MySqlCommand Command(string sql, NewPoint point)
    {
        var command = new MySqlCommand(sql);
        command.Parameters.AddWithValue("@userId", point.UserId);
        command.Parameters.AddWithValue("@points", point.Points);
        command.Parameters.AddWithValue("@reason", (object?)point.Reason ?? DBNull.Value);
        command.Parameters.AddWithValue("@createdAt", point.CreatedAt);
        return command;
    }

    /// <summary>
    /// Runs <paramref name="command"/> on the context's connection through its COMMIT and returns the id of the record it inserted;
    /// on any failure rolls the transaction back before the connection is returned to the pool.
    /// </summary>
    private async Task<long> ExecuteWriteAsync(MySqlCommand command, CancellationToken ct)
    {
        await Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (MySqlConnection)Database.GetDbConnection();
            command.Connection = connection;
            if (Database.GetCommandTimeout() is { } timeout) command.CommandTimeout = timeout;
            // Once sent, a write is not cancelled when its client goes away: MySqlConnector cancels with KILL QUERY, which stops the batch
            // wherever the server is, and a late one can hit the ROLLBACK below; that left transactions open on pooled connections, holding
            // a user's total (bench/README.md). The command timeout still bounds the write.
            ct.ThrowIfCancellationRequested();
            try
            {
                // Reads every statement's answer: the first failing one is thrown here, the last one is the COMMIT's.
                await command.ExecuteNonQueryAsync(CancellationToken.None);
                return command.LastInsertedId;
            }
            catch
            {
                await RollBackAsync(connection);
                throw;
            }
        }
        finally
        {
            await Database.CloseConnectionAsync();
        }
    }

    /// <summary>Ends the transaction a failed command left open, so that no pooled connection carries it to the next request.</summary>
    private static async Task RollBackAsync(MySqlConnection connection)
    {
        try
        {
            await using var rollback = new MySqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException or IOException)
        {
            // The connection is broken (the server rolls back the transaction of a connection that ends) or could not roll back:
            // no connection of this pool is reused, so none can carry an open transaction.
            MySqlConnection.ClearPool(connection);
        }
    }

    private static PointResponse Created(NewPoint point, long id) =>
        id > 0 ? new PointResponse(id, point.UserId, point.Points, point.Reason, point.CreatedAt) : throw new InvalidOperationException("The INSERT returned no id.");
}
