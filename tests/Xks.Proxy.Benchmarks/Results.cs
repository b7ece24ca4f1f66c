namespace Xks.Proxy.Benchmarks;

/// <summary>A measured wrk run and the CPU time the server used meanwhile (wrk's own share excluded).</summary>
internal sealed record Measurement(WrkResult Load, TimeSpan ServerCpu)
{
    public double ServerCpuMicrosecondsPerRequest => Load.Requests > 0 ? ServerCpu.TotalMicroseconds / Load.Requests : 0;
}

/// <summary>The proxy and its baseline on one scenario; the baseline sent a response of <paramref name="ResponseBytes"/> bytes too.</summary>
internal sealed record ScenarioResult(Scenario Scenario, int ResponseBytes, Measurement Proxy, Measurement Bare)
{
    public double Ratio => Bare.Load.RequestsPerSecond > 0 ? Proxy.Load.RequestsPerSecond / Bare.Load.RequestsPerSecond : 0;
}

/// <summary>Every scenario over one transport (plain HTTP or TLS).</summary>
internal sealed record PhaseResult(string Transport, IReadOnlyList<ScenarioResult> Scenarios);

/// <summary>One backend (software, or PKCS#11 with a session pool of <paramref name="MaxSessions"/>) on each backend scenario.</summary>
internal sealed record BackendResult(string Backend, int? MaxSessions, IReadOnlyDictionary<Scenario, Measurement> Measurements);

/// <summary>The backend comparison: the HSM it ran on and every backend, software first.</summary>
internal sealed record BackendPhaseResult(string Hsm, IReadOnlyList<BackendResult> Backends)
{
    public BackendResult Software => Backends[0];
}
