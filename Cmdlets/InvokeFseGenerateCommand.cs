using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Generates tokens from a prompt with a checkpoint in this process.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "FseGenerate", DefaultParameterSetName = PromptSet)]
[OutputType(typeof(FseGeneration))]
public sealed class InvokeFseGenerateCommand : LocalModelCmdlet
{
    private const string PromptSet = "Prompt";
    private const string TokenSet = "TokenIds";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = PromptSet)]
    [ValidateNotNullOrEmpty]
    public string Prompt { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = TokenSet)]
    [ValidateNotNullOrEmpty]
    public int[] TokenIds { get; set; } = [];

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int MaxTokens { get; set; } = 64;

    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double Temperature { get; set; }

    [Parameter]
    [ValidateRange(0.000001, 1.0)]
    public double TopP { get; set; } = 1.0;

    [Parameter]
    public long? Seed { get; set; }

    [Parameter]
    public SwitchParameter IgnoreEos { get; set; }

    [Parameter]
    public FseMode Fse { get; set; } = FseMode.On;

    protected override void ProcessRecord()
    {
        using var model = OpenModel(Fse);
        if (model is null) return;
        var tokenizer = ParameterSetName == PromptSet || HasTokenizer() ? OpenTokenizer() : null;
        if (ParameterSetName == PromptSet && tokenizer is null) return;
        var prompt = ParameterSetName == PromptSet ? tokenizer!.Encode(Prompt) : TokenIds;
        if (prompt.Length == 0)
        {
            WriteModelError(new ArgumentException("The prompt encodes to no tokens."), "EmptyPrompt", ErrorCategory.InvalidArgument);
            return;
        }
        var stop = new HashSet<int>();
        if (!IgnoreEos)
        {
            stop.UnionWith(model.Config.EosTokenIds);
            if (tokenizer?.EosTokenId is { } eos) stop.Add(eos);
        }
        var progress = new ProgressRecord(1, "Invoke-FseGenerate", $"Generating with {model.Config.ModelType} (FSE {model.Fse})");
        int produced = 0;
        void OnToken(int _)
        {
            produced++;
            progress.PercentComplete = Math.Min(100, produced * 100 / MaxTokens);
            progress.StatusDescription = $"{produced} of at most {MaxTokens} tokens";
            WriteProgress(progress);
        }
        try
        {
            var sampling = new SamplingParams { Temperature = Temperature, TopP = TopP, Seed = Seed };
            var result = new Generator(model.Model).Generate(prompt, MaxTokens, sampling, stop, OnToken, Cancellation);
            string text = tokenizer?.Decode(result.TokenIds, skipSpecialTokens: true) ?? "";
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            WriteObject(FseGeneration.From(result, model.Directory, model.Fse.ToString(), model.Backend.Name, text));
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the pipeline is stopping.
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, prompt));
        }
    }

    private bool HasTokenizer() => File.Exists(System.IO.Path.Combine(ModelDirectory, "tokenizer.json"));
}
