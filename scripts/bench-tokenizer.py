#!/usr/bin/env python3
"""Tokenizer throughput: Brise next to llama.cpp on the same vocabulary and the same ~1 MB of text.

    swift build -c release
    ~/.cache/brise/venv/bin/python scripts/bench-tokenizer.py MODEL.gguf [MODEL.gguf …]

Writes Brise's built-in mixed text (`brise bench tokenizer` generates it) to a temporary file, runs
`.build/release/brise bench tokenizer --model M --text FILE` and llama.cpp's tokenizer through
llama-cpp-python (vocab_only) on that file, best of five each, and prints MB/s and the ratio.
Checks that both produce the same number of tokens.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp

REPO = Path(__file__).resolve().parent.parent
BRISE = REPO / ".build" / "release" / "brise"


def mixed_text() -> str:
    parts = [
        "The quick brown fox jumps over the lazy dog while the rain falls on the old roof. ",
        "Français : déjà vu, où était l'été ? Straße, Größe, Übermäßig schön. ",
        "Привет мир, как дела? Съешь же ещё этих мягких французских булок. ",
        "你好世界，这是一个测试。こんにちは世界、日本語の文章です。안녕하세요 세계. ",
        "Emoji 😀👍🏽👨‍👩‍👧‍👦🇫🇷 ✨🔥 ",
        "def f(x):\n    return x**2 + 3.14159 * x - 42\n\tfor (int i = 0; i < n; ++i) { sum += a[i]; }\n",
        "Numbers 1234567890, 3.5e-7, $19.99, 2024-07-18T12:00:00Z.\n\n",
    ]
    text, i = [], 0
    size = 0
    while size < 1_000_000:
        text.append(parts[i % len(parts)])
        size += len(parts[i % len(parts)].encode("utf-8"))
        i += 1
    return "".join(text)


def main() -> int:
    if not BRISE.exists():
        print("build first: swift build -c release", file=sys.stderr)
        return 1
    text = mixed_text()
    data = text.encode("utf-8")
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(data)
        path = f.name
    for model in sys.argv[1:]:
        out = subprocess.run([str(BRISE), "bench", "tokenizer", "--model", model, "--text", path],
                             check=True, capture_output=True, text=True).stdout.split()
        brise_rate = float(out[out.index("MB/s") + 1])
        brise_tokens = int(out[out.index("tokens") + 1])
        llm = llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            ids = llm.tokenize(data, add_bos=False, special=False)
            best = min(best, time.perf_counter() - start)
        llama_rate = len(data) / best / 1e6
        same = "same token count" if len(ids) == brise_tokens else f"TOKEN COUNTS DIFFER ({brise_tokens} vs {len(ids)})"
        print(f"{Path(model).name}: {len(data)} bytes, brise {brise_rate:.2f} MB/s, llama.cpp {llama_rate:.2f} MB/s, "
              f"ratio {brise_rate / llama_rate:.2f}x ({same})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
