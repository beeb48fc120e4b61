using System.Text.Json;
using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The guide and the configuration: today's names only, the k6 script type-checks and drives both services as documented, no secrets in the repository.</summary>
public partial class LabContentTests
{
    /// <summary>Names older Beyla versions emitted and current ones do not: a query with them finds nothing.</summary>
    [GeneratedRegex(@"http_server_duration_seconds|\bhttp_target\b|\bhttp_status_code\b|\bhttp_method\b|span\.http\.method\b")]
    private static partial Regex RetiredNames();

    /// <summary>The README and the docs it sends its readers to, Beyla's configuration, the Grafana dashboards and the k6 script.</summary>
    private static IEnumerable<string> GuideAndConfigFiles() =>
        new[] { "README.md" }.Select(f => Repo.PathOf(f))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("docs"), "*.md"))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("beyla"), "*", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("grafana"), "*", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("k6"), "*.js"));

    [Fact]
    public void Neither_the_guide_nor_any_config_uses_a_retired_metric_or_attribute_name()
    {
        var files = GuideAndConfigFiles().ToList();
        Assert.Contains(files, f => f.EndsWith("beyla-config.yml"));
        Assert.Contains(files, f => f.EndsWith("beyla-under-aspire.md"));
        foreach (var file in files)
        {
            var match = RetiredNames().Match(File.ReadAllText(file));
            Assert.False(match.Success, $"{Path.GetRelativePath(Repo.Root, file)} uses the retired name '{match.Value}'");
        }
    }

    [Fact]
    public async Task The_k6_script_type_checks_against_k6s_type_definitions()
    {
        var k6 = Repo.PathOf("k6");
        if (!Directory.Exists(Path.Combine(k6, "node_modules", "@types", "k6")))
        {
            await RunAsync(k6, "npm", "ci", "--no-audit", "--no-fund");
        }
        await RunAsync(k6, "npx", "--no-install", "tsc", "-p", "jsconfig.json");
    }

    [Fact]
    public async Task The_k6_script_sends_each_request_to_the_configured_url_with_a_fresh_trace_and_each_post_a_fresh_key_and_has_a_threshold_per_request_name()
    {
        // K6Harness runs load.js under Node with recording stand-ins for k6's modules (k6 itself cannot be installed here).
        var environment = JsonSerializer.Serialize(new Dictionary<string, string> { ["USER_SERVICE_URL"] = "http://users.test", ["POINT_SERVICE_URL"] = "http://points.test" });
        var run = JsonDocument.Parse(await RunAsync(Repo.PathOf("k6"), "node", "--no-warnings", Repo.PathOf("Lab19.Tests", "K6Harness", "harness.mjs"), "load.js", environment)).RootElement;
        var requests = run.GetProperty("requests").EnumerateArray().ToList();

        var gets = requests.Where(r => r.GetProperty("method").GetString() == "GET").ToList();
        var posts = requests.Where(r => r.GetProperty("method").GetString() == "POST").ToList();
        Assert.Equal(2, gets.Count); // each scenario's function ran twice
        Assert.Equal(2, posts.Count);
        Assert.All(gets, r => Assert.Matches(@"^http://users\.test/api/v1/users/\d+$", r.GetProperty("url").GetString()));
        Assert.All(posts, r => Assert.Equal("http://points.test/api/v1/points", r.GetProperty("url").GetString()));
        Assert.All(gets, r => Assert.Equal("GET /api/v1/users/{id}", r.GetProperty("tags").GetProperty("name").GetString()));
        Assert.All(posts, r => Assert.Equal("POST /api/v1/points", r.GetProperty("tags").GetProperty("name").GetString()));

        var traceparents = requests.Select(r => r.GetProperty("headers").GetProperty("traceparent").GetString()!).ToList();
        Assert.All(traceparents, t => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", t)); // a sampled W3C trace context
        Assert.Equal(traceparents.Count, traceparents.Select(t => t[3..35]).Distinct().Count()); // a trace per request
        var keys = posts.Select(r => r.GetProperty("headers").GetProperty("Idempotency-Key").GetString()!).ToList();
        Assert.All(keys, k => Assert.False(string.IsNullOrWhiteSpace(k)));
        Assert.Equal(keys.Count, keys.Distinct().Count()); // a key per POST

        var thresholds = run.GetProperty("options").GetProperty("thresholds").EnumerateObject().Select(t => t.Name).ToList();
        foreach (var name in requests.Select(r => r.GetProperty("tags").GetProperty("name").GetString()).Distinct())
        {
            Assert.Contains($"http_req_duration{{name:{name}}}", thresholds);
        }
    }

    [Fact]
    public void The_sql_span_names_in_the_facts_are_the_names_Beylas_rule_gives_their_statements()
    {
        var lines = File.ReadAllLines(Repo.PathOf("docs", "beyla-facts.md"));
        var header = Array.FindIndex(lines, l => l.StartsWith("| database | statement | startup seen | span name |", StringComparison.Ordinal));
        Assert.True(header >= 0, "docs/beyla-facts.md has no table of SQL span names");
        var rows = lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(l => l.Split(" | ").Select(c => c.Trim(' ', '|')).ToArray()).ToList();
        Assert.True(rows.Count >= 5, $"{rows.Count} rows");
        foreach (var (database, statement, startup, name) in rows.Select(r => (r[0], r[1].Trim('`').Trim(), r[2], r[3].Trim('`'))))
        {
            Assert.True(BeylaRules.SqlSpanName(statement, database, startup == "yes" ? "userdb" : null) == name,
                $"docs/beyla-facts.md: {database} '{statement}' (startup seen: {startup}) is named '{name}'; Beyla's rule gives '{BeylaRules.SqlSpanName(statement, database, startup == "yes" ? "userdb" : null)}'");
        }
    }

    /// <summary>A password written into a connection string or a variable (Password=..., MYSQL_ROOT_PASSWORD=...), not one taken from a parameter.</summary>
    [GeneratedRegex(@"(?i)(password|pwd)=(?![{$<*.])[^;\s""'{}]{3,}")]
    private static partial Regex PasswordValue();

    [Fact]
    public async Task The_repository_holds_no_password_or_key()
    {
        var files = (await RunAsync(Repo.Root, "git", "ls-files")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => !f.EndsWith("package-lock.json") && !f.StartsWith("Lab19.Tests/", StringComparison.Ordinal))
            .Where(f => File.Exists(Repo.PathOf(f.Split('/')))) // a tracked file deleted in the working tree is not there to leak
            .ToList();
        Assert.Contains("Lab19.AppHost/AppHost.cs", files);
        foreach (var file in files)
        {
            var text = File.ReadAllText(Repo.PathOf(file.Split('/')));
            var match = PasswordValue().Match(text);
            Assert.False(match.Success, $"{file}: '{match.Value}'");
            Assert.DoesNotContain("PRIVATE KEY-----", text);
        }
    }

    private static Task<string> RunAsync(string directory, string file, params string[] args) =>
        Processes.RunInAsync(directory, TimeSpan.FromMinutes(3), file, args);
}
