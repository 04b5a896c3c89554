using System.Globalization;

namespace Fse.Tools.ArithData;

/// <summary>The command line: <c>ArithData --out DIR [--train-count N] [--train-seed S] [--vocab V] [--tokenizer-problems N]</c>.</summary>
internal sealed record Options(string Out, int TrainCount, long TrainSeed, int VocabSize, int TokenizerProblems)
{
    public const string Usage =
        "usage: ArithData --out DIR [--train-count 300000] [--train-seed 1] [--vocab 1024] [--tokenizer-problems 20000]";

    public static Options Parse(string[] args)
    {
        string? output = null;
        int trainCount = 300_000, vocab = 1024, tokenizerProblems = 20_000;
        long trainSeed = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--out": output = Value(); break;
                case "--train-count": trainCount = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--train-seed": trainSeed = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--vocab": vocab = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--tokenizer-problems": tokenizerProblems = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.\n{Usage}");
            }
        }
        if (output is null) throw new ArgumentException($"--out is required.\n{Usage}");
        if (trainCount < 1 || tokenizerProblems < 1) throw new ArgumentException("Counts must be at least 1.");
        return new Options(output, trainCount, trainSeed, vocab, tokenizerProblems);
    }
}
