namespace Xks.Proxy.Benchmarks;

/// <summary>A reason the benchmark cannot produce meaningful figures; printed, and the run exits non-zero.</summary>
internal sealed class BenchmarkException(string message) : Exception(message);
