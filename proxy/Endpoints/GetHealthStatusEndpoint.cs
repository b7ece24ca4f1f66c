using System.Text.Json;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;
using Xks.Proxy.Health;

namespace Xks.Proxy.Endpoints;

/// <summary>POST [prefix]/kms/xks/v1/health — deep, cached, never subject to secondary authorization or the blocked switch.</summary>
public sealed class GetHealthStatusEndpoint(HealthMonitor health, IKeyBackend backend)
{
    public static readonly string ProxyVendor = "XKS Operator";
    public static readonly string ProxyModel =
        $"XKS Operator Proxy {typeof(GetHealthStatusEndpoint).Assembly.GetName().Version?.ToString(3)} (.NET {Environment.Version})";

    internal void Handle(XksCall call, JsonResponse response)
    {
        var request = call.Deserialize(XksJsonContext.Default.GetHealthStatusRequest);
        call.RequireMetadata(request.RequestMetadata);
        var snapshot = health.GetCurrent();
        if (!snapshot.CanServe)
        {
            throw new XksException(XksErrorName.InternalException, "No key manager is available.", "every key manager failed its deep health check");
        }

        var body = new GetHealthStatusResponse
        {
            XksProxyFleetSize = call.Configuration.Options.Health.FleetSize,
            XksProxyVendor = ProxyVendor,
            XksProxyModel = ProxyModel,
            EkmVendor = backend.Vendor,
            EkmFleetDetails = [.. snapshot.Members.Take(10)],
        };
        JsonSerializer.Serialize(response.Writer, body, XksJsonContext.Default.GetHealthStatusResponse);
    }
}
