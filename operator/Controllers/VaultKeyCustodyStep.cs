using System.Net;
using System.Security.Cryptography;
using k8s;
using k8s.Autorest;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Hsm;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// A Vault's root of trust, whichever protection it uses, carried out: the software backend's master key (created once,
/// never overwritten), the PKCS#11 backend's login, a HsmSealed Vault's root key in the token (<see cref="RootKeyStep"/>),
/// and a Shamir Vault's keyring. It answers what HsmAvailable and Ready report; the reconciler sets the conditions.
/// </summary>
internal sealed partial class VaultKeyCustodyStep(IKubernetes client, EventRecorder events, IHsmKeys hsm, TimeProvider time, ILogger logger)
{
    private readonly RootKeyStep _rootKey = new(client, events, hsm, time);

    /// <summary>Ensures the Vault's root of trust for <paramref name="backend"/>; the outcome says what to report and render.</summary>
    public async Task<VaultKeyCustodyOutcome> ReconcileAsync(V1Alpha1Vault vault, ProxyBackendModel backend, CancellationToken cancellationToken)
    {
        var masterKeyProblem = backend.HasMasterKey ? await EnsureMasterKeyAsync(vault, cancellationToken).ConfigureAwait(false) : null;
        var (hsmAvailable, hsmProblem, requeue) = backend.Sealing is { } sealing && backend.IsHsmSealed
            ? await CheckRootKeyAsync(vault, sealing, cancellationToken).ConfigureAwait(false)
            : backend.IsPkcs11 ? await CheckHsmAsync(vault, cancellationToken).ConfigureAwait(false) : (null, null, null);
        var outcome = new VaultKeyCustodyOutcome(backend, hsmAvailable, masterKeyProblem ?? hsmProblem, KeyringProblem: null, requeue);
        if (!backend.IsShamir)
        {
            return outcome;
        }

        // The keyring (sealed roots) goes into the config; without it no proxy could ever be unsealed.
        var (withKeyring, keyringProblem) = await WithKeyringAsync(vault, backend, cancellationToken).ConfigureAwait(false);
        return outcome with { Backend = withKeyring, KeyringProblem = keyringProblem };
    }

    /// <summary>
    /// PKCS#11 backend: the PIN Secret exists and the operator can log in to a token with it (the operator generates
    /// every key version there).
    /// </summary>
    private async Task<(ConditionVerdict?, (string Reason, string Message)?, TimeSpan?)> CheckHsmAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        try
        {
            var target = (await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false))!;
            var token = hsm.Check(target);
            return (new ConditionVerdict(ConditionStatus.True, Reasons.LoggedIn, $"the operator logged in to {token} with the PIN from {target.PinSource}"), null, null);
        }
        catch (HsmException ex)
        {
            var (verdict, problem) = HsmUnavailable(vault, ex, "generated");
            return (verdict, problem, null);
        }
    }

    /// <summary>
    /// HsmSealed: the root key in the token (made, rotated, retired: <see cref="RootKeyStep"/>); unavailable when the
    /// HSM cannot be used or the root key is missing. A rotation in progress says when to look again.
    /// </summary>
    private async Task<(ConditionVerdict?, (string Reason, string Message)?, TimeSpan?)> CheckRootKeyAsync(V1Alpha1Vault vault, ProxySealingModel sealing, CancellationToken cancellationToken)
    {
        try
        {
            var target = (await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false))!;
            var outcome = await _rootKey.ReconcileAsync(vault, sealing, target, cancellationToken).ConfigureAwait(false);
            if (outcome.Problem is { } problem)
            {
                return (new ConditionVerdict(ConditionStatus.False, problem.Reason, problem.Message), problem, outcome.Requeue);
            }

            return (new ConditionVerdict(ConditionStatus.True, Reasons.RootKeyReady,
                $"root key {sealing.RootLabelPrefix}/r{outcome.Plan.Target} seals the key versions (PIN from {target.PinSource}); {outcome.Plan.Message}"), null, outcome.Requeue);
        }
        catch (HsmException ex)
        {
            var (verdict, problem) = HsmUnavailable(vault, ex, "sealed");
            return (verdict, problem, null);
        }
    }

    /// <summary>HsmAvailable=False from <paramref name="ex"/> (logged), and the Ready reason and message it gives.</summary>
    private (ConditionVerdict, (string Reason, string Message)) HsmUnavailable(V1Alpha1Vault vault, HsmException ex, string what)
    {
        var message = ex.Reason == HsmException.HsmUnavailable
            ? $"the operator cannot use the HSM, so no key version can be {what}: {ex.Message}"
            : ex.Message;
        Log.HsmUnavailable(logger, vault.Metadata.NamespaceProperty, vault.Metadata.Name, ex.Reason, ex.Message);
        return (new ConditionVerdict(ConditionStatus.False, ex.Reason, message), (ex.Reason, message));
    }

    /// <summary>
    /// Creates the software backend's master key once (<see cref="KeyCustodyDecisions.MasterKey"/>). An existing Secret is
    /// never overwritten (it is immutable too): if it is malformed, the Vault reports it and a human decides; if it is
    /// missing while material wrapped by it exists, nothing is created. Keeps the custody finalizer and annotations on
    /// it, and warns when someone tried to delete it. Returns the Ready reason and problem, or null when the key is fine.
    /// </summary>
    private async Task<(string Reason, string Message)?> EnsureMasterKeyAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var name = VaultNames.MasterKeySecret(vault);
        var ns = vault.Metadata.NamespaceProperty;
        var existing = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var state = existing is null ? MasterKeyState.Missing
            : existing.Data is not null && existing.Data.TryGetValue(ProxyLayout.MasterKeyKey, out var bytes) && bytes.Length == ProxyLayout.MasterKeyLength ? MasterKeyState.Valid
            : MasterKeyState.Malformed;
        var material = state == MasterKeyState.Missing ? await SoftwareMaterialOfVaultAsync(vault, cancellationToken).ConfigureAwait(false) : [];
        var (action, reason, problem) = KeyCustodyDecisions.MasterKey(name, state, material);
        if (existing is not null)
        {
            await client.ProtectAsync(existing, cancellationToken).ConfigureAwait(false);
            if (existing.Metadata.DeletionTimestamp is not null)
            {
                await events.WarningAsync(vault, Reasons.MasterKeyDeletionBlocked, $"Secret {name} was deleted, but keys of this Vault are wrapped by it: it stays (finalizer {KeyCustody.Finalizer}) and the proxy keeps using it (docs/key-custody.md)", cancellationToken).ConfigureAwait(false);
            }
        }

        if (action == MasterKeyAction.Refuse)
        {
            if (reason == Reasons.MasterKeyMissing)
            {
                await events.WarningAsync(vault, reason, problem!, cancellationToken).ConfigureAwait(false);
            }

            return (reason!, problem!);
        }

        if (action == MasterKeyAction.Use)
        {
            return null;
        }

        var key = RandomNumberGenerator.GetBytes(ProxyLayout.MasterKeyLength);
        try
        {
            await client.CoreV1.CreateNamespacedSecretAsync(MasterKeySecretBuilder.Build(vault, key), ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.MasterKeyCreated(logger, ns, name);
            await events.NormalAsync(vault, Reasons.MasterKeyCreated, $"Created master key Secret {name}", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Someone (a previous attempt) created it between our read and our create: theirs wins, ours is discarded.
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return null;
    }

    /// <summary>
    /// A Shamir Vault's keyring from the Secret &lt;vault&gt;-keyring (made by the custodians' <c>xks-operator shamir
    /// init</c>; never by the operator, which would then have seen the root): the backend with it, or why not. The
    /// Secret gets the custody finalizer and keep annotations.
    /// </summary>
    private async Task<(ProxyBackendModel Backend, (string Reason, string Message)? Problem)> WithKeyringAsync(V1Alpha1Vault vault, ProxyBackendModel backend, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        var name = VaultNames.KeyringSecret(vault);
        var secret = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            return (backend, (Reasons.KeyringMissing,
                $"Secret {name} does not exist: the custodians make it once with `xks-operator shamir init --namespace {ns} --vault {vault.Metadata.Name} --threshold K --shares N --out-dir DIR` (it writes the sealed keyring and one share file per custodian; docs/key-custody.md)"));
        }

        secret = await client.ProtectAsync(secret, cancellationToken).ConfigureAwait(false);
        var text = secret.Data?.TryGetValue(ProxyLayout.KeyringKey, out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes) : null;
        var problem = KeyCustodyDecisions.KeyringProblem(text, backend.Shamir!.VaultId);
        return problem is not null
            ? (backend, (Reasons.KeyringInvalid, $"Secret {name}: {problem}; it is left as it is — restore it from a backup"))
            : (backend with { Shamir = backend.Shamir with { KeyringJson = text } }, null);
    }

    /// <summary>The key-material Secrets of the Vault whose versions are wrapped by its master key (not those in an HSM).</summary>
    private async Task<IReadOnlyList<string>> SoftwareMaterialOfVaultAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var material = await client.CoreV1.ListNamespacedSecretAsync(
            vault.Metadata.NamespaceProperty, labelSelector: $"{VaultLabels.VaultLabel}={vault.Metadata.Name},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. material.Items
            .Where(s => !KeyMaterialSecret.TryRead(s, out _, out _, out var backend, out _) || backend == KeyMaterialSecret.SoftwareBackend)
            .Select(s => s.Metadata.Name)
            .Order(StringComparer.Ordinal)];
    }

    private static partial class Log
    {
        [LoggerMessage(3003, LogLevel.Information, "Created master key Secret {Namespace}/{Name}", EventName = "MasterKeyCreated")]
        public static partial void MasterKeyCreated(ILogger logger, string @namespace, string name);

        [LoggerMessage(3008, LogLevel.Debug, "Vault {Namespace}/{Name}: the operator cannot use the HSM ({Reason}): {Problem}", EventName = "VaultHsmUnavailable")]
        public static partial void HsmUnavailable(ILogger logger, string @namespace, string name, string reason, string problem);
    }
}

/// <summary>What a Vault's key custody reports and renders.</summary>
/// <param name="Backend">The backend to render (a Shamir Vault's with its keyring).</param>
/// <param name="HsmAvailable">The HsmAvailable condition; null when the Vault uses no HSM (the condition is removed).</param>
/// <param name="ReadyProblem">Why the Vault is not Ready (master key, HSM or root key); null when custody is fine.</param>
/// <param name="KeyringProblem">A Shamir Vault's keyring is missing or invalid: nothing is rendered until it is fixed.</param>
/// <param name="RootKeyRequeue">When a HsmSealed root-key rotation in progress looks again.</param>
internal sealed record VaultKeyCustodyOutcome(
    ProxyBackendModel Backend,
    ConditionVerdict? HsmAvailable,
    (string Reason, string Message)? ReadyProblem,
    (string Reason, string Message)? KeyringProblem,
    TimeSpan? RootKeyRequeue);
