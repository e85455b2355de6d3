#!/usr/bin/env bash
# End-to-end training throughput and peak RSS, Kgglm against the TorchSharp/libtorch peer
# (../../../shared/peer), side by side, alternating runs so both see the same machine.
# Default model (768 wide, 6 layers, 12 heads, vocabulary 35,609, 8 input tokens), batch 256.
# Not part of the solution. Usage: bench/peer/train.sh [rounds] (default 2); env THREADS (2),
# STEPS (3), MICRO (Kgglm micro-batch, 128), PEER_DIR (a built copy of the peer).
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-2}
threads=${THREADS:-2}
steps=${STEPS:-3}
micro=${MICRO:-128}
source bench/peer/peer.sh

dotnet build bench/Kgglm.Bench -c Release --nologo -v quiet >&2
bench=bench/Kgglm.Bench/bin/Release/net10.0/Kgglm.Bench

for round in $(seq "$rounds"); do
    "$peer" train --vocab 35609 --seq 8 --batch 256 --steps "$steps" --threads "$threads" \
        --types-from-wte --type-ids 35606,35607,35608
    "$bench" train --batch 256 --micro "$micro" --threads "$threads" --steps "$steps" --warmup 2
done
