using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Backup;

/// <summary>
/// Everything needed to serve one Vault's keys again, as read from the API server: the Vault, the CspAccounts and KeySets
/// that use it, their CloudKeys, and the Secrets that cannot be made again — the master key, every key-material Secret
/// of the Vault (including material of CloudKeys deleted with Retain or pending deletion), the KeySets' SigV4
/// credentials (KMS holds them), and the Secrets the specs name (a TLS Secret without issuer, the HSM PIN, the
/// CspAccounts' access keys).
/// </summary>
public sealed record VaultSnapshot(
    V1Alpha1Vault Vault,
    IReadOnlyList<V1Alpha1CspAccount> CspAccounts,
    IReadOnlyList<V1Alpha1KeySet> KeySets,
    IReadOnlyList<V1Alpha1CloudKey> CloudKeys,
    IReadOnlyList<V1Secret> Secrets);
