namespace Xks.Proxy.Crypto.Software;

/// <summary>A key file that cannot be used: unreadable, not JSON, or failing its integrity check. Never holds key bytes.</summary>
public sealed class KeyFileException(string message) : Exception(message);
