using System.Collections.Concurrent;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator;

/// <summary>What the emulator accepts and how it reaches XKS proxies.</summary>
public sealed class KmsEmulatorOptions
{
    public string Region { get; set; } = "us-east-1";

    public string AccountId { get; set; } = "111122223333";

    /// <summary>Access key id → secret access key accepted on incoming calls (SigV4 verified).</summary>
    public IDictionary<string, string> Credentials { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Role ARN → the external id an AssumeRole of that role must present.</summary>
    public IDictionary<string, string> RoleExternalIds { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// IAM identity ARN (a user <c>arn:aws:iam::&lt;acct&gt;:user/&lt;name&gt;</c>, or for assumed-role sessions the role
    /// <c>arn:aws:iam::&lt;acct&gt;:role/&lt;name&gt;</c>) → its identity-based policy (JSON). A caller with an entry is
    /// authorized like AWS KMS does it (key policy, grants, this policy); a caller without one is not evaluated at all.
    /// </summary>
    public IDictionary<string, string> IdentityPolicies { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>"xks.example.test" → "127.0.0.1:18443": where to dial for an XKS host (TLS SNI and Host keep the real name).</summary>
    public IDictionary<string, string> HostOverrides { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>A PEM CA trusted for the proxy's certificate, besides the system store.</summary>
    public string? TrustedCaFile { get; set; }

    /// <summary>Timeout of one XKS call (AWS: 250 ms).</summary>
    public TimeSpan XksTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a key store stays CONNECTING before the health call decides CONNECTED or FAILED.</summary>
    public TimeSpan ConnectDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// How long one day of ScheduleKeyDeletion's PendingWindowInDays lasts (AWS: a day). The DeletionDate is now plus
    /// PendingWindowInDays of these; once it has passed the key is deleted, with its aliases and grants. Tests shorten it
    /// (e.g. a second) to see keys really deleted; PendingWindowInDays is still validated as 7 to 30.
    /// </summary>
    public TimeSpan PendingWindowUnit { get; set; } = TimeSpan.FromDays(1);

    public string Address { get; set; } = "127.0.0.1";

    /// <summary>0 = an ephemeral port.</summary>
    public int Port { get; set; }

    /// <summary>
    /// The account's VPC endpoint services by service name (com.amazonaws.vpce.&lt;region&gt;.vpce-svc-…), for key stores
    /// with connectivity VPC_ENDPOINT_SERVICE; safe to change while the emulator runs. A service's private DNS name is
    /// dialed at its <see cref="VpcEndpointService.Target"/>.
    /// </summary>
    public IDictionary<string, VpcEndpointService> VpcEndpointServices { get; } = new ConcurrentDictionary<string, VpcEndpointService>(StringComparer.Ordinal);
}
