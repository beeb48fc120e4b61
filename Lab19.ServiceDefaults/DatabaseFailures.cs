using System.Data.Common;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lab19.ServiceDefaults;

/// <summary>
/// Which exceptions mean "the database is unavailable or too slow right now" (a 503 with Retry-After) rather than a fault in the
/// service (500). Each service registers its driver's own rule with <see cref="IsTransient"/>, the rule its retrying strategy uses,
/// so that a failure the strategy would retry is the same 503 in both services.
/// </summary>
public sealed class DatabaseFailures(Func<Exception, bool> isTransient)
{
    /// <summary>The driver's rule: true for a failure that may pass if the same work is tried again.</summary>
    public Func<Exception, bool> IsTransient { get; } = isTransient;

    /// <summary>True when the exception, or one it wraps, says the database could not be reached, timed out, or dropped the connection.</summary>
    public bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RetryLimitExceededException or TimeoutException or DbException { IsTransient: true } or DbException { InnerException: IOException or SocketException }
                || IsTransient(e))
            {
                return true;
            }
        }
        return false;
    }
}
