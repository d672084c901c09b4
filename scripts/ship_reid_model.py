"""Write a trained model as the engine's shipped ReID model: fp16 weights, with its training record.

    python scripts/ship_reid_model.py RUN_DIR reid_engine/weights/longview-reid.pt

RUN_DIR is a ``reid train`` output folder (``model.pt`` and ``report.json``). Half precision halves
the file; the weights are cast back to float32 when loaded, and the script checks that every
embedding keeps a cosine similarity above 0.999 with the float32 model's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from reid_engine.train.checkpoint import MODEL_FORMAT, atomic_save, load_model


def main() -> int:
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__ or "")
        return 2
    run, dest = Path(sys.argv[1]), Path(sys.argv[2])
    model, size_hw, meta = load_model(run / "model.pt")
    report = json.loads((run / "report.json").read_text())
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    meta = {**meta, "train_config": report["config"], "scores": report["scores"],
            "train_images": report["train_images"], "train_ids": report["train_ids"]}
    atomic_save({"format": MODEL_FORMAT, "model_config": {**vars(model.config)}, "size_hw": list(size_hw),
                 "state_dict": state, "meta": meta}, dest)
    shipped, _, _ = load_model(dest)
    x = torch.randn(4, 3, *size_hw, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        cosine = float((shipped(x) * model(x)).sum(1).min())
    if cosine < 0.999:
        sys.stderr.write(f"fp16 weights change embeddings too much: cosine {cosine:.5f}\n")
        return 1
    sys.stdout.write(json.dumps({"out": str(dest), "bytes": dest.stat().st_size, "min_cosine": cosine,
                                 "scores": report["scores"]}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
