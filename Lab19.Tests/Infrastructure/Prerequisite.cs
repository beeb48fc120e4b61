// Prerequisite: the one way a test skips for something outside .NET it needs (Docker, a Debian package, an image), and fails instead in CI.
namespace Lab19.Tests.Infrastructure;

public static class Prerequisite
{
    public enum Verdict { Run, Skip, Fail }

    /// <summary>CI runs the tests with CI=true (.ci/run), after installing what they need.</summary>
    public static bool InCi => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>
    /// Skips the test with <paramref name="reason"/> unless <paramref name="condition"/> holds. A prerequisite that .ci/run installs
    /// (<paramref name="installedByCi"/>) fails the test under CI=true instead, with the same reason: CI never passes with such a test skipped.
    /// </summary>
    public static void SkipUnless(bool condition, string reason, bool installedByCi)
    {
        switch (Decide(condition, installedByCi, InCi))
        {
            case Verdict.Fail:
                Assert.Fail($"{reason} (.ci/run installs this prerequisite, so under CI=true the test fails instead of skipping)");
                break;
            case Verdict.Skip:
                Assert.Skip(reason);
                break;
        }
    }

    public static Verdict Decide(bool condition, bool installedByCi, bool inCi) =>
        condition ? Verdict.Run : installedByCi && inCi ? Verdict.Fail : Verdict.Skip;
}
