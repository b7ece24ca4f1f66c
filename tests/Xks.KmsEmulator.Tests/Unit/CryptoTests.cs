using System.Security.Cryptography;
using System.Text;
using Xks.KmsEmulator.Crypto;
using Xks.KmsEmulator.Kms;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Tests.Unit;

public sealed class CryptoTests
{
    [Fact]
    public void CiphertextDataIntegrityValue_SpecExample_MatchesVector()
    {
        var cdiv = CiphertextDataIntegrityValue.Compute(
            Encoding.ASCII.GetBytes("project=nile,department=marketing"),
            Encoding.ASCII.GetBytes("key_version=1"),
            Convert.FromHexString("1ccae5470f39700254779031"),
            Convert.FromHexString("821c642b5b71783367deaf18"),
            Convert.FromHexString("bc1c4dda7707d6812447c5955e99b261"));
        Assert.Equal("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=", Convert.ToBase64String(cdiv));
    }

    [Fact]
    public void CiphertextBlob_RoundTrip_KeepsEveryField()
    {
        var blob = new CiphertextBlob(Guid.NewGuid().ToString(), CiphertextBlob.DigestOf([1, 2]), [1, 0, 0, 0, 2], RandomNumberGenerator.GetBytes(12), RandomNumberGenerator.GetBytes(16), [9, 8, 7]);
        Assert.True(CiphertextBlob.TryParse(blob.ToBytes(), out var parsed));
        Assert.Equal(blob.KeyId, parsed.KeyId);
        Assert.Equal(blob.AadDigest, parsed.AadDigest);
        Assert.Equal(blob.Metadata, parsed.Metadata);
        Assert.Equal(blob.Iv, parsed.Iv);
        Assert.Equal(blob.Tag, parsed.Tag);
        Assert.Equal(blob.Ciphertext, parsed.Ciphertext);
    }

    [Theory]
    [InlineData("")]
    [InlineData("02")]
    [InlineData("0104")]
    [InlineData("01046b65792d")]
    public void CiphertextBlob_Garbage_IsRefused(string hex) => Assert.False(CiphertextBlob.TryParse(Convert.FromHexString(hex), out _));

    [Fact]
    public void EncryptionContextAad_OrderOfPairs_DoesNotMatter()
    {
        var one = EncryptionContextAad.Build(new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        var two = EncryptionContextAad.Build(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        Assert.Equal("""{"a":"1","b":"2"}""", Encoding.UTF8.GetString(one!));
        Assert.Equal(one, two);
        Assert.Null(EncryptionContextAad.Build(new Dictionary<string, string>()));
    }

    [Fact]
    public void CheckEncryptResponse_WrongCdiv_ThrowsKmsInvalidState()
    {
        var iv = RandomNumberGenerator.GetBytes(12);
        var tag = RandomNumberGenerator.GetBytes(16);
        byte[] ciphertext = [1, 2, 3];
        var response = new XksEncryptResponse
        {
            Ciphertext = Convert.ToBase64String(ciphertext),
            InitializationVector = Convert.ToBase64String(iv),
            AuthenticationTag = Convert.ToBase64String(tag),
            CiphertextDataIntegrityValue = Convert.ToBase64String(CiphertextDataIntegrityValue.Compute(null, null, iv, ciphertext, tag)),
        };
        Assert.Equal(ciphertext, CryptoOperations.CheckEncryptResponse("k", null, 3, response).Ciphertext);

        response.CiphertextDataIntegrityValue = Convert.ToBase64String(new byte[32]);
        Assert.Equal("KMSInvalidStateException", Assert.Throws<KmsException>(() => CryptoOperations.CheckEncryptResponse("k", null, 3, response)).Type);
        response.CiphertextDataIntegrityValue = null;
        Assert.Equal("KMSInvalidStateException", Assert.Throws<KmsException>(() => CryptoOperations.CheckEncryptResponse("k", null, 3, response)).Type);
    }
}
