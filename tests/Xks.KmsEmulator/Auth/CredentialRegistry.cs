using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Xks.KmsEmulator.Auth;

/// <summary>
/// The long-term credentials from the options plus the temporary ones AssumeRole issued, and the IAM users' keys:
/// each configured access key is the initial key of a user named like that key (ARN <c>user/&lt;accessKeyId&gt;</c>);
/// keys CreateAccessKey adds belong to the same user and sign as it. An Inactive or deleted key is unknown.
/// </summary>
internal sealed class CredentialRegistry
{
    /// <summary>IAM's quota of access keys per user.</summary>
    public const int MaxKeysPerUser = 2;

    private const string Base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private readonly KmsEmulatorOptions _options;
    private readonly ConcurrentDictionary<string, TemporaryCredential> _temporary = new(StringComparer.Ordinal);
    private readonly Lock _iam = new();
    private readonly Dictionary<string, IamUserKey> _userKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleted = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _started;

    public CredentialRegistry(KmsEmulatorOptions options, DateTimeOffset started)
    {
        _options = options;
        _started = started;
    }

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
        if (UserKey(accessKeyId) is { Active: true } key)
        {
            secret = key.SecretAccessKey;
            caller = new Caller(accessKeyId, $"arn:aws:iam::{_options.AccountId}:user/{key.UserName}", "AIDA" + key.UserName, _options.AccountId);
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

    /// <summary>The user's keys, oldest first.</summary>
    public IReadOnlyList<IamUserKey> KeysOf(string userName)
    {
        lock (_iam)
        {
            return [.. AllUserKeys().Where(k => k.UserName == userName).OrderBy(k => k.CreateDate)];
        }
    }

    /// <summary>A new Active key of <paramref name="userName"/>, or null when the user has <see cref="MaxKeysPerUser"/> already.</summary>
    public IamUserKey? CreateKey(string userName, DateTimeOffset now)
    {
        lock (_iam)
        {
            if (AllUserKeys().Count(k => k.UserName == userName) >= MaxKeysPerUser)
            {
                return null;
            }

            var key = new IamUserKey("AKIA" + RandomId(16), Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)), userName, true, now);
            _userKeys[key.AccessKeyId] = key;
            return key;
        }
    }

    /// <summary>Sets a key of <paramref name="userName"/> Active or Inactive; false when the user has no such key.</summary>
    public bool SetActive(string userName, string accessKeyId, bool active)
    {
        lock (_iam)
        {
            if (UserKey(accessKeyId) is not { } key || key.UserName != userName)
            {
                return false;
            }

            _userKeys[accessKeyId] = key with { Active = active };
            return true;
        }
    }

    /// <summary>Deletes a key of <paramref name="userName"/>; false when the user has no such key.</summary>
    public bool DeleteKey(string userName, string accessKeyId)
    {
        lock (_iam)
        {
            if (UserKey(accessKeyId) is not { } key || key.UserName != userName)
            {
                return false;
            }

            _userKeys.Remove(accessKeyId);
            _deleted.Add(accessKeyId);
            return true;
        }
    }

    private IamUserKey? UserKey(string accessKeyId)
    {
        lock (_iam)
        {
            if (_userKeys.TryGetValue(accessKeyId, out var key))
            {
                return key;
            }

            return !_deleted.Contains(accessKeyId) && _options.Credentials.TryGetValue(accessKeyId, out var secret)
                ? new IamUserKey(accessKeyId, secret, accessKeyId, true, _started)
                : null;
        }
    }

    private IEnumerable<IamUserKey> AllUserKeys() =>
        _options.Credentials.Keys.Where(id => !_userKeys.ContainsKey(id) && !_deleted.Contains(id)).Select(id => UserKey(id)!).Concat(_userKeys.Values);

    private static string RandomId(int length) => RandomNumberGenerator.GetString(Base32, length);
}
