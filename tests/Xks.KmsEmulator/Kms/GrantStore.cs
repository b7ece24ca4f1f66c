namespace Xks.KmsEmulator.Kms;

/// <summary>The grants of every key, by key ID. Use under <see cref="KmsState.Gate"/>.</summary>
internal sealed class GrantStore
{
    private readonly Dictionary<string, List<GrantRecord>> _byKey = new(StringComparer.Ordinal);

    /// <summary>The grants of <paramref name="keyId"/>, oldest first (a key without grants has none).</summary>
    public IReadOnlyList<GrantRecord> ForKey(string keyId) => _byKey.TryGetValue(keyId, out var grants) ? [.. grants] : [];

    public void Add(GrantRecord grant) =>
        (_byKey.TryGetValue(grant.KeyId, out var grants) ? grants : _byKey[grant.KeyId] = []).Add(grant);

    public GrantRecord? Find(string keyId, string grantId) =>
        _byKey.TryGetValue(keyId, out var grants) ? grants.FirstOrDefault(g => g.GrantId == grantId) : null;

    public GrantRecord? FindByToken(string token) =>
        _byKey.Values.SelectMany(g => g).FirstOrDefault(g => g.GrantToken == token);

    public bool Remove(GrantRecord grant) => _byKey.TryGetValue(grant.KeyId, out var grants) && grants.Remove(grant);

    /// <summary>A key that is gone takes its grants with it.</summary>
    public void RemoveKey(string keyId) => _byKey.Remove(keyId);
}
