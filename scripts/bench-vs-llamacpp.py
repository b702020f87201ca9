#!/usr/bin/env python3
"""Benchmarks Brise against llama.cpp on the same GGUF file, in one run, and prints the ratios.

    ~/.cache/brise/venv/bin/python scripts/bench-vs-llamacpp.py [MODEL.gguf] [-p 512] [-n 128] [-t 2]

Without MODEL, it uses (and first makes, ~2.1 GB, ~1 minute) the full-size synthetic Ministral 3
3B-shaped Q4_K_M file (26 layers, real shapes, seeded random weights) from
scripts/make-model-fixtures.py --full-3b, in $BRISE_FIXTURE_CACHE (~/.cache/brise/fixture-models).

llama.cpp runs through llama-cpp-python (pip install llama-cpp-python into the venv, built with
CMAKE_ARGS=-DGGML_NATIVE=ON), in a child process per configuration so each peak RSS is its own; it is
measured with flash attention off and on and its best result is the one compared (prompt and
generation separately). Brise runs `.build/release/brise bench --json` (swift build -c release).
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
from llama_cpp import Llama
path, p, n, threads, flash, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", int(sys.argv[6])
t0 = time.perf_counter()
llm = Llama(model_path=path, n_ctx=p + n + 8, n_batch=max(p, 1), n_ubatch=max(p, 1), n_threads=threads,
            n_threads_batch=threads, flash_attn=flash, verbose=False, logits_all=False)
load = time.perf_counter() - t0
vocab = llm.n_vocab()
rng = random.Random(0)
llm.reset(); llm.eval([rng.randrange(vocab) for _ in range(min(p, 8) + 1)])  # warm-up
pp, tg = [], []
for _ in range(reps):
    if p:
        llm.reset(); toks = [rng.randrange(vocab) for _ in range(p)]
        t = time.perf_counter(); llm.eval(toks); pp.append(p / (time.perf_counter() - t))
    if n:
        llm.reset(); tok = rng.randrange(vocab)
        t = time.perf_counter()
        for _ in range(n):
            llm.eval([tok]); tok = rng.randrange(vocab)
        tg.append(n / (time.perf_counter() - t))
print(json.dumps({"load": load, "pp": sum(pp) / len(pp) if pp else 0, "tg": sum(tg) / len(tg) if tg else 0,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def run_llama(model: Path, p: int, n: int, threads: int, flash: bool, reps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", LLAMA_CHILD, str(model), str(p), str(n), str(threads),
                          "1" if flash else "0", str(reps)], capture_output=True, text=True)
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
    llama = {flash: run_llama(model, args.p, args.n, args.threads, flash, args.repetitions) for flash in (False, True)}
    brise = run_brise(model, args.p, args.n, args.threads, args.repetitions)

    best_pp = max(llama.values(), key=lambda r: r["pp"])
    best_tg = max(llama.values(), key=lambda r: r["tg"])
    gib = 1 << 30
    print(f"model {model} ({size / 1e9:.2f} GB), {args.threads} threads, pp{args.p} / tg{args.n}, "
          f"mean of {args.repetitions}")
    print(f"{'':24}{'prompt tok/s':>14}{'gen tok/s':>12}{'load s':>9}{'peak RSS GiB':>14}")
    for flash, r in llama.items():
        print(f"{'llama.cpp, flash ' + ('on' if flash else 'off'):24}{r['pp']:14.2f}{r['tg']:12.2f}"
              f"{r['load']:9.2f}{r['rss'] / gib:14.2f}")
    print(f"{'brise (' + brise['kernelPath'] + ')':24}{brise['promptTokensPerSecond']:14.2f}"
          f"{brise['generationTokensPerSecond']:12.2f}{brise['loadSeconds']:9.2f}{brise['peakResidentBytes'] / gib:14.2f}")
    print(f"ratio brise / llama.cpp's best: prompt {brise['promptTokensPerSecond'] / best_pp['pp']:.2f}x, "
          f"generation {brise['generationTokensPerSecond'] / best_tg['tg']:.2f}x")
    print(f"brise resident vs file + KV cache: {brise['peakResidentBytes'] / gib:.2f} GiB vs "
          f"{(size + brise['kvCacheBytes']) / gib:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
