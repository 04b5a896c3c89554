"""HF transformers reference timings for the Qwen3-Next-80B-A3B geometry with a reduced layer count, on the GPU machine.

Builds Qwen3NextForCausalLM from the published config with --layers layers, random bf16 weights on the GPU, then times
(1) prefill of one --isl-token prompt (TTFT: the forward pass that yields the first token's logits) and
(2) greedy decode steps at batch 1 with the KV/linear-attention cache (TPOT).
Prints one table. Usage: python3 tools/device/hf_reference.py [--layers 12] [--isl 1000] [--steps 20]
"""
import argparse
import statistics
import time

import torch
import transformers
from transformers import Qwen3NextConfig, Qwen3NextForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--isl", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    torch.manual_seed(0)
    config = Qwen3NextConfig(
        vocab_size=151936, hidden_size=2048, intermediate_size=5120, num_hidden_layers=a.layers,
        num_attention_heads=16, num_key_value_heads=2, head_dim=256, rms_norm_eps=1e-6,
        max_position_embeddings=262144, full_attention_interval=4, linear_conv_kernel_dim=4,
        linear_key_head_dim=128, linear_value_head_dim=128, linear_num_key_heads=16, linear_num_value_heads=32,
        num_experts=512, num_experts_per_tok=10, moe_intermediate_size=512, shared_expert_intermediate_size=512,
        norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[], tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000000.0, "partial_rotary_factor": 0.25})
    t0 = time.time()
    torch.set_default_dtype(torch.bfloat16)   # built in bf16 directly: an fp32 copy of 40 GB would not fit the card
    with torch.device("cuda"):
        model = Qwen3NextForCausalLM(config).eval()
    print(f"built {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters in {time.time() - t0:.1f} s; "
          f"transformers {transformers.__version__}, torch {torch.__version__}, experts impl "
          f"{getattr(config, '_experts_implementation', None)}", flush=True)
    ids = torch.randint(0, config.vocab_size, (1, a.isl), device="cuda")

    def prefill():
        torch.cuda.synchronize()
        s = time.perf_counter()
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
        torch.cuda.synchronize()
        return (time.perf_counter() - s) * 1000, out

    prefill()  # warm-up
    ttfts = [prefill()[0] for _ in range(3)]
    _, out = prefill()
    cache = out.past_key_values
    nxt = out.logits[:, -1:].argmax(-1)
    steps = []
    with torch.no_grad():
        for _ in range(a.steps + 3):
            torch.cuda.synchronize()
            s = time.perf_counter()
            o = model(input_ids=nxt, past_key_values=cache, use_cache=True)
            torch.cuda.synchronize()
            steps.append((time.perf_counter() - s) * 1000)
            cache = o.past_key_values
            nxt = o.logits[:, -1:].argmax(-1)
    tpot = statistics.mean(steps[3:])
    print(f"| HF transformers {transformers.__version__} | layers {a.layers} | ISL {a.isl} | TTFT median {statistics.median(ttfts):.1f} ms "
          f"(runs {', '.join(f'{t:.1f}' for t in ttfts)}) | TPOT batch 1 {tpot:.1f} ms |", flush=True)


if __name__ == "__main__":
    main()
