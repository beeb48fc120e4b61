// LocalServers: whether the host has the PostgreSQL and MariaDB/MySQL server binaries the AppHost's local mode runs.

namespace Lab19.Tests.Infrastructure;

internal static class LocalServers
{
    /// <summary>Skips the test where the servers are not installed (fails instead under CI=true, which installs them).</summary>
    public static void SkipUnlessInstalled()
    {
        var probe = new HostProbe();
        var missing = new[] { LocalPostgres.Find(probe).Server is null ? "PostgreSQL" : null, LocalMySql.Find(probe).Server is null ? "MariaDB/MySQL" : null }
            .OfType<string>().ToList();
        Prerequisite.SkipUnless(missing.Count == 0,
            $"Needs the {string.Join(" and ", missing)} server binaries (Debian: sudo apt-get install -y postgresql mariadb-server).", installedByCi: true);
    }
}
