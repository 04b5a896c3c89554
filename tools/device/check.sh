#!/usr/bin/env bash
# The CUDA backend's device check, run on the GPU machine from the repository root:
#   bash .gpu/run.sh bash tools/device/check.sh            (or .gpu/cuda/check.sh, the copy publish.sh puts there)
# It needs the published Fse.DeviceBench (tools/device/publish.sh) in $DEVICEBENCH_DIR, next to this script, or in
# .gpu/cuda. Runs the backend contract against the real CUDA backend (default paths, every MatMul through cuBLAS, every
# MatMul through the tiled kernel), then the kernel micro-benchmarks, and prints a short table last (also written to
# $OUT/devicebench.md when OUT is set). Exit code 0 only when every contract case and every benchmark check passed.
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
exit "${PIPESTATUS[0]}"
