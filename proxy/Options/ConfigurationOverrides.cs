using Xks.Contracts.ProxyConfig;
namespace Xks.Proxy.Options;

/// <summary>
/// Command-line overrides applied to every configuration document the process loads (at start and on each reload,
/// from a file or a Secret): <c>--volume-root</c>, <c>--address</c>, <c>--port</c>, <c>--metrics-port</c>,
/// <c>--admin-port</c>. They let
/// the config a pod would get run outside the pod, as a local process, without editing it.
/// </summary>
public sealed record ConfigurationOverrides
{
    /// <summary>
    /// Every absolute file path of the document (masterKeyFile, dataDir, TLS files, client CA, secretAccessKeyFile,
    /// audit file, the PKCS#11 and sealing pinFile; never a PKCS#11 library) is resolved under this directory: /var/run/xks/master-key/master.key → ROOT/var/run/xks/master-key/master.key.
    /// Relative paths are left to resolve as usual.
    /// </summary>
    public string? VolumeRoot { get; init; }

    /// <summary>Replaces <c>server.address</c>.</summary>
    public string? Address { get; init; }

    /// <summary>Replaces <c>server.port</c>.</summary>
    public int? Port { get; init; }

    /// <summary>Replaces <c>server.metricsPort</c> (0 turns metrics off).</summary>
    public int? MetricsPort { get; init; }

    /// <summary>Replaces <c>backend.software.shamir.adminPort</c> (when shamir is configured): several proxies on one machine.</summary>
    public int? AdminPort { get; init; }

    public bool IsEmpty => VolumeRoot is null && Address is null && Port is null && MetricsPort is null && AdminPort is null;

    /// <summary>Applies the overrides to a freshly read document, before relative paths are resolved and before validation.</summary>
    internal void ApplyTo(ProxyOptions options)
    {
        if (Address is not null)
        {
            options.Server.Address = Address;
        }

        if (Port is { } port)
        {
            options.Server.Port = port;
        }

        if (MetricsPort is { } metricsPort)
        {
            options.Server.MetricsPort = metricsPort;
        }

        if (AdminPort is { } adminPort && options.Backend.Software?.Shamir is { } shamir)
        {
            shamir.AdminPort = adminPort;
        }

        if (string.IsNullOrEmpty(VolumeRoot))
        {
            return;
        }

        if (options.Server.Tls is { } tls)
        {
            tls.CertificateFile = UnderRoot(tls.CertificateFile);
            tls.PrivateKeyFile = UnderRoot(tls.PrivateKeyFile);
            if (tls.ClientCertificate is { } mtls)
            {
                mtls.CaFile = UnderRoot(mtls.CaFile);
            }
        }

        if (options.Audit.File is { } auditFile)
        {
            options.Audit.File = UnderRoot(auditFile);
        }

        if (options.Backend.Software is { } software)
        {
            software.DataDir = UnderRoot(software.DataDir);
            if (software.MasterKeyFile is { } masterKeyFile)
            {
                software.MasterKeyFile = UnderRoot(masterKeyFile);
            }

            if (software.Sealing is { PinFile: { } sealingPinFile } sealing)
            {
                sealing.PinFile = UnderRoot(sealingPinFile);
            }
        }

        // Never the PKCS#11 library: it is part of the image, not a mounted volume.
        if (options.Backend.Pkcs11 is { PinFile: { } pinFile } pkcs11)
        {
            pkcs11.PinFile = UnderRoot(pinFile);
        }

        foreach (var credential in options.KeyStores.Where(s => s is not null).SelectMany(s => s.Credentials).Where(c => c is not null))
        {
            if (credential.SecretAccessKeyFile is { } file)
            {
                credential.SecretAccessKeyFile = UnderRoot(file);
            }
        }
    }

    /// <summary>An absolute path moved under <see cref="VolumeRoot"/>; anything else unchanged.</summary>
    public string UnderRoot(string path) =>
        string.IsNullOrEmpty(VolumeRoot) || string.IsNullOrWhiteSpace(path) || !Path.IsPathRooted(path)
            ? path
            : Path.Join(Path.GetFullPath(VolumeRoot), path.TrimStart('/', '\\'));
}
