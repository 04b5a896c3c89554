using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>
/// A request that fails with an OpenAI-shaped error: <c>{"error": {"message", "type", "param", "code"}}</c> and an
/// HTTP status. Thrown by parsing and validation; turned into a response by <see cref="ApiErrors"/>.
/// </summary>
public sealed class ApiException(int status, string message, string? param = null, string? type = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;

    /// <summary>OpenAI's error type for the status (invalid_request_error, authentication_error, ...).</summary>
    public string Type { get; } = type ?? ApiErrors.TypeFor(status);

    public string? Code { get; } = code;

    public static ApiException BadRequest(string message, string? param = null) => new(StatusCodes.Status400BadRequest, message, param);
}
