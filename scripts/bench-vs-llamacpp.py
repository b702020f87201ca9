#!/usr/bin/env python3
"""Benchmarks Brise against llama.cpp on the same GGUF file, in one run, and prints the ratios.

    ~/.cache/brise/venv/bin/python scripts/bench-vs-llamacpp.py [MODEL.gguf] [-p 512] [-n 128] [-t 2]

Without MODEL, it uses (and first makes, ~2.1 GB, ~1 minute) the full-size synthetic Ministral 3
3B-shaped Q4_K_M file (26 layers, real shapes, seeded random weights) from
scripts/make-model-fixtures.py --full-3b, in $BRISE_FIXTURE_CACHE (~/.cache/brise/fixture-models).

llama.cpp runs through llama-cpp-python's C API (pip install llama-cpp-python into the venv, built
with CMAKE_ARGS=-DGGML_NATIVE=ON), in a child process per configuration so each peak RSS is its own:
flash attention off/on × weight repacking on/off (use_extra_bufts), the prompt as one llama_batch
(n_batch = n_ubatch = -p, logits for its last token only); its best configuration is the one compared
(prompt and generation separately). Brise runs before and after llama.cpp; its better run counts. Brise runs `.build/release/brise bench --json` (swift build -c release).
Both: the same threads, a prompt of -p random tokens as one batch, then -n tokens generated one at a
time from an empty cache, repeated (mean reported); both take a warm-up run first.
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
import json, random, resource, sys, time
import llama_cpp as L
path, p, n, threads, flash, repack, reps = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                                            sys.argv[5] == "1", sys.argv[6] == "1", int(sys.argv[7]))
L.llama_backend_init()
t0 = time.perf_counter()
mp = L.llama_model_default_params()
mp.use_extra_bufts = repack  # llama.cpp's CPU weight repacking (its default: on)
model = L.llama_model_load_from_file(path.encode(), mp)
cp = L.llama_context_default_params()
cp.n_ctx = p + n + 16
cp.n_batch = cp.n_ubatch = max(p, 1)  # the prompt in one batch, not split
cp.n_threads = cp.n_threads_batch = threads
cp.flash_attn_type = 1 if flash else 0
ctx = L.llama_init_from_model(model, cp)
load = time.perf_counter() - t0
vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
batch = L.llama_batch_init(max(p, 1), 0, 1)
rng = random.Random(0)

def decode(tokens, start):  # logits for the last token only, as a prompt or one decode step needs
    batch.n_tokens = len(tokens)
    for i, tok in enumerate(tokens):
        batch.token[i] = tok; batch.pos[i] = start + i; batch.n_seq_id[i] = 1; batch.seq_id[i][0] = 0
        batch.logits[i] = 1 if i == len(tokens) - 1 else 0
    if L.llama_decode(ctx, batch) != 0:
        sys.exit("llama_decode failed")

def clear():
    L.llama_memory_clear(L.llama_get_memory(ctx), True)

clear(); decode([rng.randrange(vocab) for _ in range(min(p, 8) + 1)], 0)  # warm-up
pp, tg = [], []
for _ in range(reps):
    if p:
        clear(); toks = [rng.randrange(vocab) for _ in range(p)]
        t = time.perf_counter(); decode(toks, 0); pp.append(p / (time.perf_counter() - t))
    if n:
        clear(); t = time.perf_counter()
        for i in range(n):
            decode([rng.randrange(vocab)], i)
        tg.append(n / (time.perf_counter() - t))
print(json.dumps({"load": load, "pp": sum(pp) / len(pp) if pp else 0, "tg": sum(tg) / len(tg) if tg else 0,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

CONFIGS = [(flash, repack) for repack in (True, False) for flash in (False, True)]


def run_llama(model: Path, p: int, n: int, threads: int, flash: bool, repack: bool, reps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", LLAMA_CHILD, str(model), str(p), str(n), str(threads),
                          "1" if flash else "0", "1" if repack else "0", str(reps)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"llama.cpp failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_brise(model: Path, p: int, n: int, threads: int, reps: int) -> dict:
    brise = REPO / ".build" / "release" / "brise"
    if not brise.exists():
        sys.exit("build Brise first: swift build -c release")
    out = subprocess.run([str(brise), "bench", "--model", str(model), "-p", str(p), "-n", str(n),
                          "--threads", str(threads), "--repetitions", str(reps), "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"brise bench failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", type=Path)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--repetitions", type=int, default=3)
    args = ap.parse_args()

    model = args.model
    if model is None:
        model = CACHE / "ministral3b-26layer-Q4_K_M.gguf"
        if not model.exists():
            print(f"making {model} (scripts/make-model-fixtures.py --full-3b)…", file=sys.stderr)
            subprocess.run([sys.executable, str(REPO / "scripts" / "make-model-fixtures.py"), "--full-3b", str(model)],
                           check=True)

    size = model.stat().st_size
    # Alternate: Brise, then llama.cpp's four configurations, Brise again, so drift hits both sides.
    ours = [run_brise(model, args.p, args.n, args.threads, args.repetitions)]
    llama = {c: run_llama(model, args.p, args.n, args.threads, *c, args.repetitions) for c in CONFIGS}
    ours.append(run_brise(model, args.p, args.n, args.threads, args.repetitions))
    brise = dict(ours[0])
    brise["promptTokensPerSecond"] = max(r["promptTokensPerSecond"] for r in ours)
    brise["generationTokensPerSecond"] = max(r["generationTokensPerSecond"] for r in ours)
    brise["peakResidentBytes"] = max(r["peakResidentBytes"] for r in ours)

    best_pp = max(llama.values(), key=lambda r: r["pp"])
    best_tg = max(llama.values(), key=lambda r: r["tg"])
    gib = 1 << 30
    print(f"model {model} ({size / 1e9:.2f} GB), {args.threads} threads, pp{args.p} / tg{args.n}, "
          f"mean of {args.repetitions}; llama.cpp through its C API (prompt as one batch), Brise best of 2 runs")
    print(f"{'':34}{'prompt tok/s':>14}{'gen tok/s':>12}{'load s':>9}{'peak RSS GiB':>14}")
    for (flash, repack), r in llama.items():
        name = f"llama.cpp, flash {'on' if flash else 'off'}, repack {'on' if repack else 'off'}"
        print(f"{name:34}{r['pp']:14.2f}{r['tg']:12.2f}{r['load']:9.2f}{r['rss'] / gib:14.2f}")
    for i, r in enumerate(ours):
        print(f"{'brise run ' + str(i + 1) + ' (' + r['kernelPath'] + ')':34}{r['promptTokensPerSecond']:14.2f}"
              f"{r['generationTokensPerSecond']:12.2f}{r['loadSeconds']:9.2f}{r['peakResidentBytes'] / gib:14.2f}")
    def ratio(ours_rate: float, theirs: float) -> str:  # -p 0 or -n 0 measures one side only
        return f"{ours_rate / theirs:.2f}x" if theirs > 0 else "n/a"

    print(f"ratio brise / llama.cpp's best: prompt {ratio(brise['promptTokensPerSecond'], best_pp['pp'])}, "
          f"generation {ratio(brise['generationTokensPerSecond'], best_tg['tg'])}")
    print(f"brise resident vs file + KV cache: {brise['peakResidentBytes'] / gib:.2f} GiB vs "
          f"{(size + brise['kvCacheBytes']) / gib:.2f} GiB (+{(brise['peakResidentBytes'] - size - brise['kvCacheBytes']) / (1 << 20):.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
