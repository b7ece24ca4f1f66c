using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Xks.KmsEmulator.Kms;

/// <summary>Maps <c>X-Amz-Target: TrentService.&lt;Operation&gt;</c> to its handler: JSON body in, JSON body out.</summary>
internal sealed class KmsDispatcher
{
    private readonly Dictionary<string, Func<byte[], CallContext, CancellationToken, Task<byte[]>>> _operations;

    public KmsDispatcher(CustomKeyStoreOperations stores, KeyOperations keys, CryptoOperations crypto, GrantOperations grants)
    {
        var j = KmsJsonContext.Default;
        _operations = new(StringComparer.Ordinal)
        {
            ["CreateCustomKeyStore"] = Handler(j.CreateCustomKeyStoreRequest, j.CreateCustomKeyStoreResponse, stores.CreateAsync),
            ["ConnectCustomKeyStore"] = Handler(j.CustomKeyStoreIdRequest, j.EmptyResponse, stores.ConnectAsync),
            ["DisconnectCustomKeyStore"] = Handler(j.CustomKeyStoreIdRequest, j.EmptyResponse, stores.DisconnectAsync),
            ["DescribeCustomKeyStores"] = Handler(j.DescribeCustomKeyStoresRequest, j.DescribeCustomKeyStoresResponse, stores.DescribeAsync),
            ["UpdateCustomKeyStore"] = Handler(j.UpdateCustomKeyStoreRequest, j.EmptyResponse, stores.UpdateAsync),
            ["DeleteCustomKeyStore"] = Handler(j.CustomKeyStoreIdRequest, j.EmptyResponse, stores.DeleteAsync),
            ["CreateKey"] = Handler(j.CreateKeyRequest, j.KeyMetadataResponse, keys.CreateKeyAsync),
            ["DescribeKey"] = Handler(j.KeyIdRequest, j.KeyMetadataResponse, keys.DescribeKeyAsync),
            ["ListKeys"] = Handler(j.PageRequest, j.ListKeysResponse, keys.ListKeysAsync),
            ["ListResourceTags"] = Handler(j.KeyIdRequest, j.ListResourceTagsResponse, keys.ListResourceTagsAsync),
            ["TagResource"] = Handler(j.KeyIdRequest, j.EmptyResponse, keys.TagResourceAsync),
            ["UntagResource"] = Handler(j.KeyIdRequest, j.EmptyResponse, keys.UntagResourceAsync),
            ["UpdateKeyDescription"] = Handler(j.KeyIdRequest, j.EmptyResponse, keys.UpdateKeyDescriptionAsync),
            ["EnableKey"] = Handler(j.KeyIdRequest, j.EmptyResponse, keys.EnableKeyAsync),
            ["DisableKey"] = Handler(j.KeyIdRequest, j.EmptyResponse, keys.DisableKeyAsync),
            ["ScheduleKeyDeletion"] = Handler(j.KeyIdRequest, j.ScheduleKeyDeletionResponse, keys.ScheduleKeyDeletionAsync),
            ["CancelKeyDeletion"] = Handler(j.KeyIdRequest, j.KeyIdResponse, keys.CancelKeyDeletionAsync),
            ["GetKeyPolicy"] = Handler(j.KeyIdRequest, j.GetKeyPolicyResponse, keys.GetKeyPolicyAsync),
            ["PutKeyPolicy"] = Handler(j.KeyIdRequest, j.EmptyResponse, keys.PutKeyPolicyAsync),
            ["CreateAlias"] = Handler(j.AliasRequest, j.EmptyResponse, keys.CreateAliasAsync),
            ["UpdateAlias"] = Handler(j.AliasRequest, j.EmptyResponse, keys.UpdateAliasAsync),
            ["DeleteAlias"] = Handler(j.AliasRequest, j.EmptyResponse, keys.DeleteAliasAsync),
            ["ListAliases"] = Handler(j.PageRequest, j.ListAliasesResponse, keys.ListAliasesAsync),
            ["Encrypt"] = Handler(j.CryptoRequest, j.CryptoResponse, crypto.EncryptAsync),
            ["Decrypt"] = Handler(j.CryptoRequest, j.CryptoResponse, crypto.DecryptAsync),
            ["GenerateDataKey"] = Handler(j.CryptoRequest, j.CryptoResponse, crypto.GenerateDataKeyAsync),
            ["CreateGrant"] = Handler(j.CreateGrantRequest, j.CreateGrantResponse, grants.CreateGrantAsync),
            ["ListGrants"] = Handler(j.ListGrantsRequest, j.ListGrantsResponse, grants.ListGrantsAsync),
            ["RevokeGrant"] = Handler(j.GrantIdRequest, j.EmptyResponse, grants.RevokeGrantAsync),
            ["RetireGrant"] = Handler(j.GrantIdRequest, j.EmptyResponse, grants.RetireGrantAsync),
        };
    }

    public bool Knows(string operation) => _operations.ContainsKey(operation);

    public Task<byte[]> InvokeAsync(string operation, byte[] body, CallContext call, CancellationToken cancellationToken) =>
        _operations[operation](body, call, cancellationToken);

    public static byte[] Error(string type, string message) =>
        JsonSerializer.SerializeToUtf8Bytes(new ErrorResponse { Type = type, Message = message }, KmsJsonContext.Default.ErrorResponse);

    private static Func<byte[], CallContext, CancellationToken, Task<byte[]>> Handler<TRequest, TResponse>(
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType,
        Func<TRequest, CallContext, CancellationToken, Task<TResponse>> operation)
        where TRequest : class
    {
        return async (body, call, cancellationToken) =>
        {
            TRequest? request;
            try
            {
                request = JsonSerializer.Deserialize(body.Length == 0 ? "{}"u8 : body, requestType);
            }
            catch (JsonException)
            {
                throw new KmsException("SerializationException", "The request body is not valid JSON for this operation.");
            }

            var response = await operation(request ?? throw new KmsException("SerializationException", "The request body is null."), call, cancellationToken).ConfigureAwait(false);
            return JsonSerializer.SerializeToUtf8Bytes(response, responseType);
        };
    }
}
