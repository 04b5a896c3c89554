using System.Management.Automation;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Encodes text into token ids with a Hugging Face tokenizer (tokenizer.json), exactly as HF does.</para>
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "FseToken")]
[OutputType(typeof(int[]))]
public sealed class ConvertToFseTokenCommand : TokenizerCmdlet
{
    /// <summary>The texts to encode; one int[] is written per text.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Prompt", "Content")]
    [AllowEmptyString]
    public string[] Text { get; set; } = [];

    /// <summary>Leave out the tokens a post-processor adds (such as a BOS); Qwen's tokenizer adds none.</summary>
    [Parameter]
    public SwitchParameter NoSpecialTokens { get; set; }

    protected override void ProcessRecord()
    {
        var tokenizer = LoadTokenizer();
        foreach (var text in Text)
        {
            // One object per text: the ids stay together as an int[] in the pipeline instead of being unrolled.
            WriteObject(tokenizer.Encode(text ?? "", addSpecialTokens: !NoSpecialTokens), enumerateCollection: false);
        }
    }
}
