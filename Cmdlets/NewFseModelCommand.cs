using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Writes a random-weight checkpoint with the exact geometry of a named model preset.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "FseModel", SupportsShouldProcess = true)]
[OutputType(typeof(FseModelInfo))]
public sealed class NewFseModelCommand : PSCmdlet, IDisposable
{
    private CancellationTokenSource? _cancel;

    /// <summary>The preset name; the ValidateSet mirrors ModelPresets.Names (a Pester test keeps them equal).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("qwen3-next-80b-a3b", "qwen1.5-moe-a2.7b", "glm-4.5-air", "tiny-qwen3-next", "tiny-qwen2-moe", "tiny-glm4-moe")]
    public string Preset { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Destination")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 1000)]
    public int? Layers { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int Seed { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("bfloat16", "float16", "float32")]
    public string? DType { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Tokenizer { get; set; }

    /// <summary>Writes no tokenizer: the checkpoint then works on token ids only.</summary>
    [Parameter]
    public SwitchParameter NoTokenizer { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing() => _cancel = new CancellationTokenSource();

    protected override void StopProcessing() => _cancel?.Cancel();

    protected override void ProcessRecord()
    {
        var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var preset = ModelPresets.Get(Preset);
        var dtype = DType ?? preset.DType;
        ModelConfig config;
        try
        {
            config = preset.Config(Layers, dtype);
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, Preset));
            return;
        }

        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any() && !Force)
        {
            WriteError(new ErrorRecord(
                new IOException($"'{directory}' is not empty; use -Force to write the checkpoint into it (config.json and model*.safetensors there are replaced)."),
                "DirectoryNotEmpty", ErrorCategory.ResourceExists, directory));
            return;
        }
        if (File.Exists(directory))
        {
            WriteError(new ErrorRecord(new IOException($"'{directory}' is a file, not a directory."), "PathIsAFile", ErrorCategory.InvalidArgument, directory));
            return;
        }

        long bytes = ParameterCount.Bytes(config);
        var action = $"Write {preset.Name} ({config.NumLayers} layers, {ParameterCount.Total(config):N0} parameters, {bytes / 1e6:N1} MB of {dtype}) with random weights (seed {Seed})";
        if (!ShouldProcess(directory, action)) return;

        string? tokenizer = null;
        try
        {
            if (Tokenizer is not null)
            {
                // Checked before any weight is written: a tokenizer that cannot fit must not cost a long write first.
                tokenizer = TokenizerImport.ResolveTokenizerPath(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Tokenizer));
                TokenizerImport.EnsureFits(tokenizer, config.VocabSize);
            }
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, Tokenizer));
            return;
        }

        PresetWriteResult result;
        try
        {
            result = WriteWithProgress(preset, directory, dtype);
        }
        catch (OperationCanceledException)
        {
            return; // Ctrl+C: the writer removed its files; the pipeline is stopping.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, "CheckpointWriteFailed", ErrorCategory.WriteError, directory));
            return;
        }
        WriteVerbose($"Wrote {result.Parameters:N0} parameters ({result.Bytes / 1e6:N1} MB) to {directory} in {result.Elapsed.TotalSeconds:N2} s: {result.MegabytesPerSecond:N0} MB/s.");

        try
        {
            if (tokenizer is not null)
            {
                foreach (var f in TokenizerImport.CopyInto(tokenizer, directory, config.VocabSize)) WriteVerbose($"Copied {f}.");
            }
            else if (NoTokenizer)
            {
                WarnAboutStaleTokenizer(directory, config.VocabSize);
            }
            else
            {
                Fse.Runtime.Tokenization.BpeTrainer.WriteBuiltIn(directory, config.VocabSize);
                WriteVerbose($"Wrote the built-in byte-level BPE tokenizer with {config.VocabSize} tokens.");
            }
            WriteObject(FseModelInfo.Load(directory));
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, directory));
        }
    }

    /// <summary>Runs the writer on a worker thread; this (pipeline) thread alone writes progress records.</summary>
    private PresetWriteResult WriteWithProgress(ModelPreset preset, string directory, string dtype)
    {
        var latest = new LatestProgress();
        var token = _cancel!.Token;
        var work = Task.Run(() => PresetWriter.Write(preset.Name, directory, Layers, Seed, dtype, latest, token), token);
        var record = new ProgressRecord(1, $"New-FseModel {preset.Name}", $"Writing {directory}");
        while (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(250))
        {
            var p = latest.Value;
            record.PercentComplete = (int)(p.Fraction * 100);
            record.StatusDescription = $"{p.BytesWritten / 1e6:N0} of {p.TotalBytes / 1e6:N0} MB";
            WriteProgress(record);
        }
        record.RecordType = ProgressRecordType.Completed;
        WriteProgress(record);
        return work.GetAwaiter().GetResult(); // rethrows the writer's own exception, not an AggregateException
    }

    private void WarnAboutStaleTokenizer(string directory, int vocabSize)
    {
        var existing = System.IO.Path.Combine(directory, TokenizerImport.TokenizerFileName);
        if (!File.Exists(existing)) return;
        try
        {
            var (maxId, _) = TokenizerImport.MaxTokenId(existing);
            if (maxId >= vocabSize)
                WriteWarning($"'{existing}' was left from before and has ids up to {maxId}, beyond this model's vocab_size {vocabSize}; remove it or pass -Tokenizer.");
        }
        catch (CheckpointException e)
        {
            WriteWarning($"'{existing}' was left from before and cannot be read: {e.Message}");
        }
    }

    public void Dispose() => _cancel?.Dispose();

    /// <summary>Keeps the newest report from the writer's threads for the pipeline thread to show.</summary>
    private sealed class LatestProgress : IProgress<PresetWriteProgress>
    {
        private long _written;
        private long _total;

        public PresetWriteProgress Value => new(Interlocked.Read(ref _written), Interlocked.Read(ref _total));

        public void Report(PresetWriteProgress value)
        {
            Interlocked.Exchange(ref _total, value.TotalBytes);
            long seen;
            do seen = Interlocked.Read(ref _written);
            while (value.BytesWritten > seen && Interlocked.CompareExchange(ref _written, value.BytesWritten, seen) != seen);
        }
    }
}
