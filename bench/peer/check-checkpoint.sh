#!/usr/bin/env bash
# Cross-checks a Kgglm checkpoint folder against stock HuggingFace GPT-2 semantics: the libtorch
# peer loads the folder (config.json + model.safetensors, token types looked up in wte) and
# computes the mean loss of the same corpus rows as Kgglm. The two numbers must agree to float
# rounding. Not part of the solution.
# Usage: bench/peer/check-checkpoint.sh CHECKPOINT_OR_RUN CORPUS.paths [rows]
set -euo pipefail
cd "$(dirname "$0")/../.."
checkpoint=$1
corpus=$2
rows=${3:-64}
source bench/peer/peer.sh

dotnet build bench/Kgglm.Bench -c Release --nologo -v quiet >&2
tokens=$(mktemp --suffix .tok)
trap 'rm -f "$tokens"' EXIT
bench/Kgglm.Bench/bin/Release/net10.0/Kgglm.Bench loss --checkpoint "$checkpoint" \
    --corpus "$corpus" --rows "$rows" --tokens "$tokens"
folder=$checkpoint
[ -f "$folder/config.json" ] || folder=$(ls -d "$checkpoint"/checkpoint-* | sort -t- -k2 -n | tail -1)
vocab=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$folder/config.json")
"$peer" loss --weights "$folder" --tokens "$tokens" --types-from-wte \
    --type-ids "$((vocab - 3)),$((vocab - 2)),$((vocab - 1))" --detail-rows 0
