using System.Collections.Concurrent;
using System.Management.Automation;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// The servers this PowerShell session started or attached to. Servers it started are stopped when the module is
/// removed (<see cref="ServerModuleCleanup"/>) or the process exits; fse-server also exits by itself when its parent
/// process is gone (--parent-pid), should the session be killed outright.
/// </summary>
internal static class ServerRegistry
{
    private static readonly ConcurrentDictionary<int, FseServer> Servers = new();
    private static int _lastId;
    private static int _exitHooked;

    /// <summary>How long a session's end waits for each server's graceful stop before killing it.</summary>
    public static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(5);

    public static int NextId() => Interlocked.Increment(ref _lastId);

    public static void Add(FseServer server)
    {
        Servers[server.Id] = server;
        if (Interlocked.Exchange(ref _exitHooked, 1) == 0) AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    }

    public static IReadOnlyList<FseServer> All => Servers.Values.OrderBy(s => s.Id).ToArray();

    public static bool TryGet(int id, out FseServer server) => Servers.TryGetValue(id, out server!);

    public static void Remove(FseServer server) => Servers.TryRemove(server.Id, out _);

    /// <summary>Stops every started server (in parallel, each SIGTERM then kill) and forgets all.</summary>
    public static void StopAll()
    {
        var all = Servers.Values.ToArray();
        Servers.Clear();
        Parallel.ForEach(all, s =>
        {
            if (s.Process is not { } p) return;
            s.Stopped = true;
            try
            {
                p.Stop(CleanupTimeout);
                p.Dispose();
            }
            catch (Exception) { }   // best effort at the end of a session
        });
    }
}

/// <summary>Remove-Module Fse stops the servers the session started.</summary>
public sealed class ServerModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => ServerRegistry.StopAll();
}
