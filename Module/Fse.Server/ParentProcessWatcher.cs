using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fse.Server;

/// <summary>Stops the server (gracefully) when the process that started it is gone, so no server outlives its session.</summary>
internal sealed class ParentProcessWatcher(int parentPid, IHostApplicationLifetime lifetime, ILogger logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (IsAlive(parentPid)) continue;
            logger.LogWarning("The parent process {Pid} has exited: shutting down.", parentPid);
            lifetime.StopApplication();
            return;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
