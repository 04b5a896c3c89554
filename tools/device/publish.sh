#!/usr/bin/env bash
# Publishes Fse.DeviceBench (framework-dependent, no pdbs, ~8 MB) and this folder's check.sh into $1 (default
# .gpu/cuda under the repository root), ready to be carried to the GPU machine with the .gpu runtime bundle.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-$root/.gpu/cuda}
rm -rf "$target"
dotnet publish "$root/tools/device/Fse.DeviceBench/Fse.DeviceBench.csproj" -c Release -o "$target" -p:DebugType=none -nologo -v:quiet
cp "$root/tools/device/check.sh" "$target/check.sh"
du -sh "$target"
