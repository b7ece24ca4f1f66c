namespace Xks.Operator.Runtime.Informers;

/// <summary>What happened to a cached object.</summary>
public enum ResourceEventType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>
/// A change to an informer's cache. <see cref="Object"/> is the new state (for <see cref="ResourceEventType.Deleted"/>,
/// the last known state); <see cref="OldObject"/> is the cached state it replaced (<see cref="ResourceEventType.Modified"/>
/// only).
/// </summary>
public readonly record struct ResourceEvent<T>(ResourceEventType Type, T Object, T? OldObject = null)
    where T : class;
