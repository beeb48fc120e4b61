// ResultFiles: what a test leaves for people to look at (screenshots), in the results folder test.runsettings names (TestResults/ at the root).
using System.Xml.Linq;
using Microsoft.Playwright;

namespace Lab19.Tests.Infrastructure;

/// <summary>Files kept with the test run's results under stable names (each run replaces the last one's), announced in the test's output.</summary>
public static class ResultFiles
{
    /// <summary>The ResultsDirectory of test.runsettings (relative to that file), where `dotnet test` also writes lab19.trx.</summary>
    public static string Folder { get; } = Path.GetFullPath(Path.Combine(Repo.PathOf("Lab19.Tests"),
        XDocument.Load(Repo.PathOf("Lab19.Tests", "test.runsettings")).Descendants("ResultsDirectory").Single().Value));

    /// <summary>A screenshot of the whole of <paramref name="page"/> as <c>&lt;Folder&gt;/browser/&lt;name&gt;.png</c>; returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(Folder, "browser", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot of {page.Url}: {path}");
        return path;
    }
}
