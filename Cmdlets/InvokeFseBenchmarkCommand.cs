using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using Fse.Bench;
using Fse.Client;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Runs a serving benchmark grid (vllm bench serve semantics) against an OpenAI-compatible server.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "FseBenchmark", DefaultParameterSetName = PerConcurrencySet)]
[OutputType(typeof(FseBenchmarkResult))]
public sealed class InvokeFseBenchmarkCommand : PSCmdlet
{
    private const string PerConcurrencySet = "PromptsPerConcurrency";
    private const string FixedCountSet = "NumPrompts";
    private const string ModelPerConcurrencySet = "ModelPromptsPerConcurrency";
    private const string ModelFixedCountSet = "ModelNumPrompts";
    private static readonly TimeSpan ProgressPeriod = TimeSpan.FromMilliseconds(200);
    private CancellationTokenSource _stop = new();

    /// <summary>The server: a URL (http://host:port, with or without /v1) or an FseServer handle.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PerConcurrencySet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = FixedCountSet)]
    [ServerTargetTransformation]
    [ValidateNotNull]
    public ServerTarget Server { get; set; } = null!;

    /// <summary>Instead of -Server: start fse-server on this model (a checkpoint directory or a preset) once per -Fse mode.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ModelPerConcurrencySet)]
    [Parameter(Mandatory = true, ParameterSetName = ModelFixedCountSet)]
    [ValidateNotNullOrEmpty]
    public string Model { get; set; } = "";

    /// <summary>With -Model: the FSE modes to start a server for, in order (default Off, On).</summary>
    [Parameter(ParameterSetName = ModelPerConcurrencySet)]
    [Parameter(ParameterSetName = ModelFixedCountSet)]
    [ValidateNotNullOrEmpty]
    public global::Fse.Runtime.FseMode[] Fse { get; set; } = [global::Fse.Runtime.FseMode.Off, global::Fse.Runtime.FseMode.On];

    [Parameter(ParameterSetName = ModelPerConcurrencySet)]
    [Parameter(ParameterSetName = ModelFixedCountSet)]
    [ValidateSet("Auto", "Cpu", "Cuda", IgnoreCase = true)]
    public string Device { get; set; } = "Auto";

    /// <summary>With -Model: more fse-server options (see fse-server --help).</summary>
    [Parameter(ParameterSetName = ModelPerConcurrencySet)]
    [Parameter(ParameterSetName = ModelFixedCountSet)]
    [AllowEmptyCollection]
    public string[] ServerArgumentList { get; set; } = [];

    [Parameter]
    [Alias("ISL")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, int.MaxValue)]
    public int[] InputLength { get; set; } = [1000];

    [Parameter]
    [Alias("OSL")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, int.MaxValue)]
    public int[] OutputLength { get; set; } = [100];

    [Parameter]
    [Alias("MaxConcurrency", "MC")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, int.MaxValue)]
    public int[] Concurrency { get; set; } = [4, 16, 64];

    [Parameter]
    public GridPairing Pairing { get; set; } = GridPairing.Zip;

    [Parameter(Mandatory = true, ParameterSetName = FixedCountSet)]
    [Parameter(Mandatory = true, ParameterSetName = ModelFixedCountSet)]
    [ValidateRange(1, int.MaxValue)]
    public int NumPrompts { get; set; }

    [Parameter(ParameterSetName = PerConcurrencySet)]
    [Parameter(ParameterSetName = ModelPerConcurrencySet)]
    [ValidateRange(1, int.MaxValue)]
    public int PromptsPerConcurrency { get; set; } = 10;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public double[] RequestRate { get; set; } = [double.PositiveInfinity];

    [Parameter]
    public double Burstiness { get; set; } = 1.0;

    [Parameter]
    [ValidateRange(0.0, 0.999999)]
    public double RangeRatio { get; set; }

    [Parameter]
    public int Seed { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int WarmupRequests { get; set; }

    [Parameter]
    public string? Label { get; set; }

    [Parameter]
    [ValidateRange(2, int.MaxValue)]
    public int VocabSize { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    protected override void BeginProcessing() => _stop = new CancellationTokenSource();

    // Not disposed in EndProcessing: a stop may still arrive after it, and this source holds no timer.
    protected override void StopProcessing() => _stop.Cancel();

    private bool StartsServers => ParameterSetName is ModelPerConcurrencySet or ModelFixedCountSet;

    protected override void ProcessRecord()
    {
        var settings = Settings();
        using var client = StartsServers ? null : new OpenAiClient(Server.Endpoint);
        Func<IProgress<BenchmarkProgress>, CancellationToken, IAsyncEnumerable<FseBenchmarkResult>> run;
        string what;
        int points;
        if (StartsServers)
        {
            var model = ResolveModel();
            var modes = Fse.Select(f => f.ToString()).ToArray();
            var sweep = new FseModeSweep(new ServerBenchLauncher(), model, modes, Device.ToLowerInvariant(),
                new ServerLaunchOptions { ExtraArguments = ServerArgumentList }, settings);
            run = sweep.RunAsync;
            what = $"{Model} (FSE {string.Join(", ", modes)})";
            points = settings.Grid.Count * modes.Length;
        }
        else
        {
            var sweep = new BenchmarkSweep(client!, new BenchmarkServer(Server.Endpoint, Server.Model, Server.Fse, Server.Device), settings);
            run = sweep.RunAsync;
            what = Server.ToString();
            points = settings.Grid.Count;
        }
        var progress = new ProgressWriter(this, what, points);
        using var marshaller = new PipelineMarshaller();
        marshaller.Start(async m =>
        {
            var reporter = new Progress(m);
            await foreach (var result in run(reporter, _stop.Token).ConfigureAwait(false)) m.Post(result);
        });
        bool drained = false;
        try
        {
            marshaller.Drain(item =>
            {
                switch (item)
                {
                    case BenchmarkProgress p:
                        progress.Write(p);
                        break;
                    case FseBenchmarkResult r:
                        progress.PointDone();
                        if (r.Failed > 0)
                            WriteWarning($"{Describe(r)}: {r.Failed} of {r.NumPrompts} requests failed: {r.Errors.Split('\n')[0]}");
                        WriteObject(r);
                        break;
                }
            });
            drained = true;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            drained = true;   // Ctrl+C: every finished point was written; the running one is abandoned
        }
        catch (BenchmarkSetupException e)
        {
            drained = true;
            WriteError(new ErrorRecord(e, "BenchmarkSetupFailed", ErrorCategory.InvalidArgument, StartsServers ? Model : Server));
        }
        catch (OpenAiException e)
        {
            drained = true;
            WriteError(new ErrorRecord(e, "ServerUnreachable", e.StatusCode is null ? ErrorCategory.ConnectionError : ErrorCategory.InvalidResult, StartsServers ? Model : Server));
        }
        catch (ServerStartException e)
        {
            drained = true;
            WriteError(e.ToErrorRecord(Model));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            drained = true;
            WriteError(new ErrorRecord(e, "OutFileWriteFailed", ErrorCategory.WriteError, settings.OutFile));
        }
        finally
        {
            if (!drained)
            {
                // The pipeline stopped under us (Ctrl+C, Select-Object -First): stop the sweep before the client goes.
                _stop.Cancel();
                marshaller.WaitQuietly();
            }
            progress.Complete();
        }
    }

    private BenchmarkSettings Settings()
    {
        try
        {
            var grid = BenchmarkGrid.Build(InputLength, OutputLength, Pairing, Concurrency, RequestRate,
                ParameterSetName is FixedCountSet or ModelFixedCountSet ? NumPrompts : null,
                ParameterSetName is PerConcurrencySet or ModelPerConcurrencySet ? PromptsPerConcurrency : null);
            if (!(Burstiness > 0)) throw new ArgumentOutOfRangeException(nameof(Burstiness), Burstiness, "The burstiness must be positive.");
            return new BenchmarkSettings
            {
                Grid = grid,
                Burstiness = Burstiness,
                RangeRatio = RangeRatio,
                Seed = Seed,
                WarmupRequests = WarmupRequests,
                Label = Label,
                VocabSize = MyInvocation.BoundParameters.ContainsKey(nameof(VocabSize)) ? VocabSize : null,
                OutFile = OutFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile),
            };
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidBenchmarkGrid", ErrorCategory.InvalidArgument, null));
            throw;   // not reached
        }
    }

    /// <summary>A directory (relative or PowerShell path) becomes a full path; anything else is a preset name.</summary>
    private string ResolveModel()
    {
        var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Model);
        return Directory.Exists(resolved) ? resolved : Model;
    }

    private static string Describe(FseBenchmarkResult r) =>
        $"ISL {r.InputLength} OSL {r.OutputLength} MC {r.MaxConcurrency}" +
        (double.IsPositiveInfinity(r.RequestRate) ? "" : $" rate {r.RequestRate.ToString("0.###", CultureInfo.InvariantCulture)}/s");

    /// <summary>Forwards the engine's progress (worker threads) to the marshaller.</summary>
    private sealed class Progress(PipelineMarshaller marshaller) : IProgress<BenchmarkProgress>
    {
        public void Report(BenchmarkProgress value) => marshaller.Post(value);
    }

    /// <summary>Two progress bars on the pipeline thread: the sweep's points and the running point's requests.</summary>
    private sealed class ProgressWriter(Cmdlet cmdlet, string server, int points)
    {
        private const int SweepId = 1;
        private const int PointId = 2;
        private readonly Stopwatch _sinceWrite = Stopwatch.StartNew();
        private BenchmarkPhase? _lastPhase;
        private int _done;
        private bool _written;

        public void Write(BenchmarkProgress p)
        {
            if (p.Phase == _lastPhase && _sinceWrite.Elapsed < ProgressPeriod) return;
            _lastPhase = p.Phase;
            _sinceWrite.Restart();
            _written = true;
            cmdlet.WriteProgress(new ProgressRecord(SweepId, $"Invoke-FseBenchmark {server}", $"Point {p.PointIndex + 1} of {p.PointCount}: {p.Point}")
            {
                PercentComplete = Math.Clamp(_done * 100 / Math.Max(1, points), 0, 100),
            });
            string status = p.Phase switch
            {
                BenchmarkPhase.PreparingPrompts => "Preparing prompts",
                BenchmarkPhase.WarmingUp => "Warming up",
                _ => $"{p.RequestsDone} of {p.RequestsTotal} requests done" + (p.RequestsFailed > 0 ? $" ({p.RequestsFailed} failed)" : "") +
                     $", {p.LiveOutputTokensPerSecond.ToString("0", CultureInfo.InvariantCulture)} output tok/s",
            };
            cmdlet.WriteProgress(new ProgressRecord(PointId, "Requests", status)
            {
                ParentActivityId = SweepId,
                PercentComplete = Math.Clamp(p.RequestsDone * 100 / Math.Max(1, p.RequestsTotal), 0, 100),
            });
        }

        public void PointDone() => _done++;

        public void Complete()
        {
            if (!_written) return;
            try
            {
                cmdlet.WriteProgress(new ProgressRecord(PointId, "Requests", "Done") { ParentActivityId = SweepId, RecordType = ProgressRecordType.Completed });
                cmdlet.WriteProgress(new ProgressRecord(SweepId, $"Invoke-FseBenchmark {server}", "Done") { RecordType = ProgressRecordType.Completed });
            }
            catch (PipelineStoppedException) { }
        }
    }
}
