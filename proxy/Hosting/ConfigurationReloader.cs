using System.Security.Cryptography;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Crypto;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Metrics;
using Xks.Proxy.Options;
using Xks.Proxy.Tls;

namespace Xks.Proxy.Hosting;

/// <summary>
/// Watches the config file, the key files and the TLS files (polling: robust for Kubernetes Secret volumes, whose
/// files change by symlink swap). A valid new config replaces the old one at once; an invalid one is refused with
/// every problem logged, and the old one keeps serving. In cluster mode there is no config file: the Secret watcher
/// hands each new document to <see cref="TryApply"/>, the same validate-then-swap path.
/// </summary>
public sealed partial class ConfigurationReloader : BackgroundService
{
    private readonly ProxyConfigurationHolder _holder;
    private readonly IKeyBackend _backend;
    private readonly TlsCertificateProvider? _tls;
    private readonly ProxyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfigurationReloader> _logger;
    private readonly Lock _applyLock = new();
    private string _configFingerprint = "";
    private string _keysFingerprint = "";
    private string _tlsFingerprint = "";
    private bool _wasSealed;

    public ConfigurationReloader(
        ProxyConfigurationHolder holder,
        IKeyBackend backend,
        ProxyMetrics metrics,
        TimeProvider time,
        ILogger<ConfigurationReloader> logger,
        TlsCertificateProvider? tls = null)
    {
        _holder = holder;
        _backend = backend;
        _tls = tls;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        Snapshot();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = TimeSpan.FromSeconds(_holder.Current.Options.Server.ReloadIntervalSeconds);
            try
            {
                await Task.Delay(interval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                CheckOnce();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.WatchFailed(_logger, ex.Message);
            }
        }
    }

    /// <summary>Compares the watched files with the last look and reloads what changed.</summary>
    public void CheckOnce()
    {
        var config = _holder.Current.SourcePath is { } path ? HashFiles([path]) : "";
        var keys = KeyFilesFingerprint();
        var tls = _tls is null ? "" : HashFiles(_tls.WatchedFiles);

        if (config != _configFingerprint || keys != _keysFingerprint)
        {
            _configFingerprint = config;
            _keysFingerprint = keys;
            ReloadConfiguration();
            _keysFingerprint = KeyFilesFingerprint();
        }

        if (tls != _tlsFingerprint)
        {
            _tlsFingerprint = tls;
            _tls?.Reload();
        }

        // A sealed software backend unseals in the background (HsmSealed) or through its unseal API (Shamir): count
        // the unusable keys again when it does.
        if (_backend is SoftwareKeyBackend software && software.IsSealed != _wasSealed)
        {
            _wasSealed = software.IsSealed;
            UpdateUnusableKeys(_holder.Current);
        }
    }

    private void ReloadConfiguration()
    {
        var current = _holder.Current;
        if (current.SourcePath is { } path)
        {
            TryApply(ProxyConfigurationLoader.LoadFile(path, current.Overrides), path);
        }
        else
        {
            // No file to re-read (cluster mode): the key files changed, so load them again for the same document.
            TryApply(new ConfigurationLoadResult(current, []), current.Source);
        }
    }

    /// <summary>
    /// Validate-then-swap: a loaded document goes through the key backend and replaces the current configuration; a
    /// document with problems (or that the backend refuses) is logged with every problem and changes nothing.
    /// Returns whether the document now serves. Safe to call from several threads.
    /// </summary>
    public bool TryApply(ConfigurationLoadResult result, string source)
    {
        lock (_applyLock)
        {
            if (!result.Succeeded)
            {
                _metrics.ConfigReloads.WithLabels("rejected").Inc();
                Log.ReloadRejected(_logger, source, result.Problems.Count, string.Join("; ", result.Problems));
                return false;
            }

            var current = _holder.Current;
            var next = result.Configuration!;
            try
            {
                _backend.Apply(next);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                _metrics.ConfigReloads.WithLabels("rejected").Inc();
                Log.ReloadRejected(_logger, source, 1, "key backend: " + ex.Message);
                return false;
            }

            if (RestartNeeded(current.Options, next.Options) is { } field)
            {
                Log.RestartNeeded(_logger, field);
            }

            _holder.Replace(next);
            UpdateUnusableKeys(next);
            _metrics.ConfigReloads.WithLabels("applied").Inc();
            Log.Reloaded(_logger, source, next.KeyStores.Count, next.KeyIds.Count);
            return true;
        }
    }

    public void UpdateUnusableKeys(ProxyConfiguration configuration) =>
        _metrics.UnusableKeys.Set(configuration.KeyIds.Count(id => _backend.Find(id).Status != KeyLookupStatus.Found));

    /// <summary>Everything of backend.pkcs11 that is read at start (the PIN only as its source, never its value).</summary>
    private static string? Pkcs11Signature(Pkcs11BackendOptions? pkcs11) => pkcs11 is null ? null : string.Join('|',
        pkcs11.Library, string.Join(',', pkcs11.Tokens.Select(t => $"{t?.Label}/{t?.Slot}/{t?.Serial}/{t?.Library}")),
        string.IsNullOrEmpty(pkcs11.Pin) ? "" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(pkcs11.Pin))),
        pkcs11.PinFile, pkcs11.PinEnvironmentVariable, pkcs11.IvGeneration, pkcs11.SessionPool.MaxSessions, pkcs11.SessionPool.WaitTimeoutMilliseconds,
        pkcs11.HealthKeyLabel, pkcs11.CreateMissingKeys, pkcs11.RecoveryIntervalSeconds);

    /// <summary>Everything of backend.software.sealing that is read at start (the PIN only as its source, never its value).</summary>
    private static string? SealingSignature(SoftwareSealingOptions? sealing) => sealing is null ? null : string.Join('|',
        sealing.RootLabelPrefix, sealing.Library, string.Join(',', sealing.Tokens.Select(t => $"{t?.Label}/{t?.Slot}/{t?.Serial}/{t?.Library}")),
        string.IsNullOrEmpty(sealing.Pin) ? "" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sealing.Pin))),
        sealing.PinFile, sealing.PinEnvironmentVariable);

    private static string? RestartNeeded(ProxyOptions before, ProxyOptions after)
    {
        if (before.Server.Address != after.Server.Address || before.Server.Port != after.Server.Port)
        {
            return "server.address/port";
        }

        if (before.Server.MetricsPort != after.Server.MetricsPort)
        {
            return "server.metricsPort";
        }

        if ((before.Server.Tls is null) != (after.Server.Tls is null)
            || (before.Server.Tls?.ClientCertificate is null) != (after.Server.Tls?.ClientCertificate is null))
        {
            return "server.tls";
        }

        if (before.Backend.Software?.DataDir != after.Backend.Software?.DataDir
            || before.Backend.Software?.MasterKeyFile != after.Backend.Software?.MasterKeyFile
            || before.Backend.Software?.CreateMissingKeys != after.Backend.Software?.CreateMissingKeys
            || SealingSignature(before.Backend.Software?.Sealing) != SealingSignature(after.Backend.Software?.Sealing)
            || (before.Backend.Software?.Shamir is null) != (after.Backend.Software?.Shamir is null)
            || before.Backend.Software?.Shamir?.AdminPort != after.Backend.Software?.Shamir?.AdminPort
            || Pkcs11Signature(before.Backend.Pkcs11) != Pkcs11Signature(after.Backend.Pkcs11))
        {
            return "backend";
        }

        if (before.Audit.Enabled != after.Audit.Enabled || before.Audit.File != after.Audit.File)
        {
            return "audit";
        }

        return null;
    }

    private void Snapshot()
    {
        if (_holder.Current.SourcePath is { } path)
        {
            _configFingerprint = HashFiles([path]);
        }

        _keysFingerprint = KeyFilesFingerprint();
        _tlsFingerprint = _tls is null ? "" : HashFiles(_tls.WatchedFiles);
    }

    private string KeyFilesFingerprint()
    {
        if (_backend is not SoftwareKeyBackend software || !Directory.Exists(software.KeysDirectory))
        {
            return "";
        }

        var parts = new DirectoryInfo(software.KeysDirectory).EnumerateFiles("*.json")
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}");
        return string.Join('|', parts);
    }

    private static string HashFiles(IEnumerable<string> paths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in paths)
        {
            try
            {
                hash.AppendData(File.ReadAllBytes(path));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                hash.AppendData("<unreadable>"u8);
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Information, "Configuration reloaded from {Source}: {KeyStores} key store(s), {Keys} key(s)", EventName = "ConfigReloaded")]
        public static partial void Reloaded(ILogger logger, string source, int keyStores, int keys);

        [LoggerMessage(201, LogLevel.Error, "Configuration change in {Source} rejected, the previous configuration keeps serving. {Count} problem(s): {Problems}", EventName = "ConfigReloadRejected")]
        public static partial void ReloadRejected(ILogger logger, string source, int count, string problems);

        [LoggerMessage(202, LogLevel.Warning, "Configuration field {Field} changed; it takes effect after a restart", EventName = "ConfigRestartNeeded")]
        public static partial void RestartNeeded(ILogger logger, string field);

        [LoggerMessage(203, LogLevel.Warning, "Could not check the configuration files for changes: {Problem}", EventName = "ConfigWatchFailed")]
        public static partial void WatchFailed(ILogger logger, string problem);
    }
}
