using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fse.Eval.Arithmetic;
using Fse.Eval.Prompting;
using Fse.Eval.Tasks;
using Fse.Runtime.Tokenization;
using Fse.Tools.ArithData;

// Writes everything tools/train/train.py reads, into one folder:
//   train.jsonl.gz          question, answer (the train split's stream for --train-seed)
//   test.jsonl              the built-in arith task's held-out documents with their prompts as the runtime sends them
//                           (the task's num_fewshot and zero-shot), the prompt ids by Fse's tokenizer, the reference
//   tokenizer.json, tokenizer_config.json   byte-level BPE trained by Fse.Runtime's BpeTrainer on training text
//   data.json               ids (eos, pad, the "\n\n" separator), counts, seeds
Options options;
try { options = Options.Parse(args); }
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
Directory.CreateDirectory(options.Out);
var json = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

var train = ArithmeticProblems.Take(ArithmeticSplit.Train, options.TrainSeed, options.TrainCount);
var task = EvalTaskParser.BuiltIn("arith");
var generated = task.Generated ?? throw new InvalidOperationException("The built-in arith task has no generated data.");
var test = ArithmeticProblems.Take(ArithmeticSplit.Test, generated.Seed, generated.TestSize);
var trainKeys = train.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
var overlap = test.Count(p => trainKeys.Contains(p.Key));
if (overlap > 0) throw new InvalidOperationException($"{overlap} test problems share a key with the training data.");

// The tokenizer learns from text laid out as the model will see it: few-shot blocks joined by blank lines.
var corpus = train.Take(options.TokenizerProblems).Chunk(4)
    .Select(block => string.Join("\n\n", block.Select(p => $"Question: {p.Question}\nAnswer: {p.Answer}")));
var bpe = new BpeTrainer(options.VocabSize).Train(corpus);
bpe.Write(options.Out);
var tokenizer = Tokenizer.Load(options.Out);
int eos = tokenizer.TokenToId("<|im_end|>") ?? throw new InvalidOperationException("<|im_end|> is missing.");
int pad = tokenizer.TokenToId("<|endoftext|>") ?? throw new InvalidOperationException("<|endoftext|> is missing.");
var separator = tokenizer.Encode("\n\n");
if (separator.Length != 1) throw new InvalidOperationException($"\"\\n\\n\" is {separator.Length} tokens; the training script expects one.");

// train.py tokenizes prompt and answer apart and joins the ids: that must equal tokenizing the whole text.
int checkedSequences = 0;
foreach (var block in train.Take(2000).Chunk(3))
{
    var whole = new List<int>();
    var parts = new List<int>();
    var text = new StringBuilder();
    foreach (var p in block)
    {
        if (text.Length > 0) { text.Append("\n\n"); parts.AddRange(separator); }
        text.Append($"Question: {p.Question}\nAnswer: {p.Answer}");
        parts.AddRange(tokenizer.Encode($"Question: {p.Question}\nAnswer:"));
        parts.AddRange(tokenizer.Encode(" " + p.Answer));
    }
    whole.AddRange(tokenizer.Encode(text.ToString()));
    if (!whole.SequenceEqual(parts)) throw new InvalidOperationException($"Tokenizing in parts differs from tokenizing the whole for: {text}");
    checkedSequences++;
}

using (var file = File.Create(Path.Combine(options.Out, "train.jsonl.gz")))
using (var gzip = new GZipStream(file, CompressionLevel.SmallestSize))
using (var writer = new StreamWriter(gzip, new UTF8Encoding(false)))
{
    foreach (var p in train)
        writer.Write(JsonSerializer.Serialize(new { question = p.Question, answer = p.Answer, template = p.Template }, json) + "\n");
}

var fewshotPlan = AccuracyPlan.Prepare(task);
var zeroShotPlan = AccuracyPlan.Prepare(task, numFewshot: 0);
int maxPrompt = 0, maxAnswer = 0;
using (var writer = new StreamWriter(Path.Combine(options.Out, "test.jsonl"), false, new UTF8Encoding(false)))
{
    for (int i = 0; i < test.Count; i++)
    {
        var p = test[i];
        var shots = tokenizer.Encode(fewshotPlan.Items[i].Prompt);
        var zero = tokenizer.Encode(zeroShotPlan.Items[i].Prompt);
        maxPrompt = Math.Max(maxPrompt, shots.Length);
        maxAnswer = Math.Max(maxAnswer, tokenizer.Encode(" " + p.Answer).Length);
        writer.Write(JsonSerializer.Serialize(new
        {
            index = i, template = p.Template, question = p.Question, answer = p.Answer, reference = fewshotPlan.Items[i].Reference,
            prompt = fewshotPlan.Items[i].Prompt, prompt_ids = shots, prompt0 = zeroShotPlan.Items[i].Prompt, prompt0_ids = zero,
        }, json) + "\n");
    }
}

var meta = new
{
    generator = GeneratedDocuments.Arithmetic,
    train_seed = options.TrainSeed,
    train_count = train.Count,
    test_seed = generated.Seed,
    test_count = test.Count,
    task_num_fewshot = task.NumFewshot,
    vocab_size = tokenizer.VocabSize,
    corpus_merges = bpe.CorpusMerges,
    eos_token_id = eos,
    pad_token_id = pad,
    separator_token_id = separator[0],
    until = task.Until,
    max_gen_toks = task.MaxGenTokens,
    max_prompt_tokens = maxPrompt,
    max_answer_tokens = maxAnswer,
    templates = ArithmeticProblems.Templates,
};
File.WriteAllText(Path.Combine(options.Out, "data.json"), JsonSerializer.Serialize(meta, new JsonSerializerOptions(json) { WriteIndented = true }) + "\n");

Console.WriteLine($"train: {train.Count} problems (seed {options.TrainSeed}, {trainKeys.Count} distinct keys); test: {test.Count} (seed {generated.Seed}), no key shared");
Console.WriteLine($"tokenizer: {tokenizer.VocabSize} ids, {bpe.CorpusMerges} merges learned from {options.TokenizerProblems} problems; eos {eos}, pad {pad}, \"\\n\\n\" {separator[0]}; {checkedSequences} sequences tokenize the same in parts");
Console.WriteLine($"longest test prompt ({task.NumFewshot}-shot): {maxPrompt} tokens; longest answer: {maxAnswer} tokens");
Console.WriteLine($"wrote {options.Out}");
return 0;
