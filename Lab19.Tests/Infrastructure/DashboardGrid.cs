// DashboardGrid: a grid of the Aspire dashboard (resources, a trace's spans) read in the browser as its user reads it, cell text by column header.
using System.Diagnostics;
using Microsoft.Playwright;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// The visible rows of the grid on a dashboard page, each as its cells' text under their column headers ("Name", "State", "Resource"...).
/// Rows, cells and headers are found by their ARIA roles (row, gridcell, and columnheader, which a th has without saying it), which the
/// dashboard's data grid gives them for screen readers; its generated ids and CSS classes change from build to build, and its column
/// order with the user's settings.
/// </summary>
public sealed record DashboardGrid(IReadOnlyList<IReadOnlyDictionary<string, string>> Rows)
{
    // One snapshot in one call: the grid is re-rendered as the resources change, so rows read one by one could come from two renderings.
    // A cell reads as its visible text, and a link that has a label of its own as that label in brackets: the red badge beside a
    // resource's state is a link labelled "7 error logs" whose text is only "7".
    private const string ReadRows = """
        rows => rows.map(row => {
            const read = cell => {
                const parts = [];
                const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let text = texts.nextNode(); text; text = texts.nextNode()) {
                    const element = text.parentElement;
                    if (element.checkVisibility() && !element.closest('a[aria-label]')) parts.push(text.textContent);
                }
                for (const link of cell.querySelectorAll('a[aria-label]')) parts.push(`[${link.getAttribute('aria-label')}]`);
                return parts.join(' ').replace(/\s+/g, ' ').trim();
            };
            return [row.querySelector('th, [role=columnheader]') ? 'header' : 'row',
                ...Array.from(row.querySelectorAll('th, [role=columnheader], [role=gridcell]'), read)];
        })
        """;

    public static async Task<DashboardGrid> ReadAsync(IPage page)
    {
        // Hidden rows (another tab's grid, the virtual list's spacers) have no role for Playwright's role locator, as for a screen reader.
        var rows = await page.GetByRole(AriaRole.Row).EvaluateAllAsync<string[][]>(ReadRows);
        var header = rows.FirstOrDefault(r => r[0] == "header")?[1..] ?? [];
        return new([.. rows.Where(r => r[0] == "row").Select(r =>
            (IReadOnlyDictionary<string, string>)header.Zip(r[1..]).DistinctBy(c => c.First).ToDictionary(c => c.First, c => c.Second))]);
    }

    /// <summary>
    /// Reads the grid on <paramref name="page"/> every half second until <paramref name="complete"/> holds, and returns it; after
    /// <paramref name="timeout"/> fails with what the grid showed last. With <paramref name="reloadEvery"/> the page is also reloaded that
    /// often, for a page that does not follow every change by itself; the reads in between give it the time to render again.
    /// </summary>
    public static async Task<DashboardGrid> WaitUntilAsync(IPage page, Func<DashboardGrid, bool> complete, TimeSpan timeout, string what,
        TimeSpan? reloadEvery = null)
    {
        var clock = Stopwatch.StartNew();
        var sinceReload = Stopwatch.StartNew();
        while (true)
        {
            var grid = await ReadAsync(page);
            if (complete(grid)) return grid;
            Assert.True(clock.Elapsed < timeout, $"{page.Url} did not show {what} within {timeout}; it showed:\n{grid}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            if (sinceReload.Elapsed >= reloadEvery)
            {
                await page.ReloadAsync();
                sinceReload.Restart();
            }
        }
    }

    /// <summary>The text of column <paramref name="header"/> in every row ("" where the grid has no such column).</summary>
    public IEnumerable<string> Column(string header) => Rows.Select(r => r.GetValueOrDefault(header, ""));

    /// <summary>Each row as the texts of two of its columns, e.g. ("Name", "State").</summary>
    public IEnumerable<(string, string)> Pairs(string first, string second) =>
        Rows.Select(r => (r.GetValueOrDefault(first, ""), r.GetValueOrDefault(second, "")));

    public override string ToString() =>
        Rows.Count == 0 ? "  (no rows)" : string.Join('\n', Rows.Select(r => "  " + string.Join(" | ", r.Select(c => $"{c.Key}: {c.Value}"))));
}
