using System.Security.Cryptography;

namespace Xks.Proxy.Benchmarks;

/// <summary>The benchmark key store's SigV4 credential: a fixed access key id and a secret drawn fresh for each run.</summary>
internal sealed record BenchCredentials(string AccessKeyId, string Secret)
{
    public const string Region = "us-east-1";

    public static BenchCredentials Create() =>
        new("BENCHMARKACCESSKEYID2345", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
}
