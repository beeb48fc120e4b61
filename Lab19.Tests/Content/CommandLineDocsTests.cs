using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using PointService;
using PointService.Data;
using UserService;
using UserService.Data;

namespace Lab19.Tests;

/// <summary>
/// What the README and the docs tell a user to type, against the code: every Lab19 setting they name is one LabSettings binds (and every
/// value they give it is accepted), every /api/v1 route they show is one the service it goes to maps, and every
/// `dotnet run --project Lab19.AppHost -- ...` passes only what the AppHost reads. Each problem is reported with its file and line.
/// </summary>
public partial class CommandLineDocsTests
{
    /// <summary>
    /// The switches Aspire's DistributedApplicationBuilder maps onto its configuration (Aspire.Hosting 13.6.5: `--operation publish`,
    /// `--publisher manifest`, the pipeline's `--step`, `--output-path`, ...); each takes a value.
    /// </summary>
    private static readonly HashSet<string> AspireSwitches = new(
        ["--operation", "--publisher", "--step", "--list-steps", "--output-path", "--log-level", "--include-exception-details", "--clear-cache",
         "--yes", "--dcp-cli-path", "--dcp-container-runtime", "--dcp-dependency-check-timeout", "--dcp-dashboard-path"],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Configuration outside the Lab19 section that the AppHost reads: an existing server for each database (AppHost.cs).</summary>
    private static readonly HashSet<string> OtherKeys = new(["ConnectionStrings:userdb", "ConnectionStrings:pointdb"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The options of `dotnet run` itself a command may give before `--` (true: it takes a value).</summary>
    private static readonly Dictionary<string, bool> DotnetRunOptions = new()
    {
        ["--no-build"] = false,
        ["--no-restore"] = false,
        ["--no-launch-profile"] = false,
        ["-c"] = true,
        ["--configuration"] = true,
        ["--launch-profile"] = true,
        ["-f"] = true,
        ["--framework"] = true,
    };

    /// <summary>`--Lab19:Key=value` on a command line, `Lab19:Key` in prose, `Lab19__Key` as an environment variable.</summary>
    [GeneratedRegex(@"(?<![\w.-])(?:--)?Lab19(?::|__)(?<key>[A-Za-z][A-Za-z0-9]*(?:(?::|__)[A-Za-z][A-Za-z0-9]*)*)(?:=(?<value>[^\s`""'|)\\]*))?")]
    private static partial Regex SettingMention();

    /// <summary>A route of the services' API, with the method before it ("GET /api/v1/...", "curl -X POST http://...") and the port of its URL, if any.</summary>
    [GeneratedRegex(@"(?:\b(?<method>GET|HEAD|POST|PUT|PATCH|DELETE)\s+)?(?:https?://[A-Za-z0-9.\-]+(?::(?<port>\d+))?)?(?<path>/api/v1[A-Za-z0-9{}_.\-/]*)")]
    private static partial Regex RouteMention();

    [GeneratedRegex(@"dotnet run --project Lab19\.AppHost(?![\w.])")]
    private static partial Regex AppHostCommand();

    /// <summary>The guide and the docs: README.md, docs/**/*.md, bench/README.md, k6/*.md.</summary>
    private static IEnumerable<(string File, string[] Lines)> DocFiles() =>
        new[] { Repo.PathOf("README.md"), Repo.PathOf("bench", "README.md") }
            .Concat(Directory.EnumerateFiles(Repo.PathOf("docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("k6"), "*.md"))
            .Where(File.Exists)
            .Select(f => (Path.GetRelativePath(Repo.Root, f), File.ReadAllLines(f)));

    [Fact]
    public void Every_Lab19_setting_the_docs_name_is_one_LabSettings_binds_and_every_value_they_give_it_is_accepted()
    {
        var files = DocFiles().ToList();
        Assert.Contains(files, f => f.Lines.Any(l => SettingMention().IsMatch(l))); // the check sees something

        AssertNone(files.SelectMany(f => SettingProblems(f.File, f.Lines)));
    }

    [Fact]
    public void Every_api_route_the_docs_show_is_mapped_by_the_service_it_goes_to()
    {
        var files = DocFiles().ToList();
        Assert.Contains(files, f => f.Lines.Any(l => RouteMention().IsMatch(l)));

        AssertNone(files.SelectMany(f => RouteProblems(f.File, f.Lines)));
    }

    [Fact]
    public void Every_AppHost_command_line_in_the_docs_passes_only_what_the_AppHost_reads()
    {
        var files = DocFiles().ToList();
        Assert.Contains(files, f => f.Lines.Any(l => AppHostCommand().IsMatch(l)));

        AssertNone(files.SelectMany(f => CommandProblems(f.File, f.Lines)));
    }

    [Fact]
    public void A_bogus_setting_route_or_flag_is_reported_with_its_file_and_line()
    {
        string[] lines =
        [
            "dotnet run --project Lab19.AppHost -- --Lab19:Nope=1",
            "curl http://localhost:8080/api/v1/nope",
            "`dotnet run --project Lab19.AppHost -- --preflite` and `Lab19__Beyla__Privilegd`",
            "`DELETE /api/v1/users/{id}`, then curl http://localhost:8080/api/v1/points/user/1/total",
            "dotnet run --project Lab19.AppHost -- --Lab19:Instrumentation=kernel \\",
            "  \"--ConnectionStrings:orders=Host=db\" --operation publish extra",
            "`dotnet run --project Lab19.AppHost --Lab19:Databases=local`",
        ];
        var problems = SettingProblems("guide.md", lines).Concat(RouteProblems("guide.md", lines)).Concat(CommandProblems("guide.md", lines)).ToList();

        Assert.Contains(problems, p => p.StartsWith("guide.md:1: Lab19:Nope=1 ", StringComparison.Ordinal) && p.Contains("Lab19:Nope is not a setting"));
        Assert.Contains(problems, p => p.StartsWith("guide.md:1: dotnet run ", StringComparison.Ordinal) && p.Contains("Lab19:Nope is not a setting"));
        Assert.Contains(problems, p => p.StartsWith("guide.md:2: /api/v1/nope ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:3: --preflite ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:3: Lab19__Beyla__Privilegd ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:4: DELETE /api/v1/users/{id} ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:4: /api/v1/points/user/1/total on port 8080 ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:5: Lab19:Instrumentation=kernel ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:5: dotnet run ... -- --Lab19:Instrumentation=kernel is refused", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:6: --ConnectionStrings:orders ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:6: extra ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("guide.md:7: --Lab19:Databases=local ", StringComparison.Ordinal) && p.Contains("after `--`"));
        Assert.Equal(12, problems.Count);
    }

    private static void AssertNone(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        Assert.True(list.Count == 0, string.Join(Environment.NewLine, list.Prepend($"{list.Count} line(s) of the docs the code does not accept:")));
    }

    // ---- settings ----

    private static IEnumerable<string> SettingProblems(string file, IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            foreach (Match mention in SettingMention().Matches(lines[i]))
            {
                var key = mention.Groups["key"].Value.Replace("__", ":", StringComparison.Ordinal);
                var value = mention.Groups["value"].Value.TrimEnd('.', ',', ';', ':');
                var text = mention.Value.TrimStart('-').TrimEnd('.', ',', ';', ':');
                var problem = mention.Groups["value"].Success && value.Length > 0
                    ? Refusal([($"{LabSettings.Section}:{key}", value)])
                    : UnboundKey(key);
                if (problem is not null)
                {
                    yield return $"{file}:{i + 1}: {text} {problem}";
                }
            }
        }
    }

    /// <summary>Why LabSettings.Read refuses these settings (its own message, on one line), or null when it takes them.</summary>
    private static string? Refusal(IEnumerable<(string Key, string Value)> settings)
    {
        try
        {
            LabSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());
            return null;
        }
        catch (InvalidOperationException e)
        {
            return "is refused: " + string.Join(" ", e.Message.Split(Environment.NewLine, StringSplitOptions.TrimEntries));
        }
    }

    /// <summary>Null when <paramref name="key"/> (Beyla:Privileged) names a property of LabSettings, as the binder matches them (any case).</summary>
    private static string? UnboundKey(string key)
    {
        var type = typeof(LabSettings);
        foreach (var segment in key.Split(':'))
        {
            var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name);
                return $"names no setting: {type.Name} has no '{segment}' ({string.Join(", ", known)})";
            }
            type = property.PropertyType;
        }
        return null;
    }

    // ---- routes ----

    private sealed record Route(string Service, int Port, RoutePattern Pattern, IReadOnlyList<string> Methods);

    /// <summary>The endpoints each service maps under /api/v1, as ASP.NET builds them from its MapXxxApi (nothing started, nothing connected).</summary>
    private static readonly Lazy<IReadOnlyList<Route>> ServiceRoutes = new(() =>
    [
        .. MappedRoutes("user-service", LabSettings.DefaultUserServicePort, builder =>
        {
            // The registrations of the service's Program.cs, so that ASP.NET binds the handlers' parameters (DbContext, PointsClient,
            // TimeProvider) as the service does.
            builder.Configuration["ConnectionStrings:userdb"] = "Host=localhost;Database=userdb";
            builder.AddServiceDefaults();
            builder.AddUsersDatabase();
            builder.AddPointsClient();
        }, app => app.MapUsersApi()),
        .. MappedRoutes("point-service", LabSettings.DefaultPointServicePort, builder =>
        {
            builder.Configuration["ConnectionStrings:pointdb"] = "Server=localhost;Database=pointdb";
            builder.AddServiceDefaults();
            builder.AddPointsDatabase();
        }, app => app.MapPointsApi()),
    ]);

    private static IReadOnlyList<Route> MappedRoutes(string service, int port, Action<WebApplicationBuilder> register, Action<IEndpointRouteBuilder> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        register(builder);
        using var app = builder.Build();
        map(app);
        return ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => new Route(service, port, e.RoutePattern, e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))
            .ToList();
    }

    private static IEnumerable<string> RouteProblems(string file, IReadOnlyList<string> lines)
    {
        var routes = ServiceRoutes.Value;
        Assert.Contains(routes, r => r.Pattern.RawText == "/api/v1/users/{id}"); // the table is read

        for (var i = 0; i < lines.Count; i++)
        {
            foreach (Match mention in RouteMention().Matches(lines[i]))
            {
                var path = mention.Groups["path"].Value.TrimEnd('.');
                var segments = path.Trim('/').Split('/');
                var matching = routes.Where(r => Matches(r.Pattern, segments)).ToList();
                var at = $"{file}:{i + 1}:";
                if (matching.Count == 0)
                {
                    yield return $"{at} {path} is no route of user-service or point-service";
                    continue;
                }
                if (mention.Groups["port"].Success && int.TryParse(mention.Groups["port"].Value, out var port)
                    && routes.Any(r => r.Port == port) && matching.All(r => r.Port != port))
                {
                    yield return $"{at} {path} on port {port} goes to {routes.First(r => r.Port == port).Service}, which has no such route ({matching[0].Service} has)";
                    continue;
                }
                if (mention.Groups["method"].Success && !matching.Any(r => r.Methods.Contains(mention.Groups["method"].Value)))
                {
                    yield return $"{at} {mention.Groups["method"].Value} {path} is not answered: {string.Join("; ", matching.Select(r => $"{r.Service} maps {string.Join("/", r.Methods)} {r.Pattern.RawText}"))}";
                }
            }
        }
    }

    /// <summary>
    /// A path as the docs write it against a route template: literal segments alike (any case, as routing compares them), a route parameter
    /// against a doc's {placeholder} or number (/api/v1/users/7). "xxx" is docs/conventions.md's name for any service's API.
    /// </summary>
    private static bool Matches(RoutePattern pattern, string[] segments) =>
        pattern.PathSegments.Count == segments.Length
        && pattern.PathSegments.Zip(segments).All(s => s.First.Parts switch
        {
            [RoutePatternLiteralPart literal] => s.Second.Equals(literal.Content, StringComparison.OrdinalIgnoreCase) || s.Second == "xxx",
            [RoutePatternParameterPart] => (s.Second.StartsWith('{') && s.Second.EndsWith('}')) || s.Second.All(char.IsAsciiDigit),
            _ => false,
        });

    // ---- AppHost command lines ----

    private static IEnumerable<string> CommandProblems(string file, IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            foreach (Match command in AppHostCommand().Matches(lines[i]))
            {
                var after = command.Index + command.Length;
                List<(string Text, int Line)> parts;
                if (lines[i][..command.Index].Count(c => c == '`') % 2 == 1)
                {
                    // Inline code: the command ends with the code span.
                    var end = lines[i].IndexOf('`', after);
                    parts = [(end < 0 ? lines[i][after..] : lines[i][after..end], i + 1)];
                }
                else
                {
                    // A code block: the line, and those that a trailing backslash continues it with.
                    parts = [(lines[i][after..], i + 1)];
                    for (var next = i + 1; parts[^1].Text.TrimEnd().EndsWith('\\') && next < lines.Count; next++)
                    {
                        parts[^1] = (parts[^1].Text.TrimEnd()[..^1], parts[^1].Line);
                        parts.Add((lines[next], next + 1));
                    }
                }
                foreach (var (line, problem) in ArgumentProblems(Tokens(parts), i + 1))
                {
                    yield return $"{file}:{line}: {problem}";
                }
            }
        }
    }

    /// <summary>What is wrong with a command's words after `dotnet run --project Lab19.AppHost`, each with the line it is on.</summary>
    private static IEnumerable<(int Line, string Problem)> ArgumentProblems(IReadOnlyList<(string Text, int Line)> tokens, int commandLine)
    {
        var separator = tokens.Select(t => t.Text).ToList().IndexOf("--");
        var dotnetArgs = separator < 0 ? tokens : tokens.Take(separator).ToList();
        for (var i = 0; i < dotnetArgs.Count; i++)
        {
            if (DotnetRunOptions.TryGetValue(dotnetArgs[i].Text, out var takesValue))
            {
                if (takesValue) i++;
                continue;
            }
            yield return (dotnetArgs[i].Line, $"{dotnetArgs[i].Text} goes to dotnet run, not to the AppHost: the AppHost's flags come after `--`");
        }
        if (separator < 0) yield break;

        var appArgs = tokens.Skip(separator + 1).ToList();
        var settings = new List<(string Key, string Value)>();
        for (var i = 0; i < appArgs.Count; i++)
        {
            var (arg, line) = appArgs[i];
            if (arg == PreflightCommand.Flag) continue;
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                yield return (line, $"{arg} is not a flag or setting the AppHost reads");
                continue;
            }
            // As the command-line configuration provider reads it: --key=value, or --key value.
            var (name, value) = arg.IndexOf('=') is var equals and > 0 ? (arg[..equals], arg[(equals + 1)..]) : (arg, i + 1 < appArgs.Count ? appArgs[++i].Text : null);
            var key = name[2..];
            var isSetting = key.StartsWith(LabSettings.Section + ":", StringComparison.OrdinalIgnoreCase);
            if (!isSetting && !AspireSwitches.Contains(name) && !OtherKeys.Contains(key))
            {
                yield return (line, $"{name} is not a flag or setting the AppHost reads (it reads {PreflightCommand.Flag}, --{LabSettings.Section}:*, {string.Join(", ", OtherKeys.Select(k => "--" + k))}, and Aspire's {string.Join(", ", AspireSwitches)})");
            }
            else if (value is null)
            {
                yield return (line, $"{name} has no value");
            }
            else if (isSetting)
            {
                settings.Add((key, value));
            }
        }
        // The command's settings together, as the AppHost reads them (two alike ports are refused only together).
        if (settings.Count > 0 && Refusal(settings) is { } refusal)
        {
            yield return (commandLine, $"dotnet run ... -- {string.Join(" ", settings.Select(s => $"--{s.Key}={s.Value}"))} {refusal}");
        }
    }

    /// <summary>
    /// A command's words as a shell splits them (quotes removed), each with its line, up to the end of the command: a comment, a pipe,
    /// a closing parenthesis.
    /// </summary>
    private static List<(string Text, int Line)> Tokens(IEnumerable<(string Text, int Line)> parts)
    {
        var tokens = new List<(string, int)>();
        var word = new StringBuilder();
        var wordLine = 0;
        char? quote = null;
        var quoted = false;
        foreach (var (c, line) in parts.SelectMany(p => (p.Text + " ").Select(c => (c, p.Line))))
        {
            if (word.Length == 0 && !quoted) wordLine = line;
            if (quote is { } q)
            {
                if (c == q) quote = null;
                else word.Append(c);
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                quoted = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (word.Length > 0 || quoted) tokens.Add((word.ToString(), wordLine));
                word.Clear();
                quoted = false;
            }
            else if ((c == '#' && word.Length == 0) || c is ')' or '|' or ';' or '&' or '<' or '>')
            {
                break;
            }
            else
            {
                word.Append(c);
            }
        }
        if (word.Length > 0 || quoted) tokens.Add((word.ToString(), wordLine));
        return tokens;
    }
}
