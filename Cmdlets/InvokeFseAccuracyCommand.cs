using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using Fse.Client;
using Fse.Cmdlets.Internal;
using Fse.Eval;
using Fse.Eval.Prompting;
using Fse.Eval.Running;
using Fse.Eval.Tasks;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Checks a served model's accuracy with lm-eval's gsm8k semantics (or a task defined in a file) against any OpenAI-compatible server.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "FseAccuracy", DefaultParameterSetName = BuiltInSet)]
[OutputType(typeof(FseAccuracyResult), typeof(FseAccuracyItem))]
public sealed class InvokeFseAccuracyCommand : PSCmdlet
{
    private const string BuiltInSet = "BuiltIn";
    private const string FileSet = "TaskFile";

    /// <summary>The variable that holds the partial results of a run stopped with Ctrl+C.</summary>
    public const string PartialResultVariable = "FseAccuracyPartial";

    private CancellationTokenSource? _cts;
    private List<AccuracyPlan>? _plans;
    private int _progressId;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ServerTargetTransformation]
    [ValidateNotNull]
    public ServerTarget Server { get; set; } = null!;

    [Parameter(Position = 1, ParameterSetName = BuiltInSet)]
    [ArgumentCompleter(typeof(AccuracyTaskCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Task { get; set; } = ["gsm8k"];

    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    public string[] TaskFile { get; set; } = [];

    [Parameter]
    [ValidateRange(0, 64)]
    public int NumFewshot { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Limit { get; set; }

    [Parameter]
    [ValidateRange(1, 4096)]
    public int Concurrency { get; set; } = 8;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DataPath { get; set; }

    [Parameter]
    public long Seed { get; set; } = 1234;

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int MaxTokens { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Model { get; set; }

    [Parameter]
    [ValidateRange(0, 20)]
    public int MaxRetries { get; set; } = 3;

    [Parameter]
    [ValidateRange(1, 86_400)]
    public int TimeoutSec { get; set; } = 300;

    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void BeginProcessing() => _cts = new CancellationTokenSource();

    protected override void ProcessRecord()
    {
        _plans ??= PreparePlans();
        if (_plans.Count == 0) return;
        var ct = _cts!.Token;
        using var client = new OpenAiClient(Server.Endpoint);
        AccuracyServerInfo info;
        try
        {
            info = AccuracyServerInfo.ResolveAsync(client, Model, Server.Model, Server.Fse, Server.Device, ct).GetAwaiter().GetResult();
        }
        catch (OpenAiException e)
        {
            WriteError(AccuracyErrors.ServerUnavailable(e, Server));
            return;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        foreach (var plan in _plans)
        {
            if (ct.IsCancellationRequested) return;
            Run(client, plan, info, ct);
        }
    }

    protected override void StopProcessing() => _cts?.Cancel();

    protected override void EndProcessing() => DisposeCts();

    private void DisposeCts()
    {
        _cts?.Dispose();
        _cts = null;
    }

    private List<AccuracyPlan> PreparePlans()
    {
        var plans = new List<AccuracyPlan>();
        var dataPath = DataPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(DataPath);
        int? numFewshot = MyInvocation.BoundParameters.ContainsKey(nameof(NumFewshot)) ? NumFewshot : null;
        int? limit = MyInvocation.BoundParameters.ContainsKey(nameof(Limit)) ? Limit : null;
        foreach (var (task, origin) in LoadTasks())
        {
            try
            {
                plans.Add(AccuracyPlan.Prepare(task, dataPath, numFewshot, limit, Seed));
            }
            catch (EvalTaskException e)
            {
                WriteError(AccuracyErrors.FromTask(e, origin));
            }
        }
        return plans;
    }

    private IEnumerable<(EvalTaskDefinition Task, string Origin)> LoadTasks()
    {
        var tasks = new List<(EvalTaskDefinition, string)>();
        if (ParameterSetName == FileSet)
        {
            foreach (var file in TaskFile)
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(file);
                try { tasks.AddRange(EvalTaskParser.LoadFile(path).Select(t => (t, path))); }
                catch (EvalTaskException e) { WriteError(AccuracyErrors.FromTask(e, file)); }
            }
        }
        else
        {
            foreach (var name in Task.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                try { tasks.Add((EvalTaskParser.BuiltIn(name), name)); }
                catch (EvalTaskException e) { WriteError(AccuracyErrors.FromTask(e, name)); }
            }
        }
        return tasks;
    }

    private void Run(OpenAiClient client, AccuracyPlan plan, AccuracyServerInfo info, CancellationToken ct)
    {
        var options = new AccuracyRunOptions
        {
            Concurrency = Concurrency,
            MaxTokens = MyInvocation.BoundParameters.ContainsKey(nameof(MaxTokens)) ? MaxTokens : null,
            RequestSeed = Seed,
            MaxRetries = MaxRetries,
            RequestTimeout = TimeSpan.FromSeconds(TimeoutSec),
        };
        var runInfo = new AccuracyRunInfo
        {
            Server = Server.Endpoint.ToString(), Model = info.Model, Fse = info.Fse, Device = info.Device,
            Concurrency = Concurrency, MaxTokens = options.MaxTokens ?? plan.Task.MaxGenTokens,
        };
        var tally = new AccuracyTally([.. plan.Task.Filters.Select(f => f.Name)], plan.Items.Count);
        var outcomes = new List<AccuracyItemOutcome>();
        int progressId = ++_progressId;
        var activity = $"Invoke-FseAccuracy {plan.Task.Name} ({plan.NumFewshot}-shot) on {Server} ({info.Model})";
        // A fresh record per write: hosts and the Progress stream may keep the ones they were given.
        ProgressRecord Progress() => new(progressId, activity, tally.Describe()) { PercentComplete = tally.PercentComplete };
        var clock = Stopwatch.StartNew();
        var run = new AccuracyRunner(client, options).RunAsync(plan, info.Model, ct).GetAsyncEnumerator(CancellationToken.None);
        try
        {
            WriteProgress(Progress());
            while (run.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                var outcome = run.Current;
                outcomes.Add(outcome);
                tally.Add(outcome);
                if (outcome.Failed) WriteError(AccuracyErrors.ItemFailed(plan.Task.Name, outcome));
                if (Detailed)
                    foreach (var item in AccuracySummary.Items(plan, runInfo, outcome)) WriteObject(item);
                WriteProgress(Progress());
            }
        }
        catch (PipelineStoppedException)
        {
            KeepPartial(plan, runInfo, outcomes, clock.Elapsed);
            throw;
        }
        finally
        {
            run.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        if (ct.IsCancellationRequested)
        {
            KeepPartial(plan, runInfo, outcomes, clock.Elapsed);
            return;
        }
        var done = Progress();
        done.RecordType = ProgressRecordType.Completed;
        WriteProgress(done);
        var results = AccuracySummary.Results(plan, runInfo, outcomes, interrupted: false, clock.Elapsed);
        if (results[0].Failed > 0)
            WriteWarning($"{plan.Task.Name}: {results[0].Failed} of {plan.Items.Count} items got no answer after {MaxRetries} retries and are not scored; N counts the {results[0].N} that were.");
        foreach (var r in results) WriteObject(r);
    }

    /// <summary>
    /// After Ctrl+C PowerShell accepts no more output from this command, so the results of the items that finished
    /// go to a global variable and the host is told where (a warning written straight to the host UI).
    /// </summary>
    private void KeepPartial(AccuracyPlan plan, AccuracyRunInfo runInfo, IReadOnlyCollection<AccuracyItemOutcome> outcomes, TimeSpan elapsed)
    {
        var results = AccuracySummary.Results(plan, runInfo, outcomes, interrupted: true, elapsed);
        SessionState.PSVariable.Set("global:" + PartialResultVariable, results.ToArray());
        var scores = string.Join(", ", results.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Filter} {r.Score:0.0000} ± {r.Stderr:0.0000}")));
        Host?.UI?.WriteWarningLine(
            $"Invoke-FseAccuracy was stopped: {plan.Task.Name} scored {outcomes.Count(o => !o.Failed)} of {plan.Items.Count} items ({scores}). " +
            $"Those results (Interrupted = True, N = items scored) are in ${PartialResultVariable}.");
    }
}
