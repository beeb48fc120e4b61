namespace Lab19.ServiceDefaults;

public static class TimeProviderExtensions
{
    /// <summary>Now in UTC, cut to the microsecond both databases store, so a created record reads back exactly as it was returned.</summary>
    public static DateTime UtcNowInMicroseconds(this TimeProvider clock)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }
}
