using System.Security.Cryptography;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;
using Xks.Proxy.Crypto.Software;

namespace Xks.Proxy.Unseal;

/// <summary>
/// Collects custodians' unseal shares for a software backend in Shamir mode, one request at a time, and unseals it
/// when the keyring's threshold of distinct valid shares is in. A share that cannot be part of the set (malformed,
/// mistyped, another Vault's, another split's, a custodian already counted) is refused with its precise problem and
/// not counted. When the threshold is reached the shares are combined, the result is checked against the keyring's
/// key-check value by the backend (a wrong set is detected and never used), and the collected shares are zeroed either
/// way; a wrong set resets the progress. Progress also expires <see cref="ProgressTimeout"/> after the last accepted
/// share, and is reset when the keyring changes its unseal key or threshold (a re-initialised Vault; a new root keeps it). Shares, unseal keys and share texts never reach a log, a message or a
/// <see cref="object.ToString"/>.
/// </summary>
public sealed partial class ShamirUnsealer : IDisposable
{
    /// <summary>How long collected shares are kept without a new one.</summary>
    public static readonly TimeSpan ProgressTimeout = TimeSpan.FromMinutes(10);

    private readonly SoftwareKeyBackend _backend;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action? _onUnsealed;
    private readonly Lock _gate = new();
    private readonly List<CustodianShare> _shares = [];
    private readonly ITimer _expiry;
    private ShamirKeyring? _collectingFor;
    private DateTimeOffset _lastShareAt;
    private bool _disposed;

    /// <param name="backend">The backend to unseal (in Shamir mode).</param>
    /// <param name="time">The clock of the progress expiry.</param>
    /// <param name="logger">Progress and outcomes, never share content.</param>
    /// <param name="onUnsealed">Called (outside the lock) once the backend is unsealed, e.g. to refresh health at once.</param>
    public ShamirUnsealer(SoftwareKeyBackend backend, TimeProvider time, ILogger<ShamirUnsealer> logger, Action? onUnsealed = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (!backend.IsShamir)
        {
            throw new ArgumentException("the backend is not in Shamir mode (backend.software.shamir)", nameof(backend));
        }

        _backend = backend;
        _time = time;
        _logger = logger;
        _onUnsealed = onUnsealed;
        _expiry = time.CreateTimer(_ => ExpireIfStale(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Shares counted so far (0 while unsealed).</summary>
    public int Progress
    {
        get
        {
            lock (_gate)
            {
                ExpireIfStaleLocked();
                return _shares.Count;
            }
        }
    }

    /// <summary>Whether the backend is sealed, the threshold, the progress and the keyring's root versions.</summary>
    public SealStatus Status()
    {
        lock (_gate)
        {
            ExpireIfStaleLocked();
            return StatusLocked();
        }
    }

    /// <summary>
    /// Takes one custodian's share text. Never throws for a bad share: the answer says what happened
    /// (<see cref="UnsealAnswerKind"/>) and, when refused, why.
    /// </summary>
    public UnsealAnswer Submit(string? shareText)
    {
        UnsealAnswer answer;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            answer = SubmitLocked(shareText);
        }

        if (answer.Kind == UnsealAnswerKind.Unsealed)
        {
            _onUnsealed?.Invoke();
        }

        return answer;
    }

    /// <summary>Zeroes the collected shares and stops the expiry timer.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            ClearShares();
        }

        _expiry.Dispose();
    }

    private UnsealAnswer SubmitLocked(string? shareText)
    {
        if (!_backend.IsSealed)
        {
            ClearShares();
            return new UnsealAnswer(UnsealAnswerKind.AlreadyUnsealed, StatusLocked());
        }

        if (_backend.Keyring is not { } keyring)
        {
            return new UnsealAnswer(UnsealAnswerKind.NotReady, StatusLocked(), "the proxy has no keyring yet: its configuration was not applied");
        }

        ExpireIfStaleLocked();
        // A new root (rotation) keeps the unseal key and its shares; another unseal key or split starts over.
        if (_collectingFor is { } collectingFor && (!collectingFor.HasSameUnsealKey(keyring) || collectingFor.Threshold != keyring.Threshold))
        {
            Log.ProgressReset(_logger, keyring.VaultId, _shares.Count);
            ClearShares();
        }

        if (!CustodianShare.TryParse(shareText, out var share, out var parseProblem))
        {
            return Refuse(keyring, parseProblem);
        }

        if (Problem(share, keyring) is { } problem)
        {
            share.Dispose();
            return Refuse(keyring, problem);
        }

        _shares.Add(share);
        _collectingFor = keyring;
        _lastShareAt = _time.GetUtcNow();
        _expiry.Change(ProgressTimeout, Timeout.InfiniteTimeSpan);
        Log.ShareAccepted(_logger, _shares.Count, keyring.Threshold, keyring.VaultId);
        if (_shares.Count < keyring.Threshold)
        {
            return new UnsealAnswer(UnsealAnswerKind.Progress, StatusLocked());
        }

        return Combine(keyring);
    }

    /// <summary>Combines the threshold of shares (zeroing them), hands the key to the backend and zeroes it.</summary>
    private UnsealAnswer Combine(ShamirKeyring keyring)
    {
        var count = _shares.Count;
        byte[] unsealKey;
        try
        {
            unsealKey = CustodianShare.Combine(_shares, keyring.VaultId);
        }
        catch (ArgumentException ex)
        {
            // Not reached: every share was checked against the set when it was accepted.
            ClearShares();
            return Refuse(keyring, $"the shares cannot be combined: {ex.Message}");
        }
        finally
        {
            ClearShares();
        }

        ShamirUnsealOutcome outcome;
        string? problem;
        try
        {
            outcome = _backend.Unseal(unsealKey, out problem);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(unsealKey);
        }

        switch (outcome)
        {
            case ShamirUnsealOutcome.Unsealed:
                Log.Unsealed(_logger, keyring.VaultId, count);
                return new UnsealAnswer(UnsealAnswerKind.Unsealed, StatusLocked());
            case ShamirUnsealOutcome.AlreadyUnsealed:
                return new UnsealAnswer(UnsealAnswerKind.AlreadyUnsealed, StatusLocked());
            case ShamirUnsealOutcome.WrongShares:
                Log.WrongShares(_logger, keyring.VaultId, count);
                return new UnsealAnswer(UnsealAnswerKind.WrongShares, StatusLocked(),
                    $"the {count} shares do not reconstruct this Vault's unseal key; progress was reset: check that every custodian used this Vault's share");
            default:
                Log.KeyringUnusable(_logger, keyring.VaultId, problem ?? "");
                return new UnsealAnswer(UnsealAnswerKind.KeyringUnusable, StatusLocked(),
                    $"the {count} shares reconstruct this Vault's unseal key, but its keyring does not open: {problem}; progress was reset");
        }
    }

    /// <summary>Why <paramref name="share"/> cannot join the collected ones for <paramref name="keyring"/>, or null.</summary>
    private string? Problem(CustodianShare share, ShamirKeyring keyring)
    {
        if (!string.Equals(share.VaultId, keyring.VaultId, StringComparison.Ordinal))
        {
            return $"the share is for Vault '{share.VaultId}', not '{keyring.VaultId}': each custodian holds one share per Vault";
        }

        if (share.Threshold != keyring.Threshold)
        {
            return $"the share says {share.Threshold} shares are needed but this Vault's keyring says {keyring.Threshold}: it comes from another split";
        }

        if (share.Y.Length != WrappedKey.KeySize)
        {
            return $"the share holds {share.Y.Length} bytes but a share of an unseal key holds {WrappedKey.KeySize}: it comes from another split";
        }

        return _shares.Exists(s => s.X == share.X)
            ? $"custodian x = {share.X} already gave a share: each custodian's share counts once"
            : null;
    }

    private UnsealAnswer Refuse(ShamirKeyring keyring, string problem)
    {
        Log.ShareRefused(_logger, keyring.VaultId, problem, _shares.Count, keyring.Threshold);
        return new UnsealAnswer(UnsealAnswerKind.MalformedShare, StatusLocked(), problem);
    }

    private SealStatus StatusLocked()
    {
        var keyring = _backend.Keyring;
        var sealedNow = _backend.IsSealed;
        return new SealStatus(sealedNow, keyring?.Threshold ?? 0, sealedNow ? _shares.Count : 0, keyring?.RootVersions ?? []);
    }

    private void ExpireIfStale()
    {
        lock (_gate)
        {
            ExpireIfStaleLocked();
        }
    }

    private void ExpireIfStaleLocked()
    {
        if (_shares.Count > 0 && _time.GetUtcNow() - _lastShareAt >= ProgressTimeout)
        {
            Log.ProgressExpired(_logger, _collectingFor?.VaultId ?? "", (int)ProgressTimeout.TotalMinutes, _shares.Count);
            ClearShares();
        }
    }

    /// <summary>Zeroes and forgets every collected share.</summary>
    private void ClearShares()
    {
        foreach (var share in _shares)
        {
            share.Dispose();
        }

        _shares.Clear();
        _collectingFor = null;
        _expiry.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Test hook: the collected shares' secret bytes, to check that they are zeroed.</summary>
    internal IReadOnlyList<byte[]> CollectedForTests()
    {
        lock (_gate)
        {
            return [.. _shares.Select(s => s.Y)];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(700, LogLevel.Information, "unseal share {Progress} of {Threshold} accepted for Vault {VaultId}", EventName = "UnsealShareAccepted")]
        public static partial void ShareAccepted(ILogger logger, int progress, int threshold, string vaultId);

        [LoggerMessage(701, LogLevel.Warning, "unseal share refused for Vault {VaultId} (not counted; progress {Progress} of {Threshold}): {Problem}", EventName = "UnsealShareRefused")]
        public static partial void ShareRefused(ILogger logger, string vaultId, string problem, int progress, int threshold);

        [LoggerMessage(702, LogLevel.Warning, "unseal failed for Vault {VaultId}: the {Count} shares do not reconstruct its unseal key; progress was reset", EventName = "UnsealWrongShares")]
        public static partial void WrongShares(ILogger logger, string vaultId, int count);

        [LoggerMessage(703, LogLevel.Error, "unseal failed for Vault {VaultId}: the shares are right but the keyring does not open: {Problem}; progress was reset", EventName = "UnsealKeyringUnusable")]
        public static partial void KeyringUnusable(ILogger logger, string vaultId, string problem);

        [LoggerMessage(704, LogLevel.Information, "Vault {VaultId} unsealed with {Count} custodians' shares", EventName = "UnsealedByCustodians")]
        public static partial void Unsealed(ILogger logger, string vaultId, int count);

        [LoggerMessage(705, LogLevel.Information, "unseal progress for Vault {VaultId} expired after {Minutes} minutes without a new share: {Count} share(s) forgotten", EventName = "UnsealProgressExpired")]
        public static partial void ProgressExpired(ILogger logger, string vaultId, int minutes, int count);

        [LoggerMessage(706, LogLevel.Information, "unseal progress reset: the keyring of Vault {VaultId} now has another unseal key or threshold; {Count} share(s) forgotten", EventName = "UnsealProgressReset")]
        public static partial void ProgressReset(ILogger logger, string vaultId, int count);
    }
}

/// <summary>The seal state a <see cref="ShamirUnsealer"/> reports.</summary>
public sealed record SealStatus(bool Sealed, int Threshold, int Progress, IReadOnlyList<int> RootVersions);

/// <summary>What happened to a submitted share.</summary>
public enum UnsealAnswerKind
{
    /// <summary>Counted; more shares are needed.</summary>
    Progress,

    /// <summary>Counted, the threshold was reached and the backend is unsealed.</summary>
    Unsealed,

    /// <summary>The backend was unsealed already; the share was not used (not even read).</summary>
    AlreadyUnsealed,

    /// <summary>The share cannot be part of the set (malformed, another Vault's or split's, a custodian twice): not counted.</summary>
    MalformedShare,

    /// <summary>The threshold was reached but the shares do not reconstruct the unseal key: progress reset.</summary>
    WrongShares,

    /// <summary>The shares reconstruct the unseal key but a root of the keyring does not open: progress reset.</summary>
    KeyringUnusable,

    /// <summary>No keyring has been applied yet.</summary>
    NotReady,
}

/// <summary>The answer to one submitted share: what happened, the state after it, and why it was refused (never share content).</summary>
public sealed record UnsealAnswer(UnsealAnswerKind Kind, SealStatus Status, string? Problem = null);
