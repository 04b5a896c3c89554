using System.Net;

namespace Fse.Client;

/// <summary>A failed call to an OpenAI-compatible server, with the server's own error text when it sent one.</summary>
public sealed class OpenAiException : Exception
{
    public OpenAiException(string message, HttpStatusCode? status = null, string? errorType = null, string? code = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = status;
        ErrorType = errorType;
        ErrorCode = code;
    }

    /// <summary>The HTTP status, or null when no response came (connection refused, reset, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The <c>error.type</c> field of an OpenAI-shaped error body.</summary>
    public string? ErrorType { get; }

    /// <summary>The <c>error.code</c> field of an OpenAI-shaped error body.</summary>
    public string? ErrorCode { get; }

    /// <summary>Worth retrying: no response at all, 429, or a 5xx.</summary>
    public bool IsTransient => StatusCode is null || StatusCode == (HttpStatusCode)429 || (int)StatusCode >= 500;
}
