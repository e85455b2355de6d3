#!/usr/bin/env bash
# Checks the ILGPU backend on a machine with an NVIDIA GPU: builds the GPU tests, runs the CUDA
# suite (every op against its float64 reference, bitwise repeatability, dropout masks equal to
# the CPU engine's) and prints one line per test with its outcome and time. Without a GPU the
# CUDA tests are reported as skipped with the reason, and the script exits non-zero.
#
# Usage: scripts/gpu-check.sh            (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

project=tests/Kgglm.Kernels.Gpu.Tests/Kgglm.Kernels.Gpu.Tests.csproj
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader || echo "nvidia-smi not found"

dotnet build "$project" -c Release -nologo -v q

# CUDA tests, plus the PTX compile check and the device probe; the CPU-accelerator suite is
# left to CI.
status=0
dotnet test "$project" -c Release --no-build -nologo \
  --filter "FullyQualifiedName~CudaOpTests|FullyQualifiedName~CudaWithoutDeviceTests" \
  --logger "trx;LogFileName=gpu.trx" --results-directory "$results" >"$results/log" 2>&1 \
  || status=$?

# One line per test: outcome, milliseconds, name (from the trx file).
printf '%-8s %10s  %s\n' outcome ms test
python3 - "$results/gpu.trx" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = ET.parse(sys.argv[1]).getroot()
for r in root.iterfind(".//t:UnitTestResult", ns):
    h, m, s = r.get("duration", "0:0:0").split(":")
    ms = (int(h) * 3600 + int(m) * 60 + float(s)) * 1000
    print(f'{r.get("outcome"):<8} {ms:10.1f}  {r.get("testName")}')
    out = r.find(".//t:Output/t:ErrorInfo/t:Message", ns)
    if out is not None:
        print("         " + out.text.splitlines()[0])
PY

skipped=$(grep -c 'outcome="NotExecuted"' "$results/gpu.trx" || true)
if [[ $status -ne 0 ]]; then
  echo "gpu-check: failures (see above)"
  exit "$status"
elif [[ $skipped -gt 0 ]]; then
  echo "gpu-check: $skipped CUDA tests skipped (no usable CUDA device)"
  exit 2
fi
echo "gpu-check: all CUDA tests passed"
