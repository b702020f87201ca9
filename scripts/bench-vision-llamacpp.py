#!/usr/bin/env python3
"""Times llama.cpp's image encode (libmtmd's mtmd_encode_chunk: preprocessing is done before, so this
is the vision encoder + projector graph alone) on a pixtral mmproj, for speed comparisons with Brise.

Usage (the venv with llama-cpp-python):
  ~/.cache/brise/venv/bin/python scripts/make-vision-fixtures.py --only wide     # once: ~0.8 GB
  ~/.cache/brise/venv/bin/python scripts/bench-vision-llamacpp.py [--runs 5] [--threads 2]
        [--flash auto|on|off] [--image PATH] [--mmproj PATH --model PATH]

Defaults: the Ministral-3-3B-sized encoder written by `make-vision-fixtures.py --only wide` and its
1-layer text model (libmtmd needs a text model for the vocabulary and checks its width) from
$BRISE_FIXTURE_CACHE (default ~/.cache/brise/fixture-models), Fixtures/vision/images/512x512.png,
2 threads, clip flash attention as libmtmd's default (auto, which is enabled on CPU). One untimed
encode first, then --runs timed ones; prints every run, the median and the best in ms.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_vision_fixtures", REPO / "scripts" / "make-vision-fixtures.py")
mvf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mvf)  # type: ignore[union-attr]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mmproj", type=Path, default=mvf.CACHE / "ministral3b-pixtral-mmproj-F16.gguf")
    ap.add_argument("--model", type=Path, default=mvf.CACHE / "wide-mistral3-vision-1layer-Q8_0.gguf")
    ap.add_argument("--image", type=Path, default=mvf.IMAGES / "512x512.png")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--flash", choices=["auto", "on", "off"], default="auto")
    args = ap.parse_args()
    for p in (args.mmproj, args.model):
        if not p.exists():
            sys.exit(f"missing {p}: run scripts/make-vision-fixtures.py --only wide")

    import llama_cpp
    from llama_cpp import mtmd_cpp
    mvf.quiet()
    model = mvf.load_text_model(args.model)
    p = mtmd_cpp.mtmd_context_params_default()
    p.use_gpu = False
    p.print_timings = False
    p.n_threads = args.threads
    p.flash_attn_type = mvf.FLASH[args.flash]
    mvf.LOG.clear()
    mctx = mtmd_cpp.mtmd_init_from_file(str(args.mmproj).encode(), model, p)
    if not mctx:
        sys.exit("libmtmd could not load the mmproj:\n" + "".join(mvf.LOG))
    said = [l for l in "".join(mvf.LOG).splitlines() if "flash attention is" in l]
    chunks = mvf.tokenize(mctx, args.image, mvf.PROMPT.format(marker=mtmd_cpp.mtmd_default_marker().decode()))
    _, _, idx = mvf.describe_chunks(chunks)
    chunk = mtmd_cpp.mtmd_input_chunks_get(chunks, idx)
    n_tok = mtmd_cpp.mtmd_input_chunk_get_n_tokens(chunk)

    times = []
    for i in range(args.runs + 1):
        t0 = time.perf_counter()
        if mtmd_cpp.mtmd_encode_chunk(mctx, chunk) != 0:
            sys.exit("mtmd_encode_chunk failed")
        ms = (time.perf_counter() - t0) * 1000
        if i:
            times.append(ms)
        print(f"{'warm-up' if i == 0 else f'run {i}'}: {ms:.1f} ms", flush=True)
    print(f"{args.mmproj.name}, {args.image.name} -> {n_tok} embeddings, {args.threads} threads, "
          f"llama-cpp-python {llama_cpp.__version__} ({mvf.isa()}), clip flash attention "
          f"{said[-1].split('flash attention is')[-1].strip() if said else args.flash}")
    print(f"median {statistics.median(times):.1f} ms, best {min(times):.1f} ms over {len(times)} runs")
    mtmd_cpp.mtmd_input_chunks_free(chunks)
    mtmd_cpp.mtmd_free(mctx)
    llama_cpp.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
