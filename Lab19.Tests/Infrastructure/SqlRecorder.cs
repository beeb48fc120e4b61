// SqlRecorder: an EF Core interceptor that records the SQL a service's own DbContext sends, for tests that run the services' code in-process.
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Lab19.Tests.Infrastructure;

/// <summary>One command as EF Core sent it: its SQL, a copy of its parameters, and for a non-query the rows it affected.</summary>
public sealed record RecordedCommand(string Sql, IReadOnlyList<DbParameter> Parameters, int? RowsAffected, DbTransaction? Transaction);

/// <summary>Records every command a DbContext executes (add it with <c>AddInterceptors</c>).</summary>
public sealed class SqlRecorder : DbCommandInterceptor
{
    private readonly List<RecordedCommand> _commands = [];

    public IReadOnlyList<RecordedCommand> Commands { get { lock (_commands) return [.. _commands]; } }

    public void Clear() { lock (_commands) _commands.Clear(); }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken ct = default)
    {
        Record(command, null);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken ct = default)
    {
        Record(command, null);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken ct = default)
    {
        Record(command, result);
        return ValueTask.FromResult(result);
    }

    private void Record(DbCommand command, int? rows)
    {
        // Both drivers' parameters are ICloneable: the copies can be bound to another command (an EXPLAIN of this one).
        var parameters = command.Parameters.Cast<DbParameter>().Select(p => (DbParameter)((ICloneable)p).Clone()).ToList();
        lock (_commands) _commands.Add(new RecordedCommand(command.CommandText, parameters, rows, command.Transaction));
    }
}
