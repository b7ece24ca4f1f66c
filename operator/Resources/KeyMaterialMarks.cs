using System.Globalization;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// What a key-material Secret says about its key besides its versions: the one protocol between the three controllers
/// that share the Secret, read and written only through this type.
/// <list type="table">
/// <listheader><term>annotation</term><description>written by → read by: meaning</description></listheader>
/// <item><term><c>xks.dev/kms-key-id</c></term><description>CloudKey, once its KMS key exists → CloudKey (material
/// refusal: the material belongs to that KMS key) and KeySet (which KMS key to ask about before destroying).</description></item>
/// <item><term><c>xks.dev/kms-key-arn</c></term><description>CloudKey, once its KMS key exists → KeySet (the
/// account and region to ask, by ARN, before destroying: never whatever account the KeySet points at now).</description></item>
/// <item><term><c>xks.dev/deletion-date</c></term><description>CloudKey, when it schedules the KMS key's deletion →
/// KeySet (nothing is destroyed, and AWS is not even asked, before that date).</description></item>
/// <item><term><c>xks.dev/released</c></term><description>CloudKey, when it is deleted (its deletionPolicy) or adopted
/// again (removed) → Vault (Delete: the proxy refuses the key) and KeySet (Delete: destroy once KMS deleted the key).</description></item>
/// <item><term><c>xks.dev/expired</c></term><description>CloudKey, once <c>spec.expiration.at</c> passed (removed when the
/// expiration moves later or is removed) → Vault (the proxy refuses the key before KMS hears of it).</description></item>
/// <item><term><c>xks.dev/handled-rotation-request</c></term><description>CloudKey, with the version it added → CloudKey
/// (the user's <c>xks.dev/rotate-key</c> value already handled).</description></item>
/// </list>
/// </summary>
/// <param name="KmsKeyId">The KMS key the material backs, once known.</param>
/// <param name="Released">The deletionPolicy its CloudKey was deleted with; null while a CloudKey owns it.</param>
/// <param name="Expired">The CloudKey's expiration has passed: the proxy refuses the key.</param>
/// <param name="HandledRotationRequest">The last rotate-key annotation value a new version was added for.</param>
/// <param name="KmsKeyArn">The KMS key's ARN (its partition, region and account), once known.</param>
/// <param name="DeletionDate">When AWS scheduled the KMS key's deletion for, once scheduled.</param>
public sealed record KeyMaterialMarks(string? KmsKeyId, V1Alpha1DeletionPolicy? Released, bool Expired, string? HandledRotationRequest, string? KmsKeyArn = null, DateTimeOffset? DeletionDate = null)
{
    public const string KmsKeyIdAnnotation = "xks.dev/kms-key-id";
    public const string ReleasedAnnotation = "xks.dev/released";
    public const string ExpiredAnnotation = "xks.dev/expired";
    public const string HandledRotationRequestAnnotation = "xks.dev/handled-rotation-request";
    public const string KmsKeyArnAnnotation = "xks.dev/kms-key-arn";
    public const string DeletionDateAnnotation = "xks.dev/deletion-date";

    /// <summary>No marks: a new Secret.</summary>
    public static KeyMaterialMarks None { get; } = new(null, null, false, null);

    /// <summary>
    /// The marks of <paramref name="secret"/>. A released value other than <c>Delete</c> reads as <c>Retain</c>: the
    /// material keeps being served and is never destroyed.
    /// </summary>
    public static KeyMaterialMarks Of(V1Secret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var annotations = secret.Metadata?.Annotations;
        string? Read(string name) => annotations is not null && annotations.TryGetValue(name, out var value) && value is { Length: > 0 } ? value : null;
        return new KeyMaterialMarks(
            Read(KmsKeyIdAnnotation),
            Read(ReleasedAnnotation) switch
            {
                null => null,
                nameof(V1Alpha1DeletionPolicy.Delete) => V1Alpha1DeletionPolicy.Delete,
                _ => V1Alpha1DeletionPolicy.Retain,
            },
            Read(ExpiredAnnotation) == "true",
            Read(HandledRotationRequestAnnotation),
            Read(KmsKeyArnAnnotation),
            DateTimeOffset.TryParse(Read(DeletionDateAnnotation), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null);
    }

    /// <summary>Released with deletionPolicy Delete: the proxy refuses the key, and its KeySet may destroy it once KMS deleted it.</summary>
    public bool ReleasedForDeletion => Released == V1Alpha1DeletionPolicy.Delete;

    /// <summary>
    /// The annotation changes that turn <paramref name="from"/> into <paramref name="to"/> (a merge patch: null removes);
    /// empty when they are equal.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> Changes(KeyMaterialMarks from, KeyMaterialMarks to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var before = from.Annotations();
        var after = to.Annotations();
        var changes = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in after)
        {
            if (!before.TryGetValue(name, out var old) || old != value)
            {
                changes[name] = value;
            }
        }

        foreach (var name in before.Keys.Where(name => !after.ContainsKey(name)))
        {
            changes[name] = null;
        }

        return changes;
    }

    /// <summary>The annotations that carry these marks (only the set ones).</summary>
    public IReadOnlyDictionary<string, string> Annotations()
    {
        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (KmsKeyId is { Length: > 0 })
        {
            annotations[KmsKeyIdAnnotation] = KmsKeyId;
        }

        if (Released is { } released)
        {
            annotations[ReleasedAnnotation] = released.ToString();
        }

        if (Expired)
        {
            annotations[ExpiredAnnotation] = "true";
        }

        if (HandledRotationRequest is { Length: > 0 })
        {
            annotations[HandledRotationRequestAnnotation] = HandledRotationRequest;
        }

        if (KmsKeyArn is { Length: > 0 })
        {
            annotations[KmsKeyArnAnnotation] = KmsKeyArn;
        }

        if (DeletionDate is { } date)
        {
            annotations[DeletionDateAnnotation] = date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        return annotations;
    }
}
