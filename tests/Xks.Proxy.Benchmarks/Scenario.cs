namespace Xks.Proxy.Benchmarks;

/// <summary>One measured XKS call: the operation and the plaintext size (a data key, or the spec's large case).</summary>
internal sealed record Scenario(string Id, string Operation, int PlaintextBytes)
{
    /// <summary>KMS data keys are 32 bytes; 4096 bytes shows how the cost grows with the payload.</summary>
    public static readonly IReadOnlyList<Scenario> All =
    [
        new("encrypt-32", "Encrypt", 32),
        new("encrypt-4096", "Encrypt", 4096),
        new("decrypt-32", "Decrypt", 32),
    ];

    /// <summary>The key-backend comparison: the data-key size, both operations (Encrypt with its verifying decrypt).</summary>
    public static readonly IReadOnlyList<Scenario> Backends = [All[0], All[2]];

    public string Title => $"{Operation} {PlaintextBytes} B";

    public bool IsEncrypt => Operation == "Encrypt";
}
