using System.Globalization;
using System.Text;
using k8s.Models;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>What the rotation writes outside IAM: the credentials Secret, its own status (before IAM is called), Events.</summary>
internal interface IAccessKeyRotationHost
{
    /// <summary>Replaces the Secret; its metadata.resourceVersion guards the write (a concurrent change is a conflict, not an overwrite).</summary>
    Task<V1Secret> ReplaceSecretAsync(V1Secret secret, CancellationToken cancellationToken);

    /// <summary>Stores status.accessKey now (the in-flight step must be on record before IAM is called).</summary>
    Task SaveStatusAsync(V1Alpha1AccessKeyStatus status, CancellationToken cancellationToken);

    /// <summary>An Event on the account. Never a secret: key IDs only.</summary>
    Task EventAsync(bool warning, string reason, string message, CancellationToken cancellationToken);
}

/// <summary>How one rotation pass ended: the status to keep, the AccessKeyRotated condition, and when to look again.</summary>
internal sealed record AccessKeyRotationResult(V1Alpha1AccessKeyStatus Status, string ConditionStatus, string Reason, string Message, DateTimeOffset? WaitUntil);

/// <summary>
/// Carries out <see cref="AccessKeyRotationDecisions"/> for one account: reads the user's keys with the Secret's key,
/// then decides and acts until the decision is to wait or to refuse. Each step goes through the account's
/// <see cref="AwsSession"/> (rate limit, metrics); the new key's secret exists only in this pass's memory until it is
/// in the Secret, and never reaches a log, an Event or the status. A failure throws (the reconcile's backoff retries);
/// the next pass decides from what IAM, the Secret and the status then say.
/// </summary>
internal sealed partial class AccessKeyRotationStep(TimeProvider timeProvider, ILogger logger)
{
    /// <summary>The annotation that asks for a rotation now: set it to a new value.</summary>
    public const string RotateAnnotation = "xks.dev/rotate-access-key";

    /// <summary>How many steps one pass takes at most (a full rotation up to the grace period is five).</summary>
    private const int MaxSteps = 8;

    /// <param name="session">The account's session (long-term keys: <see cref="AwsSession.KeyClients"/> is set).</param>
    /// <param name="account">The account (spec.credentials.secretRef and accessKeyRotation).</param>
    /// <param name="secret">The credentials Secret as just read (its resourceVersion guards the write).</param>
    /// <param name="rotationRequest">The value of <see cref="RotateAnnotation"/>, if any.</param>
    /// <param name="status">status.accessKey as stored.</param>
    /// <param name="host">Where the Secret, the status and Events are written.</param>
    /// <param name="cancellationToken">Cancels the pass.</param>
    public async Task<AccessKeyRotationResult> RunAsync(
        AwsSession session, AwsAccount account, V1Secret secret, string? rotationRequest, V1Alpha1AccessKeyStatus? status, IAccessKeyRotationHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(host);
        var spec = account.Spec.Credentials.AccessKeyRotation ?? throw new InvalidOperationException("accessKeyRotation is not set");
        var reference = account.Spec.Credentials.SecretRef ?? throw new InvalidOperationException("secretRef is not set");
        var record = Copy(status);
        if (!AwsCredentialsSecret.TryRead(secret, reference, out var keys, out var problem))
        {
            return Refused(record, problem!);
        }

        if (keys!.SessionToken is { Length: > 0 } || session.KeyClients is null)
        {
            return Refused(record, $"Secret {secret.Metadata.NamespaceProperty}/{secret.Metadata.Name} holds a session token: temporary credentials cannot be rotated, only an IAM user's long-term access key");
        }

        if (!GoDuration.TryParse(spec.Every, allowDays: true, out var every) || every < CspAccountSpecValidator.MinimumRotationInterval)
        {
            return Refused(record, $"spec.credentials.accessKeyRotation.every '{spec.Every}' is not a duration of at least 1h");
        }

        var grace = GoDuration.TryParse(spec.GracePeriod, allowDays: true, out var parsed) ? parsed : TimeSpan.FromHours(1);
        var requested = rotationRequest is { Length: > 0 } && rotationRequest != record.HandledRotationRequest;
        var iam = session.IamFor(keys);
        var iamKeys = (await session.CallIamAsync("ListAccessKeys", iam.ListAccessKeysAsync, cancellationToken).ConfigureAwait(false)).ToList();
        IamNewAccessKey? created = null;
        var verified = false;

        for (var step = 0; step < MaxSteps; step++)
        {
            var now = timeProvider.GetUtcNow();
            var state = new AccessKeyRotationState(now, every, grace, session.KeyClients.Options.AccessKeySettle, keys.AccessKeyId, requested,
                PhaseOf(record), ToOffset(record.Since), record.PreviousId, iamKeys, created is null ? null : new AccessKeyInHand(created.AccessKeyId, verified));
            var decision = AccessKeyRotationDecisions.Next(state);
            if (decision.Action != AccessKeyAction.Refuse && iamKeys.FirstOrDefault(k => k.AccessKeyId == keys.AccessKeyId) is { } current)
            {
                record.Id = current.AccessKeyId;
                record.CreatedAt = current.CreateDate.UtcDateTime;
                record.NextRotation = (current.CreateDate + every).UtcDateTime;
            }

            Log.Decided(logger, account.Description, decision.Action.ToString(), decision.KeyId ?? "-");
            switch (decision.Action)
            {
                case AccessKeyAction.Refuse:
                    await host.EventAsync(true, Reasons.AccessKeyRotationRefused, decision.Message!, cancellationToken).ConfigureAwait(false);
                    return Refused(record, decision.Message!);

                case AccessKeyAction.None:
                    if (iamKeys.Count == 1)
                    {
                        Set(record, AccessKeyPhase.Current, null, null);
                    }

                    return Settled(record, keys.AccessKeyId, decision, now);

                case AccessKeyAction.CreateKey:
                    // On record before IAM is called: a key that appears after this and is not in the Secret is ours.
                    Set(record, AccessKeyPhase.Creating, now, keys.AccessKeyId);
                    await host.SaveStatusAsync(Copy(record), cancellationToken).ConfigureAwait(false);
                    created = await session.CallIamAsync("CreateAccessKey", iam.CreateAccessKeyAsync, cancellationToken).ConfigureAwait(false);
                    iamKeys.Add(new IamAccessKey(created.AccessKeyId, true, created.CreateDate));
                    await host.EventAsync(false, Reasons.AccessKeyCreated, $"created access key {created.AccessKeyId} to replace {keys.AccessKeyId}", cancellationToken).ConfigureAwait(false);
                    break;

                case AccessKeyAction.VerifyNew:
                    await VerifyAsync(session, keys, created!, cancellationToken).ConfigureAwait(false);
                    verified = true;
                    break;

                case AccessKeyAction.WriteSecret:
                    await host.ReplaceSecretAsync(WithKey(secret, reference, created!), cancellationToken).ConfigureAwait(false);
                    var previous = keys.AccessKeyId;
                    keys = new AwsSecretKeys(created!.AccessKeyId, created.SecretAccessKey, null);
                    iam = session.IamFor(keys);
                    created = null;
                    Set(record, AccessKeyPhase.Replaced, now, previous);
                    record.HandledRotationRequest = rotationRequest ?? record.HandledRotationRequest;
                    requested = false;
                    await host.SaveStatusAsync(Copy(record), cancellationToken).ConfigureAwait(false);
                    await host.EventAsync(false, Reasons.AccessKeyRotated, $"Secret {secret.Metadata.NamespaceProperty}/{secret.Metadata.Name} now holds access key {keys.AccessKeyId}; {previous} is deactivated next", cancellationToken).ConfigureAwait(false);
                    break;

                case AccessKeyAction.RecordReplaced:
                    Set(record, AccessKeyPhase.Replaced, now, decision.KeyId);
                    record.HandledRotationRequest = rotationRequest ?? record.HandledRotationRequest;
                    requested = false;
                    await host.SaveStatusAsync(Copy(record), cancellationToken).ConfigureAwait(false);
                    break;

                case AccessKeyAction.DeactivateOld:
                    await session.CallIamAsync("UpdateAccessKey", async ct => { await iam.UpdateAccessKeyAsync(decision.KeyId!, false, ct).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);
                    Replace(iamKeys, decision.KeyId!, k => k with { Active = false });
                    Set(record, AccessKeyPhase.Deactivated, now, decision.KeyId);
                    await host.SaveStatusAsync(Copy(record), cancellationToken).ConfigureAwait(false);
                    await host.EventAsync(false, Reasons.AccessKeyDeactivated, $"deactivated the previous access key {decision.KeyId}; it is deleted after {spec.GracePeriod}", cancellationToken).ConfigureAwait(false);
                    break;

                case AccessKeyAction.DeleteOld:
                case AccessKeyAction.DeleteOrphan:
                    await session.CallIamAsync("DeleteAccessKey", async ct => { await iam.DeleteAccessKeyAsync(decision.KeyId!, ct).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);
                    iamKeys.RemoveAll(k => k.AccessKeyId == decision.KeyId);
                    Set(record, AccessKeyPhase.Current, null, null);
                    await host.SaveStatusAsync(Copy(record), cancellationToken).ConfigureAwait(false);
                    await host.EventAsync(false, decision.Action == AccessKeyAction.DeleteOld ? Reasons.AccessKeyDeleted : Reasons.OrphanAccessKeyDeleted,
                        decision.Action == AccessKeyAction.DeleteOld
                            ? $"deleted the previous access key {decision.KeyId}"
                            : $"deleted access key {decision.KeyId}: an interrupted rotation created it and its secret never reached the Secret; the rotation starts again",
                        cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return Settled(record, keys.AccessKeyId, new AccessKeyDecision(AccessKeyAction.None, WaitUntil: timeProvider.GetUtcNow()), timeProvider.GetUtcNow());
    }

    /// <summary>The new key signs as the same IAM user as the Secret's (IAM may take a moment before a new key works).</summary>
    private async Task VerifyAsync(AwsSession session, AwsSecretKeys current, IamNewAccessKey created, CancellationToken cancellationToken)
    {
        var fresh = new AwsSecretKeys(created.AccessKeyId, created.SecretAccessKey, null);
        var deadline = timeProvider.GetUtcNow() + session.KeyClients!.Options.NewKeyPropagation;
        string arn;
        while (true)
        {
            try
            {
                arn = (await session.IdentityOfAsync(fresh, cancellationToken).ConfigureAwait(false)).Arn;
                break;
            }
            catch (Exception ex) when (AwsErrors.Describe(ex).Reason == Reasons.InvalidCredentials && timeProvider.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }

        var expected = (await session.IdentityOfAsync(current, cancellationToken).ConfigureAwait(false)).Arn;
        if (arn != expected)
        {
            throw new AwsAccountException(Reasons.AccessKeyRotationFailed, $"the new access key {created.AccessKeyId} signs as {arn}, not as {expected}: it is not written to the Secret");
        }
    }

    /// <summary>The Secret with the new key's ID and secret under the keys secretRef names (its resourceVersion kept for the guarded write).</summary>
    internal static V1Secret WithKey(V1Secret secret, V1Alpha1AwsSecretReference reference, IamNewAccessKey key)
    {
        var data = new Dictionary<string, byte[]>(secret.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal)
        {
            [reference.AccessKeyIdKey] = Encoding.UTF8.GetBytes(key.AccessKeyId),
            [reference.SecretAccessKeyKey] = Encoding.UTF8.GetBytes(key.SecretAccessKey),
        };
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = secret.Metadata,
            Type = secret.Type,
            Immutable = secret.Immutable,
            Data = data,
        };
    }

    private static AccessKeyRotationResult Settled(V1Alpha1AccessKeyStatus record, string secretKeyId, AccessKeyDecision decision, DateTimeOffset now)
    {
        var next = record.NextRotation is { } due ? due.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "unknown";
        return PhaseOf(record) switch
        {
            AccessKeyPhase.Replaced or AccessKeyPhase.Deactivated => new AccessKeyRotationResult(record, ConditionStatus.True, Reasons.AccessKeyRotated,
                $"the Secret holds access key {secretKeyId}; the previous key {record.PreviousId} is {(PhaseOf(record) == AccessKeyPhase.Replaced ? "deactivated" : "deleted")} at {Time(decision.WaitUntil ?? now)}", decision.WaitUntil),
            _ => new AccessKeyRotationResult(record, ConditionStatus.True, Reasons.AccessKeyCurrent, $"the Secret holds access key {secretKeyId}; next rotation {next}", decision.WaitUntil),
        };
    }

    private static AccessKeyRotationResult Refused(V1Alpha1AccessKeyStatus record, string message) =>
        new(record, ConditionStatus.False, Reasons.AccessKeyRotationRefused, message, null);

    private static void Set(V1Alpha1AccessKeyStatus record, AccessKeyPhase phase, DateTimeOffset? since, string? previousId)
    {
        record.Phase = phase.ToString();
        record.Since = since?.UtcDateTime;
        record.PreviousId = previousId;
    }

    private static void Replace(List<IamAccessKey> keys, string id, Func<IamAccessKey, IamAccessKey> change)
    {
        var index = keys.FindIndex(k => k.AccessKeyId == id);
        if (index >= 0)
        {
            keys[index] = change(keys[index]);
        }
    }

    internal static AccessKeyPhase PhaseOf(V1Alpha1AccessKeyStatus? record) =>
        Enum.TryParse<AccessKeyPhase>(record?.Phase, out var phase) ? phase : AccessKeyPhase.Current;

    private static DateTimeOffset? ToOffset(DateTime? time) => time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static V1Alpha1AccessKeyStatus Copy(V1Alpha1AccessKeyStatus? status) => status is null
        ? new V1Alpha1AccessKeyStatus()
        : new V1Alpha1AccessKeyStatus
        {
            Id = status.Id,
            CreatedAt = status.CreatedAt,
            NextRotation = status.NextRotation,
            Phase = status.Phase,
            Since = status.Since,
            PreviousId = status.PreviousId,
            HandledRotationRequest = status.HandledRotationRequest,
        };

    private static partial class Log
    {
        [LoggerMessage(4110, LogLevel.Debug, "{Account} access-key rotation: {Action} {KeyId}", EventName = "AccessKeyRotationStep")]
        public static partial void Decided(ILogger logger, string account, string action, string keyId);
    }
}
