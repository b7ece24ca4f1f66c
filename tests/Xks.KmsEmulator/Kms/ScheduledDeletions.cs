namespace Xks.KmsEmulator.Kms;

/// <summary>
/// The end of a key scheduled for deletion, as AWS does it: once its DeletionDate has passed the key is deleted, with
/// the aliases that refer to it and its grants, and every call naming it (key ID, key ARN, a former alias) answers
/// NotFoundException like an unknown key. Done lazily, before each KMS call (<see cref="DeleteDue"/>): no timer runs.
/// </summary>
internal sealed class ScheduledDeletions(KmsState state, GrantStore grants)
{
    /// <summary>Deletes every key pending deletion whose DeletionDate is at or before <paramref name="now"/>; returns them.</summary>
    public IReadOnlyList<KeyRecord> DeleteDue(DateTimeOffset now)
    {
        lock (state.Gate)
        {
            var due = state.Keys.Where(k => k.KeyState == KeyStates.PendingDeletion && k.DeletionDate is { } date && date <= now).ToList();
            foreach (var key in due)
            {
                state.Keys.Remove(key);
                foreach (var alias in state.Aliases.Values.Where(a => a.TargetKeyId == key.KeyId).Select(a => a.Name).ToList())
                {
                    state.Aliases.Remove(alias);
                }

                grants.RemoveKey(key.KeyId);
            }

            return due;
        }
    }
}
