using System.Text.Json;
using k8s.Autorest;

namespace Xks.Operator.Controllers;

/// <summary>What went wrong, said once for Events, conditions, logs and the CLI's errors.</summary>
internal static class ApiErrors
{
    /// <summary>
    /// The API server's status message (names objects and fields, never Secret data) with its status code; a
    /// <see cref="ChildConflictException"/>'s own message; else the exception's type and message.
    /// </summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is ChildConflictException)
        {
            return exception.Message;
        }

        if (exception is HttpOperationException { Response: { } response })
        {
            try
            {
                using var document = JsonDocument.Parse(response.Content ?? "");
                if (document.RootElement.TryGetProperty("message", out var text) && text.GetString() is { Length: > 0 } serverMessage)
                {
                    return $"{(int)response.StatusCode} {response.StatusCode}: {serverMessage}";
                }
            }
            catch (JsonException)
            {
            }

            return $"{(int)response.StatusCode} {response.StatusCode}";
        }

        return $"{exception.GetType().Name}: {exception.Message}";
    }
}
