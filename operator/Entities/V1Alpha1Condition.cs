using System.ComponentModel;
using System.Text.Json.Serialization;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

[Description("One aspect of the resource's current state, in the shape of metav1.Condition.")]
public sealed class V1Alpha1Condition
{
    [JsonPropertyName("type")]
    [Required]
    [Length(1, 316)]
    [Pattern(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$")]
    [Description("Type of the condition in CamelCase, e.g. Ready. At most one condition of each type.")]
    public string Type { get; set; } = "";

    [JsonPropertyName("status")]
    [Required]
    [AllowedValues(ConditionStatus.True, ConditionStatus.False, ConditionStatus.Unknown)]
    [Description("Status of the condition: True, False or Unknown.")]
    public string Status { get; set; } = ConditionStatus.Unknown;

    [JsonPropertyName("observedGeneration")]
    [Range(0, long.MaxValue)]
    [Description("The metadata.generation of the resource the condition was set for. If it is lower than the current generation, the condition is out of date.")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("lastTransitionTime")]
    [Required]
    [Description("When the condition last changed from one status to another (RFC 3339).")]
    public DateTime LastTransitionTime { get; set; }

    [JsonPropertyName("reason")]
    [Required]
    [Length(1, 1024)]
    [Pattern("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    [Description("Machine-readable reason for the last transition, in CamelCase (e.g. Available, InvalidSpec).")]
    public string Reason { get; set; } = "";

    /// <remarks>
    /// Optional here, unlike metav1.Condition: an empty message is stored as null (left out of the JSON), because the
    /// project's local 1.20 control plane reads "" in custom resources as null and rejects it.
    /// </remarks>
    [JsonPropertyName("message")]
    [Length(0, 32768)]
    [Description("Human-readable details about the transition. Empty when there is nothing to add.")]
    public string? Message { get; set; }
}

/// <summary>The values of <see cref="V1Alpha1Condition.Status"/>.</summary>
public static class ConditionStatus
{
    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";
}

/// <summary>Condition types the operator sets.</summary>
public static class ConditionTypes
{
    /// <summary>The resource is fully reconciled and usable (all kinds).</summary>
    public const string Ready = "Ready";

    /// <summary>Vault: the proxy Deployment has its minimum of available replicas.</summary>
    public const string ProxyAvailable = "ProxyAvailable";

    /// <summary>Vault: the serving certificate is issued (or the given TLS Secret exists and is valid).</summary>
    public const string CertificateReady = "CertificateReady";

    /// <summary>Vault on the PKCS#11 backend: the operator can log in to the HSM with the PIN Secret (it generates keys there).</summary>
    public const string HsmAvailable = "HsmAvailable";

    /// <summary>
    /// Vault: whether the root of trust is protected at rest. False with reason PlaintextRootKey on the software
    /// backend's development mode (the master key is a plain Secret); True with reason KeysInHsm on PKCS#11.
    /// </summary>
    public const string RootKeyProtected = "RootKeyProtected";

    /// <summary>KeySet: the custom key store in AWS KMS is CONNECTED to the proxy.</summary>
    public const string Connected = "Connected";

    /// <summary>
    /// CspAccount with spec.credentials.accessKeyRotation: True with reason AccessKeyCurrent (the Secret's key is within
    /// its schedule) or AccessKeyRotated (the Secret holds a new key; the previous one is being retired); False with
    /// AccessKeyRotationRefused (the keys are not in a state the operator can prove it made) or AccessKeyRotationFailed.
    /// </summary>
    public const string AccessKeyRotated = "AccessKeyRotated";

    /// <summary>CloudKey: the KMS key in AWS matches the spec (state, alias, policy); False with reason Drift when it was changed outside.</summary>
    public const string Synced = "Synced";
}
