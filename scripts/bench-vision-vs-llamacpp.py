#!/usr/bin/env python3
"""Image encode time, Brise against llama.cpp's libmtmd on the same files, alternating, round by round.

Usage (after `swift build -c release`; the venv with llama-cpp-python):
  ~/.cache/brise/venv/bin/python scripts/make-vision-fixtures.py --only wide      # once: ~0.8 GB
  ~/.cache/brise/venv/bin/python scripts/bench-vision-vs-llamacpp.py [--rounds 3] [--runs 2]
        [--image PATH] [--mmproj PATH --model PATH] [--threads 2]

Each round runs `brise bench vision --json` (one untimed encode, then --runs timed ones) and
scripts/bench-vision-llamacpp.py (the same) one after the other, and prints both medians and the
ratio llama.cpp / Brise (above 1: Brise is faster). The machine is shared and its speed moves between
runs, so only ratios measured in the same round mean anything; the summary is the median ratio.
Defaults: the Ministral-3-3B-sized encoder (hidden 1024, 24 layers, patch 14, merge 2, F16) from
`make-vision-fixtures.py --only wide`, and Fixtures/vision/images/512x512.png.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BRISE_FIXTURE_CACHE", Path.home() / ".cache/brise/fixture-models"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mmproj", type=Path, default=CACHE / "ministral3b-pixtral-mmproj-F16.gguf")
    ap.add_argument("--model", type=Path, default=CACHE / "wide-mistral3-vision-1layer-Q8_0.gguf")
    ap.add_argument("--image", type=Path, default=REPO / "Fixtures/vision/images/512x512.png")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    brise = REPO / ".build/release/brise"
    for p in (args.mmproj, args.model, brise):
        if not p.exists():
            sys.exit(f"missing {p}: run scripts/make-vision-fixtures.py --only wide and swift build -c release")
    ratios = []
    for r in range(args.rounds):
        ours = subprocess.run(
            [str(brise), "bench", "vision", "--model", str(args.model), "--mmproj", str(args.mmproj), "--image", str(args.image),
             "--runs", str(args.runs), "--threads", str(args.threads), "--json"],
            check=True, capture_output=True, text=True)
        b = json.loads(ours.stdout)
        theirs = subprocess.run(
            [sys.executable, str(REPO / "scripts/bench-vision-llamacpp.py"), "--mmproj", str(args.mmproj), "--model", str(args.model),
             "--image", str(args.image), "--runs", str(args.runs), "--threads", str(args.threads)],
            check=True, capture_output=True, text=True)
        m = re.search(r"median ([0-9.]+) ms", theirs.stdout)
        if not m:
            sys.exit("could not read llama.cpp's time:\n" + theirs.stdout + theirs.stderr)
        ll = float(m.group(1)) / 1000
        ratio = ll / b["medianSeconds"]
        ratios.append(ratio)
        print(f"round {r + 1}: brise {b['medianSeconds'] * 1000:.0f} ms, llama.cpp {ll * 1000:.0f} ms, ratio {ratio:.2f}", flush=True)
    print(f"{b['width']}x{b['height']} pixels, {b['tokens']} embeddings, {args.threads} threads; "
          f"encoder weights {b['weightBytes'] / 2**20:.1f} MiB mapped, encode buffers up to {b['workingBytes'] / 2**20:.1f} MiB, "
          f"peak RSS added {b['peakResidentAddedBytes'] / 2**20:.1f} MiB")
    print(f"median ratio llama.cpp/brise {statistics.median(ratios):.2f} over {len(ratios)} rounds (above 1: brise faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
