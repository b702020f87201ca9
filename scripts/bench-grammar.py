#!/usr/bin/env python3
"""Token-mask time per step, Brise next to llguidance, on the same schemas, texts and vocabulary.

For each (schema, instances) case under Fixtures/schemas/bench/ and each vocabulary given (GGUF files:
Qwen2.5's 151k tokens, Tekken's 131k), runs `brise bench grammar --json` and, in this process,
llguidance (LLMatcher over the vocabulary read by llama.cpp): at every token of every instance the
mask is computed and timed. 'cold' is the first pass (compilation and caches filling), 'warm' the
later passes (a daemon's later requests with the same schema). Prints medians and p99 in µs and the
ratio brise/llguidance (below 1: brise is faster).

  scripts/bench-grammar.py [--brise .build/release/brise] [--vocab FILE ...] [--passes 3]
"""
import argparse, glob, json, os, subprocess, sys, time, statistics, tempfile


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round((len(s) - 1) * p)))] if s else 0.0


def llguidance_times(vocab_path, schema, instances, passes):
    import llama_cpp, llguidance, llguidance.llamacpp, numpy as np
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    # llama.cpp logs the whole vocabulary load on stderr: silence it.
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        model = llama_cpp.llama_model_load_from_file(vocab_path.encode(), params)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
    vocab = llama_cpp.llama_model_get_vocab(model)
    tok = llguidance.llamacpp.lltokenizer_from_vocab(vocab)
    n = llama_cpp.llama_vocab_n_tokens(vocab)
    grammar = llguidance.LLMatcher.grammar_from_json_schema(schema)
    mask = np.zeros(((n + 31) // 32,), dtype=np.int32)
    texts = [tok.tokenize_str(t) for t in instances]

    def one_pass():
        times = []
        for ids in texts:
            m = llguidance.LLMatcher(tok, grammar)
            for t in ids + [None]:
                start = time.perf_counter()
                m.unsafe_compute_mask_ptr(mask.ctypes.data, mask.size * 4)
                times.append(time.perf_counter() - start)
                if t is None:
                    break
                if not m.consume_token(t):
                    raise SystemExit(f"llguidance refused token {t}: {m.get_error()}")
        return times
    cold = one_pass()
    warm = []
    for _ in range(passes):
        warm += one_pass()
    return cold, warm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brise", default=".build/release/brise")
    ap.add_argument("--vocab", action="append")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--cases", default="Fixtures/schemas/bench")
    args = ap.parse_args()
    models = subprocess.run(["scripts/models-dir"], capture_output=True, text=True).stdout.strip()
    vocabs = args.vocab or [os.path.join(models, "qwen2.5-coder-0.5b-instruct-q4.gguf"),
                            os.path.expanduser("~/.cache/brise/tokenizers/mistral-tekken-240718.gguf")]
    cases = sorted(glob.glob(os.path.join(args.cases, "*.json")))
    print(f"{'case':24} {'vocabulary':28} {'brise cold':>11} {'llg cold':>10} {'brise warm':>11} {'p99':>7} {'llg warm':>9} {'p99':>7} {'ratio':>6}")
    ratios = []
    for case in cases:
        spec = json.load(open(case))
        with tempfile.TemporaryDirectory() as tmp:
            schema_path = os.path.join(tmp, "schema.json")
            json.dump(spec["schema"], open(schema_path, "w"))
            paths = []
            for i, inst in enumerate(spec["instances"]):
                p = os.path.join(tmp, f"i{i}.json")
                text = inst if isinstance(inst, str) else json.dumps(inst, indent=spec.get("indent"), ensure_ascii=False)
                open(p, "w").write(text)
                paths.append(p)
            texts = [open(p).read() for p in paths]
            for vocab in vocabs:
                cmd = [args.brise, "bench", "grammar", "--model", vocab, "--schema", schema_path, "--passes", str(args.passes), "--json"]
                for p in paths:
                    cmd += ["--instance", p]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"{os.path.basename(case):24} brise failed: {r.stderr.strip()}")
                    continue
                b = json.loads(r.stdout)
                cold, warm = llguidance_times(vocab, spec["schema"], texts, args.passes)
                lw, lw99 = pct(warm, 0.5) * 1e6, pct(warm, 0.99) * 1e6
                ratio = b["warm_median_us"] / lw if lw else float("nan")
                ratios.append(ratio)
                print(f"{os.path.basename(case)[:24]:24} {os.path.basename(vocab)[:28]:28} {b['cold_median_us']:9.1f}µs {pct(cold, 0.5) * 1e6:8.1f}µs "
                      f"{b['warm_median_us']:9.1f}µs {b['warm_p99_us']:7.0f} {lw:7.1f}µs {lw99:7.0f} {ratio:6.2f}")
    if ratios:
        print(f"median ratio brise/llguidance (warm median mask time): {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
