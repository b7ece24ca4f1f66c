using System.Text;

namespace Xks.Proxy.Crypto.Tests;

public sealed class XksAadTests
{
    [Fact]
    public void Build_SpecExampleAadAndMetadata_PrefixesEachWithItsLength()
    {
        var aad = Encoding.ASCII.GetBytes("project=nile,department=marketing"); // 33 bytes
        var metadata = Encoding.ASCII.GetBytes("key_version=1");                   // 13 bytes
        var destination = new byte[XksAad.GetLength(aad.Length, metadata.Length)];

        var written = XksAad.Build(aad, metadata, destination);

        Assert.Equal(2 + 33 + 1 + 13, written);
        Assert.Equal(Convert.FromHexString("0021"), destination[..2]);
        Assert.Equal(aad, destination[2..35]);
        Assert.Equal(0x0d, destination[35]);
        Assert.Equal(metadata, destination[36..]);
    }

    [Fact]
    public void Build_NoAadAndNoMetadata_IsThreeZeroBytes()
    {
        var destination = new byte[3];
        XksAad.Build([], [], destination);
        Assert.Equal(new byte[3], destination);
    }

    [Fact]
    public void Build_MetadataMovedIntoAad_GivesADifferentKeyManagerAad()
    {
        // The spec's reason for explicit lengths: encrypting with no AAD and metadata M must not verify as AAD=M, no metadata.
        var m = Encoding.ASCII.GetBytes("M");
        var first = new byte[XksAad.GetLength(0, 1)];
        var second = new byte[XksAad.GetLength(1, 0)];
        XksAad.Build([], m, first);
        XksAad.Build(m, [], second);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Build_AadOver65535Bytes_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => XksAad.Build(new byte[65536], [], new byte[65536 + 3]));
}

public sealed class CiphertextDataIntegrityValueTests
{
    [Fact]
    public void Compute_SpecAppendixCVector_MatchesTheSpecsValue()
    {
        var destination = new byte[32];
        CiphertextDataIntegrityValue.Compute(
            Encoding.ASCII.GetBytes("project=nile,department=marketing"),
            Encoding.ASCII.GetBytes("key_version=1"),
            Convert.FromHexString("1ccae5470f39700254779031"),
            Convert.FromHexString("821c642b5b71783367deaf18"),
            Convert.FromHexString("bc1c4dda7707d6812447c5955e99b261"),
            destination);

        Assert.Equal("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=", Convert.ToBase64String(destination));
    }

    [Fact]
    public void Compute_SpecEncryptExampleResponse_ReproducesItsIntegrityValue()
    {
        // The Encrypt example of the spec: the response fields, with the request's AAD.
        var destination = new byte[32];
        CiphertextDataIntegrityValue.Compute(
            Convert.FromBase64String("cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n"),
            Convert.FromBase64String("a2V5X3ZlcnNpb249MQ=="),
            Convert.FromBase64String("HMrlRw85cAJUd5Ax"),
            Convert.FromBase64String("ghxkK1txeDNn3q8Y"),
            Convert.FromBase64String("vBxN2ncH1oEkR8WVXpmyYQ=="),
            destination);

        Assert.Equal("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=", Convert.ToBase64String(destination));
    }

    [Fact]
    public void Compute_OneBitFlippedInTheTag_ChangesTheValue()
    {
        var a = new byte[32];
        var b = new byte[32];
        CiphertextDataIntegrityValue.Compute([], [], new byte[12], new byte[5], new byte[16], a);
        var tag = new byte[16];
        tag[15] = 1;
        CiphertextDataIntegrityValue.Compute([], [], new byte[12], new byte[5], tag, b);
        Assert.NotEqual(a, b);
    }
}
