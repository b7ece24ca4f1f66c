using System.Net;
using k8s.Autorest;

namespace Xks.Operator.Controllers.Tests;

public sealed class ApiErrorsTests
{
    [Fact]
    public void Describe_ApiServerRefusal_GivesStatusCodeAndTheServersMessage()
    {
        var refusal = new HttpOperationException("Operation returned an invalid status code 'Forbidden'")
        {
            Response = new HttpResponseMessageWrapper(
                new HttpResponseMessage(HttpStatusCode.Forbidden),
                """{"kind":"Status","status":"Failure","message":"deployments.apps is forbidden: User \"system:serviceaccount:ops:xks\" cannot create resource \"deployments\"","reason":"Forbidden","code":403}"""),
        };

        Assert.Equal(
            "403 Forbidden: deployments.apps is forbidden: User \"system:serviceaccount:ops:xks\" cannot create resource \"deployments\"",
            ApiErrors.Describe(refusal));
    }

    [Fact]
    public void Describe_ResponseWithoutAStatusBody_GivesTheStatusCode()
    {
        var refusal = new HttpOperationException("boom") { Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.BadGateway), "<html>") };

        Assert.Equal("502 BadGateway", ApiErrors.Describe(refusal));
    }

    [Fact]
    public void Describe_ChildConflict_IsItsOwnMessage() =>
        Assert.Equal("Deployment x already exists", ApiErrors.Describe(new ChildConflictException("Deployment x already exists")));

    [Fact]
    public void Describe_OtherException_GivesTypeAndMessage() =>
        Assert.Equal("TimeoutException: the API server did not answer", ApiErrors.Describe(new TimeoutException("the API server did not answer")));
}
