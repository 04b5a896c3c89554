using System.Text;
using System.Text.Json;
using Fse.Kernels;
using Fse.Kernels.Cpu;
using Fse.Runtime;
using Fse.Runtime.Inference;

namespace Fse.DeviceBench;

/// <summary>CUDA against the CPU reference on every HF parity fixture: logits per position and greedy continuations.</summary>
internal static class ParityRun
{
    public static (string Table, int Failures) Run(Func<IBackend> device, string fixtures)
    {
        var table = new StringBuilder("| fixture | FSE | max rel L2 vs CPU | bound | greedy identical | check |\n| --- | --- | ---: | ---: | --- | --- |\n");
        int failures = 0;
        foreach (var dir in Directory.EnumerateDirectories(fixtures).Order())
        {
            var name = Path.GetFileName(dir);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
            var ids = doc.RootElement.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var g = doc.RootElement.GetProperty("greedy");
            var prompt = g.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int n = g.GetProperty("new_ids").GetArrayLength();
            bool f32 = name.EndsWith("_f32", StringComparison.Ordinal);
            const double bound = 1e-3;   // issue 4: relative L2 1e-3 against the CPU; f32 fixtures must also give identical greedy tokens
            foreach (var fse in new[] { FseMode.Off, FseMode.On })
            {
                using var cpu = LocalModel.Open(dir, fse, new CpuBackend());
                using var gpu = LocalModel.Open(dir, fse, device());
                var a = new Generator(cpu.Model).Logits(ids);
                var b = new Generator(gpu.Model).Logits(ids);
                double worst = 0;
                for (int p = 0; p < ids.Length; p++) worst = Math.Max(worst, Measure.RelativeError(b[p], a[p]));
                var ga = new Generator(cpu.Model).Generate(prompt, n, SamplingParams.Greedy, []).TokenIds;
                var gb = new Generator(gpu.Model).Generate(prompt, n, SamplingParams.Greedy, []).TokenIds;
                bool same = ga.SequenceEqual(gb);
                bool ok = worst <= bound && (!f32 || same);
                if (!ok) failures++;
                table.AppendLine($"| {name} | {fse} | {worst:E2} | {bound:E0} | {(same ? "yes" : "NO")} | {(ok ? "ok" : "FAIL")} |");
            }
        }
        return (table.ToString(), failures);
    }
}
