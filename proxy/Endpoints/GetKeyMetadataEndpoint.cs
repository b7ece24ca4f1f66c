using System.Text.Json;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;

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
            KeyUsage = key.Usage,
            KeyStatus = XksCall.IsDisabled(key, material) ? "DISABLED" : "ENABLED",
        };
        JsonSerializer.Serialize(response.Writer, body, XksJsonContext.Default.GetKeyMetadataResponse);
    }

    internal static XksException Disabled(string keyId) =>
        new(XksErrorName.InvalidStateException, $"Key '{keyId}' is disabled.");
}
