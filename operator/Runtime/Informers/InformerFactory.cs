using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Xks.Operator.Runtime.Informers;

/// <summary>
/// Hands out one shared <see cref="ResourceInformer{T}"/> per kind, namespace and selector, and runs them all: the
/// controllers watch through them and reconcilers read the same caches (inject the factory, call
/// <see cref="GetInformer{T}(string?)"/>, use <c>TryGet</c>/<c>List</c>). An informer asked for after
/// <see cref="RunAsync"/> started is started at once.
/// </summary>
public sealed class InformerFactory
{
    private readonly Lock _lock = new();
    private readonly IKubernetes _client;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<(Type Type, ResourceType Resource, string? Namespace, string? Labels, string? Fields), IResourceInformer> _informers = [];
    private readonly List<Task> _running = [];
    private CancellationToken? _runToken;

    public InformerFactory(IKubernetes client, string? @namespace = null, ResourceInformerOptions? defaults = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        Namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace;
        Defaults = defaults ?? new ResourceInformerOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public IKubernetes Client => _client;

    /// <summary>The namespace informers watch by default; <see langword="null"/> for all namespaces.</summary>
    public string? Namespace { get; }

    /// <summary>Options every informer starts from (paging, timeouts, backoff).</summary>
    public ResourceInformerOptions Defaults { get; }

    public IReadOnlyList<IResourceInformer> Informers
    {
        get
        {
            lock (_lock)
            {
                return [.. _informers.Values];
            }
        }
    }

    /// <summary>True when every informer handed out has synced.</summary>
    public bool HasSynced => Informers.All(informer => informer.HasSynced);

    /// <summary>The shared informer of <typeparamref name="T"/> in <see cref="Namespace"/> (API from <see cref="ResourceApi.For{T}"/>).</summary>
    public ResourceInformer<T> GetInformer<T>(string? labelSelector = null)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        GetInformer(ResourceApi.For<T>(_client, Namespace), labelSelector);

    /// <summary>
    /// The shared informer over <paramref name="api"/> (e.g. <see cref="ResourceApi.Custom{T}"/> with another version).
    /// <paramref name="transform"/> is applied to each object before it is cached; every caller of one selector must
    /// pass the same delegate instance (a static field), or this throws.
    /// </summary>
    public ResourceInformer<T> GetInformer<T>(IResourceApi<T> api, string? labelSelector = null, string? fieldSelector = null, Action<T>? transform = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(api);
        var key = (typeof(T), api.Type, api.Namespace, labelSelector, fieldSelector);
        lock (_lock)
        {
            if (_informers.TryGetValue(key, out var existing))
            {
                var shared = (ResourceInformer<T>)existing;
                if (!ReferenceEquals(shared.Options.Transform, transform))
                {
                    throw new InvalidOperationException($"The informer of {api.Type.Kind} with labels '{labelSelector}' is shared with another transform; ask for it in one place.");
                }

                return shared;
            }

            var options = Defaults with { LabelSelector = labelSelector, FieldSelector = fieldSelector, Transform = transform };
            var informer = new ResourceInformer<T>(api, options, _loggerFactory.CreateLogger<ResourceInformer<T>>(), _timeProvider);
            _informers.Add(key, informer);
            if (_runToken is { } token)
            {
                _running.Add(Task.Run(() => informer.RunAsync(token), CancellationToken.None));
            }

            return informer;
        }
    }

    /// <summary>Runs every informer (and any added later) until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_runToken is not null)
            {
                throw new InvalidOperationException("The informers are already running.");
            }

            _runToken = cancellationToken;
            foreach (var informer in _informers.Values)
            {
                _running.Add(Task.Run(() => informer.RunAsync(cancellationToken), CancellationToken.None));
            }
        }

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        Task[] running;
        lock (_lock)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }
}
