#!/usr/bin/env python3
"""Dumps llama.cpp's logits at EVERY position, for Tests/ModelTests/PositionParityTests.swift.

The fixtures (scripts/make-model-fixtures.py) keep only the last prompt position's full logits. This
feeds each fixture's prompt followed by its greedy32 continuation to llama.cpp one token at a time
(n_batch 1: its decode path; F16 KV cache, flash attention off, 2 threads, the fixture's n_ctx) and
writes, per fixture and prompt, `<out>/<fixture>-<short|long>.f32` (all positions' logits, little-endian
f32) and `.tok` (the tokens, int32). Then:

  BRISE_POSITION_DUMPS=<out> swift test --filter PositionParityTests

Usage (the venv with llama-cpp-python):
  ~/.cache/brise/venv/bin/python scripts/dump-position-logits.py OUT FIXTURE [FIXTURE ...]
e.g. OUT=/tmp/dumps tiny-llama-Q8_0 tiny-mistral3-Q8_0 tekken-llama-Q8_0
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
from llama_cpp import Llama

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures" / "models"
CACHE = Path(os.environ.get("BRISE_FIXTURE_CACHE", Path.home() / ".cache" / "brise" / "fixture-models"))


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:]:
        fixture = json.loads((FIXTURES / f"{name}.json").read_text())
        model = (FIXTURES if fixture["model"].get("committed") else CACHE) / fixture["model"]["file"]
        n_ctx = fixture["llamaCpp"]["nCtx"]
        for seq in ["short", "long"]:
            tokens = fixture[seq]["tokens"] + fixture[seq]["sequential"]["greedy32"]
            llm = Llama(model_path=str(model), n_ctx=n_ctx, n_batch=1, n_ubatch=1, n_threads=2,
                        logits_all=True, flash_attn=False, verbose=False, seed=0)
            llm.eval(tokens)
            np.array(llm.scores[: len(tokens)], dtype="<f4").tofile(out / f"{name}-{seq}.f32")
            np.array(tokens, dtype="<i4").tofile(out / f"{name}-{seq}.tok")
            print(f"{name} {seq}: {len(tokens)} positions")
            del llm


if __name__ == "__main__":
    main()
