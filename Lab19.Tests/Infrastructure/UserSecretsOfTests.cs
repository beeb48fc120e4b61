// UserSecretsOfTests: the AppHosts the tests build or start keep their generated parameters in a user-secrets store of their own.
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration.UserSecrets;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// Aspire saves a generated parameter (the databases' passwords) into the AppHost's user secrets, the same store a developer's
/// `dotnet run` reads; Aspire.Hosting 13.6 does not isolate test builders from it (microsoft/aspire#13720). A test's AppHost overwrote the
/// developer's passwords, and the developer's next run met its database volumes with the wrong ones. ASPIRE_USER_SECRETS_ID, which
/// Aspire.Hosting reads in place of the assembly's UserSecretsId, points every AppHost of the test run (in-process and started) elsewhere.
/// </summary>
internal static class UserSecretsOfTests
{
    public const string Variable = "ASPIRE_USER_SECRETS_ID", Id = "lab19-tests";

    /// <summary>Where a developer's `dotnet run --project Lab19.AppHost` keeps its generated parameters.</summary>
    public static string DevelopersFile => PathHelper.GetSecretsPathFromSecretsId(
        typeof(LabSettings).Assembly.GetCustomAttribute<UserSecretsIdAttribute>()!.UserSecretsId);

    /// <summary>Before any test of the assembly runs; processes the tests start inherit it.</summary>
    [ModuleInitializer]
    internal static void UseTheTestsOwnStore() => Environment.SetEnvironmentVariable(Variable, Id);
}
