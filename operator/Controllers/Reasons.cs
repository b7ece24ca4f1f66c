namespace Xks.Operator.Controllers;

/// <summary>Condition and Event reasons (CamelCase, as metav1.Condition requires), in one place.</summary>
internal static class Reasons
{
    public const string InvalidSpec = "InvalidSpec";
    public const string Available = "Available";
    public const string ProxyUnavailable = "ProxyUnavailable";
    public const string MinimumReplicasAvailable = "MinimumReplicasAvailable";
    public const string ReplicasUnavailable = "ReplicasUnavailable";
    public const string NoReplicasAvailable = "NoReplicasAvailable";
    public const string CertManagerNotInstalled = "CertManagerNotInstalled";
    public const string CertificateIssued = "CertificateIssued";
    public const string CertificatePending = "CertificatePending";

    // A user's serving certificate (spec.tls.secretName without issuerRef), checked by TlsCertificateChecks.
    public const string CertificateExpired = "CertificateExpired";
    public const string CertificateExpiringSoon = "CertificateExpiringSoon";
    public const string CertificateHostnameMismatch = "CertificateHostnameMismatch";
    public const string CertificateInvalid = "CertificateInvalid";
    public const string CertificateKeyMismatch = "CertificateKeyMismatch";
    public const string CertificateNotYetValid = "CertificateNotYetValid";
    public const string CertificateUntrusted = "CertificateUntrusted";
    public const string CertificateValid = "CertificateValid";
    public const string SecretFound = "SecretFound";
    public const string SecretIncomplete = "SecretIncomplete";
    public const string SecretNotFound = "SecretNotFound";
    public const string MasterKeyCreated = "MasterKeyCreated";
    public const string MasterKeyInvalid = "MasterKeyInvalid";
    public const string MasterKeyKept = "MasterKeyKept";
    public const string MasterKeyMissing = "MasterKeyMissing";
    public const string MasterKeyDeletionBlocked = "MasterKeyDeletionBlocked";
    public const string KeyMaterialDeletionBlocked = "KeyMaterialDeletionBlocked";
    public const string KeyMaterialKept = "KeyMaterialKept";
    public const string PlaintextRootKey = "PlaintextRootKey";
    public const string KeysInHsm = "KeysInHsm";
    public const string RootKeyInHsm = "RootKeyInHsm";
    public const string RootKeyReady = "RootKeyReady";
    public const string RootKeyMissing = "RootKeyMissing";
    public const string RootKeySplitAmongCustodians = "RootKeySplitAmongCustodians";
    public const string KeyringMissing = "KeyringMissing";
    public const string KeyringInvalid = "KeyringInvalid";
    public const string ProxySealed = "ProxySealed";
    public const string RootKeyVersionsExhausted = "RootKeyVersionsExhausted";
    public const string RootKeyRotationStarted = "RootKeyRotationStarted";
    public const string KeyVersionsResealed = "KeyVersionsResealed";
    public const string RootKeyDestroyed = "RootKeyDestroyed";
    public const string Created = "Created";
    public const string Updated = "Updated";
    public const string Deleted = "Deleted";
    public const string ReconcileFailed = "ReconcileFailed";

    // AWS (CspAccount Ready, and AwsErrors for every AWS call).
    public const string Verified = "Verified";
    public const string CredentialsSecretNotFound = "CredentialsSecretNotFound";
    public const string CredentialsSecretInvalid = "CredentialsSecretInvalid";
    public const string InvalidCredentials = "InvalidCredentials";
    public const string AccessDenied = "AccessDenied";
    public const string EndpointUnreachable = "EndpointUnreachable";
    public const string Throttled = "Throttled";

    // CspAccount access-key rotation (condition AccessKeyRotated, and its Events).
    public const string AccessKeyCreated = "AccessKeyCreated";
    public const string AccessKeyCurrent = "AccessKeyCurrent";
    public const string AccessKeyDeactivated = "AccessKeyDeactivated";
    public const string AccessKeyDeleted = "AccessKeyDeleted";
    public const string AccessKeyRotated = "AccessKeyRotated";
    public const string AccessKeyRotationFailed = "AccessKeyRotationFailed";
    public const string AccessKeyRotationRefused = "AccessKeyRotationRefused";
    public const string OrphanAccessKeyDeleted = "OrphanAccessKeyDeleted";

    /// <summary>A CspAccount asks for an identity the operator's flags do not allow it (see AwsIdentityPolicy).</summary>
    public const string IdentityNotAllowed = "IdentityNotAllowed";

    /// <summary>A Vault names an image, a PKCS#11 library or an annotation the operator's allow-lists do not allow.</summary>
    public const string NotAllowed = "NotAllowed";

    // KeySet and CloudKey
    public const string VaultNotFound = "VaultNotFound";
    public const string CspAccountNotFound = "CspAccountNotFound";
    public const string KeySetNotFound = "KeySetNotFound";
    public const string WaitingForVault = "WaitingForVault";
    public const string WaitingForCspAccount = "WaitingForCspAccount";
    public const string WaitingForKeySet = "WaitingForKeySet";
    public const string Creating = "Creating";
    public const string Connecting = "Connecting";
    public const string Connected = "Connected";
    public const string Disconnecting = "Disconnecting";
    public const string Disconnected = "Disconnected";
    public const string Deleting = "Deleting";
    public const string Retained = "Retained";
    public const string Adopted = "Adopted";
    public const string Conflict = "Conflict";
    public const string KeyStoreNotFound = "KeyStoreNotFound";
    public const string RotatingCredential = "RotatingCredential";
    public const string CredentialRotated = "CredentialRotated";
    public const string CredentialRetired = "CredentialRetired";
    public const string KeyMaterialCreated = "KeyMaterialCreated";
    public const string KeyMaterialDestroyed = "KeyMaterialDestroyed";
    public const string KeyRotated = "KeyRotated";
    public const string KeyNotFound = "KeyNotFound";
    public const string Enabled = "Enabled";
    public const string Disabled = "Disabled";
    public const string Expired = "Expired";

    /// <summary>The expiration moved later (or was removed): the expiry mark is gone and the key is usable again.</summary>
    public const string Unexpired = "Unexpired";
    public const string PendingDeletion = "PendingDeletion";
    public const string DeletionScheduled = "DeletionScheduled";
    public const string Drift = "Drift";
    public const string InSync = "InSync";
    public const string Unavailable = "Unavailable";
    public const string Disabling = "Disabling";
    public const string ConfigIncomplete = "ConfigIncomplete";

    /// <summary>The KeySet waits: its Vault's serving certificate fails a check AWS KMS would fail too (TlsCertificateChecks).</summary>
    public const string VaultCertificateNotReady = "VaultCertificateNotReady";

    // VPC endpoint service connectivity: the operator's own check, and KMS's exceptions (AwsErrors strips "Exception").
    public const string VpcEndpointServiceInvalid = "VpcEndpointServiceInvalid";
    public const string XksProxyVpcEndpointServiceInUse = "XksProxyVpcEndpointServiceInUse";
    public const string XksProxyVpcEndpointServiceInvalidConfiguration = "XksProxyVpcEndpointServiceInvalidConfiguration";
    public const string XksProxyVpcEndpointServiceNotFound = "XksProxyVpcEndpointServiceNotFound";

    /// <summary>The rendered proxy config fails the proxy's own validator: it is not applied, the pods keep the last good one.</summary>
    public const string ConfigInvalid = "ConfigInvalid";

    // PKCS#11 backend (HsmException names the failures: PinSecretNotFound, PinSecretInvalid, HsmUnavailable).
    public const string LoggedIn = "LoggedIn";
}
