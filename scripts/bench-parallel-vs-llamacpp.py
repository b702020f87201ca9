#!/usr/bin/env python3
"""Batched decode of several streams, Brise against llama.cpp on the same GGUF file, in one run.

    ~/.cache/brise/venv/bin/python scripts/bench-parallel-vs-llamacpp.py [MODEL.gguf] [--streams 1,4] [-n 64] [-t 2] [--rounds 2]

Without MODEL, the Ministral 3 3B-shaped Q4_K_M fixture (scripts/make-model-fixtures.py --full-3b).

Both sides do the same work: every stream gets a 16-token random prompt, then -n steps each decode
one greedy token for every stream in one forward pass (llama.cpp: one llama_batch with one token per
sequence id, through llama-cpp-python's C API, best of flash attention off/on; Brise: `brise bench
--parallel`, the forward pass the daemon's scheduler runs). Aggregate decode tokens/s is streams × n /
seconds. The runs alternate (Brise, llama.cpp, Brise, …) so a shared machine's drift hits both;
the best of the rounds is compared, and each round's ratio is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BRISE_FIXTURE_CACHE", Path.home() / ".cache" / "brise" / "fixture-models"))

LLAMA_CHILD = r"""
import ctypes, json, random, sys, time
import numpy as np
import llama_cpp as L
path, streams, n, threads, flash = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
prompt_len = 16
L.llama_backend_init()
mp = L.llama_model_default_params()
model = L.llama_model_load_from_file(path.encode(), mp)
cp = L.llama_context_default_params()
cp.n_ctx = streams * (prompt_len + n + 8) + 256
cp.n_batch = max(streams * prompt_len, 512)
cp.n_ubatch = cp.n_batch
cp.n_seq_max = streams
cp.n_threads = threads
cp.n_threads_batch = threads
cp.flash_attn_type = 1 if flash else 0
ctx = L.llama_init_from_model(model, cp)
vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
rng = random.Random(0)
batch = L.llama_batch_init(max(streams * prompt_len, streams), 0, streams)

def decode(items):  # items: (token, pos, seq, want_logits)
    batch.n_tokens = len(items)
    for i, (tok, pos, seq, want) in enumerate(items):
        batch.token[i] = tok; batch.pos[i] = pos; batch.n_seq_id[i] = 1; batch.seq_id[i][0] = seq
        batch.logits[i] = 1 if want else 0
    if L.llama_decode(ctx, batch) != 0:
        sys.exit("llama_decode failed")

def argmax(i):
    return int(np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(vocab,)).argmax())

def run():
    L.llama_memory_clear(L.llama_get_memory(ctx), True)
    items = []
    for s in range(streams):
        for k in range(prompt_len):
            items.append((rng.randrange(vocab), k, s, k == prompt_len - 1))
    decode(items)
    nxt = [argmax((s + 1) * prompt_len - 1) for s in range(streams)]
    t = time.perf_counter()
    for step in range(n):
        decode([(nxt[s], prompt_len + step, s, True) for s in range(streams)])
        nxt = [argmax(s) for s in range(streams)]
    return streams * n / (time.perf_counter() - t)

run()  # warm-up: pages the weights in
rate = run()
print(json.dumps({"aggregate": rate}))
"""


def llama(model: Path, streams: int, n: int, threads: int) -> float:
    best = 0.0
    for flash in (False, True):
        out = subprocess.run([sys.executable, "-c", LLAMA_CHILD, str(model), str(streams), str(n), str(threads),
                              "1" if flash else "0"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"llama.cpp failed: {out.stderr[-2000:]}")
        best = max(best, json.loads(out.stdout.strip().splitlines()[-1])["aggregate"])
    return best


def brise(model: Path, counts: list[int], n: int, threads: int) -> dict[int, float]:
    exe = REPO / ".build" / "release" / "brise"
    if not exe.exists():
        sys.exit("build Brise first: swift build -c release")
    out = subprocess.run([str(exe), "bench", "--model", str(model), "--parallel", ",".join(map(str, counts)), "-n", str(n),
                          "--threads", str(threads), "--repetitions", "1", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"brise bench failed: {out.stderr[-2000:]}")
    return {r["streams"]: r["aggregateTokensPerSecond"] for r in json.loads(out.stdout)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", type=Path)
    ap.add_argument("--streams", default="1,4")
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    model = args.model or CACHE / "ministral3b-26layer-Q4_K_M.gguf"
    if not model.exists():
        sys.exit(f"{model} is missing: scripts/make-model-fixtures.py --full-3b {model}")
    counts = [int(c) for c in args.streams.split(",")]
    ours: dict[int, float] = {}
    theirs: dict[int, float] = {}
    for r in range(args.rounds):
        b = brise(model, counts, args.n, args.threads)
        line = []
        for c in counts:
            l = llama(model, c, args.n, args.threads)
            ours[c] = max(ours.get(c, 0), b[c])
            theirs[c] = max(theirs.get(c, 0), l)
            line.append(f"{c} streams {b[c]:.2f} vs {l:.2f} ({b[c] / l:.2f}×)")
        print(f"round {r + 1}: " + "; ".join(line), flush=True)
    print(f"\n{model.name}, {args.threads} threads, {args.n} decode steps per stream (best of {args.rounds} rounds)")
    print("streams  brise tok/s  (vs 1)   llama.cpp tok/s  (vs 1)   brise / llama.cpp")
    for c in counts:
        ob = ours[c] / ours[counts[0]] if counts[0] == 1 else float("nan")
        ol = theirs[c] / theirs[counts[0]] if counts[0] == 1 else float("nan")
        print(f"{c:7d}  {ours[c]:11.2f}  {ob:5.2f}×  {theirs[c]:15.2f}  {ol:5.2f}×   {ours[c] / theirs[c]:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
