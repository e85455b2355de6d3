#!/usr/bin/env bash
# Decoding throughput and peak RSS, Kgglm against the TorchSharp/libtorch peer
# (../../../shared/peer), side by side, alternating runs so both see the same machine.
# Default model (768 wide, 6 layers, 12 heads, vocabulary 35,609), random weights, K beams.
# The peer: beam search with a KV cache, prompt [BOS, user], 6 new tokens, 50 allowed tokens
# per row (--gather-mask). Kgglm: the real KG-constrained diverse beam search over ml-100k
# users, prompt [BOS] U R, 5 new tokens, 5 groups. Both count sequences = users · K per second.
# Not part of the solution. Usage: bench/peer/generate.sh [rounds] (default 2); env THREADS
# (2), BEAMS (10), USERS (Kgglm users, 192), PEER_USERS (60), PEER_DIR (a built peer copy),
# CHECKPOINT (Kgglm: trained weights instead of random ones).
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-2}
threads=${THREADS:-2}
beams=${BEAMS:-10}
users=${USERS:-192}
peer_users=${PEER_USERS:-60}
source bench/peer/peer.sh

dotnet build bench/Kgglm.Bench -c Release --nologo -v quiet >&2
bench=bench/Kgglm.Bench/bin/Release/net10.0/Kgglm.Bench
weights=()
if [ -n "${CHECKPOINT:-}" ]; then
    weights=(--checkpoint "$CHECKPOINT")
fi

for round in $(seq "$rounds"); do
    /usr/bin/time -f '{"peer_peak_rss_kib": %M}' "$peer" generate --vocab 35609 \
        --users "$peer_users" --beams "$beams" --new-tokens 6 --threads "$threads" \
        --gather-mask
    "$bench" generate --users "$users" --beams "$beams" --threads "$threads" "${weights[@]}"
done
