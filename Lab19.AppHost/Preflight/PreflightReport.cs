namespace Lab19.AppHost;

internal enum CheckStatus { Pass, Warn, Fail, Skipped }

/// <param name="Name">A stable key, e.g. "kprobes".</param>
/// <param name="Detail">What was found, in one sentence.</param>
/// <param name="Fix">What to do about a failure or warning.</param>
internal sealed record PreflightCheck(string Name, CheckStatus Status, string Detail, string? Fix = null)
{
    private static readonly Dictionary<CheckStatus, string> Marks = new()
    {
        [CheckStatus.Pass] = "ok  ",
        [CheckStatus.Warn] = "warn",
        [CheckStatus.Fail] = "FAIL",
        [CheckStatus.Skipped] = "skip",
    };

    /// <summary>The check as one console line.</summary>
    public string Line => Fix is null ? $"{Marks[Status]}  {Detail}" : $"{Marks[Status]}  {Detail} → {Fix}";
}

/// <summary>What the eBPF part of the lab needs from this host, check by check.</summary>
internal sealed record PreflightReport(IReadOnlyList<PreflightCheck> Checks)
{
    /// <summary>What the lab does instead where Beyla cannot run.</summary>
    public const string Alternatives =
        "the lab's default (Lab19:Instrumentation=auto) runs the runtime agent in the services instead";

    public bool CanRunBeyla => Checks.All(c => c.Status != CheckStatus.Fail);

    /// <summary>False when no Docker Engine answered: then nothing in a container can start, not only Beyla.</summary>
    public bool DockerReachable => Checks.Any(c => c.Name == BeylaPreflight.Docker && c.Status == CheckStatus.Pass);

    public IReadOnlyList<PreflightCheck> Failures => Checks.Where(c => c.Status == CheckStatus.Fail).ToList();

    public IReadOnlyList<PreflightCheck> Warnings => Checks.Where(c => c.Status == CheckStatus.Warn).ToList();

    /// <summary>The verdict in one line.</summary>
    public string Summary => CanRunBeyla
        ? "This host can run Beyla (eBPF)."
        : $"Beyla (eBPF) cannot run on this host ({Failures.Count} failed check{(Failures.Count == 1 ? "" : "s")}): fix what failed, or {Alternatives}.";

    /// <summary>The full report, as `--preflight` prints it.</summary>
    public IEnumerable<string> Lines() =>
        Checks.Select(c => "  " + c.Line).Prepend("Lab19 preflight: what the eBPF part (Beyla) needs from this host").Append(Summary);
}
