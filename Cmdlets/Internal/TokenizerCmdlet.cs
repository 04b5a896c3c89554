using System.Management.Automation;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Tokenization;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// The -Tokenizer parameter the token cmdlets share: a directory holding tokenizer.json, the path of one, or the name
/// of a model shipped with the module ('default'). Each tokenizer loads once per invocation; one that cannot be loaded
/// is a terminating error.
/// </summary>
public abstract class TokenizerCmdlet : PSCmdlet
{
    private readonly Dictionary<string, Tokenizer> _loaded = new(StringComparer.Ordinal);

    /// <summary>A directory holding tokenizer.json (and tokenizer_config.json), the path of a tokenizer.json, or 'default'.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Model")]
    [ValidateNotNullOrEmpty]
    public string Tokenizer { get; set; } = "";

    protected Tokenizer LoadTokenizer()
    {
        var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Tokenizer);
        if (!Path.Exists(resolved) && BundledModels.TryResolve(Tokenizer, out var bundled)) resolved = bundled;
        if (_loaded.TryGetValue(resolved, out var tokenizer)) return tokenizer;
        try
        {
            tokenizer = Runtime.Tokenization.Tokenizer.Load(resolved);
        }
        catch (CheckpointException e)
        {
            ThrowTerminatingError(CheckpointErrors.ToErrorRecord(e, Tokenizer));
            throw;   // not reached: ThrowTerminatingError always throws
        }
        _loaded[resolved] = tokenizer;
        return tokenizer;
    }
}
