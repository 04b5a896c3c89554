using System.Globalization;

namespace Fse.Bench.Tests;

/// <summary>
/// <c>dotnet Fse.Bench.Tests.dll serve [--ttft-ms 200] [--gap-ms 40] [--usage-delay-ms 0] [--no-tokenize]
/// [--fail-every 0] [--vocab 1000|none] [--fse on] [--device cpu-scripted|none]</c> runs the scripted server for the Pester
/// tests and the client-overhead benchmark: it prints <c>LISTENING &lt;url&gt;</c> and serves until its standard
/// input closes. The test host never calls this (xUnit tests run through the test platform).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "serve")
        {
            Console.Error.WriteLine("usage: Fse.Bench.Tests serve [--ttft-ms N] [--gap-ms N] [--usage-delay-ms N] [--no-tokenize] [--fail-every N] [--vocab N|none] [--fse on|off|none] [--device NAME|none]");
            return 2;
        }
        var script = new BenchServerScript();
        for (int i = 1; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Ms() => double.Parse(Next(), CultureInfo.InvariantCulture);
            script = args[i] switch
            {
                "--ttft-ms" => script with { FirstTokenDelay = TimeSpan.FromMilliseconds(Ms()) },
                "--gap-ms" => script with { TokenGap = TimeSpan.FromMilliseconds(Ms()) },
                "--usage-delay-ms" => script with { UsageDelay = TimeSpan.FromMilliseconds(Ms()) },
                "--no-tokenize" => script with { OfferTokenize = false },
                "--fail-every" => script with { FailEvery = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--vocab" => script with { VocabSize = Next() is var v && v == "none" ? null : int.Parse(v, CultureInfo.InvariantCulture) },
                "--fse" => script with { Fse = Next() is var f && f == "none" ? null : f },
                "--device" => script with { Device = Next() is var d && d == "none" ? null : d },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        await using var server = await BenchServer.StartAsync(script);
        Console.WriteLine($"LISTENING {server.Url}");
        Console.Out.Flush();
        await Task.Run(() => { while (Console.In.ReadLine() is not null) { } });
        return 0;
    }
}
