using System.Management.Automation;

namespace Fse.Cmdlets.Internal;

/// <summary>A server that could not be started or reached, with the ErrorRecord id and category it maps to.</summary>
internal sealed class ServerStartException(string message, string errorId, ErrorCategory category, Exception? inner = null) : Exception(message, inner)
{
    public string ErrorId { get; } = errorId;
    public ErrorCategory Category { get; } = category;

    public ErrorRecord ToErrorRecord(object? target) => new(this, ErrorId, Category, target);
}
