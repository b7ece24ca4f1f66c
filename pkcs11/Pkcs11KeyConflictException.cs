namespace Xks.Pkcs11;

/// <summary>
/// A key version's label is taken in the token by something this software may not use: two objects, or one that was
/// not generated in the token or could leave it. The message names the label and the attributes, never key bytes.
/// </summary>
public sealed class Pkcs11KeyConflictException(string message) : Exception(message);
