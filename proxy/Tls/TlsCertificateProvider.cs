using System.Security.Cryptography.X509Certificates;
using Xks.Contracts.ProxyConfig;

namespace Xks.Proxy.Tls;

/// <summary>
/// The server certificate (and, for mTLS, the client CA) loaded from PEM files. <see cref="Reload"/> swaps in new
/// files when they change; a pair that fails to load keeps the previous one serving.
/// </summary>
public sealed partial class TlsCertificateProvider
{
    private readonly TlsOptions _options;
    private readonly ILogger<TlsCertificateProvider> _logger;
    private X509Certificate2 _certificate;
    private X509Certificate2Collection _clientCa;

    public TlsCertificateProvider(TlsOptions options, ILogger<TlsCertificateProvider> logger)
    {
        _options = options;
        _logger = logger;
        _certificate = LoadCertificate(options);
        _clientCa = LoadClientCa(options);
    }

    public X509Certificate2 Certificate => Volatile.Read(ref _certificate);

    public X509Certificate2Collection ClientCa => Volatile.Read(ref _clientCa);

    public IReadOnlyList<string> WatchedFiles =>
        [_options.CertificateFile, _options.PrivateKeyFile, .. _options.ClientCertificate is { } m ? new[] { m.CaFile } : []];

    public bool Reload()
    {
        try
        {
            var certificate = LoadCertificate(_options);
            var ca = LoadClientCa(_options);
            Volatile.Write(ref _certificate, certificate);
            Volatile.Write(ref _clientCa, ca);
            Log.CertificateReloaded(_logger, certificate.Subject, certificate.NotAfter);
            return true;
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            Log.CertificateReloadFailed(_logger, ex.Message);
            return false;
        }
    }

    public static X509Certificate2 LoadCertificate(TlsOptions options)
    {
        using var pem = X509Certificate2.CreateFromPemFile(options.CertificateFile, options.PrivateKeyFile);
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2Collection LoadClientCa(TlsOptions options)
    {
        var collection = new X509Certificate2Collection();
        if (options.ClientCertificate is { } mtls)
        {
            collection.ImportFromPemFile(mtls.CaFile);
            if (collection.Count == 0)
            {
                throw new ArgumentException($"'{mtls.CaFile}' holds no PEM certificate");
            }
        }

        return collection;
    }

    private static partial class Log
    {
        [LoggerMessage(500, LogLevel.Information, "TLS certificate loaded: {Subject}, valid until {NotAfter:u}", EventName = "CertificateReloaded")]
        public static partial void CertificateReloaded(ILogger logger, string subject, DateTime notAfter);

        [LoggerMessage(501, LogLevel.Error, "TLS certificate files changed but could not be loaded; keeping the previous certificate: {Problem}", EventName = "CertificateReloadFailed")]
        public static partial void CertificateReloadFailed(ILogger logger, string problem);
    }
}
