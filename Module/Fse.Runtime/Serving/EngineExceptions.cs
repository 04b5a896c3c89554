namespace Fse.Runtime.Serving;

/// <summary>A request the engine cannot take as given (an HTTP 400): a prompt too long, an id outside the vocabulary, ...</summary>
public sealed class EngineRequestException(string message, string? param = null) : Exception(message)
{
    /// <summary>The request field at fault, in the API's spelling (e.g. <c>max_tokens</c>), or null.</summary>
    public string? Param { get; } = param;
}

/// <summary>The engine takes no requests (an HTTP 503): it is shutting down or its loop has died.</summary>
public sealed class EngineUnavailableException(string message) : Exception(message);

/// <summary>Too many requests are waiting for admission (an HTTP 429); retry later.</summary>
public sealed class EngineBusyException(string message) : Exception(message);
