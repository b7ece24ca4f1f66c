using System.Security.Cryptography;
using Xks.KmsEmulator.Hosting;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Kms;

/// <summary>
/// Create, Update, Connect, Disconnect, Describe and Delete of external key stores. Create and Update check the proxy's
/// health first; Connect moves to CONNECTING and decides CONNECTED or FAILED after <see cref="KmsEmulatorOptions.ConnectDelay"/>.
/// A store with connectivity VPC_ENDPOINT_SERVICE also follows AWS's rules on its endpoint service
/// (<see cref="KmsEmulatorOptions.VpcEndpointServices"/>): it must exist, be configured for the store, and serve no other.
/// </summary>
internal sealed class CustomKeyStoreOperations
{
    private readonly KmsState _state;
    private readonly XksClient _xks;
    private readonly KmsEmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;

    public CustomKeyStoreOperations(KmsState state, XksClient xks, KmsEmulatorOptions options, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        _state = state;
        _xks = xks;
        _options = options;
        _time = time;
        _logger = logger;
        _stopping = stopping;
    }

    public async Task<CreateCustomKeyStoreResponse> CreateAsync(CreateCustomKeyStoreRequest request, CallContext call, CancellationToken cancellationToken)
    {
        KeyStoreValidation.Name(request.CustomKeyStoreName);
        if (request.CustomKeyStoreType != "EXTERNAL_KEY_STORE")
        {
            throw new KmsException("UnsupportedOperationException", "The emulator supports only custom key stores of type EXTERNAL_KEY_STORE.");
        }

        KeyStoreValidation.Connectivity(request.XksProxyConnectivity, request.XksProxyVpcEndpointServiceName);
        KeyStoreValidation.UriEndpoint(request.XksProxyUriEndpoint);
        KeyStoreValidation.UriPath(request.XksProxyUriPath);
        KeyStoreValidation.Credential(request.XksProxyAuthenticationCredential);
        var store = new KeyStoreRecord
        {
            Id = "cks-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(9))[..17],
            Name = request.CustomKeyStoreName!,
            CreationDate = call.Now,
            Connectivity = request.XksProxyConnectivity!,
            UriEndpoint = request.XksProxyUriEndpoint!,
            UriPath = request.XksProxyUriPath!,
            VpcEndpointServiceName = request.XksProxyVpcEndpointServiceName,
            AccessKeyId = request.XksProxyAuthenticationCredential!.AccessKeyId!,
            SecretAccessKey = request.XksProxyAuthenticationCredential.RawSecretAccessKey!,
        };

        lock (_state.Gate)
        {
            CheckVpcEndpointService(store, except: null);
            CheckUnique(store, except: null);
        }

        await CheckHealthAsync(store.Endpoint, "CreateCustomKeyStore", cancellationToken).ConfigureAwait(false);
        lock (_state.Gate)
        {
            CheckVpcEndpointService(store, except: null);
            CheckUnique(store, except: null);
            _state.KeyStores.Add(store);
        }

        return new CreateCustomKeyStoreResponse { CustomKeyStoreId = store.Id };
    }

    public async Task<EmptyResponse> UpdateAsync(UpdateCustomKeyStoreRequest request, CallContext call, CancellationToken cancellationToken)
    {
        KeyStoreRecord candidate;
        bool proxySettingsChanged;
        lock (_state.Gate)
        {
            var store = Find(request.CustomKeyStoreId);
            var needsDisconnected = request.XksProxyUriEndpoint is not null || request.XksProxyConnectivity is not null || request.XksProxyVpcEndpointServiceName is not null;
            if (store.ConnectionState != ConnectionStates.Disconnected && (needsDisconnected || store.ConnectionState != ConnectionStates.Connected))
            {
                throw KmsException.StoreInvalidState(needsDisconnected
                    ? $"Custom key store '{store.Id}' must be DISCONNECTED to change its endpoint or connectivity (it is {store.ConnectionState})."
                    : $"Custom key store '{store.Id}' must be CONNECTED or DISCONNECTED to be updated (it is {store.ConnectionState}).");
            }

            if (request.NewCustomKeyStoreName is not null)
            {
                KeyStoreValidation.Name(request.NewCustomKeyStoreName);
            }

            if (request.XksProxyUriEndpoint is not null)
            {
                KeyStoreValidation.UriEndpoint(request.XksProxyUriEndpoint);
            }

            if (request.XksProxyUriPath is not null)
            {
                KeyStoreValidation.UriPath(request.XksProxyUriPath);
            }

            if (request.XksProxyAuthenticationCredential is not null)
            {
                KeyStoreValidation.Credential(request.XksProxyAuthenticationCredential);
            }

            var connectivity = request.XksProxyConnectivity ?? store.Connectivity;
            var vpc = request.XksProxyVpcEndpointServiceName ?? store.VpcEndpointServiceName;
            KeyStoreValidation.Connectivity(connectivity, vpc);
            candidate = new KeyStoreRecord
            {
                Id = store.Id,
                Name = request.NewCustomKeyStoreName ?? store.Name,
                CreationDate = store.CreationDate,
                Connectivity = connectivity,
                UriEndpoint = request.XksProxyUriEndpoint ?? store.UriEndpoint,
                UriPath = request.XksProxyUriPath ?? store.UriPath,
                VpcEndpointServiceName = vpc,
                AccessKeyId = request.XksProxyAuthenticationCredential?.AccessKeyId ?? store.AccessKeyId,
                SecretAccessKey = request.XksProxyAuthenticationCredential?.RawSecretAccessKey ?? store.SecretAccessKey,
            };
            CheckVpcEndpointService(candidate, except: store);
            CheckUnique(candidate, except: store);
            proxySettingsChanged = needsDisconnected || request.XksProxyUriPath is not null || request.XksProxyAuthenticationCredential is not null;
        }

        if (proxySettingsChanged)
        {
            await CheckHealthAsync(candidate.Endpoint, "UpdateCustomKeyStore", cancellationToken).ConfigureAwait(false);
        }

        lock (_state.Gate)
        {
            var store = Find(request.CustomKeyStoreId);
            CheckVpcEndpointService(candidate, except: store);
            CheckUnique(candidate, except: store);
            store.Name = candidate.Name;
            store.Connectivity = candidate.Connectivity;
            store.UriEndpoint = candidate.UriEndpoint;
            store.UriPath = candidate.UriPath;
            store.VpcEndpointServiceName = candidate.VpcEndpointServiceName;
            store.AccessKeyId = candidate.AccessKeyId;
            store.SecretAccessKey = candidate.SecretAccessKey;
        }

        return new EmptyResponse();
    }

    public Task<EmptyResponse> ConnectAsync(CustomKeyStoreIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        int attempt;
        KeyStoreRecord store;
        lock (_state.Gate)
        {
            store = Find(request.CustomKeyStoreId);
            switch (store.ConnectionState)
            {
                case ConnectionStates.Failed or ConnectionStates.Disconnecting:
                    throw KmsException.StoreInvalidState(
                        $"Custom key store '{store.Id}' is {store.ConnectionState}; disconnect it (DisconnectCustomKeyStore) before connecting it again.");
                case ConnectionStates.Connected or ConnectionStates.Connecting:
                    return Task.FromResult(new EmptyResponse());
            }

            store.ConnectionState = ConnectionStates.Connecting;
            store.ConnectionErrorCode = null;
            attempt = ++store.ConnectAttempt;
        }

        Log.KeyStoreConnection(_logger, store.Id, ConnectionStates.Connecting, null);
        _ = FinishConnectAsync(store, attempt);
        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> DisconnectAsync(CustomKeyStoreIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var store = Find(request.CustomKeyStoreId);
            if (store.ConnectionState is ConnectionStates.Disconnected or ConnectionStates.Disconnecting)
            {
                throw KmsException.StoreInvalidState($"Custom key store '{store.Id}' is already {store.ConnectionState}.");
            }

            store.ConnectionState = ConnectionStates.Disconnected;
            store.ConnectionErrorCode = null;
            store.ConnectAttempt++;
            Log.KeyStoreConnection(_logger, store.Id, ConnectionStates.Disconnected, null);
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> DeleteAsync(CustomKeyStoreIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var store = Find(request.CustomKeyStoreId);
            if (store.ConnectionState != ConnectionStates.Disconnected)
            {
                throw KmsException.StoreInvalidState($"Custom key store '{store.Id}' must be DISCONNECTED to be deleted (it is {store.ConnectionState}).");
            }

            if (_state.Keys.Any(k => k.CustomKeyStoreId == store.Id))
            {
                throw new KmsException("CustomKeyStoreHasCMKsException", $"Custom key store '{store.Id}' still contains KMS keys (including keys pending deletion).");
            }

            _state.KeyStores.Remove(store);
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<DescribeCustomKeyStoresResponse> DescribeAsync(DescribeCustomKeyStoresRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            IReadOnlyList<KeyStoreRecord> selected = _state.KeyStores;
            if (request.CustomKeyStoreId is not null && request.CustomKeyStoreName is not null)
            {
                throw KmsException.Validation("Specify either CustomKeyStoreId or CustomKeyStoreName, not both.");
            }

            if (request.CustomKeyStoreId is not null)
            {
                selected = [Find(request.CustomKeyStoreId)];
            }
            else if (request.CustomKeyStoreName is not null)
            {
                selected = _state.KeyStores.Where(s => s.Name == request.CustomKeyStoreName).ToList();
                if (selected.Count == 0)
                {
                    throw new KmsException("CustomKeyStoreNotFoundException", $"Custom key store named '{request.CustomKeyStoreName}' does not exist.");
                }
            }

            var (page, next, truncated) = Paging.Page(selected, request.Limit, request.Marker, defaultLimit: 1000, maxLimit: 1000);
            return Task.FromResult(new DescribeCustomKeyStoresResponse { CustomKeyStores = page.Select(Describe).ToList(), NextMarker = next, Truncated = truncated });
        }
    }

    /// <summary>The store, or CustomKeyStoreNotFoundException. Call under the lock.</summary>
    public KeyStoreRecord Find(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            throw KmsException.Validation("1 validation error detected: Value null at 'customKeyStoreId' failed to satisfy constraint: Member must not be null");
        }

        return _state.KeyStores.FirstOrDefault(s => s.Id == id) ?? throw KmsException.StoreNotFound(id);
    }

    private static CustomKeyStoresListEntry Describe(KeyStoreRecord store) => new()
    {
        CustomKeyStoreId = store.Id,
        CustomKeyStoreName = store.Name,
        ConnectionState = store.ConnectionState,
        ConnectionErrorCode = store.ConnectionState == ConnectionStates.Failed ? store.ConnectionErrorCode : null,
        CreationDate = store.CreationDate,
        CustomKeyStoreType = "EXTERNAL_KEY_STORE",
        XksProxyConfiguration = new XksProxyConfiguration
        {
            Connectivity = store.Connectivity,
            AccessKeyId = store.AccessKeyId,
            UriEndpoint = store.UriEndpoint,
            UriPath = store.UriPath,
            VpcEndpointServiceName = store.VpcEndpointServiceName,
        },
    };

    /// <summary>
    /// AWS's rules for connectivity VPC_ENDPOINT_SERVICE (call under the lock; nothing for PUBLIC_ENDPOINT): the service
    /// exists in the account, is configured for the store (verified private DNS name = the endpoint's host, KMS's
    /// principal allowed, no acceptance), and serves no other key store.
    /// </summary>
    private void CheckVpcEndpointService(KeyStoreRecord candidate, KeyStoreRecord? except)
    {
        if (candidate.Connectivity != "VPC_ENDPOINT_SERVICE")
        {
            return;
        }

        var name = candidate.VpcEndpointServiceName!;
        if (!_options.VpcEndpointServices.TryGetValue(name, out var service))
        {
            throw new KmsException("XksProxyVpcEndpointServiceNotFoundException", $"The VPC endpoint service '{name}' was not found in this account and Region.");
        }

        if (service.ConfigurationProblem(name, candidate.UriEndpoint, _options.Region) is { } problem)
        {
            throw new KmsException("XksProxyVpcEndpointServiceInvalidConfigurationException", problem);
        }

        var other = _state.KeyStores.FirstOrDefault(s => !ReferenceEquals(s, except) && s.Id != candidate.Id
            && s.Connectivity == "VPC_ENDPOINT_SERVICE" && s.VpcEndpointServiceName == name);
        if (other is not null)
        {
            throw new KmsException("XksProxyVpcEndpointServiceInUseException", $"The VPC endpoint service '{name}' is already associated with custom key store '{other.Id}'.");
        }
    }

    /// <summary>The ConnectionErrorCode a connect of a VPC_ENDPOINT_SERVICE store ends with before any XKS call, or null (call under the lock).</summary>
    private string? VpcConnectionErrorCode(KeyStoreRecord store)
    {
        if (store.Connectivity != "VPC_ENDPOINT_SERVICE")
        {
            return null;
        }

        var name = store.VpcEndpointServiceName ?? "";
        return !_options.VpcEndpointServices.TryGetValue(name, out var service) ? "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND"
            : service.ConfigurationProblem(name, store.UriEndpoint, _options.Region) is not null ? "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION"
            : null;
    }

    private void CheckUnique(KeyStoreRecord candidate, KeyStoreRecord? except)
    {
        foreach (var other in _state.KeyStores)
        {
            if (ReferenceEquals(other, except) || other.Id == candidate.Id)
            {
                continue;
            }

            if (other.Name == candidate.Name)
            {
                throw new KmsException("CustomKeyStoreNameInUseException", $"A custom key store named '{candidate.Name}' already exists in this account and Region.");
            }

            if (string.Equals(other.UriEndpoint, candidate.UriEndpoint, StringComparison.OrdinalIgnoreCase))
            {
                if (candidate.Connectivity == "VPC_ENDPOINT_SERVICE" || other.Connectivity == "VPC_ENDPOINT_SERVICE")
                {
                    throw new KmsException("XksProxyUriEndpointInUseException", $"The XksProxyUriEndpoint '{candidate.UriEndpoint}' is already used by custom key store '{other.Id}'.");
                }

                if (other.UriPath == candidate.UriPath)
                {
                    throw new KmsException("XksProxyUriInUseException", $"The XksProxyUriEndpoint and XksProxyUriPath '{candidate.UriEndpoint}{candidate.UriPath}' are already used by custom key store '{other.Id}'.");
                }
            }
        }
    }

    private async Task CheckHealthAsync(XksEndpoint endpoint, string kmsOperation, CancellationToken cancellationToken)
    {
        var requestId = Guid.NewGuid().ToString();
        try
        {
            await _xks.HealthAsync(endpoint, kmsOperation, requestId, cancellationToken).ConfigureAwait(false);
            Log.XksCall(_logger, kmsOperation, requestId, endpoint.UriEndpoint + endpoint.UriPath, "ok");
        }
        catch (XksFailure failure)
        {
            Log.XksCall(_logger, kmsOperation, requestId, endpoint.UriEndpoint + endpoint.UriPath, failure.Message);
            throw XksFailureMap.ForKeyStoreChange(failure);
        }
    }

    private async Task FinishConnectAsync(KeyStoreRecord store, int attempt)
    {
        try
        {
            await Task.Delay(_options.ConnectDelay, _time, _stopping).ConfigureAwait(false);
            XksEndpoint endpoint;
            string? errorCode;
            lock (_state.Gate)
            {
                if (store.ConnectAttempt != attempt)
                {
                    return;
                }

                endpoint = store.Endpoint;
                // The endpoint service may have changed since the store was made: KMS looks again on every connect.
                errorCode = VpcConnectionErrorCode(store);
            }

            var requestId = Guid.NewGuid().ToString();
            try
            {
                if (errorCode is null)
                {
                    await _xks.HealthAsync(endpoint, "ConnectCustomKeyStore", requestId, _stopping).ConfigureAwait(false);
                    Log.XksCall(_logger, "ConnectCustomKeyStore", requestId, endpoint.UriEndpoint + endpoint.UriPath, "ok");
                }
            }
            catch (XksFailure failure)
            {
                errorCode = XksFailureMap.ConnectionErrorCode(failure);
                Log.XksCall(_logger, "ConnectCustomKeyStore", requestId, endpoint.UriEndpoint + endpoint.UriPath, failure.Message);
            }

            lock (_state.Gate)
            {
                if (store.ConnectAttempt != attempt || store.ConnectionState != ConnectionStates.Connecting)
                {
                    return;
                }

                store.ConnectionState = errorCode is null ? ConnectionStates.Connected : ConnectionStates.Failed;
                store.ConnectionErrorCode = errorCode;
            }

            Log.KeyStoreConnection(_logger, store.Id, errorCode is null ? ConnectionStates.Connected : ConnectionStates.Failed, errorCode);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }
}
