namespace Xks.Pkcs11;

/// <summary>
/// A PKCS#11 library, token or login that cannot be used: the message names the library and the token (never the
/// PIN) and says what to fix.
/// </summary>
public sealed class Pkcs11SetupException(string message, Exception? inner = null) : Exception(message, inner);
