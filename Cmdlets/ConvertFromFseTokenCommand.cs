using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime.Checkpoints;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Decodes token ids back into text with a Hugging Face tokenizer (tokenizer.json), exactly as HF does.</para>
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "FseToken")]
[OutputType(typeof(string))]
public sealed class ConvertFromFseTokenCommand : TokenizerCmdlet
{
    /// <summary>One sequence of ids; from the pipeline, each object (such as each int[] ConvertTo-FseToken writes) is one sequence.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Ids", "TokenId")]
    [AllowEmptyCollection]
    public int[] TokenIds { get; set; } = [];

    /// <summary>Leave out special tokens such as &lt;|im_start|&gt; and &lt;|im_end|&gt;.</summary>
    [Parameter]
    public SwitchParameter SkipSpecialTokens { get; set; }

    protected override void ProcessRecord()
    {
        var tokenizer = LoadTokenizer();
        try
        {
            WriteObject(tokenizer.Decode(TokenIds, SkipSpecialTokens));
        }
        catch (CheckpointException e)
        {
            // A bad id spoils only its own sequence: the pipeline goes on with the next one.
            WriteError(CheckpointErrors.ToErrorRecord(e, TokenIds));
        }
    }
}
