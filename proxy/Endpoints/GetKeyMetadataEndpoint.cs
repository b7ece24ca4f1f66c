using System.Text.Json;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;
using Xks.Proxy.Options;

namespace Xks.Proxy.Endpoints;

/// <summary>POST .../keys/{id}/metadata — AES_256, the configured usage, ENABLED or DISABLED.</summary>
public sealed class GetKeyMetadataEndpoint(IKeyBackend backend)
{
    internal void Handle(XksCall call, JsonResponse response)
    {
        var request = call.Deserialize(XksJsonContext.Default.GetKeyMetadataRequest);
        var metadata = call.RequireMetadata(request.RequestMetadata);
        var (key, material) = call.ResolveKey(metadata, backend);
        var backendKey = XksCall.RequireMaterial(material, key.Id);
        call.Audit.KeyVersion = backendKey.CurrentVersion;
        var body = new GetKeyMetadataResponse
        {
            KeySpec = "AES_256",
            KeyUsage = Usage(key, backendKey),
            KeyStatus = XksCall.IsDisabled(key, material) ? "DISABLED" : "ENABLED",
        };
        JsonSerializer.Serialize(response.Writer, body, XksJsonContext.Default.GetKeyMetadataResponse);
    }

    /// <summary>
    /// The configured usage, narrowed to what the key material allows where the backend says (an HSM object without
    /// CKA_DECRYPT does not report DECRYPT). A key whose material allows neither reports its configured usage: it is
    /// DISABLED.
    /// </summary>
    private static string[] Usage(XksKey key, IBackendKey backendKey) =>
        backendKey.Usage is { Count: > 0 } allowed ? [.. key.Usage.Where(allowed.Contains)] : key.Usage;

    internal static XksException Disabled(string keyId) =>
        new(XksErrorName.InvalidStateException, $"Key '{keyId}' is disabled.");
}
