using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The external key store steps of a KeySet: found (status, spec.adopt, or the name an earlier attempt used, refused
/// when it serves another path), created, updated, connected and disconnected. What to do is decided by
/// <see cref="KeySetDecisions"/>.
/// </summary>
internal sealed class KeySetKeyStoreStep(EventRecorder events, ILogger logger)
{
    /// <summary>
    /// The key store this KeySet owns: by status, by spec.adopt, or by name (what a crashed create left) — each only with
    /// the proof of <see cref="KeySetDecisions.StoreOwnershipRefusal"/>, else a Conflict before any call that changes it.
    /// </summary>
    public async Task<CustomKeyStoresListEntry?> FindAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, IReadOnlyCollection<string> ourAccessKeyIds, AwsSession session, CancellationToken cancellationToken)
    {
        var id = status.CustomKeyStoreId ?? keySet.Spec.Adopt?.CustomKeyStoreId;
        if (id is not null)
        {
            try
            {
                var byId = await session.CallAsync("DescribeCustomKeyStores", (kms, ct) => kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id }, ct), cancellationToken).ConfigureAwait(false);
                var found = byId.CustomKeyStores?.FirstOrDefault();
                if (found is not null)
                {
                    Prove(found, ourAccessKeyIds);
                }

                if (found is not null && status.CustomKeyStoreId is null)
                {
                    await events.NormalAsync(keySet, Reasons.Adopted, $"Adopted custom key store {found.CustomKeyStoreId} ({found.CustomKeyStoreName}) named in spec.adopt", cancellationToken).ConfigureAwait(false);
                }

                return found;
            }
            catch (CustomKeyStoreNotFoundException)
            {
                if (status.CustomKeyStoreId is null)
                {
                    throw new ChildConflictException($"spec.adopt.customKeyStoreId {id} does not exist in AWS KMS");
                }

                return null;
            }
        }

        var name = KeySetNames.KeyStoreName(keySet);
        try
        {
            var byName = await session.CallAsync("DescribeCustomKeyStores", (kms, ct) => kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = name }, ct), cancellationToken).ConfigureAwait(false);
            if (byName.CustomKeyStores?.FirstOrDefault() is not { } existing)
            {
                return null;
            }

            // Key stores carry no tags: the name (unique per account and region) and our path identify what an earlier
            // attempt made. A store of that name serving another path belongs to someone else.
            if (KeySetDecisions.StoreRefusal(name, existing.CustomKeyStoreId, existing.XksProxyConfiguration?.UriPath, KeySetNames.UriPath(keySet)) is { } refusal)
            {
                throw new ChildConflictException(refusal);
            }

            Prove(existing, ourAccessKeyIds);

            KeySetController.Log.Adopted(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, existing.CustomKeyStoreId);
            await events.NormalAsync(keySet, Reasons.Adopted, $"Found custom key store {existing.CustomKeyStoreId} made by an earlier attempt; adopted it", cancellationToken).ConfigureAwait(false);
            return existing;
        }
        catch (CustomKeyStoreNotFoundException)
        {
            return null;
        }
    }

    public async Task<CustomKeyStoresListEntry> CreateAsync(V1Alpha1KeySet keySet, V1Alpha1Vault vault, XksCredential credential, AwsSession session, CancellationToken cancellationToken)
    {
        var name = KeySetNames.KeyStoreName(keySet);
        var created = await session.CallAsync("CreateCustomKeyStore", (kms, ct) => kms.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = name,
            CustomKeyStoreType = CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyUriEndpoint = Endpoint(vault),
            XksProxyUriPath = KeySetNames.UriPath(keySet),
            XksProxyConnectivity = Connectivity(keySet),
            XksProxyVpcEndpointServiceName = keySet.Spec.ExternalKeyStore.VpcEndpointServiceName,
            XksProxyAuthenticationCredential = Credential(credential),
        }, ct), cancellationToken).ConfigureAwait(false);
        KeySetController.Log.KeyStoreCreated(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, created.CustomKeyStoreId, name);
        await events.NormalAsync(keySet, Reasons.Created, $"Created custom key store {created.CustomKeyStoreId} ({name}) for {Endpoint(vault)}{KeySetNames.UriPath(keySet)}", cancellationToken).ConfigureAwait(false);
        return new CustomKeyStoresListEntry
        {
            CustomKeyStoreId = created.CustomKeyStoreId,
            CustomKeyStoreName = name,
            ConnectionState = ConnectionStateType.DISCONNECTED,
            XksProxyConfiguration = new XksProxyConfigurationType
            {
                AccessKeyId = credential.AccessKeyId,
                UriEndpoint = Endpoint(vault),
                UriPath = KeySetNames.UriPath(keySet),
                Connectivity = Connectivity(keySet),
                VpcEndpointServiceName = keySet.Spec.ExternalKeyStore.VpcEndpointServiceName,
            },
        };
    }

    private static void Prove(CustomKeyStoresListEntry store, IReadOnlyCollection<string> ourAccessKeyIds)
    {
        if (KeySetDecisions.StoreOwnershipRefusal(store.CustomKeyStoreId, store.CustomKeyStoreName, store.XksProxyConfiguration?.AccessKeyId, ourAccessKeyIds) is { } notOurs)
        {
            throw new ChildConflictException(notOurs);
        }
    }

    public async Task DisconnectAsync(V1Alpha1KeySet keySet, AwsSession session, CustomKeyStoresListEntry store, string why, CancellationToken cancellationToken)
    {
        if (store.ConnectionState == ConnectionStateType.DISCONNECTED || store.ConnectionState == ConnectionStateType.DISCONNECTING)
        {
            return;
        }

        await session.CallAsync("DisconnectCustomKeyStore", (kms, ct) => kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = store.CustomKeyStoreId }, ct), cancellationToken).ConfigureAwait(false);
        KeySetController.Log.Disconnected(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, store.CustomKeyStoreId, why);
        await events.NormalAsync(keySet, Reasons.Disconnected, $"Disconnected custom key store {store.CustomKeyStoreId}: {why}", cancellationToken).ConfigureAwait(false);
    }

    public static bool NeedsEndpointUpdate(CustomKeyStoresListEntry store, V1Alpha1KeySet keySet, V1Alpha1Vault vault) =>
        store.XksProxyConfiguration is { } xks
        && (xks.UriEndpoint != Endpoint(vault) || xks.UriPath != KeySetNames.UriPath(keySet) || xks.Connectivity != Connectivity(keySet)
            || (keySet.Spec.ExternalKeyStore.Connectivity == V1Alpha1Connectivity.VpcEndpointService && xks.VpcEndpointServiceName != keySet.Spec.ExternalKeyStore.VpcEndpointServiceName));

    public static string Endpoint(V1Alpha1Vault vault) => $"https://{vault.Spec.Hostname}";

    public static XksProxyConnectivityType Connectivity(V1Alpha1KeySet keySet) =>
        keySet.Spec.ExternalKeyStore.Connectivity == V1Alpha1Connectivity.VpcEndpointService
            ? XksProxyConnectivityType.VPC_ENDPOINT_SERVICE
            : XksProxyConnectivityType.PUBLIC_ENDPOINT;

    public static XksProxyAuthenticationCredentialType Credential(XksCredential credential) =>
        new() { AccessKeyId = credential.AccessKeyId, RawSecretAccessKey = credential.SecretAccessKey };

    /// <summary>Points a disconnected store at the Vault's endpoint, the KeySet's path and connectivity, with the current credential.</summary>
    public async Task UpdateAsync(V1Alpha1KeySet keySet, V1Alpha1Vault vault, CustomKeyStoresListEntry store, XksCredential credential, AwsSession session, CancellationToken cancellationToken)
    {
        await session.CallAsync("UpdateCustomKeyStore", (kms, ct) => kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest
        {
            CustomKeyStoreId = store.CustomKeyStoreId,
            XksProxyUriEndpoint = Endpoint(vault),
            XksProxyUriPath = KeySetNames.UriPath(keySet),
            XksProxyConnectivity = Connectivity(keySet),
            XksProxyVpcEndpointServiceName = keySet.Spec.ExternalKeyStore.VpcEndpointServiceName,
            XksProxyAuthenticationCredential = Credential(credential),
        }, ct), cancellationToken).ConfigureAwait(false);
        await events.NormalAsync(keySet, Reasons.Updated, $"Updated custom key store {store.CustomKeyStoreId} to {Endpoint(vault)}{KeySetNames.UriPath(keySet)}", cancellationToken).ConfigureAwait(false);
    }

    public async Task ConnectAsync(V1Alpha1KeySet keySet, CustomKeyStoresListEntry store, AwsSession session, CancellationToken cancellationToken)
    {
        await session.CallAsync("ConnectCustomKeyStore", (kms, ct) => kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = store.CustomKeyStoreId }, ct), cancellationToken).ConfigureAwait(false);
        KeySetController.Log.Connecting(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, store.CustomKeyStoreId);
        await events.NormalAsync(keySet, Reasons.Connecting, $"Connecting custom key store {store.CustomKeyStoreId}", cancellationToken).ConfigureAwait(false);
    }
}
