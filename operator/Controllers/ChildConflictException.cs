namespace Xks.Operator.Controllers;

/// <summary>
/// A name the reconciler needs is taken by an object (a child, a key, a key store, an alias) it does not control or
/// cannot prove its own: reported as a Conflict, never taken over.
/// </summary>
internal sealed class ChildConflictException(string message) : Exception(message);
