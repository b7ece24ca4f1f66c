using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xks.KmsEmulator.Hosting;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Kms;

/// <summary>KMS key management: CreateKey (checking the external key with GetKeyMetadata), DescribeKey, ListKeys, key state, tags, policy and aliases.</summary>
internal sealed partial class KeyOperations
{
    private readonly KmsState _state;
    private readonly KeyResolver _resolver;
    private readonly CustomKeyStoreOperations _stores;
    private readonly XksClient _xks;
    private readonly KmsEmulatorOptions _options;
    private readonly ILogger _logger;

    public KeyOperations(KmsState state, KeyResolver resolver, CustomKeyStoreOperations stores, XksClient xks, KmsEmulatorOptions options, ILogger logger)
    {
        _state = state;
        _resolver = resolver;
        _stores = stores;
        _xks = xks;
        _options = options;
        _logger = logger;
    }

    public async Task<KeyMetadataResponse> CreateKeyAsync(CreateKeyRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var origin = request.Origin ?? "AWS_KMS";
        if ((request.KeySpec ?? request.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" || (request.KeyUsage ?? "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT")
        {
            throw new KmsException("UnsupportedOperationException", "The emulator supports only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT.");
        }

        if (origin is not ("AWS_KMS" or "EXTERNAL_KEY_STORE"))
        {
            throw new KmsException("UnsupportedOperationException", $"Origin {origin} is not supported by the emulator.");
        }

        if (request.MultiRegion == true && origin == "EXTERNAL_KEY_STORE")
        {
            throw new KmsException("UnsupportedOperationException", "Multi-Region keys are not supported in external key stores.");
        }

        CheckDescription(request.Description);
        var policy = request.Policy is null ? KeyPolicies.Default(_options.AccountId) : KeyPolicies.Validate(request.Policy);
        var tags = ValidateTags(request.Tags ?? []);
        var keyId = Guid.NewGuid().ToString();
        var key = new KeyRecord
        {
            KeyId = keyId,
            Arn = _resolver.KeyArn(keyId),
            CreationDate = call.Now,
            Description = request.Description ?? "",
            Origin = origin,
            CustomKeyStoreId = request.CustomKeyStoreId,
            XksKeyId = request.XksKeyId,
            LocalMaterial = origin == "AWS_KMS" ? RandomNumberGenerator.GetBytes(32) : null,
            Policy = policy,
        };
        key.Tags.AddRange(tags);

        if (origin == "AWS_KMS")
        {
            if (request.CustomKeyStoreId is not null || request.XksKeyId is not null)
            {
                throw KmsException.Validation("CustomKeyStoreId and XksKeyId require Origin EXTERNAL_KEY_STORE.");
            }

            lock (_state.Gate)
            {
                _state.Keys.Add(key);
            }

            return new KeyMetadataResponse { KeyMetadata = Describe(key) };
        }

        if (string.IsNullOrEmpty(request.CustomKeyStoreId) || string.IsNullOrEmpty(request.XksKeyId))
        {
            throw KmsException.Validation("Origin EXTERNAL_KEY_STORE requires CustomKeyStoreId and XksKeyId.");
        }

        if (request.XksKeyId.Length > 128 || !XksKeyIdPattern().IsMatch(request.XksKeyId))
        {
            throw KmsException.Validation("1 validation error detected: Value at 'xksKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_.]+$");
        }

        XksEndpoint endpoint;
        lock (_state.Gate)
        {
            endpoint = ConnectedStoreFor(request.CustomKeyStoreId, request.XksKeyId);
        }

        var requestId = Guid.NewGuid().ToString();
        XksKeyMetadataResponse metadata;
        try
        {
            metadata = await _xks.GetKeyMetadataAsync(endpoint, request.XksKeyId,
                new XksRequestMetadata { AwsPrincipalArn = call.Caller.Arn, KmsOperation = "CreateKey", KmsRequestId = requestId }, cancellationToken).ConfigureAwait(false);
            Log.XksCall(_logger, "CreateKey", requestId, endpoint.UriEndpoint + endpoint.UriPath, "ok");
        }
        catch (XksFailure failure)
        {
            Log.XksCall(_logger, "CreateKey", requestId, endpoint.UriEndpoint + endpoint.UriPath, failure.Message);
            throw XksFailureMap.ForCreateKey(failure);
        }

        if (metadata.KeySpec is null || metadata.KeyUsage is null || metadata.KeyStatus is null)
        {
            throw new KmsException("CustomKeyStoreInvalidStateException", "The external key store proxy's key metadata response is incomplete.");
        }

        if (metadata.KeySpec != "AES_256" || !metadata.KeyUsage.Contains("ENCRYPT") || !metadata.KeyUsage.Contains("DECRYPT") || metadata.KeyStatus != "ENABLED")
        {
            throw new KmsException("XksKeyInvalidConfigurationException",
                $"The external key '{request.XksKeyId}' must be an enabled AES_256 key for ENCRYPT and DECRYPT (proxy says {metadata.KeySpec}, [{string.Join(", ", metadata.KeyUsage)}], {metadata.KeyStatus}).");
        }

        lock (_state.Gate)
        {
            ConnectedStoreFor(request.CustomKeyStoreId, request.XksKeyId);
            _state.Keys.Add(key);
        }

        return new KeyMetadataResponse { KeyMetadata = Describe(key) };
    }

    public Task<KeyMetadataResponse> DescribeKeyAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            return Task.FromResult(new KeyMetadataResponse { KeyMetadata = Describe(_resolver.Resolve(request.KeyId)) });
        }
    }

    public Task<ListKeysResponse> ListKeysAsync(PageRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var (page, next, truncated) = Paging.Page(_state.Keys, request.Limit, request.Marker, defaultLimit: 100, maxLimit: 1000);
            return Task.FromResult(new ListKeysResponse
            {
                Keys = page.Select(k => new KeyListEntry { KeyId = k.KeyId, KeyArn = k.Arn }).ToList(),
                NextMarker = next,
                Truncated = truncated,
            });
        }
    }

    /// <summary>UpdateKeyDescription: any state but PendingDeletion; at most 8192 characters, empty allowed, null refused.</summary>
    public Task<EmptyResponse> UpdateKeyDescriptionAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var description = request.Description ?? throw KmsException.Validation("1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null");
        CheckDescription(description);
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            NotPendingDeletion(key);
            key.Description = description;
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> EnableKeyAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken) =>
        SetState(request.KeyId, KeyStates.Enabled);

    public Task<EmptyResponse> DisableKeyAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken) =>
        SetState(request.KeyId, KeyStates.Disabled);

    public Task<ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var days = request.PendingWindowInDays ?? 30;
        if (days is < 7 or > 30)
        {
            throw KmsException.Validation($"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30");
        }

        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            NotPendingDeletion(key);
            key.KeyState = KeyStates.PendingDeletion;
            key.DeletionDate = call.Now + days * _options.PendingWindowUnit;
            key.PendingWindowInDays = days;
            return Task.FromResult(new ScheduleKeyDeletionResponse { KeyId = key.Arn, DeletionDate = key.DeletionDate, KeyState = key.KeyState, PendingWindowInDays = days });
        }
    }

    public Task<KeyIdResponse> CancelKeyDeletionAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            if (key.KeyState != KeyStates.PendingDeletion)
            {
                throw KmsException.InvalidState($"{key.Arn} is not pending deletion.");
            }

            key.KeyState = KeyStates.Disabled;
            key.DeletionDate = null;
            key.PendingWindowInDays = null;
            return Task.FromResult(new KeyIdResponse { KeyId = key.Arn });
        }
    }

    public Task<EmptyResponse> TagResourceAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var tags = ValidateTags(request.Tags ?? throw KmsException.Validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"));
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            NotPendingDeletion(key);
            foreach (var tag in tags)
            {
                var index = key.Tags.FindIndex(t => t.Key == tag.Key);
                if (index >= 0)
                {
                    key.Tags[index] = tag;
                }
                else
                {
                    key.Tags.Add(tag);
                }
            }

            if (key.Tags.Count > 50)
            {
                throw new KmsException("LimitExceededException", "A KMS key can have at most 50 tags.");
            }
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> UntagResourceAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            NotPendingDeletion(key);
            key.Tags.RemoveAll(t => request.TagKeys?.Contains(t.Key) == true);
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<ListResourceTagsResponse> ListResourceTagsAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            var (page, next, truncated) = Paging.Page(key.Tags, request.Limit, request.Marker, defaultLimit: 50, maxLimit: 50);
            return Task.FromResult(new ListResourceTagsResponse
            {
                Tags = page.Select(t => new Tag { TagKey = t.Key, TagValue = t.Value }).ToList(),
                NextMarker = next,
                Truncated = truncated,
            });
        }
    }

    public Task<GetKeyPolicyResponse> GetKeyPolicyAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            CheckPolicyName(request.PolicyName);
            return Task.FromResult(new GetKeyPolicyResponse { Policy = key.Policy, PolicyName = "default" });
        }
    }

    public Task<EmptyResponse> PutKeyPolicyAsync(KeyIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var policy = KeyPolicies.Validate(request.Policy);
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            CheckPolicyName(request.PolicyName);
            key.Policy = policy;
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> CreateAliasAsync(AliasRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var name = ValidateAliasName(request.AliasName);
        lock (_state.Gate)
        {
            if (_state.Aliases.ContainsKey(name))
            {
                throw new KmsException("AlreadyExistsException", $"An alias with the name {_resolver.AliasArn(name)} already exists");
            }

            var key = _resolver.Resolve(request.TargetKeyId, allowAlias: false);
            NotPendingDeletion(key);
            _state.Aliases[name] = new AliasRecord { Name = name, TargetKeyId = key.KeyId, CreationDate = call.Now, LastUpdatedDate = call.Now };
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> UpdateAliasAsync(AliasRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var name = ValidateAliasName(request.AliasName);
        lock (_state.Gate)
        {
            if (!_state.Aliases.TryGetValue(name, out var alias))
            {
                throw KmsException.NotFound($"Alias {_resolver.AliasArn(name)} is not found.");
            }

            var key = _resolver.Resolve(request.TargetKeyId, allowAlias: false);
            NotPendingDeletion(key);
            alias.TargetKeyId = key.KeyId;
            alias.LastUpdatedDate = call.Now;
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> DeleteAliasAsync(AliasRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var name = ValidateAliasName(request.AliasName);
        lock (_state.Gate)
        {
            if (!_state.Aliases.Remove(name))
            {
                throw KmsException.NotFound($"Alias {_resolver.AliasArn(name)} is not found.");
            }
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<ListAliasesResponse> ListAliasesAsync(PageRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var keyId = request.KeyId is null ? null : _resolver.Resolve(request.KeyId, allowAlias: false).KeyId;
            var aliases = _state.Aliases.Values.Where(a => keyId is null || a.TargetKeyId == keyId).ToList();
            var (page, next, truncated) = Paging.Page(aliases, request.Limit, request.Marker, defaultLimit: 50, maxLimit: 100);
            return Task.FromResult(new ListAliasesResponse
            {
                Aliases = page.Select(a => new AliasListEntry
                {
                    AliasName = a.Name,
                    AliasArn = _resolver.AliasArn(a.Name),
                    TargetKeyId = a.TargetKeyId,
                    CreationDate = a.CreationDate,
                    LastUpdatedDate = a.LastUpdatedDate,
                }).ToList(),
                NextMarker = next,
                Truncated = truncated,
            });
        }
    }

    /// <summary>
    /// KeyMetadata as DescribeKey shows it. Like AWS, a key in a custom key store that is not CONNECTED is
    /// <c>Unavailable</c> (unless it is pending deletion). Call under the lock.
    /// </summary>
    public KeyMetadata Describe(KeyRecord key)
    {
        var state = key.KeyState;
        if (state != KeyStates.PendingDeletion && key.CustomKeyStoreId is not null
            && _state.KeyStores.FirstOrDefault(s => s.Id == key.CustomKeyStoreId) is { ConnectionState: not ConnectionStates.Connected })
        {
            state = KeyStates.Unavailable;
        }

        return new KeyMetadata
        {
            AWSAccountId = _options.AccountId,
            KeyId = key.KeyId,
            Arn = key.Arn,
            CreationDate = key.CreationDate,
            Enabled = key.KeyState == KeyStates.Enabled,
            Description = key.Description,
            KeyUsage = "ENCRYPT_DECRYPT",
            KeyState = state,
            DeletionDate = key.DeletionDate,
            Origin = key.Origin,
            CustomKeyStoreId = key.CustomKeyStoreId,
            KeyManager = "CUSTOMER",
            CustomerMasterKeySpec = "SYMMETRIC_DEFAULT",
            KeySpec = "SYMMETRIC_DEFAULT",
            EncryptionAlgorithms = ["SYMMETRIC_DEFAULT"],
            MultiRegion = false,
            PendingDeletionWindowInDays = key.PendingWindowInDays,
            XksKeyConfiguration = key.XksKeyId is null ? null : new XksKeyConfiguration { Id = key.XksKeyId },
        };
    }

    private Task<EmptyResponse> SetState(string? keyId, string state)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(keyId, allowAlias: false);
            NotPendingDeletion(key);
            key.KeyState = state;
        }

        return Task.FromResult(new EmptyResponse());
    }

    private static void CheckDescription(string? description)
    {
        if ((description?.Length ?? 0) > 8192)
        {
            throw KmsException.Validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192");
        }
    }

    private static void NotPendingDeletion(KeyRecord key)
    {
        if (key.KeyState == KeyStates.PendingDeletion)
        {
            throw KmsException.InvalidState($"{key.Arn} is pending deletion.");
        }
    }

    private static void CheckPolicyName(string? policyName)
    {
        if (policyName is not (null or "default"))
        {
            throw KmsException.NotFound($"No such policy exists: {policyName}");
        }
    }

    private XksEndpoint ConnectedStoreFor(string customKeyStoreId, string xksKeyId)
    {
        var store = _stores.Find(customKeyStoreId);
        if (store.ConnectionState != ConnectionStates.Connected)
        {
            throw KmsException.StoreInvalidState($"Custom key store '{store.Id}' is {store.ConnectionState}; CreateKey needs it CONNECTED.");
        }

        if (_state.Keys.Any(k => k.CustomKeyStoreId == store.Id && k.XksKeyId == xksKeyId))
        {
            throw new KmsException("XksKeyAlreadyInUseException", $"The external key '{xksKeyId}' is already associated with a KMS key in custom key store '{store.Id}'.");
        }

        return store.Endpoint;
    }

    private static List<KeyValuePair<string, string>> ValidateTags(List<Tag> tags)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var tag in tags)
        {
            if (tag.TagKey is not { Length: >= 1 and <= 128 } || tag.TagValue is not { Length: <= 256 })
            {
                throw new KmsException("TagException", "Tag keys must have 1 to 128 characters and tag values at most 256.");
            }

            if (tag.TagKey.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw new KmsException("TagException", "Tag keys must not begin with 'aws:'.");
            }

            result.RemoveAll(t => t.Key == tag.TagKey);
            result.Add(new(tag.TagKey, tag.TagValue));
        }

        return result;
    }

    private static string ValidateAliasName(string? name)
    {
        if (name is null || name.Length > 256 || !AliasNamePattern().IsMatch(name))
        {
            throw new KmsException("InvalidAliasNameException", $"Alias name '{name}' must begin with 'alias/' followed by a-z A-Z 0-9 / _ -.");
        }

        if (name.StartsWith("alias/aws/", StringComparison.Ordinal))
        {
            throw new KmsException("InvalidAliasNameException", "Alias names beginning with 'alias/aws/' are reserved for AWS managed keys.");
        }

        return name;
    }

    [GeneratedRegex("^alias/[a-zA-Z0-9/_-]+$")]
    private static partial Regex AliasNamePattern();

    [GeneratedRegex("^[a-zA-Z0-9-_.]+$")]
    private static partial Regex XksKeyIdPattern();
}
