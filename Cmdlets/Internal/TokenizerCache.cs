using System.Management.Automation;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Tokenization;

namespace Fse.Cmdlets.Internal;

/// <summary>Loads each tokenizer path once per cmdlet invocation; a path that cannot be loaded is a terminating error.</summary>
internal sealed class TokenizerCache(PSCmdlet cmdlet)
{
    private readonly Dictionary<string, Tokenizer> _loaded = new(StringComparer.Ordinal);

    public Tokenizer Get(string path)
    {
        var resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        if (_loaded.TryGetValue(resolved, out var tokenizer)) return tokenizer;
        try
        {
            tokenizer = Tokenizer.Load(resolved);
        }
        catch (CheckpointException e)
        {
            cmdlet.ThrowTerminatingError(CheckpointErrors.ToErrorRecord(e, path));
            throw;   // not reached: ThrowTerminatingError always throws
        }
        _loaded[resolved] = tokenizer;
        return tokenizer;
    }
}
