#!/usr/bin/env python3
"""Records llama.cpp's token ids for the tokenizer corpus on the real small models.

    ~/.cache/brise/venv/bin/python scripts/make-llamacpp-token-fixtures.py [MODELS_DIR]

Needs llama.cpp's Python binding in the venv (not installed by scripts/setup: it builds llama.cpp,
about ten minutes on two cores):

    CMAKE_ARGS="-DGGML_NATIVE=ON" ~/.cache/brise/venv/bin/pip install llama-cpp-python

Reads Fixtures/tokenization/corpus.json (written by scripts/make-tokenizer-fixtures.py) and the real
models fetched by scripts/fetch-models, and writes Fixtures/tokenization/llamacpp-ids.json: for each
model, llama.cpp's ids for every corpus text with add_special=False (no BOS) and parse_special=False
(control tokens in the text are plain text; user-defined tokens are still matched, as llama.cpp does),
plus a few texts with parse_special=True and with add_special=True.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import llama_cpp

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures" / "tokenization"
MODELS = ["gemma-3-270m-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct-q4.gguf"]

SPECIAL_TEXTS = [
    "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n",
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "<tool_call>{\"name\": \"f\"}</tool_call>",
    "a<bos>b<eos>c<|endoftext|>d",
    "Hello world",
    "",
]


def main() -> int:
    models_dir = Path(sys.argv[1] if len(sys.argv) > 1 else
                      subprocess.run([str(REPO / "scripts" / "models-dir")], capture_output=True, text=True, check=True).stdout.strip())
    corpus = json.loads((FIXTURES / "corpus.json").read_text(encoding="utf-8"))
    out = {"generator": "scripts/make-llamacpp-token-fixtures.py", "llama_cpp_python": llama_cpp.__version__,
           "note": "plain: add_special=False, parse_special=False, one row per corpus.json entry", "models": {}}
    for name in MODELS:
        llm = llama_cpp.Llama(model_path=str(models_dir / name), vocab_only=True, verbose=False)
        plain = [llm.tokenize(item["text"].encode("utf-8"), add_bos=False, special=False) for item in corpus]
        special = [{"text": t,
                    "parse_special": llm.tokenize(t.encode("utf-8"), add_bos=False, special=True),
                    "add_special": llm.tokenize(t.encode("utf-8"), add_bos=True, special=False)}
                   for t in SPECIAL_TEXTS]
        out["models"][name] = {"plain": plain, "special": special}
        print(f"{name}: {len(plain)} strings, {sum(map(len, plain))} tokens")
    with open(FIXTURES / "llamacpp-ids.json", "w", encoding="utf-8") as f:
        header = {k: v for k, v in out.items() if k != "models"}
        f.write(json.dumps(header, ensure_ascii=True)[:-1] + ', "models": {\n')
        parts = []
        for name, data in out["models"].items():
            rows = ",\n".join(json.dumps(r, separators=(",", ":")) for r in data["plain"])
            special = json.dumps(data["special"], ensure_ascii=True, separators=(",", ":"))
            parts.append(f'"{name}": {{"special": {special},\n"plain": [\n{rows}\n]}}')
        f.write(",\n".join(parts) + "\n}}\n")
    print(f"wrote {FIXTURES / 'llamacpp-ids.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
