namespace Xks.Proxy.Tests.Support;

/// <summary>Well-formed SigV4 credentials for test key stores (20–30 chars of A-Z2-7; 43–64 chars of a-zA-Z0-9/+=).</summary>
public static class TestCredentials
{
    public const string AccessKeyId = "AKIDTESTTESTTESTTEST2345";
    public const string Secret = "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDQ0IGNoYXJzLg==";
    public const string SecondAccessKeyId = "AKIDSECONDSECONDSECOND7";
    public const string SecondSecret = "c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24gdGVzdHMgb2YgY3JlZGVudGlhbHM=";
    public const string Region = "us-east-1";
    public const string Prefix = "/test/prefix";
    public const string Principal = "arn:aws:iam::111122223333:role/Alice";
    public const string KeyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
}
