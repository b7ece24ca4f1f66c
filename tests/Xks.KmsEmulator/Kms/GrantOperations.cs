using System.Security.Cryptography;

namespace Xks.KmsEmulator.Kms;

/// <summary>
/// CreateGrant, ListGrants, RevokeGrant and RetireGrant. Who may call them is decided before (Policies/KmsAuthorizer);
/// what a grant allows is decided by the policy evaluator, on its key only and within its encryption-context constraints.
/// </summary>
internal sealed class GrantOperations
{
    private readonly KmsState _state;
    private readonly GrantStore _grants;
    private readonly KeyResolver _resolver;
    private readonly KmsEmulatorOptions _options;

    public GrantOperations(KmsState state, GrantStore grants, KeyResolver resolver, KmsEmulatorOptions options)
    {
        _state = state;
        _grants = grants;
        _resolver = resolver;
        _options = options;
    }

    public Task<CreateGrantResponse> CreateGrantAsync(CreateGrantRequest request, CallContext call, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.GranteePrincipal) || !IsPrincipal(request.GranteePrincipal))
        {
            throw KmsException.Validation("1 validation error detected: Value at 'granteePrincipal' failed to satisfy constraint: Member must be an AWS principal ARN or service principal");
        }

        if (request.RetiringPrincipal is { } retiring && !IsPrincipal(retiring))
        {
            throw KmsException.Validation("1 validation error detected: Value at 'retiringPrincipal' failed to satisfy constraint: Member must be an AWS principal ARN or service principal");
        }

        if (request.Operations is not { Count: > 0 } operations || operations.Any(o => !GrantRecord.ValidOperations.Contains(o)))
        {
            throw KmsException.Validation($"1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must contain one or more of [{string.Join(", ", GrantRecord.ValidOperations.Order(StringComparer.Ordinal))}]");
        }

        if (request.Name is { Length: > 256 })
        {
            throw KmsException.Validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to 256");
        }

        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            if (key.KeyState == KeyStates.PendingDeletion)
            {
                throw KmsException.InvalidState($"{key.Arn} is pending deletion.");
            }

            var grant = new GrantRecord(
                Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
                Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
                key.KeyId,
                key.Arn,
                request.GranteePrincipal,
                request.RetiringPrincipal,
                [.. operations.Distinct(StringComparer.Ordinal)],
                request.Constraints?.EncryptionContextSubset,
                request.Constraints?.EncryptionContextEquals,
                request.Name,
                call.Now,
                $"arn:aws:iam::{_options.AccountId}:root");
            _grants.Add(grant);
            return Task.FromResult(new CreateGrantResponse { GrantId = grant.GrantId, GrantToken = grant.GrantToken });
        }
    }

    public Task<ListGrantsResponse> ListGrantsAsync(ListGrantsRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId);
            var grants = _grants.ForKey(key.KeyId)
                .Where(g => request.GrantId is null || g.GrantId == request.GrantId)
                .Where(g => request.GranteePrincipal is null || g.GranteePrincipal == request.GranteePrincipal)
                .ToList();
            var (page, next, truncated) = Paging.Page(grants, request.Limit, request.Marker, defaultLimit: 50, maxLimit: 100);
            return Task.FromResult(new ListGrantsResponse
            {
                Grants = [.. page.Select(g => new GrantListEntry
                {
                    KeyId = g.KeyArn,
                    GrantId = g.GrantId,
                    Name = g.Name,
                    CreationDate = g.CreationDate,
                    GranteePrincipal = g.GranteePrincipal,
                    RetiringPrincipal = g.RetiringPrincipal,
                    IssuingAccount = g.IssuingAccount,
                    Operations = [.. g.Operations],
                    Constraints = g.EncryptionContextSubset is null && g.EncryptionContextEquals is null ? null : new GrantConstraints
                    {
                        EncryptionContextSubset = g.EncryptionContextSubset?.ToDictionary(),
                        EncryptionContextEquals = g.EncryptionContextEquals?.ToDictionary(),
                    },
                })],
                NextMarker = next,
                Truncated = truncated,
            });
        }
    }

    public Task<EmptyResponse> RevokeGrantAsync(GrantIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            var key = _resolver.Resolve(request.KeyId, allowAlias: false);
            var grant = _grants.Find(key.KeyId, request.GrantId ?? "") ?? throw KmsException.NotFound($"Grant ID {request.GrantId} not found");
            _grants.Remove(grant);
        }

        return Task.FromResult(new EmptyResponse());
    }

    public Task<EmptyResponse> RetireGrantAsync(GrantIdRequest request, CallContext call, CancellationToken cancellationToken)
    {
        lock (_state.Gate)
        {
            _grants.Remove(Find(request));
        }

        return Task.FromResult(new EmptyResponse());
    }

    /// <summary>The grant a RetireGrant names: by its token, or by key and grant ID. Call under the lock.</summary>
    public GrantRecord Find(GrantIdRequest request)
    {
        if (request.GrantToken is { Length: > 0 } token)
        {
            return _grants.FindByToken(token) ?? throw new KmsException("InvalidGrantTokenException", "The grant token is not valid.");
        }

        if (request.KeyId is null || request.GrantId is null)
        {
            throw KmsException.Validation("Specify either GrantToken, or both KeyId and GrantId.");
        }

        var key = _resolver.Resolve(request.KeyId, allowAlias: false);
        return _grants.Find(key.KeyId, request.GrantId) ?? throw KmsException.NotFound($"Grant ID {request.GrantId} not found");
    }

    private static bool IsPrincipal(string principal) =>
        principal.StartsWith("arn:", StringComparison.Ordinal) || principal.EndsWith(".amazonaws.com", StringComparison.Ordinal);
}
