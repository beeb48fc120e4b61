namespace Lab19.ServiceDefaults;

/// <summary>
/// How long a request may spend on an unreachable or hanging database: connect and command timeouts, plus one quick retry
/// (which also replaces a pooled connection that broke while the database restarted). Worst case ≈ 2 + 0.5 + 2 s.
/// </summary>
public static class DatabaseLimits
{
    public const int ConnectTimeoutSeconds = 2;
    public const int CommandTimeoutSeconds = 2;
    public const int RetryCount = 1;
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMilliseconds(500);
}
