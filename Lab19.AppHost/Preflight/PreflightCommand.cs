namespace Lab19.AppHost;

/// <summary>`-- --preflight`: what this host offers the lab and how a plain run would use it, printed; nothing started.</summary>
internal static class PreflightCommand
{
    /// <summary>`dotnet run --project Lab19.AppHost -- --preflight`: print the report, start nothing.</summary>
    public const string Flag = "--preflight";

    /// <summary>
    /// Prints the full report and how a plain `dotnet run` (default settings) would run the lab on this host; the exit code is 0 where
    /// Beyla can run, 1 where it cannot.
    /// </summary>
    public static async Task<int> PrintAsync(TextWriter output, IHostProbe? probe = null)
    {
        var facts = await HostFacts.ProbeAsync(probe ?? HostProbes.Current, runPreflight: true);
        var report = facts.Preflight!;
        foreach (var line in report.Lines())
        {
            await output.WriteLineAsync(line);
        }
        var plan = LabPlan.Decide(new LabSettings(), facts, userDbGiven: false, pointDbGiven: false);
        await output.WriteLineAsync("With default settings, `dotnet run --project Lab19.AppHost` here runs:");
        foreach (var line in plan.Refusal is { } refusal ? refusal.Split(Environment.NewLine) : plan.Choices.Select(c => $"  {c}"))
        {
            await output.WriteLineAsync(line);
        }
        return report.CanRunBeyla ? 0 : 1;
    }
}
