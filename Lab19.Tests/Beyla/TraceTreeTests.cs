using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.BeylaRules;

namespace Lab19.Tests;

/// <summary>
/// The guide's trace trees (docs/beyla-under-aspire.md's and docs/runtime-agent.md's "What each mode shows") and the table of settings,
/// against the span tree Beyla's eBPF programs build (BeylaRules.SpanTree) for beyla-config.yml and the AppHost's default settings.
/// </summary>
public partial class TraceTreeTests
{
    /// <summary>docs/beyla-under-aspire.md: the walkthrough's trace tree and the table of the tree under each setting.</summary>
    private static readonly string[] BeylaUnderAspire = File.ReadAllLines(Repo.PathOf("docs", "beyla-under-aspire.md"));

    /// <summary>docs/runtime-agent.md: the trees of "What each mode shows".</summary>
    private static readonly string[] RuntimeAgent = File.ReadAllLines(Repo.PathOf("docs", "runtime-agent.md"));

    /// <summary>A span line of a tree: its depth (3 columns per level), service, name, kind, mark (¹, ²) and note.</summary>
    private sealed record Line(int Depth, string Service, string Name, string Kind, string? Mark, string Note)
    {
        public Line? Parent { get; set; }
    }

    [GeneratedRegex(@"^(?<service>[a-z-]+-service)\s+(?<name>.+?)\s+(?<kind>server|client)(?:\s(?<mark>[¹²]))?(?:\s{2,}(?<note>.*))?$")]
    private static partial Regex SpanLine();

    /// <summary>The span lines of <paramref name="document"/> that follow the line starting with <paramref name="header"/>, up to a blank line or the end of the block.</summary>
    private static List<Line> Tree(string[] document, string header)
    {
        var start = Array.FindIndex(document, l => l.StartsWith(header, StringComparison.Ordinal));
        Assert.True(start >= 0, $"the guide has no tree starting with '{header}'");
        var lines = new List<Line>();
        foreach (var text in document.Skip(start + 1).TakeWhile(l => l.Trim().Length > 0 && !l.StartsWith("```", StringComparison.Ordinal)))
        {
            var body = text.TrimStart('│', '├', '└', '─', ' ');
            if (body.StartsWith('¹') || body.StartsWith('²')) continue; // the footnotes
            var match = SpanLine().Match(body);
            Assert.True(match.Success, $"not a span line: '{text}'");
            var depth = (text.Length - body.Length) / 3;
            var line = new Line(depth, match.Groups["service"].Value, match.Groups["name"].Value.Trim(), match.Groups["kind"].Value,
                match.Groups["mark"].Success ? match.Groups["mark"].Value : null, match.Groups["note"].Value);
            line.Parent = depth == 0 ? null : lines.LastOrDefault(l => l.Depth == depth - 1);
            Assert.True(depth == 0 || line.Parent is not null, $"'{text}' has no parent line");
            lines.Add(line);
        }
        Assert.NotEmpty(lines);
        return lines;
    }

    private static readonly string[] HttpMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

    private static Role RoleOf(Line line) => (line.Service, line.Kind) switch
    {
        ("user-service", "server") => Role.UserServer,
        ("point-service", "server") => Role.PointServer,
        ("user-service", _) when HttpMethods.Contains(line.Name.Split(' ')[0]) => Role.UserClient,
        ("user-service", _) => Role.UserSql,
        _ => Role.PointSql,
    };

    /// <summary>The SQL spans of the walkthrough's tree: the names docs/beyla-under-aspire.md gives Beyla's spans for the services' statements.</summary>
    internal static List<(string Service, string Name)> SqlSpansOfTheWalkthroughsTree() =>
        Tree(BeylaUnderAspire, "trace 4bf92f3577b34da6a3ce929d0e0e4736").Where(l => RoleOf(l) is Role.UserSql or Role.PointSql).Select(l => (l.Service, l.Name)).ToList();

    /// <summary>The settings the lab runs with by default, and a kernel on which Beyla's header path works.</summary>
    private static (bool Parsed, bool Dotnet, bool HeaderPath) LabSettingsOnAWorkingKernel()
    {
        var config = LabConfig();
        return (TraceparentParsed(config), new LabSettings().DotnetTracePropagation,
            HeaderPathOn(ContextPropagation(config), sockhashSafe: true, sockopsAttached: true, connectionOpenedAfterAttach: true, kernel: new Version(6, 8), tls: false));
    }

    /// <summary>
    /// Each line's place in the tree is its span's exported parent when Beyla relates the threads; a line whose place depends on that
    /// relation carries ¹ (otherwise a root of the same trace) or ² (otherwise a trace of its own); a parent nobody exports is said.
    /// </summary>
    private static void AssertTreeIsTheSpanTree(List<Line> tree, bool parsed, bool dotnet, bool headerPath)
    {
        var related = SpanTree(incomingTraceparent: true, parsed, dotnet, headerPath, threadRelated: true, connectionMatched: true);
        var unrelated = SpanTree(incomingTraceparent: true, parsed, dotnet, headerPath, threadRelated: false, connectionMatched: true);
        Assert.Equal(Enum.GetValues<Role>().Order(), tree.Select(RoleOf).Distinct().Order());

        foreach (var line in tree)
        {
            var role = RoleOf(line);
            var span = related.Single(s => s.Role == role);
            var where = $"the guide: '{line.Service} {line.Name} {line.Kind}'";
            Assert.True(ExportedParent(span, related)?.Role == (line.Parent is null ? null : RoleOf(line.Parent)),
                $"{where} sits under {line.Parent?.Service ?? "nothing"} {line.Parent?.Kind}; Beyla's span tree puts it under {ExportedParent(span, related)?.Role.ToString() ?? "nothing"}");

            var alone = unrelated.Single(s => s.Role == role);
            var expectedMark = ExportedParent(alone, unrelated)?.Role == ExportedParent(span, related)?.Role ? null
                : alone.Trace == unrelated.Single(s => s.Role == Role.UserServer).Trace ? "¹" : "²";
            Assert.True(expectedMark == line.Mark, $"{where} is marked '{line.Mark}'; the span tree says '{expectedMark}' (¹ a root of this trace, ² a trace of its own, when Beyla does not relate the thread)");

            Assert.True(ParentMissing(span, related) == line.Note.Contains("not exported", StringComparison.Ordinal),
                $"{where}: its parent is {(ParentMissing(span, related) ? "" : "not ")}missing in the span tree, and the line says '{line.Note}'");
        }
    }

    [Fact]
    public void The_walkthroughs_trace_tree_is_Beylas_span_tree_for_the_labs_settings()
    {
        var (parsed, dotnet, headerPath) = LabSettingsOnAWorkingKernel();
        var header = Assert.Single(BeylaUnderAspire, l => l.StartsWith("trace 4bf92f3577b34da6a3ce929d0e0e4736", StringComparison.Ordinal));
        Assert.Contains($"Lab19:DotnetTracePropagation={(dotnet ? "true" : "false")}", header);
        Assert.Contains($"Beyla's header path {(headerPath ? "on" : "off")}", header);
        AssertTreeIsTheSpanTree(Tree(BeylaUnderAspire, "trace 4bf92f3577b34da6a3ce929d0e0e4736"), parsed, dotnet, headerPath);
    }

    [Fact]
    public void The_ebpf_tree_of_what_each_mode_shows_is_the_same_span_tree()
    {
        var (parsed, dotnet, headerPath) = LabSettingsOnAWorkingKernel();
        AssertTreeIsTheSpanTree(Tree(RuntimeAgent, "ebpf: Beyla, from outside"), parsed, dotnet, headerPath);
    }

    /// <summary>Over every case Beyla may meet (thread related or not, connection matched or not): always, never, or sometimes.</summary>
    private static string Classify(IEnumerable<bool> cases) => cases.Distinct().ToList() switch
    {
        [true] => "always",
        [false] => "never",
        _ => "sometimes",
    };

    [Fact]
    public void The_table_of_settings_says_where_Beylas_span_tree_puts_point_services_server_span()
    {
        var parsed = TraceparentParsed(LabConfig());
        var header = Array.FindIndex(BeylaUnderAspire, l => l.StartsWith("| `traceparent` on the request | `Lab19:DotnetTracePropagation` | Beyla's header path |", StringComparison.Ordinal));
        Assert.True(header >= 0, "docs/beyla-under-aspire.md has no table of the tree under each setting");
        var rows = BeylaUnderAspire.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(l => l.Split('|')[1..^1].Select(c => c.Trim()).ToArray()).ToList();
        Assert.True(rows.Count >= 4, $"{rows.Count} rows");

        foreach (var cells in rows)
        {
            var incoming = cells[0].StartsWith("yes", StringComparison.Ordinal) ? true : cells[0].StartsWith("no", StringComparison.Ordinal) ? false : throw new FormatException(cells[0]);
            var dotnet = cells[1].StartsWith("`true`", StringComparison.Ordinal);
            var headerPath = cells[2] == "on";
            var trees = (from related in new[] { true, false }
                         from matched in new[] { true, false }
                         select SpanTree(incoming, parsed, dotnet, headerPath, related, matched)).ToList();
            var point = trees.Select(t => (Tree: t, Span: t.Single(s => s.Role == Role.PointServer))).ToList();
            var row = string.Join(" | ", cells[..3]);

            var parent = Classify(point.Select(p => ExportedParent(p.Span, p.Tree)?.Role == Role.UserClient));
            var missing = Classify(point.Select(p => ParentMissing(p.Span, p.Tree)));
            var expected = missing == "always" ? "not exported" : parent == "always" ? "user-service's client span" : "when";
            Assert.True(cells[3].Contains(expected, StringComparison.Ordinal) && (expected != "user-service's client span" || !cells[3].Contains("when", StringComparison.Ordinal)),
                $"docs/beyla-under-aspire.md row '{row}': point-service's parent is '{cells[3]}'; Beyla's span tree gives: {expected}");

            var inTrace = Classify(point.Select(p => p.Span.Trace == p.Tree.Single(s => s.Role == Role.UserServer).Trace));
            Assert.True(cells[4].StartsWith(inTrace == "sometimes" ? "when" : inTrace, StringComparison.Ordinal),
                $"docs/beyla-under-aspire.md row '{row}': in user-service's trace '{cells[4]}'; Beyla's span tree gives: {inTrace}");
        }
        // The lab's default is among them.
        var (_, labDotnet, _) = LabSettingsOnAWorkingKernel();
        Assert.Contains(rows, r => r[0].StartsWith("yes", StringComparison.Ordinal) && r[1].StartsWith($"`{(labDotnet ? "true" : "false")}` (default)", StringComparison.Ordinal) && r[2] == "on");
    }
}
