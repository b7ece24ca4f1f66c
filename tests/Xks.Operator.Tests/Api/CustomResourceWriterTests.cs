using System.Text.Json.Nodes;
using Xks.Operator.Entities;

namespace Xks.Operator.Api.Tests;

public sealed class CustomResourceWriterTests
{
    [Fact]
    public void StatusPatch_FieldBecameNull_IsSentAsExplicitNull()
    {
        var before = new V1Alpha1KeySetStatus { ConnectionState = "FAILED", ConnectionErrorCode = "XKS_PROXY_NOT_REACHABLE" };
        var after = new V1Alpha1KeySetStatus { ConnectionState = "CONNECTED" };

        var status = JsonNode.Parse(CustomResourceWriter.StatusPatch(before, after))!["status"]!.AsObject();

        Assert.Equal("CONNECTED", status["connectionState"]!.GetValue<string>());
        Assert.True(status.ContainsKey("connectionErrorCode"));
        Assert.Null(status["connectionErrorCode"]);
    }

    [Fact]
    public void StatusPatch_NoPreviousStatus_CarriesOnlyTheNewFields()
    {
        var status = JsonNode.Parse(CustomResourceWriter.StatusPatch<V1Alpha1KeySetStatus?>(null, new V1Alpha1KeySetStatus { UriPath = "/p/kms/xks/v1" }))!["status"]!.AsObject();
        Assert.Equal("/p/kms/xks/v1", status["uriPath"]!.GetValue<string>());
        Assert.False(status.ContainsKey("connectionErrorCode"));
    }
}
