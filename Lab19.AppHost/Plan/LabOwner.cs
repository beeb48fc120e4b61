using System.Diagnostics;
using System.Globalization;

namespace Lab19.AppHost;

/// <summary>
/// Which run of the lab owns something that lives outside the AppHost (a local database server's data directory, Beyla's container):
/// the AppHost process, by pid and start time (a reused pid has another start time), and the resource within that run. Something
/// is removed or stopped by a run only when it is that run's own, or when its owner provably runs no more.
/// </summary>
internal sealed record LabOwner(int Pid, long StartSeconds, string Instance)
{
    private const string FileName = "owner";

    /// <summary>A new owner in this AppHost process (one per resource).</summary>
    public static LabOwner ForThisProcess() => Of(Process.GetCurrentProcess()) with { Instance = Guid.NewGuid().ToString("N")[..12] };

    /// <summary>Whether the owning AppHost process still runs.</summary>
    public bool IsAlive()
    {
        try
        {
            using var process = Process.GetProcessById(Pid);
            return !process.HasExited && Of(process) with { Instance = Instance } == this;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Pid}:{StartSeconds}:{Instance}");

    /// <summary>"pid:start:instance", or null for anything else.</summary>
    public static LabOwner? Parse(string? text) =>
        text?.Trim().Split(':') is [var pid, var start, var instance]
        && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p)
        && long.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
        && instance.Length > 0
            ? new LabOwner(p, s, instance)
            : null;

    /// <summary>The owner recorded in a server directory (the file "owner" beside the data), or null.</summary>
    public static LabOwner? ReadFrom(string serverDirectory)
    {
        try
        {
            return Parse(File.ReadAllText(Path.Combine(serverDirectory, FileName)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void WriteTo(string serverDirectory) => File.WriteAllText(Path.Combine(serverDirectory, FileName), ToString());

    // Whole seconds: the start time is computed from the boot time and may differ by a fraction between two readings.
    private static LabOwner Of(Process process) => new(process.Id, process.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond, "");
}
