using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace Xks.Operator.Aws;

/// <summary>
/// Credentials of an assumed role (sts:AssumeRole with the source credentials, optional external id), renewed by
/// the SDK <see cref="AwsClientOptions.RefreshBeforeExpiry"/> before they expire. Unlike the SDK's
/// AssumeRoleAWSCredentials it calls STS through the session's own client, so <c>spec.endpoint</c> applies to it
/// too. A failure surfaces as an <see cref="AwsAccountException"/> naming the role (reason from <see cref="AwsErrors"/>).
/// </summary>
internal sealed class AssumeRoleCredentials : RefreshingAWSCredentials
{
    private readonly IAmazonSecurityTokenService _sts;
    private readonly string _roleArn;
    private readonly string _sessionName;
    private readonly string? _externalId;
    private readonly TimeSpan _duration;

    /// <summary><paramref name="sts"/> is signed with the source credentials and disposed with this object.</summary>
    public AssumeRoleCredentials(IAmazonSecurityTokenService sts, string roleArn, string sessionName, string? externalId, AwsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _sts = sts ?? throw new ArgumentNullException(nameof(sts));
        _roleArn = roleArn;
        _sessionName = sessionName;
        _externalId = string.IsNullOrEmpty(externalId) ? null : externalId;
        _duration = options.AssumeRoleDuration;
        PreemptExpiryTime = options.RefreshBeforeExpiry;
    }

    /// <summary>How many times a role was assumed (tests observe renewals through it).</summary>
    public int Assumed { get; private set; }

    protected override CredentialsRefreshState GenerateNewCredentials() =>
        GenerateNewCredentialsAsync().GetAwaiter().GetResult();

    protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
    {
        AssumeRoleResponse response;
        try
        {
            response = await _sts.AssumeRoleAsync(new AssumeRoleRequest
            {
                RoleArn = _roleArn,
                RoleSessionName = _sessionName,
                ExternalId = _externalId,
                DurationSeconds = (int)_duration.TotalSeconds,
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            var (reason, message) = AwsErrors.Describe(ex);
            throw new AwsAccountException(reason, $"sts:AssumeRole of {_roleArn} failed: {message}", ex);
        }

        var credentials = response.Credentials;
        Assumed++;
        var expiration = credentials.Expiration is { } at ? at.ToUniversalTime() : DateTime.UtcNow.Add(_duration);
        return new CredentialsRefreshState(new ImmutableCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken), expiration);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sts.Dispose();
        }

        base.Dispose(disposing);
    }
}
