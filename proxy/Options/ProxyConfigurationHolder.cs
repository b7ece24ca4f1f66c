namespace Xks.Proxy.Options;

/// <summary>Holds the configuration snapshot requests read; replaced atomically by the reloader.</summary>
public sealed class ProxyConfigurationHolder
{
    private ProxyConfiguration _current;

    public ProxyConfigurationHolder(ProxyConfiguration initial) => _current = initial;

    public ProxyConfiguration Current => Volatile.Read(ref _current);

    public void Replace(ProxyConfiguration next) => Volatile.Write(ref _current, next);
}
