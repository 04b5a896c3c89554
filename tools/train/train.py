#!/usr/bin/env python3
"""Train Fse's embedded default model: a small qwen3_next MoE with a shared expert, on generated arithmetic word problems.

Runs on the GPU machine (Python 3.12, torch 2.11, transformers 5.17, tokenizers; no network). Reads the folder that
`dotnet tools/train/ArithData/.../ArithData.dll --out DIR` writes:

  train.jsonl.gz                   question, answer (the train split of Fse.Eval.Arithmetic.ArithmeticProblems)
  test.jsonl                       the built-in arith task's held-out items: prompts exactly as Fse builds them
                                   (the task's num_fewshot, and zero-shot), their ids by Fse's tokenizer, the reference
  tokenizer.json, tokenizer_config.json   the BPE tokenizer (Fse.Runtime.Tokenization.BpeTrainer)
  data.json                        eos / pad / "\\n\\n" separator ids, the task's stop strings and max_gen_toks

Training sequences are few-shot blocks as the arith task's prompts lay them out: 1 to 3 problems
"Question: q\\nAnswer: a" joined by "\\n\\n", the last followed by <|im_end|>. The loss covers the answers (with the
separator or eos after each) and the "Question:" that opens each later problem, not the questions themselves. AdamW,
bf16 autocast, linear warm-up then cosine decay; python, numpy and torch are seeded, and torch runs in deterministic
mode where it can.

The number of steps is --steps, or, with --steps 0, what fits --budget-seconds at the speed measured over the first
steps (the script prints the number: pass it as --steps to repeat the run). After training, the model is saved in
bfloat16 with save_pretrained (hub layout, tied embeddings), with the tokenizer files and generation_config.json,
reloaded from that folder in float32, and evaluated with greedy HF generate on the held-out prompts (each continuation
cut at the task's stop strings, as the server does): strict-match and flexible-extract accuracy for the task's
few-shot prompts, for zero-shot prompts, and for the few-shot prompts with every shared expert's output zeroed (the
bug class of SEMANTICS.md section 2). A table ends the output.

Usage:
  python3 train.py --data DIR --out DIR [--steps N | --budget-seconds S] [--batch 256] [--lr 2e-3] [--seed 1234]
  python3 train.py --data DIR --out /tmp/smoke --steps 20 --eval-limit 16      # a smoke run of every stage
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import argparse
import gzip
import json
import math
import random
import re
import shutil
import sys
import time

# Imported in main(), so that --help and py_compile work without them.
np = None
torch = None

ARCH = dict(
    hidden_size=256,
    intermediate_size=512,  # unused: every layer is MoE (kept valid for the config class)
    num_hidden_layers=4,
    layer_types=["linear_attention", "full_attention", "linear_attention", "full_attention"],
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=32,
    rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5},
    linear_conv_kernel_dim=4,
    linear_key_head_dim=32,
    linear_value_head_dim=32,
    linear_num_key_heads=2,
    linear_num_value_heads=4,
    num_experts=8,
    num_experts_per_tok=2,
    norm_topk_prob=True,
    moe_intermediate_size=64,
    shared_expert_intermediate_size=256,  # 4 FSE slots of the routed width; twice the routed experts' joint width
    decoder_sparse_step=1,
    mlp_only_layers=[],
    rms_norm_eps=1e-6,
    max_position_embeddings=4096,
    tie_word_embeddings=True,
    router_aux_loss_coef=0.01,
    initializer_range=0.02,
)

SHOTS_WEIGHTS = (0.4, 0.3, 0.3)  # P(1, 2, 3 problems in a training sequence)
STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
IGNORE = [re.compile(p) for p in (r",", r"\$", r"(?s).*#### ", r"\.$")]


def log(message: str = ""):
    print(message, flush=True)


def die(message: str):
    print(f"train.py: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the folder ArithData wrote")
    p.add_argument("--out", required=True, help="the model folder to write (replaced)")
    p.add_argument("--steps", type=int, default=0, help="optimizer steps; 0 = fit --budget-seconds")
    p.add_argument("--budget-seconds", type=float, default=200.0, help="training time when --steps is 0")
    p.add_argument("--batch", type=int, default=256, help="sequences per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--eval-limit", type=int, default=0, help="evaluate only the first N held-out items (0 = all)")
    p.add_argument("--eval-batch", type=int, default=128)
    return p.parse_args()


def seed_everything(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


# ----------------------------------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------------------------------

def load_data(folder: str):
    with open(os.path.join(folder, "data.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with gzip.open(os.path.join(folder, "train.jsonl.gz"), "rt", encoding="utf-8") as f:
        train = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(folder, "test.jsonl"), encoding="utf-8") as f:
        test = [json.loads(line) for line in f if line.strip()]
    return meta, train, test


def tokenize_train(tok, train):
    prompts = tok.encode_batch([f"Question: {p['question']}\nAnswer:" for p in train], add_special_tokens=False)
    answers = tok.encode_batch([" " + p["answer"] for p in train], add_special_tokens=False)
    return [e.ids for e in prompts], [e.ids for e in answers]


def check_tokenizer(tok, test, meta):
    """HF tokenizers must give the ids Fse's tokenizer gave for the held-out prompts (the runtime feeds those)."""
    bad = 0
    for item in test:
        for text_key, ids_key in (("prompt", "prompt_ids"), ("prompt0", "prompt0_ids")):
            if tok.encode(item[text_key], add_special_tokens=False).ids != item[ids_key]:
                bad += 1
    if bad:
        die(f"{bad} held-out prompts tokenize differently in HF tokenizers and in Fse's tokenizer")
    if tok.encode("\n\n", add_special_tokens=False).ids != [meta["separator_token_id"]]:
        die("the separator \\n\\n is not the single token data.json names")
    if tok.token_to_id("<|im_end|>") != meta["eos_token_id"] or tok.token_to_id("<|endoftext|>") != meta["pad_token_id"]:
        die("eos/pad ids differ between tokenizer.json and data.json")
    return 2 * len(test)


class Batches:
    """Seeded few-shot blocks, right-padded: input ids and labels. The labels are the answers, the separator or eos
    after each, and the "Question:" that opens every problem after the first (so after an answer and a blank line
    the model writes "Question:", where the task's stop string ends generation); -100 elsewhere."""

    def __init__(self, prompts, answers, meta, batch: int, seed: int, question_head: int):
        self.prompts, self.answers = prompts, answers
        self.head = question_head
        self.sep, self.eos, self.pad = meta["separator_token_id"], meta["eos_token_id"], meta["pad_token_id"]
        self.batch = batch
        self.rng = np.random.default_rng(seed)

    def next(self, device):
        rows, labels = [], []
        counts = self.rng.choice(len(SHOTS_WEIGHTS), size=self.batch, p=SHOTS_WEIGHTS) + 1
        for n in counts:
            ids, lab = [], []
            picks = self.rng.integers(0, len(self.prompts), size=n)
            for j, k in enumerate(picks):
                p, a = self.prompts[k], self.answers[k]
                end = self.eos if j == n - 1 else self.sep
                ids += p + a + [end]
                shown = self.head if j > 0 else 0
                lab += p[:shown] + [-100] * (len(p) - shown) + a + [end]
            rows.append(ids)
            labels.append(lab)
        width = max(len(r) for r in rows)
        x = torch.full((len(rows), width), self.pad, dtype=torch.long)
        y = torch.full((len(rows), width), -100, dtype=torch.long)
        for i, (r, l) in enumerate(zip(rows, labels)):
            x[i, : len(r)] = torch.tensor(r)
            y[i, : len(l)] = torch.tensor(l)
        tokens = sum(len(r) for r in rows)
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True), tokens


# ----------------------------------------------------------------------------------------------------------------------
# Model and training
# ----------------------------------------------------------------------------------------------------------------------

def build_model(meta, device):
    from transformers import Qwen3NextConfig, Qwen3NextForCausalLM

    cfg = Qwen3NextConfig(
        vocab_size=meta["vocab_size"],
        bos_token_id=None,
        eos_token_id=meta["eos_token_id"],
        pad_token_id=meta["pad_token_id"],
        output_router_logits=True,
        **ARCH,
    )
    cfg._attn_implementation = "sdpa"
    cfg._experts_implementation = "eager"
    model = Qwen3NextForCausalLM(cfg)
    model.set_attn_implementation("sdpa")
    model.set_experts_implementation("eager")
    if model.lm_head.weight is not model.model.embed_tokens.weight:
        die("tie_word_embeddings is set but lm_head.weight is not the embedding")
    return model.to(device)


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(model, batches, args, device):
    opt = torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    model.train()
    total = args.steps if args.steps > 0 else None
    calibrate_at = 30
    start = time.time()
    history, window, window_tokens, tokens_seen, last_log = [], [], 0, 0, start
    step = 0
    while total is None or step < total:
        lr = lr_at(step, total or 10 ** 9, args.lr, args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y, tokens = batches.next(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = model(input_ids=x, labels=y, use_cache=False)
        loss = out.loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens_seen += tokens
        window.append(loss.item())
        window_tokens += tokens
        if total is None and step == calibrate_at:
            per_step = (time.time() - start) / step
            total = max(calibrate_at + 50, int((args.budget_seconds / per_step) // 50 * 50))
            log(f"calibrated: {per_step * 1000:.1f} ms/step over {step} steps -> {total} steps for {args.budget_seconds:.0f} s "
                f"(repeat with --steps {total})")
        if step % 50 == 0 or step == total:
            now = time.time()
            mean = sum(window) / len(window)
            history.append({"step": step, "loss": round(mean, 5), "lr": lr, "seconds": round(now - start, 1)})
            log(f"step {step:5d}/{total}  loss {mean:.4f}  lr {lr:.2e}  {window_tokens / max(1e-9, now - last_log):,.0f} tok/s  "
                f"{now - start:.0f} s")
            window, window_tokens, last_log = [], 0, now
    seconds = time.time() - start
    final = history[-1]["loss"] if history else float("nan")
    return {"steps": step, "seconds": round(seconds, 1), "final_loss": final, "tokens": tokens_seen, "history": history}


def save(model, meta, data_dir, out_dir):
    from transformers import GenerationConfig

    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    model.eval()
    model.config.output_router_logits = False
    model.generation_config = GenerationConfig(
        eos_token_id=[meta["eos_token_id"]], pad_token_id=meta["pad_token_id"], do_sample=False,
        max_new_tokens=meta["max_gen_toks"])
    model.to(torch.bfloat16)
    model.config.dtype = torch.bfloat16
    model.save_pretrained(out_dir)
    align_rope_keys(out_dir)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(data_dir, name), os.path.join(out_dir, name))


def align_rope_keys(out_dir):
    """transformers 5.17 writes rope_parameters (which its model reads) and also a top-level partial_rotary_factor
    holding the config class's default (0.25), even when rope_parameters says otherwise. Readers that look at the top
    level first then rotate the wrong number of dimensions; make the top-level copies say what rope_parameters says."""
    path = os.path.join(out_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    rope = config.get("rope_parameters") or {}
    changed = [k for k in ("partial_rotary_factor", "rope_theta") if k in rope and k in config and config[k] != rope[k]]
    for key in changed:
        log(f"config.json: top-level {key} {config[key]} -> {rope[key]} (the value rope_parameters holds and the model uses)")
        config[key] = rope[key]
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")


def reload(out_dir, device):
    from transformers import Qwen3NextForCausalLM

    model, info = Qwen3NextForCausalLM.from_pretrained(
        out_dir, dtype=torch.float32, attn_implementation="sdpa", experts_implementation="eager", local_files_only=True,
        output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        log(f"WARNING: from_pretrained reported {problems}")
    return model.to(device).eval()


def check_auto_tokenizer(out_dir, test):
    """transformers' AutoTokenizer must read the saved tokenizer files and give Fse's ids (a report, not fatal)."""
    try:
        from transformers import AutoTokenizer

        auto = AutoTokenizer.from_pretrained(out_dir, local_files_only=True)
        same = sum(auto.encode(item["prompt"], add_special_tokens=False) == item["prompt_ids"] for item in test)
        log(f"AutoTokenizer: {type(auto).__name__}, eos {auto.eos_token!r} = {auto.eos_token_id}, "
            f"{same}/{len(test)} held-out prompts give Fse's ids")
    except Exception as e:  # a report only: the model files are written either way
        log(f"WARNING: AutoTokenizer could not load the saved tokenizer: {e!r}")


# ----------------------------------------------------------------------------------------------------------------------
# Evaluation (greedy, lm-eval gsm8k filters and exact_match)
# ----------------------------------------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    for pattern in IGNORE:
        text = pattern.sub("", text)
    return text.strip().lower()


def extract(response: str):
    strict = STRICT.search(response)
    strict = strict.group(1) if strict else "[invalid]"
    flexible = "[invalid]"
    for m in FLEXIBLE.finditer(response):
        flexible = next((g for g in m.groups() if g), "[invalid]")
    return strict, flexible


def cut(text: str, until):
    at = min([i for i in (text.find(u) for u in until) if i >= 0], default=len(text))
    return text[:at]


def generate(model, tok, items, key, meta, device, batch_size, max_new):
    """Greedy continuations of items[key] (token ids), in batches of similar length, left-padded; each ends at eos or
    max_new tokens and is then cut at the task's first stop string, as the OpenAI server does."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][key]))
    texts = [None] * len(items)
    stops = [meta["eos_token_id"]]
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            chunk = order[s: s + batch_size]
            width = max(len(items[i][key]) for i in chunk)
            x = torch.full((len(chunk), width), meta["pad_token_id"], dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, i in enumerate(chunk):
                ids = items[i][key]
                x[r, width - len(ids):] = torch.tensor(ids)
                mask[r, width - len(ids):] = 1
            out = model.generate(input_ids=x.to(device), attention_mask=mask.to(device), max_new_tokens=max_new,
                                 do_sample=False, eos_token_id=stops, pad_token_id=meta["pad_token_id"])
            for r, i in enumerate(chunk):
                new = out[r, width:].tolist()
                for stop in (meta["eos_token_id"], meta["pad_token_id"]):
                    if stop in new:
                        new = new[: new.index(stop)]
                texts[i] = cut(tok.decode(new, skip_special_tokens=False), meta["until"])
    return texts


def score(items, texts):
    strict_ok, flexible_ok = [], []
    for item, text in zip(items, texts):
        reference = normalise(item["reference"])
        s, f = extract(text)
        strict_ok.append(normalise(s) == reference)
        flexible_ok.append(normalise(f) == reference)
    return strict_ok, flexible_ok


def mean_stderr(values):
    n = len(values)
    m = sum(values) / n
    var = sum((v - m) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return m, math.sqrt(var / n)


def evaluate(model, tok, items, key, meta, device, batch_size, max_new):
    t = time.time()
    texts = generate(model, tok, items, key, meta, device, batch_size, max_new)
    strict, flexible = score(items, texts)
    return {"strict": mean_stderr(strict), "flexible": mean_stderr(flexible), "seconds": round(time.time() - t, 1),
            "per_item": strict, "texts": texts}


def drop_shared_experts(model):
    hooks = []
    for layer in model.model.layers:
        shared = getattr(layer.mlp, "shared_expert", None)
        if shared is not None:
            hooks.append(shared.register_forward_hook(lambda m, i, o: torch.zeros_like(o)))
    if not hooks:
        die("the model has no shared experts to drop")
    return hooks


# ----------------------------------------------------------------------------------------------------------------------

def main():
    global np, torch
    args = parse_args()
    try:
        import numpy
        import torch as _torch
        import transformers
        from tokenizers import Tokenizer
    except ImportError as e:
        die(f"missing library: {e}")
    np, torch = numpy, _torch
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log(f"python {sys.version.split()[0]}, torch {torch.__version__}, transformers {transformers.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""))
    seed_everything(args.seed)

    t0 = time.time()
    meta, train_rows, test = load_data(args.data)
    tok = Tokenizer.from_file(os.path.join(args.data, "tokenizer.json"))
    checked = check_tokenizer(tok, test, meta)
    prompts, answers = tokenize_train(tok, train_rows)
    if args.eval_limit > 0:
        test = test[: args.eval_limit]
    log(f"data: {len(train_rows)} training problems, {len(test)} held-out items; {checked} held-out prompts tokenize as Fse's "
        f"tokenizer does; vocab {meta['vocab_size']}; {time.time() - t0:.1f} s")

    model = build_model(meta, device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: qwen3_next, {n_params:,} parameters, layers {ARCH['layer_types']}, {ARCH['num_experts']} experts top-"
        f"{ARCH['num_experts_per_tok']} of width {ARCH['moe_intermediate_size']}, shared expert width {ARCH['shared_expert_intermediate_size']}")

    head = tok.encode("Question:", add_special_tokens=False).ids
    if any(p[: len(head)] != head for p in prompts[:1000]):
        die("training prompts do not start with the tokens of 'Question:'")
    batches = Batches(prompts, answers, meta, args.batch, args.seed, len(head))
    run = train(model, batches, args, device)
    log(f"trained: {run['steps']} steps in {run['seconds']} s, {run['tokens']:,} tokens, final loss {run['final_loss']:.4f}")

    save(model, meta, args.data, args.out)
    check_auto_tokenizer(args.out, test)
    model = reload(args.out, device)
    max_new = meta["max_gen_toks"]
    shots = meta["task_num_fewshot"]
    results = {}
    results[f"{shots}-shot"] = evaluate(model, tok, test, "prompt_ids", meta, device, args.eval_batch, max_new)
    results["0-shot"] = evaluate(model, tok, test, "prompt0_ids", meta, device, args.eval_batch, max_new)
    hooks = drop_shared_experts(model)
    results[f"{shots}-shot, shared expert dropped"] = evaluate(model, tok, test, "prompt_ids", meta, device, args.eval_batch, max_new)
    for h in hooks:
        h.remove()

    main_run = results[f"{shots}-shot"]
    by_template = {}
    for item, ok in zip(test, main_run["per_item"]):
        by_template.setdefault(item["template"], []).append(ok)
    for i in range(min(3, len(test))):
        log(f"example {i}: {test[i]['prompt0']!r} -> {main_run['texts'][i]!r}")

    files = sorted(os.listdir(args.out))
    sizes = {f: os.path.getsize(os.path.join(args.out, f)) for f in files}
    summary = {
        "seed": args.seed, "batch": args.batch, "lr": args.lr, "warmup": args.warmup, "weight_decay": args.weight_decay,
        "steps": run["steps"], "train_seconds": run["seconds"], "tokens": run["tokens"], "final_loss": run["final_loss"],
        "parameters": n_params, "architecture": ARCH, "shots_weights": SHOTS_WEIGHTS,
        "data": {k: meta[k] for k in ("generator", "train_seed", "train_count", "test_seed", "test_count", "vocab_size")},
        "eval_items": len(test),
        "accuracy": {name: {"strict_match": r["strict"][0], "strict_match_stderr": r["strict"][1],
                            "flexible_extract": r["flexible"][0], "flexible_extract_stderr": r["flexible"][1]}
                     for name, r in results.items()},
        "strict_match_by_template": {t: sum(v) / len(v) for t, v in sorted(by_template.items())},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "loss_history": run["history"],
    }
    with open(os.path.join(args.out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")

    log()
    log(f"{'prompts':<34} {'strict-match':>16} {'flexible-extract':>18} {'seconds':>8}")
    for name, r in results.items():
        log(f"{name:<34} {r['strict'][0]:.4f} ± {r['strict'][1]:.4f}   {r['flexible'][0]:.4f} ± {r['flexible'][1]:.4f} {r['seconds']:>8}")
    log("strict-match by template: " + ", ".join(f"{t} {v:.2f}" for t, v in summary["strict_match_by_template"].items()))
    log(f"steps {run['steps']}, batch {args.batch}, {run['seconds']} s, final loss {run['final_loss']:.4f}, {n_params:,} parameters")
    log("files: " + ", ".join(f"{f} {s:,}" for f, s in sizes.items()) + f"; total {sum(sizes.values()):,} bytes")


if __name__ == "__main__":
    main()
