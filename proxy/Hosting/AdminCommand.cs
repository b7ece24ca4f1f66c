using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xks.Proxy.Unseal;

namespace Xks.Proxy.Hosting;

/// <summary>
/// <c>xks-proxy admin unseal --url URL --share-file PATH|-</c> and <c>xks-proxy admin seal-status --url URL</c>: the
/// custodian's client of a Shamir-mode proxy's unseal API (<see cref="UnsealApi"/>), usually through
/// <c>kubectl port-forward</c>. Prints the answer's meaning in one line and never the share. Exit codes: 0 the share was
/// accepted (or the proxy was unsealed already) or the status was read, 1 refused or the proxy could not be reached,
/// 2 bad usage or an unreadable share file.
/// </summary>
public static class AdminCommand
{
    public const int ExitRefused = 1;

    public const string Usage = """
        usage: xks-proxy admin unseal --url URL --share-file PATH   give one custodian's share to a sealed proxy
                                                                    (--share-file - reads it from standard input)
               xks-proxy admin seal-status --url URL                whether the proxy is sealed, and the progress
        URL is the proxy's unseal API, on 127.0.0.1:<adminPort> inside its pod; reach it with kubectl port-forward:
          kubectl -n payments port-forward pod/xks-proxy-0 9444:9444 &
          xks-proxy admin unseal --url http://127.0.0.1:9444 --share-file ~/xks-share.txt
        Exit codes: 0 accepted (or already unsealed) / status read, 1 refused or unreachable, 2 bad usage.
        """;

    /// <summary>How long one call may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>What the command line asked for.</summary>
    public sealed record Request(string Verb, Uri BaseAddress, string? ShareFile);

    /// <summary>Parses the words after <c>admin</c>; null (with <paramref name="problem"/>) on bad usage.</summary>
    public static Request? Parse(IReadOnlyList<string> args, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(args);
        problem = null;
        if (args.Count == 0 || args[0] is not ("unseal" or "seal-status"))
        {
            problem = args.Count == 0 ? $"admin needs a subcommand\n{Usage}" : $"unknown admin command '{args[0]}'\n{Usage}";
            return null;
        }

        string? url = null;
        string? shareFile = null;
        for (var i = 1; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--url" when i + 1 < args.Count:
                    url = args[++i];
                    break;
                case "--share-file" when i + 1 < args.Count:
                    shareFile = args[++i];
                    break;
                default:
                    problem = $"admin {args[0]}: unexpected argument '{args[i]}'\n{Usage}";
                    return null;
            }
        }

        if (url is null)
        {
            problem = $"admin {args[0]} needs --url (the unseal API, e.g. http://127.0.0.1:9444)";
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https")
            || !string.IsNullOrEmpty(baseAddress.Query) || baseAddress.AbsolutePath != "/")
        {
            problem = $"--url: '{url}' is not the address of an unseal API (http://HOST:PORT, e.g. http://127.0.0.1:9444)";
            return null;
        }

        if (args[0] == "unseal" && shareFile is null)
        {
            problem = "admin unseal needs --share-file PATH (or - for standard input)";
            return null;
        }

        if (args[0] == "seal-status" && shareFile is not null)
        {
            problem = "admin seal-status takes no --share-file";
            return null;
        }

        return new Request(args[0], baseAddress, shareFile);
    }

    /// <summary>Runs the command; <paramref name="handler"/> replaces the HTTP stack (tests).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextReader input, TextWriter output, TextWriter error, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args is ["--help" or "-h"] or [_, "--help" or "-h"])
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return ProxyCommandLine.ExitOk;
        }

        var request = Parse(args, out var problem);
        if (request is null)
        {
            return await FailAsync(error, ProxyCommandLine.ExitConfigError, problem!).ConfigureAwait(false);
        }

        string? share = null;
        if (request.ShareFile is { } shareFile)
        {
            try
            {
                share = (shareFile == "-" ? await input.ReadToEndAsync(cancellationToken).ConfigureAwait(false) : await File.ReadAllTextAsync(shareFile, cancellationToken).ConfigureAwait(false)).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return await FailAsync(error, ProxyCommandLine.ExitConfigError, $"--share-file: cannot read '{shareFile}': {ex.Message}").ConfigureAwait(false);
            }

            if (share.Length == 0)
            {
                return await FailAsync(error, ProxyCommandLine.ExitConfigError, $"--share-file: '{shareFile}' is empty").ConfigureAwait(false);
            }
        }

        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = Timeout;
        HttpResponseMessage response;
        try
        {
            if (request.Verb == "unseal")
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new UnsealRequest { Share = share }, UnsealJsonContext.Default.UnsealRequest);
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                response = await http.PostAsync(new Uri(request.BaseAddress, UnsealApi.UnsealPath), content, cancellationToken).ConfigureAwait(false);
                Array.Clear(body);
            }
            else
            {
                response = await http.GetAsync(new Uri(request.BaseAddress, UnsealApi.StatusPath), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return await FailAsync(error, ExitRefused, $"cannot reach the unseal API at {request.BaseAddress}: {ex.Message} (is kubectl port-forward running?)").ConfigureAwait(false);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK
                ? await SucceededAsync(request, text, output, error).ConfigureAwait(false)
                : await RefusedAsync(response.StatusCode, text, error).ConfigureAwait(false);
        }
    }

    /// <summary>The one-line meaning of a seal status (the answer to a share, or to seal-status).</summary>
    public static string Describe(SealStatusResponse status, bool answerToShare)
    {
        ArgumentNullException.ThrowIfNull(status);
        var roots = status.RootVersions is { Length: > 0 } versions
            ? $" (root version{(versions.Length == 1 ? "" : "s")} {string.Join(", ", versions)})"
            : "";
        if (!status.Sealed)
        {
            return answerToShare
                ? status.Threshold is null ? "already unsealed: the share was not used" : $"unsealed: the proxy serves its keys{roots}"
                : $"unsealed{roots}";
        }

        var (progress, threshold) = (status.Progress ?? 0, status.Threshold ?? 0);
        return answerToShare
            ? string.Create(CultureInfo.InvariantCulture, $"accepted: {progress} of {threshold} shares given; the proxy stays sealed until {threshold - progress} more custodian(s) give theirs")
            : string.Create(CultureInfo.InvariantCulture, $"sealed: {progress} of {threshold} shares given{roots}");
    }

    private static async Task<int> SucceededAsync(Request request, string text, TextWriter output, TextWriter error)
    {
        SealStatusResponse? status;
        try
        {
            status = JsonSerializer.Deserialize(text, UnsealJsonContext.Default.SealStatusResponse);
        }
        catch (JsonException)
        {
            status = null;
        }

        if (status is null)
        {
            return await FailAsync(error, ExitRefused, "the unseal API answered 200 without a seal status: is the URL the proxy's admin port?").ConfigureAwait(false);
        }

        await output.WriteLineAsync(Describe(status, answerToShare: request.Verb == "unseal")).ConfigureAwait(false);
        return ProxyCommandLine.ExitOk;
    }

    private static async Task<int> RefusedAsync(HttpStatusCode statusCode, string text, TextWriter error)
    {
        UnsealErrorResponse? refusal;
        try
        {
            refusal = JsonSerializer.Deserialize(text, UnsealJsonContext.Default.UnsealErrorResponse);
        }
        catch (JsonException)
        {
            refusal = null;
        }

        var message = refusal is { Error.Length: > 0 }
            ? $"refused ({refusal.Error}): {refusal.Message}"
            : string.Create(CultureInfo.InvariantCulture, $"refused: HTTP {(int)statusCode} {statusCode} (is the URL the proxy's admin port?)");
        return await FailAsync(error, ExitRefused, message).ConfigureAwait(false);
    }

    private static async Task<int> FailAsync(TextWriter error, int exitCode, string message)
    {
        await error.WriteLineAsync(new StringBuilder("xks-proxy: ").Append(message).ToString()).ConfigureAwait(false);
        return exitCode;
    }
}
