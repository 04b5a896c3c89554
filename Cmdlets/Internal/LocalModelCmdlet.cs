using System.Management.Automation;
using Fse.Kernels;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Tokenization;

namespace Fse.Cmdlets.Internal;

/// <summary>Where a local model runs.</summary>
public enum DeviceKind
{
    Auto,
    Cpu,
    Cuda,
}

/// <summary>
/// The shared parameters and plumbing of cmdlets that run a checkpoint in this process: -Model, -Device,
/// loading with errors as ErrorRecords, and cancellation from Ctrl+C.
/// </summary>
public abstract class LocalModelCmdlet : PSCmdlet
{
    private CancellationTokenSource? _cancel;

    /// <summary>A checkpoint directory (config.json, safetensors, optionally tokenizer.json).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "FullName")]
    [ValidateNotNullOrEmpty]
    public string Model { get; set; } = "";

    [Parameter]
    public DeviceKind Device { get; set; } = DeviceKind.Auto;

    protected CancellationToken Cancellation => _cancel!.Token;

    protected override void BeginProcessing() => _cancel = new CancellationTokenSource();

    protected override void StopProcessing() => _cancel?.Cancel();

    protected override void EndProcessing() => _cancel?.Dispose();

    /// <summary>The checkpoint directory -Model names: a path, or the name of a model shipped with the module ('default').</summary>
    protected string ModelDirectory
    {
        get
        {
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Model);
            return !Directory.Exists(path) && BundledModels.TryResolve(Model, out var bundled) ? bundled : path;
        }
    }

    /// <summary>Opens the model or writes a non-terminating error and returns null.</summary>
    protected LocalModel? OpenModel(FseMode fse)
    {
        try
        {
            return LocalModel.Open(ModelDirectory, fse, CreateBackend());
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, Model));
        }
        catch (NotSupportedException e)
        {
            WriteError(new ErrorRecord(e, "DeviceUnavailable", ErrorCategory.DeviceError, Device));
        }
        return null;
    }

    /// <summary>The checkpoint's tokenizer, or an error naming the directory when it has none.</summary>
    protected Tokenizer? OpenTokenizer()
    {
        try
        {
            return Tokenizer.Load(ModelDirectory);
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, Model));
            return null;
        }
    }

    private IBackend CreateBackend() => Devices.Create(Device.ToString());

    protected void WriteModelError(Exception e, string id, ErrorCategory category) => WriteError(new ErrorRecord(e, id, category, Model));
}
