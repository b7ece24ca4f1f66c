namespace Xks.Operator.Runtime.Informers;

/// <summary>Options of one <see cref="ResourceInformer{T}"/>.</summary>
public sealed record ResourceInformerOptions
{
    /// <summary>Only objects matching this label selector are listed, watched and cached.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>Only objects matching this field selector are listed, watched and cached.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>
    /// Applied to every object before it is cached (an <see cref="Action{T}"/> of the informer's kind), e.g. to keep only
    /// the metadata of objects whose contents must not stay in memory. Informers are shared, so the same selector must
    /// always come with the same transform (<see cref="InformerFactory"/> checks it).
    /// </summary>
    public Delegate? Transform { get; init; }

    /// <summary>Page size of the list calls (<c>limit</c>); <see langword="null"/> or 0 lists in one call.</summary>
    public int? PageSize { get; init; } = 500;

    /// <summary>
    /// Lower bound of the server-side watch timeout; each watch asks for a random value between this and twice this,
    /// so that many informers do not reconnect together (client-go does the same with 5 min).
    /// </summary>
    public TimeSpan MinWatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A watch that delivers nothing (not even a bookmark) for this long beyond its server-side timeout is assumed
    /// dead (half-open connection) and is restarted.
    /// </summary>
    public TimeSpan WatchIdleGrace { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>First reconnect delay after a failure; doubles per consecutive failure, with jitter.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap of the reconnect delay.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
}
