// Chromium: the distribution's Chromium (/usr/bin/chromium) driven by Playwright, for tests that read the lab the way its users see it.
using Microsoft.Playwright;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// A headless Chromium with a fresh profile, driven by Microsoft.Playwright. It is the distribution's own browser: Playwright's browser
/// download (<c>playwright install</c>) is never run.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly string _profile;

    private Chromium(IPlaywright playwright, IBrowserContext context, string profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    /// <summary>The browser's one window (a persistent context on the fresh profile); its <c>APIRequest</c> shares the cookies.</summary>
    public IBrowserContext Context { get; }

    /// <summary>The tab the browser opened with.</summary>
    public IPage Page => Context.Pages[0];

    /// <summary>
    /// Skips the test where Chromium is not installed, with how to install it; in CI (CI=true), whose .ci/run installs it, its absence fails
    /// the test instead.
    /// </summary>
    public static void SkipUnlessInstalled() =>
        Prerequisite.SkipUnless(File.Exists(Executable), $"Needs Chromium at {Executable} (Debian/Ubuntu: sudo apt-get install -y chromium)", installedByCi: true);

    public static async Task<Chromium> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var profile = Directory.CreateTempSubdirectory("lab19-chromium-").FullName;
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new()
        {
            ExecutablePath = Executable,
            Headless = true,
            // Chromium's sandbox refuses to run as root.
            ChromiumSandbox = !Processes.IsRoot,
            // No update checks, sync, QUIC or other calls home: the lab's hosts may have no route out, and the test reads only localhost.
            Args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
            ViewportSize = new() { Width = 1600, Height = 1000 },
            // The pages' own timestamps, read by a test anywhere in the world, in one format.
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(30_000);
        return new Chromium(playwright, context, profile);
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        _playwright.Dispose();
        Directory.Delete(_profile, recursive: true);
    }
}
