#!/usr/bin/env bash
# The main job on the embedded ml-100k dataset: build, pre-train, then fine-tune a small KGGLM
# (presets/ml-100k-small.yaml), which ends with the test metrics, then explain three
# recommendations for one user. Outputs go to runs/quickstart-<time>/{pretrain,finetune}.
# Extra arguments are passed to both stages, e.g. `scripts/quickstart.sh --threads 2`.
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build src/Cli -c Release --nologo -v quiet
kgglm=src/Cli/bin/Release/net10.0/kgglm
out=runs/quickstart-$(date +%Y%m%d-%H%M%S)

"$kgglm" pretrain --config-files presets/ml-100k-small.yaml --output "$out/pretrain" "$@"
"$kgglm" finetune --config-files presets/ml-100k-small.yaml --pre-model-path "$out/pretrain" \
    --output "$out/finetune" "$@"
# Three explained recommendations for user 196 (the first user of ml-100k.inter).
"$kgglm" recommend "$out/finetune" --user 196 --topk 3 --config-files presets/ml-100k-small.yaml "$@"
echo "done: $out"
