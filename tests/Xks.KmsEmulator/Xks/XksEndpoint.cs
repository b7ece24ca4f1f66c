namespace Xks.KmsEmulator.Xks;

/// <summary>Where and as whom the emulator calls one key store's proxy.</summary>
internal sealed record XksEndpoint(string UriEndpoint, string UriPath, string AccessKeyId, string SecretAccessKey)
{
    public Uri Uri(string relative) => new(UriEndpoint.TrimEnd('/') + UriPath + relative);

    public override string ToString() => $"XksEndpoint({UriEndpoint}{UriPath}, {AccessKeyId})";
}
