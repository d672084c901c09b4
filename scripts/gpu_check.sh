#!/usr/bin/env bash
# One short run of the GPU figures: what CUDA torch and onnxruntime see, then the ingest benchmark on
# the demo footage on the GPU and on the CPU in the same session (ratios are what to compare).
# Usage: bash scripts/gpu_check.sh [video]  (needs a CUDA build of torch; onnxruntime-gpu for the
# detector's CUDA execution provider, otherwise MoveNet runs on the CPU and says so).
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEO=${1:-var/data/vtest.avi}
.venv/bin/python - <<'PY'
import json
import onnxruntime as ort
import torch
info = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "onnxruntime_providers": ort.get_available_providers()}
print(json.dumps(info))
if not info["cuda"]:
    raise SystemExit("gpu_check: torch sees no CUDA device (this is a CPU build or no GPU is present)")
PY
echo "== cuda, motion gating on (the default settings)"
.venv/bin/reid bench ingest "$VIDEO" --device cuda --json
echo "== cuda, every frame detected"
.venv/bin/reid bench ingest "$VIDEO" --device cuda --set gating.motion=false --json
echo "== cpu, default settings, same machine"
.venv/bin/reid bench ingest "$VIDEO" --json
