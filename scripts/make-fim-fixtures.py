#!/usr/bin/env python3
"""Writes Fixtures/tokenization/fim.json: fill-in-the-middle prompt ids from the references.

  - Mistral's tokenizers (Tekken 240718, SentencePiece v3 and v7): mistral-common's encode_fim
    (FIMRequest(prompt=prefix, suffix=suffix)); the v1 tokenizer has no FIM (mistral-common refuses).
  - Qwen2.5-Coder (the real model in the models directory): llama.cpp's /infill order, with the
    FIM token ids llama.cpp itself detects (llama_vocab_fim_pre/suf/mid) and its tokenizer:
    [BOS if added] PRE prefix SUF suffix MID.

Run with the venv's python (mistral-common, llama-cpp-python).
"""
import ctypes
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

CASES = [
    ("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n"),
    ("", "return x\n"),
    ("import os\n", ""),
    ("", ""),
    ("  leading spaces", "  trailing spaces  "),
    ("class Stack:\n    def push(self, x):\n        ", "\n    def pop(self):\n        return self.items.pop()\n"),
    ("// Résumé: naïve café — 東京 🚀\nfn main() {", "}\n"),
    ("x = [PREFIX] not a token", "[SUFFIX] <|fim_prefix|> plain text"),
    ("\n\n\t", "\t\n"),
    ("a" * 300, "b" * 200),
]

MISTRAL = [
    ("mistral-tekken-240718.gguf", "tekken_240718.json"),
    ("mistral-spm-v3.gguf", "mistral_instruct_tokenizer_240323.model.v3"),
    ("mistral-spm-v7.gguf", "mistral_instruct_tokenizer_241114.model.v7"),
]


def mistral_cases():
    import mistral_common
    from mistral_common.protocol.fim.request import FIMRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    data = Path(mistral_common.__file__).resolve().parent / "data"
    out = {}
    for vocab, source in MISTRAL:
        tokenizer = MistralTokenizer.from_file(str(data / source))
        out[vocab] = [
            {"prefix": p, "suffix": s, "ids": tokenizer.encode_fim(FIMRequest(prompt=p, suffix=s)).tokens}
            for p, s in CASES
        ]
    return out


def qwen_cases():
    import llama_cpp

    models = Path(subprocess.run([str(REPO / "scripts" / "models-dir")], capture_output=True, text=True, check=True).stdout.strip())
    path = models / "qwen2.5-coder-0.5b-instruct-q4.gguf"
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    vocab = llama_cpp.llama_model_get_vocab(model)

    def tokenize(text):
        data = text.encode()
        buffer = (llama_cpp.llama_token * (len(data) + 16))()
        n = llama_cpp.llama_tokenize(vocab, data, len(data), buffer, len(buffer), False, False)
        assert n >= 0
        return list(buffer[:n])

    pre, suf, mid = (llama_cpp.llama_vocab_fim_pre(vocab), llama_cpp.llama_vocab_fim_suf(vocab), llama_cpp.llama_vocab_fim_mid(vocab))
    bos = [llama_cpp.llama_vocab_bos(vocab)] if llama_cpp.llama_vocab_get_add_bos(vocab) else []
    cases = [{"prefix": p, "suffix": s, "ids": bos + [pre] + tokenize(p) + [suf] + tokenize(s) + [mid]} for p, s in CASES]
    llama_cpp.llama_model_free(model)
    return {"qwen2.5-coder-0.5b-instruct-q4.gguf": cases}


def main() -> int:
    out = {"mistral-common": mistral_cases(), "llama.cpp": qwen_cases()}
    path = REPO / "Fixtures" / "tokenization" / "fim.json"
    path.write_text(json.dumps(out, ensure_ascii=True, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
