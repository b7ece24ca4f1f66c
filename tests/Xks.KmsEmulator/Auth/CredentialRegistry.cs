using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Xks.KmsEmulator.Auth;

/// <summary>The long-term credentials from the options plus the temporary ones AssumeRole issued.</summary>
internal sealed class CredentialRegistry
{
    private const string Base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private readonly KmsEmulatorOptions _options;
    private readonly ConcurrentDictionary<string, TemporaryCredential> _temporary = new(StringComparer.Ordinal);

    public CredentialRegistry(KmsEmulatorOptions options) => _options = options;

    /// <summary>Finds the secret for an access key id; <paramref name="temporary"/> is set for AssumeRole credentials.</summary>
    public bool TryFind(string accessKeyId, out string secret, out Caller caller, out TemporaryCredential? temporary)
    {
        if (_temporary.TryGetValue(accessKeyId, out var issued))
        {
            secret = issued.SecretAccessKey;
            caller = issued.Caller;
            temporary = issued;
            return true;
        }

        temporary = null;
        if (_options.Credentials.TryGetValue(accessKeyId, out var configured))
        {
            secret = configured;
            caller = new Caller(accessKeyId, $"arn:aws:iam::{_options.AccountId}:user/{accessKeyId}", "AIDA" + accessKeyId, _options.AccountId);
            return true;
        }

        secret = "";
        caller = null!;
        return false;
    }

    public TemporaryCredential Issue(string roleArn, string sessionName, TimeSpan duration, DateTimeOffset now)
    {
        // arn:aws:iam::<account>:role/<path/>name
        var parts = roleArn.Split(':', 6);
        var account = parts[4];
        var roleName = parts[5]["role/".Length..].Split('/')[^1];
        var roleId = "AROA" + RandomId(17);
        var caller = new Caller("", $"arn:aws:sts::{account}:assumed-role/{roleName}/{sessionName}", $"{roleId}:{sessionName}", account);
        var accessKeyId = "ASIA" + RandomId(16);
        var credential = new TemporaryCredential(
            accessKeyId,
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)),
            now + duration,
            caller with { AccessKeyId = accessKeyId });
        _temporary[accessKeyId] = credential;
        return credential;
    }

    private static string RandomId(int length) => RandomNumberGenerator.GetString(Base32, length);
}
