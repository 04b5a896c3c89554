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
    private static readonly TimeSpan ProgressPeriod = TimeSpan.FromMilliseconds(200);
    private CancellationTokenSource _stop = new();

    /// <summary>The server: a URL (http://host:port, with or without /v1) or an FseServer handle.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ServerTargetTransformation]
    [ValidateNotNull]
    public ServerTarget Server { get; set; } = null!;

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
    [ValidateRange(1, int.MaxValue)]
    public int NumPrompts { get; set; }

    [Parameter(ParameterSetName = PerConcurrencySet)]
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

    protected override void ProcessRecord()
    {
        var settings = Settings();
        using var client = new OpenAiClient(Server.Endpoint);
        var target = new BenchmarkServer(Server.Endpoint, Server.Model, Server.Fse, Server.Device);
        var sweep = new BenchmarkSweep(client, target, settings);
        var progress = new ProgressWriter(this, Server.ToString(), settings.Grid.Count);
        using var marshaller = new PipelineMarshaller();
        marshaller.Start(async m =>
        {
            var reporter = new Progress(m);
            await foreach (var result in sweep.RunAsync(reporter, _stop.Token).ConfigureAwait(false)) m.Post(result);
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
            WriteError(new ErrorRecord(e, "BenchmarkSetupFailed", ErrorCategory.InvalidArgument, Server));
        }
        catch (OpenAiException e)
        {
            drained = true;
            WriteError(new ErrorRecord(e, "ServerUnreachable", e.StatusCode is null ? ErrorCategory.ConnectionError : ErrorCategory.InvalidResult, Server));
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
                ParameterSetName == FixedCountSet ? NumPrompts : null,
                ParameterSetName == PerConcurrencySet ? PromptsPerConcurrency : null);
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
