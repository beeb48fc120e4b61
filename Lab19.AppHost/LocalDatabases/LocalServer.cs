using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Lab19.AppHost;

/// <summary>
/// What running a database server from the host's own binaries takes, whatever the server: the account it runs as, the commands that
/// prepare its files, its process left over from a crashed run, and which AppHost owns its data directory.
/// <see cref="LocalPostgres"/> and <see cref="LocalMySql"/> build on it; the AppHost runs their servers as resources, the tests as processes.
/// </summary>
// Hand-written: no package runs PostgreSQL or MariaDB from installed binaries (Testcontainers and Aspire's integrations need Docker).
internal abstract class LocalServer(string serverFile, string? runAs)
{
    /// <summary>The server's executable (postgres, mariadbd or mysqld).</summary>
    public string ServerFile { get; } = serverFile;

    /// <summary>The system account the server and its tools run as, when the AppHost runs as root; null to run as the AppHost's user.</summary>
    public string? RunAs { get; } = runAs;

    /// <summary>The data directory of a server directory (each server has one directory of its own: data, pid and owner files).</summary>
    public static string DataPath(string serverDirectory) => Path.Combine(serverDirectory, "data");

    /// <summary>Creates the data directory when it is new and makes the server accept <paramref name="password"/>; after <see cref="ClaimAsync"/>, before the server starts.</summary>
    public abstract Task PrepareAsync(string serverDirectory, string password, CancellationToken cancellationToken);

    /// <summary>
    /// The server's command line: <c>/bin/sh</c> and its arguments, with <paramref name="port"/> as given (a number, or an expression the
    /// orchestrator resolves). <paramref name="durable"/> false trades crash safety for speed (the tests' throwaway servers).
    /// </summary>
    public abstract IReadOnlyList<object> ServerArguments(string serverDirectory, object port, bool durable = true);

    /// <summary>The pid file the running server writes.</summary>
    public abstract string PidFile(string serverDirectory);

    /// <summary>The signal that makes the server shut down quickly and cleanly, closing its clients' connections.</summary>
    protected abstract string StopSignal { get; }

    /// <summary>The shell that runs the server: it turns the TERM a process manager sends into <see cref="StopSignal"/> and waits for the server to finish.</summary>
    public const string Shell = "/bin/sh";

    /// <summary>
    /// <c>sh -c script name command...</c>: the server runs as a child of the shell, which forwards a TERM or INT as the server's own
    /// fast-shutdown signal and exits with the server's exit code.
    /// </summary>
    protected IReadOnlyList<object> InShell(string name, IEnumerable<object> command) =>
    [
        "-c",
        // A trapped signal interrupts `wait`: wait again until the server has really ended, and exit with its status.
        $"\"$@\" & pid=$!; trap 'kill -{StopSignal} $pid' TERM INT; " +
        "while :; do wait $pid; status=$?; kill -0 $pid 2>/dev/null || break; done; exit $status",
        name,
        .. AsServerUser(ServerFile, command),
    ];

    /// <summary><paramref name="file"/> and its arguments, run as <see cref="RunAs"/> where one is set (setpriv replaces itself with the command: no process in between).</summary>
    protected IEnumerable<object> AsServerUser(string file, IEnumerable<object> args) =>
        RunAs is null
            ? [file, .. args]
            : ["setpriv", $"--reuid={RunAs}", $"--regid={RunAs}", "--init-groups", "--", file, .. args];

    /// <summary>Runs a tool to its end as the server's user; a non-zero exit throws with what it printed.</summary>
    protected Task<string> RunToolAsync(string file, IReadOnlyList<string> args, string? input, string workingDirectory, CancellationToken cancellationToken) =>
        RunAsync([.. AsServerUser(file, args).Select(a => a.ToString()!)], input, workingDirectory, cancellationToken);

    /// <summary>Hands <paramref name="path"/> to the server's user (run as the AppHost's own user, root).</summary>
    protected Task GiveToServerUserAsync(string path, CancellationToken cancellationToken) =>
        RunAs is null ? Task.CompletedTask : RunAsync(["chown", RunAs, path], null, Path.GetDirectoryName(path)!, cancellationToken);

    private static async Task<string> RunAsync(IReadOnlyList<string> command, string? input, string workingDirectory, CancellationToken cancellationToken)
    {
        var file = command[0];
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in command.Skip(1)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        if (input is not null) await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(ToolTimeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} did not finish within {ToolTimeout.TotalSeconds:0} s.", e);
        }
        var output = (await stdout) + (await stderr);
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}: {output.Trim()}");
    }

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Creates <paramref name="serverDirectory"/> for the server's user (it must be able to write there).</summary>
    private async Task CreateServerDirectoryAsync(string serverDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(serverDirectory);
        await GiveToServerUserAsync(serverDirectory, cancellationToken);
    }

    /// <summary>
    /// Before a start: a server still running on <paramref name="serverDirectory"/> is stopped when its owner is <paramref name="owner"/>
    /// or provably runs no more (a crashed run left it), and refused when another live AppHost runs it. Then <paramref name="owner"/>
    /// becomes the directory's owner. Returns the pid of a stopped leftover, or null.
    /// </summary>
    public async Task<int?> ClaimAsync(string serverDirectory, LabOwner owner, CancellationToken cancellationToken)
    {
        int? stopped = null;
        if (RunningServer(serverDirectory) is { } server)
        {
            if (LabOwner.ReadFrom(serverDirectory) is { } other && other.Instance != owner.Instance && other.IsAlive())
            {
                var pid = server.Id;
                server.Dispose();
                throw new InvalidOperationException(
                    $"{serverDirectory} is in use by another Lab19 AppHost (pid {other.Pid}), whose server (pid {pid}) still runs: stop that lab first.");
            }
            stopped = server.Id;
            await StopAsync(server, cancellationToken);
        }
        await CreateServerDirectoryAsync(serverDirectory, cancellationToken);
        owner.WriteTo(serverDirectory);
        return stopped;
    }

    /// <summary>
    /// After a stop: the server this run started (<paramref name="serverPid"/>), if it outlived its shell (the shell was killed before
    /// the server finished), is stopped now. A server another run started since is left alone.
    /// </summary>
    public async Task<bool> StopIfStillRunningAsync(string serverDirectory, int serverPid, CancellationToken cancellationToken)
    {
        if (RunningServer(serverDirectory) is not { } server) return false;
        if (server.Id != serverPid)
        {
            server.Dispose();
            return false;
        }
        await StopAsync(server, cancellationToken);
        return true;
    }

    /// <summary>The live server process named in the pid file, or null (no file, or its pid is gone or now belongs to another program).</summary>
    public Process? RunningServer(string serverDirectory)
    {
        var pidFile = PidFile(serverDirectory);
        string? firstLine;
        try
        {
            firstLine = File.Exists(pidFile) ? File.ReadLines(pidFile).FirstOrDefault() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (!int.TryParse(firstLine?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return null;
        try
        {
            var process = Process.GetProcessById(pid);
            if (!process.HasExited && process.ProcessName == Path.GetFileName(ServerFile)) return process;
            process.Dispose();
            return null;
        }
        catch (ArgumentException)
        {
            return null; // no such process
        }
    }

    /// <summary>Sends <see cref="StopSignal"/>, waits for the server to finish its shutdown, and kills it if it does not.</summary>
    private async Task StopAsync(Process server, CancellationToken cancellationToken)
    {
        using (server)
        {
            await SignalAsync(server.Id, StopSignal, cancellationToken);
            try
            {
                await server.WaitForExitAsync(cancellationToken).WaitAsync(StopTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync(cancellationToken).WaitAsync(StopTimeout, cancellationToken);
            }
        }
    }

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    /// <summary>kill -SIGNAL pid (.NET itself only sends SIGKILL).</summary>
    private static async Task SignalAsync(int pid, string signal, CancellationToken cancellationToken)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardError = true })!;
        await kill.WaitForExitAsync(cancellationToken);
    }

    /// <summary>
    /// Where the lab keeps a server's files unless told otherwise: in the user's data folder (~/.local/share on Linux, ~/Library/Application
    /// Support on macOS), in a folder named after the AppHost's directory and keyed to its path, so two checkouts never share data and
    /// the repository never holds any.
    /// </summary>
    public static string DefaultDataRoot(string appHostDirectory)
    {
        var userData = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        if (string.IsNullOrEmpty(userData))
        {
            throw new InvalidOperationException("The user's data folder is unknown (HOME is not set): the local databases have nowhere to keep their files.");
        }
        return Path.Combine(userData, "lab19", $"{Path.GetFileName(appHostDirectory.TrimEnd(Path.DirectorySeparatorChar))}-{Hash(appHostDirectory)}");
    }

    /// <summary>
    /// Where the server keeps its files when asked for <paramref name="requested"/>: there, unless <see cref="RunAs"/> cannot reach it
    /// (a directory on the way lets no other account through, as root's home does); then in that account's home, under lab19/ and a
    /// key of the requested path, so that each requested directory still gets a directory of its own.
    /// </summary>
    public string Locate(string requested, IHostProbe probe)
    {
        if (RunAs is null || OthersCanReach(requested)) return requested;
        var home = HomeOf(probe, RunAs) ?? throw new InvalidOperationException($"The '{RunAs}' account has no home directory for the server's files.");
        return Path.Combine(home, "lab19", Hash(requested), Path.GetFileName(requested));
    }

    private static bool OthersCanReach(string path)
    {
        if (OperatingSystem.IsWindows()) return true;
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir) && !File.GetUnixFileMode(dir).HasFlag(UnixFileMode.OtherExecute)) return false;
        }
        return true;
    }

    /// <summary>Makes <paramref name="path"/> readable and writable by its owner only (files that hold a password).</summary>
    protected static void OwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The first 8 hex digits of the SHA-256 of <paramref name="text"/>.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

    /// <summary>The home directory of <paramref name="user"/> in /etc/passwd, or null.</summary>
    public static string? HomeOf(IHostProbe probe, string user) =>
        (probe.ReadText("/etc/passwd") ?? "").Split('\n').Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 5 && f[0] == user)?[5];

    /// <summary>Whether <paramref name="user"/> has an entry in /etc/passwd.</summary>
    public static bool UserExists(IHostProbe probe, string user) => HomeOf(probe, user) is not null;
}
