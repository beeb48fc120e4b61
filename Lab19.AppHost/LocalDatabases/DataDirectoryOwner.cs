using System.Diagnostics;
using System.Globalization;

namespace Lab19.AppHost;

/// <summary>The AppHost process that last started a server on a data directory: its pid and start time, in the file "owner" beside the data.</summary>
internal sealed record DataDirectoryOwner(int Pid, long StartTicks)
{
    private const string FileName = "owner";

    public static DataDirectoryOwner ThisProcess { get; } = Of(Process.GetCurrentProcess());

    public bool IsThisProcess => this == ThisProcess;

    /// <summary>Whether that process still runs (the same process: a pid reused by another program has another start time).</summary>
    public bool IsAlive()
    {
        try
        {
            using var process = Process.GetProcessById(Pid);
            return !process.HasExited && Of(process) == this;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static DataDirectoryOwner? Read(string serverDirectory)
    {
        try
        {
            var fields = File.ReadAllText(Path.Combine(serverDirectory, FileName)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length == 2 && int.TryParse(fields[0], CultureInfo.InvariantCulture, out var pid) && long.TryParse(fields[1], CultureInfo.InvariantCulture, out var ticks)
                ? new DataDirectoryOwner(pid, ticks)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string serverDirectory) =>
        File.WriteAllText(Path.Combine(serverDirectory, FileName), string.Create(CultureInfo.InvariantCulture, $"{Pid} {StartTicks}"));

    // Whole seconds: the start time is computed from the boot time and may differ by a fraction between two readings.
    private static DataDirectoryOwner Of(Process process) => new(process.Id, process.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond);
}
