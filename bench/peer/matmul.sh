#!/usr/bin/env bash
# libtorch's matmul (the TorchSharp peer of ../../../shared/peer) at the shapes of
# bench/Kgglm.Bench/Kernels/MatMulBenchmark.cs, for a side-by-side GFLOP/s comparison.
# Only NN and NT: the peer's `matmul` command has no transposed-A (TN) mode.
# Not part of the solution. Usage: bench/peer/matmul.sh [threads...] (default: 1 2)
# Prints one line per run: layout, M, K, N, threads and the peer's JSON.
set -euo pipefail

source "$(dirname "$0")/peer.sh"

shapes=(
    "NN 2304 768 768" "NN 2304 768 2304" "NN 2304 768 3072" "NN 2304 3072 768"
    "NN 2304 4096 768" "NT 2304 768 35609" "NT 2304 768 4096" "NT 2304 3072 768"
    "NT 2304 768 3072"
)
threads_list=("${@:-1 2}")
for threads in ${threads_list[*]}; do
    for shape in "${shapes[@]}"; do
        read -r layout m k n <<< "$shape"
        flags=()
        if [ "$layout" = NT ]; then flags+=(--bt); fi
        json=$("$peer" matmul --m "$m" --k "$k" --n "$n" --threads "$threads" \
            --min-seconds "${MIN_SECONDS:-2}" "${flags[@]}")
        echo "$layout $m $k $n threads=$threads $json"
    done
done
