using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Net.Pkcs11Interop.Common;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>
/// The PKCS#11 backend's sub-keys on SoftHSM2 tokens of each test's own: counted per process, derived in whichever
/// token serves, and the version object itself for keys made before CKA_DERIVE was set.
/// </summary>
public sealed class Pkcs11KeyBackendSubKeysTests : IDisposable
{
    private const string Pin = "8642";
    private static readonly byte[] Aad = "aad"u8.ToArray();
    private readonly string _root = Directory.CreateTempSubdirectory("xks-p11-subkeys-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Encrypt_BudgetOfThree_FourthEncryptCarriesANewSalt_AndAllDecrypt()
    {
        var token = Pkcs11TestToken.Create("budget", Pin);
        using var backend = NewBackend([token], budget: 3);
        backend.Apply(Config(token, "k"));
        var key = backend.Find("k").Key!;

        var sealedOnes = Enumerable.Range(0, 4).Select(i => Encrypt(key, [(byte)i])).ToList();

        Assert.All(sealedOnes, s => Assert.Equal(SubKeyDerivation.SaltSize, s.Salt.Length));
        Assert.Equal(sealedOnes[0].Salt, sealedOnes[2].Salt);
        Assert.NotEqual(sealedOnes[0].Salt, sealedOnes[3].Salt);
        Assert.Equal(2, backend.Tokens[0].SubKeysDerived);
        Assert.Equal(2, backend.SubKeys.Derived);
        for (var i = 0; i < sealedOnes.Count; i++)
        {
            Assert.Equal([(byte)i], Decrypt(key, sealedOnes[i]));
        }
    }

    [Fact]
    public void Decrypt_SubKeyOfAnotherProcess_IsDerivedAgainFromTheSalt()
    {
        var token = Pkcs11TestToken.Create("restart", Pin);
        Sealed sealedOne;
        using (var first = NewBackend([token]))
        {
            first.Apply(Config(token, "k"));
            sealedOne = Encrypt(first.Find("k").Key!, [1, 2, 3]);
        }

        using var second = NewBackend([token]);
        second.Apply(Config(token, "k"));
        Assert.Equal([1, 2, 3], Decrypt(second.Find("k").Key!, sealedOne));
    }

    [Fact]
    public void Decrypt_TokenFailsOver_TheNextTokenDerivesTheSameSubKey()
    {
        var first = Pkcs11TestToken.Create("cluster-a", Pin);
        var second = Pkcs11TestToken.Create("cluster-b", Pin);
        var material = RandomNumberGenerator.GetBytes(32);
        SoftHsm.Shared.ImportAesKey(first.Label, Pin, "k/v1", material);
        SoftHsm.Shared.ImportAesKey(second.Label, Pin, "k/v1", material);
        using var backend = NewBackend([first, second]);
        backend.Apply(Config(first, "k", createMissing: false));
        var sealedOne = Encrypt(backend.Find("k").Key!, [9]);

        SoftHsm.Shared.RemoveToken(first.Label);
        try
        {
            Assert.Equal([9], Decrypt(backend.Find("k").Key!, sealedOne));
            Assert.Equal(1, backend.Tokens[1].SubKeysDerived);
        }
        finally
        {
            SoftHsm.Shared.RestoreToken(first.Label);
        }
    }

    [Fact]
    public void Encrypt_VersionObjectWithoutCkaDerive_UsesItDirectlyAsFormatOne()
    {
        var token = Pkcs11TestToken.Create("legacy", Pin);
        SoftHsm.Shared.WithSession(token.Label, Pin, session =>
        {
            // A key version generated before CKA_DERIVE was part of the template.
            var template = AesKeyTemplate.ForVersion(session.Factories.ObjectAttributeFactory, "old", 1, canEncrypt: true, canDecrypt: true);
            template.RemoveAll(a => a.Type == (ulong)CKA.CKA_DERIVE);
            template.Add(session.Factories.ObjectAttributeFactory.Create(CKA.CKA_DERIVE, false));
            return session.GenerateKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN), template);
        });
        using var backend = NewBackend([token]);
        backend.Apply(Config(token, "old", createMissing: false));
        var key = backend.Find("old").Key!;

        var sealedOne = Encrypt(key, [4, 2]);

        Assert.Empty(sealedOne.Salt);
        Assert.Equal(1, backend.DirectUseVersions);
        Assert.Equal(1, backend.SubKeys.DirectUse);
        Assert.Equal(0, backend.Tokens[0].SubKeysDerived);
        Assert.Equal([4, 2], Decrypt(key, sealedOne));
    }

    private sealed record Sealed(byte[] Salt, byte[] Iv, byte[] Ciphertext, byte[] Tag);

    private static Sealed Encrypt(IBackendKey key, byte[] plaintext)
    {
        var (iv, ciphertext, tag) = (new byte[12], new byte[plaintext.Length], new byte[16]);
        var subKey = key.ReserveEncryption(key.CurrentVersion);
        subKey.Encrypt(plaintext, Aad, iv, ciphertext, tag);
        return new Sealed(subKey.Salt.ToArray(), iv, ciphertext, tag);
    }

    private static byte[] Decrypt(IBackendKey key, Sealed s)
    {
        var plaintext = new byte[s.Ciphertext.Length];
        Assert.True(key.TryDecrypt(key.CurrentVersion, s.Salt, s.Ciphertext, s.Iv, s.Tag, Aad, plaintext), "the tag did not verify");
        return plaintext;
    }

    private static Pkcs11KeyBackend NewBackend(Pkcs11TestToken[] tokens, long budget = SubKeyDerivation.DefaultBudget)
    {
        var options = new Pkcs11BackendOptions
        {
            Library = tokens[0].Library,
            Tokens = [.. tokens.Select(t => new Pkcs11TokenOptions { Label = t.Label })],
            Pin = Pin,
            RecoveryIntervalSeconds = 3600,
            CreateMissingKeys = true,
        };
        return new Pkcs11KeyBackend(options, NullLogger<Pkcs11KeyBackend>.Instance, TimeProvider.System) { SubKeyBudget = budget };
    }

    private ProxyConfiguration Config(Pkcs11TestToken token, string keyId, bool createMissing = true)
    {
        var builder = new ProxyConfigBuilder { Pkcs11 = token, Pkcs11CreateMissingKeys = createMissing };
        builder.Key(keyId);
        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, Path.Combine(_root, "data"), Path.Combine(_root, "audit.log")), _root);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }
}
