using System.Security.Cryptography;
using k8s;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Pkcs11;

namespace Xks.Operator.Hsm;

/// <summary>
/// A Vault's HSM as the operator reaches it: the same library path and tokens the proxy is configured with (tokens in
/// order of preference), and the user PIN read from the Vault's pinSecretRef Secret. <see cref="ToString"/> never
/// shows the PIN.
/// </summary>
internal sealed class HsmTarget
{
    private readonly byte[] _pin;

    public HsmTarget(string library, IReadOnlyList<ProxyPkcs11TokenModel> tokens, ReadOnlySpan<byte> pin, string pinSource)
    {
        ArgumentException.ThrowIfNullOrEmpty(library);
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
        {
            throw new ArgumentException("An HSM target needs at least one token.", nameof(tokens));
        }

        Library = library;
        Tokens = tokens;
        _pin = pin.ToArray();
        PinSource = pinSource;
        PinFingerprint = Convert.ToHexStringLower(SHA256.HashData(pin))[..16];
    }

    /// <summary>The backend's PKCS#11 module path (a token may name its own).</summary>
    public string Library { get; }

    public IReadOnlyList<ProxyPkcs11TokenModel> Tokens { get; }

    /// <summary>Where the PIN came from ("Secret ns/name key pin"), for messages.</summary>
    public string PinSource { get; }

    /// <summary>A short hash of the PIN: tells a cached login that the PIN changed, without keeping the PIN around.</summary>
    public string PinFingerprint { get; }

    /// <summary>The PIN for a login (a copy; it says where it came from, never what it is).</summary>
    public Pkcs11Pin Pin() => Pkcs11Pin.FromBytes(_pin, PinSource);

    /// <summary>The library path of <paramref name="token"/>.</summary>
    public string LibraryOf(ProxyPkcs11TokenModel token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Library ?? Library;
    }

    public override string ToString() => $"HsmTarget {{ Library = {Library}, Tokens = [{string.Join(", ", Tokens)}], Pin = ({PinSource}) }}";

    /// <summary>
    /// The HSM of a Vault with keyBackend Pkcs11, or the token holding the root key of a Vault with keyProtection
    /// HsmSealed, with the PIN read from its Secret (one trailing newline trimmed, as the proxy trims its PIN file). Null
    /// for a Vault that uses neither.
    /// </summary>
    /// <exception cref="HsmException">The PIN Secret is missing (reason PinSecretNotFound) or has no PIN (PinSecretInvalid).</exception>
    public static async Task<HsmTarget?> ForVaultAsync(IKubernetes client, V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(vault);
        var backend = ProxyBackendModel.ForVault(vault);
        var (library, tokens, reference, field) = backend switch
        {
            { Pkcs11: { } pkcs11 } => (pkcs11.Library, pkcs11.Tokens, vault.Spec.KeyBackend.Pkcs11!.PinSecretRef, "spec.keyBackend.pkcs11.pinSecretRef"),
            { Sealing: { } sealing } => (sealing.Library, sealing.Tokens, vault.Spec.KeyProtection!.Hsm!.PinSecretRef, "spec.keyProtection.hsm.pinSecretRef"),
            _ => ("", (IReadOnlyList<ProxyPkcs11TokenModel>)[], null, ""),
        };
        if (field.Length == 0)
        {
            return null;
        }

        var ns = vault.Metadata.NamespaceProperty;
        if (reference is null || string.IsNullOrEmpty(reference.Name))
        {
            throw new HsmException(HsmException.PinSecretInvalid, $"{field} is not set");
        }

        var key = string.IsNullOrEmpty(reference.Key) ? ProxyLayout.Pkcs11PinKey : reference.Key;
        var secret = await client.ReadSecretOrNullAsync(ns, reference.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new HsmException(HsmException.PinSecretNotFound, $"PIN Secret {reference.Name} ({field}) does not exist in namespace {ns}; the proxy pods cannot start and no key can be generated until it does");
        if (secret.Data is null || !secret.Data.TryGetValue(key, out var value) || value is null)
        {
            throw new HsmException(HsmException.PinSecretInvalid, $"PIN Secret {reference.Name} has no key '{key}' ({field}.key)");
        }

        var length = value.Length;
        if (length > 0 && value[length - 1] == '\n')
        {
            length -= length > 1 && value[length - 2] == '\r' ? 2 : 1;
        }

        if (length == 0)
        {
            throw new HsmException(HsmException.PinSecretInvalid, $"PIN Secret {reference.Name}: key '{key}' is empty");
        }

        try
        {
            return new HsmTarget(library, tokens, value.AsSpan(0, length), $"Secret {ns}/{reference.Name} key {key}");
        }
        finally
        {
            Array.Clear(value);
        }
    }
}
