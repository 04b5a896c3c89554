#!/usr/bin/env bash
# The CUDA backend's device check, run on the GPU machine from the repository root:
#   bash .gpu/run.sh bash tools/device/check.sh            (or .gpu/cuda/check.sh, the copy publish.sh puts there)
# It needs the published Fse.DeviceBench (tools/device/publish.sh) in $DEVICEBENCH_DIR, next to this script, or in
# .gpu/cuda. Runs the backend contract against the real CUDA backend (default paths, every MatMul through cuBLAS, every
# MatMul through the tiled kernel), then the kernel micro-benchmarks, and prints a short table last (also written to
# $OUT/devicebench.md when OUT is set), then replays decode steps from step graphs against eager steps ($OUT/graphs.md)
# and times a batch-1 step's weight-streaming kernels inside replayed graphs with plain and programmatic edges
# ($OUT/graphed/devicebench.md), and last compares CUDA logits and greedy output with the CPU backend's on every HF
# fixture ($OUT/parity/parity.md).
# Exit code 0 only when every contract case, every benchmark check, the graph check and every fixture passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${DEVICEBENCH_DIR:-}
for candidate in "$dir" "$here" "$PWD/.gpu/cuda"; do
  if [ -n "$candidate" ] && [ -f "$candidate/Fse.DeviceBench.dll" ]; then dir=$candidate; break; fi
done
if [ ! -f "$dir/Fse.DeviceBench.dll" ]; then
  echo "Fse.DeviceBench.dll not found (set DEVICEBENCH_DIR or run tools/device/publish.sh)" >&2
  exit 2
fi
out=${OUT:-/tmp/devicebench}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
dotnet "$dir/Fse.DeviceBench.dll" all --out "$out" 2>&1 | tee "$out/devicebench.log"
rc=${PIPESTATUS[0]}
# Decode steps replayed from step graphs against eager steps on the 12-layer Qwen3-Next preset (logits and step times).
dotnet "$dir/Fse.DeviceBench.dll" graphs --layers 12 --batches 1,2 --copy-tbps 3.0 --out "$out" 2>&1 | tee "$out/graphs.log"
graphs=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$graphs
# The weight-streaming kernels of a batch-1 decode step and the cost of a launch, as a replayed step sees them.
dotnet "$dir/Fse.DeviceBench.dll" graphed --out "$out/graphed" 2>&1 | tee "$out/graphed.log"
graphed=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$graphed
# GPU parity on the HF transformers fixtures: relative L2 of the logits against the CPU backend, greedy tokens identical.
dotnet "$dir/Fse.DeviceBench.dll" parity --out "$out/parity" 2>&1 | tee "$out/parity.log"
parity=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$parity
exit "$rc"
