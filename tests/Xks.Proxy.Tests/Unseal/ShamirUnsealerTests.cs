using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Crypto;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Unseal.Tests;

/// <summary>
/// <see cref="ShamirUnsealer"/> on a real Shamir-mode backend: share collection, the threshold, refusals that are not
/// counted, a wrong set that resets the progress, the ten-minute expiry, and zeroed shares.
/// </summary>
public sealed class ShamirUnsealerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xks-unsealer-").FullName;
    private readonly ShamirTestVault _vault = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 3, 0, 0, TimeSpan.Zero));
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly SoftwareKeyBackend _backend;
    private readonly ShamirUnsealer _unsealer;
    private int _unsealedCalls;

    public ShamirUnsealerTests()
    {
        _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        _backend = new SoftwareKeyBackend(
            new SoftwareBackendOptions { DataDir = Path.Combine(_root, "data"), CreateMissingKeys = false, Shamir = new SoftwareShamirOptions { Keyring = _vault.Keyring.ToDocument() } },
            _loggerFactory.CreateLogger<SoftwareKeyBackend>(), _time);
        _backend.Apply(Config(_vault.Keyring));
        _unsealer = new ShamirUnsealer(_backend, _time, _loggerFactory.CreateLogger<ShamirUnsealer>(), () => _unsealedCalls++);
    }

    public void Dispose()
    {
        _unsealer.Dispose();
        _backend.Dispose();
        _loggerFactory.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private ProxyConfiguration Config(ShamirKeyring keyring)
    {
        var builder = new ProxyConfigBuilder { CreateMissingKeys = false, ShamirKeyring = keyring };
        builder.Key("orders", versions: [(1, ShamirTestVault.Derived(1))]);
        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, Path.Combine(_root, "data"), Path.Combine(_root, "audit.log")), _root);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }

    private static string AlterChecksum(string text) => text[..^1] + (text[^1] == 'A' ? 'B' : 'A');

    [Fact]
    public void Unseal_KMinusOneShares_StaysSealed()
    {
        var first = _unsealer.Submit(_vault.ShareTexts[0]);
        var second = _unsealer.Submit(_vault.ShareTexts[3]);

        Assert.Equal((UnsealAnswerKind.Progress, 1), (first.Kind, first.Status.Progress));
        Assert.Equal((UnsealAnswerKind.Progress, 2), (second.Kind, second.Status.Progress));
        Assert.Equal([1], second.Status.RootVersions);
        Assert.True(second.Status.Sealed);
        Assert.Equal(3, second.Status.Threshold);
        Assert.True(_backend.IsSealed);
        Assert.Equal(KeyLookupStatus.Unusable, _backend.Find("orders").Status);
        Assert.Equal(0, _unsealedCalls);
        Assert.Contains(_logs.Lines, l => l.Contains("unseal share 2 of 3 accepted for Vault payments_xks", StringComparison.Ordinal));
    }

    [Fact]
    public void Submit_ThresholdOfDistinctShares_Unseals_AndZeroesTheCollectedShares()
    {
        _unsealer.Submit(_vault.ShareTexts[4]);
        _unsealer.Submit(_vault.ShareTexts[1]);
        var collected = _unsealer.CollectedForTests();

        var answer = _unsealer.Submit(_vault.ShareTexts[2]);

        Assert.Equal(UnsealAnswerKind.Unsealed, answer.Kind);
        Assert.False(answer.Status.Sealed);
        Assert.Equal(0, answer.Status.Progress);
        Assert.Equal([1], answer.Status.RootVersions);
        Assert.False(_backend.IsSealed);
        Assert.Equal(KeyLookupStatus.Found, _backend.Find("orders").Status);
        Assert.Equal(1, _unsealedCalls);
        Assert.Equal(2, collected.Count);
        Assert.All(collected, y => Assert.All(y, b => Assert.Equal(0, b)));
        Assert.Empty(_unsealer.CollectedForTests());
        Assert.DoesNotContain(_logs.Lines, l => _vault.ShareTexts.Any(t => l.Contains(t, StringComparison.Ordinal) || l.Contains(t.Split('.')[4], StringComparison.Ordinal)));
    }

    [Fact]
    public void Submit_AfterUnseal_IsAlreadyUnsealed_AndTheShareIsNotEvenRead()
    {
        foreach (var text in _vault.ShareTexts.Take(3))
        {
            _unsealer.Submit(text);
        }

        var answer = _unsealer.Submit("not a share at all");

        Assert.Equal(UnsealAnswerKind.AlreadyUnsealed, answer.Kind);
        Assert.False(answer.Status.Sealed);
        Assert.Equal(1, _unsealedCalls);
    }

    public static TheoryData<string, string> MalformedShares()
    {
        var vault = new ShamirTestVault();
        var otherVaultId = new ShamirTestVault("payments_other");
        var otherThreshold = new ShamirTestVault(threshold: 2);
        var shortSecret = CustodianShare.Format(ShamirTestVault.DefaultVaultId, 3, Shamir.Split(RandomNumberGenerator.GetBytes(16), 3, 5)[1]);
        return new()
        {
            { AlterChecksum(vault.ShareTexts[1]), "checksum mismatch: the share was mistyped or altered" },
            { "", "empty: paste the whole share line, from 'xks-share-v1.' to its end" },
            { otherVaultId.ShareTexts[1], "the share is for Vault 'payments_other', not 'payments_xks': each custodian holds one share per Vault" },
            { otherThreshold.ShareTexts[1], "the share says 2 shares are needed but this Vault's keyring says 3: it comes from another split" },
            { shortSecret, "the share holds 16 bytes but a share of an unseal key holds 32: it comes from another split" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedShares))]
    public void Submit_ShareThatCannotCount_IsRefusedWithItsProblem_AndNotCounted(string text, string problem)
    {
        _unsealer.Submit(_vault.ShareTexts[0]);

        var answer = _unsealer.Submit(text);

        Assert.Equal(UnsealAnswerKind.MalformedShare, answer.Kind);
        Assert.Equal(problem, answer.Problem);
        Assert.Equal(1, answer.Status.Progress);
        Assert.Equal(1, _unsealer.Progress);
    }

    [Fact]
    public void Submit_TheSameCustodianTwice_IsRefused_AndCountsOnce()
    {
        _unsealer.Submit(_vault.ShareTexts[1]);

        var answer = _unsealer.Submit(_vault.ShareTexts[1]);

        Assert.Equal(UnsealAnswerKind.MalformedShare, answer.Kind);
        Assert.Equal("custodian x = 2 already gave a share: each custodian's share counts once", answer.Problem);
        Assert.Equal(1, _unsealer.Progress);
    }

    [Fact]
    public void Submit_WrongShareSet_IsWrongShares_ResetsProgress_AndTheRightSetThenUnseals()
    {
        var otherCeremony = new ShamirTestVault();
        _unsealer.Submit(_vault.ShareTexts[0]);
        _unsealer.Submit(_vault.ShareTexts[1]);
        var collected = _unsealer.CollectedForTests();

        var wrong = _unsealer.Submit(otherCeremony.ShareTexts[2]);

        Assert.Equal(UnsealAnswerKind.WrongShares, wrong.Kind);
        Assert.Equal("the 3 shares do not reconstruct this Vault's unseal key; progress was reset: check that every custodian used this Vault's share", wrong.Problem);
        Assert.Equal(0, wrong.Status.Progress);
        Assert.True(wrong.Status.Sealed);
        Assert.All(collected, y => Assert.All(y, b => Assert.Equal(0, b)));
        Assert.Equal(0, _unsealedCalls);

        _unsealer.Submit(_vault.ShareTexts[0]);
        _unsealer.Submit(_vault.ShareTexts[1]);
        Assert.Equal(UnsealAnswerKind.Unsealed, _unsealer.Submit(_vault.ShareTexts[2]).Kind);
    }

    [Fact]
    public void Progress_TenMinutesWithoutANewShare_Expires_AndTheSharesAreZeroed()
    {
        _unsealer.Submit(_vault.ShareTexts[0]);
        _time.Advance(TimeSpan.FromMinutes(6));
        _unsealer.Submit(_vault.ShareTexts[1]);
        var collected = _unsealer.CollectedForTests();

        _time.Advance(TimeSpan.FromMinutes(9));
        var beforeExpiry = _unsealer.Status().Progress;
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(2, beforeExpiry);
        Assert.Empty(_unsealer.CollectedForTests());
        Assert.Equal(0, _unsealer.Status().Progress);
        Assert.All(collected, y => Assert.All(y, b => Assert.Equal(0, b)));
        Assert.Contains(_logs.Lines, l => l.Contains("expired after 10 minutes without a new share: 2 share(s) forgotten", StringComparison.Ordinal));
    }

    [Fact]
    public void Submit_KeyringChangedWhileCollecting_StartsOverForTheNewKeyring()
    {
        var reinitialised = new ShamirTestVault();
        _unsealer.Submit(_vault.ShareTexts[0]);
        _unsealer.Submit(_vault.ShareTexts[1]);

        _backend.Apply(Config(reinitialised.Keyring));
        var answer = _unsealer.Submit(reinitialised.ShareTexts[0]);

        Assert.Equal((UnsealAnswerKind.Progress, 1), (answer.Kind, answer.Status.Progress));
        Assert.Contains(_logs.Lines, l => l.Contains("unseal progress reset: the keyring of Vault payments_xks now has another unseal key or threshold; 2 share(s) forgotten", StringComparison.Ordinal));
        _unsealer.Submit(reinitialised.ShareTexts[1]);
        Assert.Equal(UnsealAnswerKind.Unsealed, _unsealer.Submit(reinitialised.ShareTexts[2]).Kind);
    }

    [Fact]
    public void Submit_KeyringGainedARootWhileCollecting_KeepsTheProgress()
    {
        _unsealer.Submit(_vault.ShareTexts[0]);
        _unsealer.Submit(_vault.ShareTexts[1]);

        _backend.Apply(Config(_vault.AddRoot()));
        var answer = _unsealer.Submit(_vault.ShareTexts[2]);

        Assert.Equal(UnsealAnswerKind.Unsealed, answer.Kind);
        Assert.Equal([1, 2], answer.Status.RootVersions);
    }

    [Fact]
    public void Constructor_BackendNotInShamirMode_IsRefused()
    {
        using var plain = new SoftwareKeyBackend(new SoftwareBackendOptions { DataDir = Path.Combine(_root, "plain") }, _loggerFactory.CreateLogger<SoftwareKeyBackend>(), _time);

        Assert.Throws<ArgumentException>(() => new ShamirUnsealer(plain, _time, _loggerFactory.CreateLogger<ShamirUnsealer>()));
    }
}
