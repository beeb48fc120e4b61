using System.Diagnostics;
using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The guide and the configuration: today's names only, the k6 script type-checks, no secrets in the repository.</summary>
public partial class LabContentTests
{
    /// <summary>Names older Beyla versions emitted and current ones do not: a query with them finds nothing.</summary>
    [GeneratedRegex(@"http_server_duration_seconds|\bhttp_target\b|\bhttp_status_code\b|\bhttp_method\b|span\.http\.method\b")]
    private static partial Regex RetiredNames();

    private static IEnumerable<string> GuideAndConfigFiles() =>
        new[] { "README.md" }.Select(f => Repo.PathOf(f))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("beyla"), "*", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("grafana"), "*", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Repo.PathOf("k6"), "*.js"));

    [Fact]
    public void Neither_the_guide_nor_any_config_uses_a_retired_metric_or_attribute_name()
    {
        var files = GuideAndConfigFiles().ToList();
        Assert.Contains(files, f => f.EndsWith("beyla-config.yml"));
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
    public void The_k6_script_starts_a_trace_per_request_keys_each_post_and_has_thresholds_per_request_name()
    {
        var script = File.ReadAllText(Repo.PathOf("k6", "load.js"));
        Assert.Contains("traceparent: traceparent()", script);
        Assert.Contains("'Idempotency-Key': idempotencyKey()", script);
        Assert.Contains("'http_req_duration{name:GET /api/v1/users/{id}}'", script);
        Assert.Contains("'http_req_duration{name:POST /api/v1/points}'", script);
        Assert.Contains("tags: { name: 'GET /api/v1/users/{id}' }", script);
        Assert.Contains("tags: { name: 'POST /api/v1/points' }", script);
        Assert.Contains("__ENV.USER_SERVICE_URL", script);
        Assert.Contains("__ENV.POINT_SERVICE_URL", script);
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

    private static async Task<string> RunAsync(string directory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        return await stdout;
    }
}
