using Xks.Proxy.Benchmarks;

// `dotnet run --project tests/Xks.Proxy.Benchmarks -c Release` runs the benchmark; the same executable started
// with `--bare` is the baseline server it measures the proxy against.
return args is ["--bare", .. var rest]
    ? await BareServer.RunAsync(rest)
    : await BenchmarkRunner.RunAsync();
