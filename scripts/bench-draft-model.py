#!/usr/bin/env python3
"""A draft model for speculative decoding: a lower-bit copy of a GGUF made with llama.cpp's quantizer
(llama-cpp-python's llama_model_quantize, requantizing), drafting for the original through
`brise generate --speculative draft --draft-model COPY`. Prints, per prompt, whether the text is
identical to plain decoding (greedy), the draft's acceptance rate and both decode rates.

  scripts/bench-draft-model.py --model M [--type q4_0|q2_k|q3_k_m] [--copy PATH] [--tokens 200]
"""
import argparse, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
BRISE = os.path.join(HERE, "..", ".build", "release", "brise")
SOURCE = os.path.join(HERE, "..", "Fixtures", "speculative", "inventory.py")

TYPES = {"q4_0": 2, "q2_k": 10, "q3_k_m": 12, "q4_k_m": 15}


def quantize(src, dst, ftype):
    import ctypes
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = 2
    status = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if status != 0:
        raise SystemExit(f"llama_model_quantize failed ({status})")


def generate(model, prompt, tokens, extra):
    out = subprocess.run([BRISE, "generate", "--model", model, "--chat", "--prompt", prompt, "--temperature", "0",
                          "-n", str(tokens), "--threads", "2", "--json"] + extra, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"brise generate failed: {out.stderr}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--type", default="q4_0", choices=sorted(TYPES))
    ap.add_argument("--copy", help="where the lower-bit copy goes (default: beside /tmp)")
    ap.add_argument("--tokens", type=int, default=200)
    args = ap.parse_args()
    copy = args.copy or os.path.join("/tmp", os.path.basename(args.model).replace(".gguf", f".{args.type}-draft.gguf"))
    if not os.path.exists(copy):
        quantize(args.model, copy, TYPES[args.type])
    print(f"target {args.model} ({os.path.getsize(args.model) / 2**20:.0f} MiB), draft {copy} ({os.path.getsize(copy) / 2**20:.0f} MiB)")
    source = open(SOURCE).read()
    prompts = {
        "edit": "Rename the method `needs_reorder` to `is_low` everywhere in this file. Answer with the whole file.\n\n```python\n"
                + source[:1800] + "```",
        "story": "Write a short story about a lighthouse keeper who finds a message in a bottle.",
        "explain": "Explain what a hash map is and when to use one, in a few paragraphs.",
    }
    for name, prompt in prompts.items():
        plain = generate(args.model, prompt, args.tokens, [])
        drafted = generate(args.model, prompt, args.tokens, ["--speculative", "draft", "--draft-model", copy])
        u, v = plain["usage"], drafted["usage"]
        rate = lambda x: x["generated_tokens"] / x["generation_seconds"]
        acceptance = v["accepted_tokens"] / v["drafted_tokens"] if v["drafted_tokens"] else 0
        print(f"{name}: identical text {plain['text'] == drafted['text']}; {v['generated_tokens']} tokens; "
              f"draft guessed {v['drafted_tokens']}, {v['accepted_tokens']} right ({acceptance:.0%}); "
              f"plain {rate(u):.2f} tok/s, with the draft {rate(v):.2f} tok/s ({rate(v) / rate(u):.2f}x)", flush=True)
        if plain["text"] != drafted["text"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
