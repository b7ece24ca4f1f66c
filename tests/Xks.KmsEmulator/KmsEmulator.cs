using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.KmsEmulator.Auth;
using Xks.KmsEmulator.Hosting;
using Xks.KmsEmulator.Iam;
using Xks.KmsEmulator.Kms;
using Xks.KmsEmulator.Policies;
using Xks.KmsEmulator.Sts;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator;

/// <summary>
/// AWS KMS (JSON 1.1, <c>X-Amz-Target: TrentService.&lt;Op&gt;</c>), STS and IAM's access-key calls (query protocol,
/// told apart by the service of the SigV4 credential scope) on one HTTP port, for tests
/// and local demos. Every call is SigV4-verified; keys in external key stores are used through the XKS proxy over
/// HTTPS, as AWS does.
/// </summary>
/// <remarks>
/// <para>Authorization: a caller whose IAM identity has an entry in <see cref="KmsEmulatorOptions.IdentityPolicies"/> is
/// authorized like AWS KMS (key policy, grants, identity policy; an explicit Deny wins; a key policy that grants the
/// account root delegates to the identity policy). A refused call is HTTP 400 AccessDeniedException with AWS's message;
/// <see cref="EmulatorCall.AllowedBy"/> records which statement or grant allowed each evaluated call. Callers without an
/// entry are not evaluated (unrestricted).</para>
/// <para>Emulator-only request header <c>X-Emulator-Via-Service: ec2.us-east-1.amazonaws.com</c>: the call is made by that
/// AWS service on the signer's behalf; it sets the condition key <c>kms:ViaService</c> and, for CreateGrant, ListGrants
/// and RevokeGrant, <c>kms:GrantIsForAWSResource</c> = true. AWS sets these itself; tests talk to the emulator on
/// 127.0.0.1 and use the header to play EBS, RDS and the like.</para>
/// <para>A key scheduled for deletion is really deleted once its DeletionDate has passed (checked before every KMS call):
/// it, its aliases and its grants are gone, and calls naming it answer NotFoundException. A day of PendingWindowInDays
/// lasts <see cref="KmsEmulatorOptions.PendingWindowUnit"/>.</para>
/// </remarks>
public sealed class KmsEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly KmsEmulatorOptions _options;
    private readonly ILogger _logger;
    private readonly OperationControls _controls = new();
    private readonly CallLog _calls = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly RequestVerifier _verifier;
    private readonly XksClient _xks;
    private readonly KmsDispatcher _kms;
    private readonly StsOperations _sts;
    private readonly KmsAuthorizer _authorizer;
    private readonly IamOperations _iam;
    private readonly ScheduledDeletions _deletions;

    private KmsEmulator(KmsEmulatorOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger("Xks.KmsEmulator");
        var credentials = new CredentialRegistry(options, _time.GetUtcNow());
        _verifier = new RequestVerifier(credentials, options.Region, _time);
        _xks = new XksClient(options, _time);
        var state = new KmsState();
        var resolver = new KeyResolver(state, options);
        var stores = new CustomKeyStoreOperations(state, _xks, options, _time, _logger, _stopping.Token);
        var grantStore = new GrantStore();
        var grants = new GrantOperations(state, grantStore, resolver, options);
        _deletions = new ScheduledDeletions(state, grantStore);
        _kms = new KmsDispatcher(stores, new KeyOperations(state, resolver, stores, _xks, options, _logger), new CryptoOperations(state, resolver, _xks, _logger), grants);
        _authorizer = new KmsAuthorizer(state, resolver, grantStore, grants, new IdentityPolicyStore(options));
        _sts = new StsOperations(credentials, options);
        _iam = new IamOperations(credentials);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        var address = options.Address == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Address);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, options.Port));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>The emulator's base address, e.g. <c>http://127.0.0.1:4566/</c> (a CspAccount's spec.endpoint).</summary>
    public Uri Url { get; private set; } = null!;

    public static async Task<KmsEmulator> StartAsync(KmsEmulatorOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.PendingWindowUnit, TimeSpan.Zero);
        var emulator = new KmsEmulator(options, loggerFactory ?? NullLoggerFactory.Instance);
        await emulator._app.StartAsync(cancellationToken).ConfigureAwait(false);
        emulator.Url = new Uri(emulator._app.Urls.First().TrimEnd('/') + "/");
        Log.Listening(emulator._logger, emulator.Url, options.Region, options.AccountId);
        return emulator;
    }

    /// <summary>The next call of <paramref name="operation"/> is executed, then its response waits until <see cref="OperationGate.Release"/>.</summary>
    public OperationGate Hold(string operation) => _controls.Hold(operation);

    /// <summary>The next <paramref name="count"/> calls of <paramref name="operation"/> fail with <paramref name="errorType"/> without being executed.</summary>
    public void FailNext(string operation, string errorType, int count = 1, int httpStatus = 400) => _controls.FailNext(operation, errorType, count, httpStatus);

    /// <summary>How many calls of <paramref name="operation"/> arrived (including failed ones).</summary>
    public int CallCount(string operation) => _controls.CallCount(operation);

    /// <summary>A snapshot of the calls that arrived so far, by operation (KMS and STS; including failed ones).</summary>
    public IReadOnlyDictionary<string, int> CallCounts() => _controls.CallCounts();

    /// <summary>Every call so far (the last <see cref="CallLog.Capacity"/>) with its caller and the objects it named.</summary>
    public IReadOnlyList<EmulatorCall> Calls() => _calls.Snapshot();

    /// <summary>
    /// The distinct <c>action on resource</c> of the requests <paramref name="identityArn"/> made under its identity policy
    /// that <paramref name="identityPolicyJson"/> would have denied, replayed against the key policies and grants they met.
    /// </summary>
    public IReadOnlyList<string> DeniedUnder(string identityArn, string identityPolicyJson) => _authorizer.DeniedUnder(identityArn, identityPolicyJson);

    /// <summary>The successful calls that changed something and named one of <paramref name="targets"/> (key IDs, ARNs, aliases, key store IDs).</summary>
    public IReadOnlyList<EmulatorCall> MutatingCallsNaming(params string[] targets) =>
        [.. _calls.Snapshot().Where(c => c.IsMutating && c.Status is >= 200 and < 300 && targets.Any(c.Names))];

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _controls.ReleaseAll();
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _xks.Dispose();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = Guid.NewGuid().ToString();
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var body = buffer.ToArray();

        var target = request.Headers["X-Amz-Target"].ToString();
        Response response;
        string service, operation;
        Caller? caller = null;
        string? allowedBy = null;
        if (target.StartsWith("TrentService.", StringComparison.Ordinal))
        {
            service = "KMS";
            operation = target["TrentService.".Length..];
            _controls.Count(operation);
            (response, caller, allowedBy) = await HandleKmsAsync(request, body, operation, requestId, context.RequestAborted).ConfigureAwait(false);
        }
        else if (request.Method == "POST" && request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            // Query protocol: IAM when the signature is scoped to service iam, else STS.
            var iam = SigV4.TryParseAuthorization(request.Headers.Authorization.ToString(), out var scope) && scope.Service == "iam";
            service = iam ? "IAM" : "STS";
            var form = QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(body)).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
            operation = form.GetValueOrDefault("Action") ?? "";
            _controls.Count(operation);
            (response, caller) = iam ? HandleIam(request, body, form, operation, requestId) : HandleSts(request, body, form, operation, requestId);
        }
        else
        {
            service = "KMS";
            operation = target;
            response = Response.Kms(400, "UnknownOperationException", "Missing or unknown X-Amz-Target, and not an STS form request.");
        }

        _calls.Record(new EmulatorCall(service, operation, caller?.Arn, service == "KMS" ? CallLog.TargetsOf(body) : [], response.Status, allowedBy));
        if (_controls.TryTakeHold(operation, out var gate))
        {
            gate.MarkReached();
            try
            {
                await gate.Released.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        context.Response.StatusCode = response.Status;
        context.Response.ContentType = response.ContentType;
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
        Log.Call(_logger, service, operation, requestId, response.Outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task<(Response Response, Caller? Caller, string? AllowedBy)> HandleKmsAsync(HttpRequest request, byte[] body, string operation, string requestId, CancellationToken cancellationToken)
    {
        Caller? caller = null;
        try
        {
            if (_controls.TryTakeFailure(operation, out var injected))
            {
                return (Response.Kms(injected.Status, injected.ErrorType, "Injected by the KMS emulator (FailNext)."), null, null);
            }

            caller = _verifier.Verify(request, body, "kms");
            if (!_kms.Knows(operation))
            {
                return (Response.Kms(400, "UnknownOperationException", $"The emulator does not implement {operation}."), caller, null);
            }

            // Keys whose deletion date has passed are gone before anything looks them up (the authorizer included).
            var now = _time.GetUtcNow();
            foreach (var deleted in _deletions.DeleteDue(now))
            {
                Log.KeyDeleted(_logger, deleted.Arn, deleted.DeletionDate);
            }

            var decision = _authorizer.Authorize(operation, body, caller, request.Headers[KmsAuthorizer.ViaServiceHeader].ToString());
            var json = await _kms.InvokeAsync(operation, body, new CallContext(caller, requestId, now), cancellationToken).ConfigureAwait(false);
            return (new Response(200, "application/x-amz-json-1.1", json, "OK"), caller, decision is { DecidedBy: { } by } ? $"{decision.Source}/{by}" : null);
        }
        catch (AuthFailure failure)
        {
            return (Response.Kms(400, failure.Kind switch
            {
                AuthFailureKind.MissingAuthentication => "MissingAuthenticationTokenException",
                AuthFailureKind.IncompleteSignature => "IncompleteSignatureException",
                AuthFailureKind.UnknownAccessKey or AuthFailureKind.InvalidSessionToken => "UnrecognizedClientException",
                AuthFailureKind.ExpiredToken => "ExpiredTokenException",
                _ => "InvalidSignatureException",
            }, failure.Message), null, null);
        }
        catch (KmsException error)
        {
            return (Response.Kms(error.Status, error.Type, error.Message), caller, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.InternalFault(_logger, "KMS", operation, requestId, ex);
            return (Response.Kms(500, "KMSInternalException", "The request was rejected because an internal exception occurred."), caller, null);
        }
    }

    private (Response Response, Caller? Caller) HandleSts(HttpRequest request, byte[] body, Dictionary<string, string> form, string action, string requestId)
    {
        Caller? caller = null;
        try
        {
            if (_controls.TryTakeFailure(action, out var injected))
            {
                return (Response.Sts(injected.Status, injected.ErrorType, "Injected by the KMS emulator (FailNext).", requestId), null);
            }

            caller = _verifier.Verify(request, body, "sts");
            return (new Response(200, "text/xml", _sts.Invoke(action, form, caller, requestId, _time.GetUtcNow()), "OK"), caller);
        }
        catch (AuthFailure failure)
        {
            var (code, status) = QueryProtocolError(failure);
            return (Response.Sts(status, code, failure.Message, requestId), null);
        }
        catch (StsException error)
        {
            return (Response.Sts(error.Status, error.Code, error.Message, requestId), caller);
        }
        catch (Exception ex)
        {
            Log.InternalFault(_logger, "STS", action, requestId, ex);
            return (Response.Sts(500, "InternalFailure", "The request processing has failed because of an unknown error.", requestId), caller);
        }
    }

    /// <summary>A signature failure as the query-protocol services (STS, IAM) answer it: error code and HTTP status.</summary>
    private static (string Code, int Status) QueryProtocolError(AuthFailure failure) => failure.Kind switch
    {
        AuthFailureKind.MissingAuthentication => ("MissingAuthenticationToken", 403),
        AuthFailureKind.IncompleteSignature => ("IncompleteSignature", 403),
        AuthFailureKind.UnknownAccessKey or AuthFailureKind.InvalidSessionToken => ("InvalidClientTokenId", 403),
        AuthFailureKind.ExpiredToken => ("ExpiredToken", 400),
        _ => ("SignatureDoesNotMatch", 403),
    };

    private (Response Response, Caller? Caller) HandleIam(HttpRequest request, byte[] body, Dictionary<string, string> form, string action, string requestId)
    {
        Caller? caller = null;
        try
        {
            if (_controls.TryTakeFailure(action, out var injected))
            {
                return (Response.Iam(injected.Status, injected.ErrorType, "Injected by the KMS emulator (FailNext).", requestId), null);
            }

            caller = _verifier.Verify(request, body, "iam");
            var user = form.TryGetValue("UserName", out var named) && named.Length > 0 ? named : null;
            var resource = user is null ? caller.Arn : $"arn:aws:iam::{caller.Account}:user/{user}";
            try
            {
                _authorizer.AuthorizeIdentity("iam:" + action, resource, caller);
            }
            catch (UnauthorizedAccessException denied)
            {
                throw new IamException("AccessDenied", denied.Message, 403);
            }

            return (new Response(200, "text/xml", _iam.Invoke(action, form, caller, requestId, _time.GetUtcNow()), "OK"), caller);
        }
        catch (AuthFailure failure)
        {
            var (code, status) = QueryProtocolError(failure);
            return (Response.Iam(status, code, failure.Message, requestId), null);
        }
        catch (IamException error)
        {
            return (Response.Iam(error.Status, error.Code, error.Message, requestId), caller);
        }
        catch (Exception ex)
        {
            Log.InternalFault(_logger, "IAM", action, requestId, ex);
            return (Response.Iam(500, "ServiceFailure", "The request processing has failed because of an unknown error.", requestId), caller);
        }
    }

    private sealed record Response(int Status, string ContentType, byte[] Body, string Outcome)
    {
        public static Response Kms(int status, string type, string message) =>
            new(status, "application/x-amz-json-1.1", KmsDispatcher.Error(type, message), type);

        public static Response Sts(int status, string code, string message, string requestId) =>
            new(status, "text/xml", StsOperations.Error(code, message, requestId), code);

        public static Response Iam(int status, string code, string message, string requestId) =>
            new(status, "text/xml", IamOperations.Error(code, message, requestId), code);
    }
}
