#!/usr/bin/env python3
"""Records llama.cpp's chat-prompt token ids and greedy continuations on the real small models.

    ~/.cache/brise/venv/bin/python scripts/make-real-model-fixtures.py [MODELS_DIR]

Needs llama-cpp-python in the venv (see scripts/make-llamacpp-token-fixtures.py) and the real models
fetched by scripts/fetch-models (MODELS_DIR, else the models directory: scripts/models-dir).

For each model and each of PROMPTS, the conversation is rendered with the model's own chat template
(Qwen2.5's Jinja template from its GGUF; Gemma 3's published template, which its GGUF does not carry,
cross-checked against llama.cpp's built-in `gemma` template), tokenized by llama.cpp with special
tokens parsed, and evaluated by llama.cpp (2 threads, F16 KV cache, flash attention off: the
arithmetic Brise reproduces) two ways, as scripts/make-model-fixtures.py does:

- `batched`: the prompt as one batch (llama.cpp's default n_batch 512, its mat-mat kernels on
  repacked weights), then one token at a time: what llama.cpp normally does;
- `sequential`: the prompt one token at a time too (n_batch 1, its mat-vec kernels throughout), which
  is what Brise's prefill equals bit for bit.

Each records the greedy continuation (argmax, up to 64 tokens, stopping after an end-of-generation
token) and the top-2 logit margin at every step. Writes Fixtures/real-models/<model>.greedy.json.

With --raw, the same for RAW_PROMPTS: plain text without a chat template, tokenized with BOS as
llama.cpp's completion does, 32 greedy steps (where K-quant summation-order differences used to show
first on the real Gemma 3 file). Writes Fixtures/real-models/<model>.raw.json.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.sandbox
import numpy as np
import llama_cpp
from llama_cpp import Llama

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures" / "real-models"
STEPS = 64
THREADS = 2

MODELS = {
    "gemma-3-270m-q4_k_m.gguf": "gemma",
    "qwen2.5-coder-0.5b-instruct-q4.gguf": "chatml",
}

# Plain text only (no control-token look-alikes): the conversation, not the tokenizer, is under test.
PROMPTS = [
    [{"role": "user", "content": "Write a Python function that checks whether a number is prime."}],
    [{"role": "user", "content": "Explain what a hash table is and when to use one."}],
    [{"role": "user", "content": "What is the capital of France? Tell me a little about its history."}],
    [{"role": "system", "content": "You are a concise assistant that answers in plain English."},
     {"role": "user", "content": "Why is the sky blue?"}],
    [{"role": "user", "content": "Write a short poem about the sea at night."}],
    [{"role": "user", "content": "Give me three tips for writing clear commit messages."}],
    [{"role": "user", "content": "Write a shell command that counts the lines of every .txt file in a directory, "
                                 "and explain it."}],
    [{"role": "user", "content": "Translate into French: \"The weather is lovely today, let's go for a walk.\""}],
]

# Gemma 3's chat template as published with the model (string contents only; system text prefixed to
# the first user turn, roles must alternate, content trimmed).
GEMMA3_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {{- message['content'] | trim }}
    {{- '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<start_of_turn>model\n' }}
{%- endif -%}
"""


# Raw text, no template: prose, code, lists, numbers, another language, repetition.
RAW_PROMPTS = [
    "The old lighthouse keeper climbed the stairs every evening, and",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Shopping list:\n1. eggs\n2. milk\n3.",
    "In 1969, the Apollo 11 mission",
    "Le chat dort sur le canapé pendant que",
    "SELECT name, COUNT(*) FROM orders",
    "To install the package, run the following command:",
    "1, 1, 2, 3, 5, 8, 13,",
]
RAW_STEPS = 32


def open_pair(path: Path) -> tuple[Llama, Llama]:
    """llama.cpp on `path` twice: the prompt as one batch (n_batch 512), and one token at a time."""
    common = dict(model_path=str(path), n_ctx=512, n_threads=THREADS, n_threads_batch=THREADS,
                  flash_attn=False, logits_all=False, verbose=False, seed=0)
    return Llama(n_batch=512, n_ubatch=512, **common), Llama(n_batch=1, n_ubatch=1, **common)


def write_fixture(target: Path, out: dict) -> None:
    """`out` as JSON, one prompt per block with its number lists on single lines: small, diff-friendly."""
    with open(target, "w", encoding="utf-8") as f:
        head = {k: v for k, v in out.items() if k != "prompts"}
        f.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "prompts": [\n')
        f.write(",\n".join(json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in out["prompts"]))
        f.write("\n ]\n}\n")
    json.loads(target.read_text(encoding="utf-8"))
    print(f"wrote {target.relative_to(REPO)}")


def make_raw(models_dir: Path, name: str) -> None:
    path = models_dir / name
    batched, sequential = open_pair(path)
    prompts = []
    for text in RAW_PROMPTS:
        ids = batched.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        run = greedy(batched, ids, RAW_STEPS)
        one = greedy(sequential, ids, RAW_STEPS)
        agree = next((i for i, (a, b) in enumerate(zip(run["greedy"], one["greedy"])) if a != b), None)
        print(f"{name} raw {len(prompts)}: {len(ids)} ids, min margin {min(one['margins']):.4f}, batched vs "
              f"sequential: {'identical' if agree is None else f'differ from step {agree}'}")
        prompts.append({"text": text, "ids": ids, "batched": run, "sequential": one,
                        "batchedDiffersFromSequentialAt": agree})
    del batched, sequential
    write_fixture(FIXTURES / f"{name}.raw.json", {
        "generator": "scripts/make-real-model-fixtures.py --raw",
        "model": {"file": name, "sha256": sha256(path)},
        "llamaCpp": {"version": llama_cpp.__version__, "threads": THREADS, "kvCache": "f16", "flashAttention": False,
                     "nCtx": 512, "batchedNBatch": 512, "steps": RAW_STEPS, "stopsAtEndOfGeneration": True},
        "prompts": prompts,
    })


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def token_text(llm: Llama, token: int) -> str:
    return llm.detokenize([token], special=True).decode("utf-8", errors="replace")


def render(template: str, messages: list[dict], bos: str, eos: str) -> str:
    """The conversation through a Jinja chat template, as llama-cpp-python's Jinja2ChatFormatter does."""
    def raise_exception(message: str):
        raise jinja2.exceptions.TemplateError(message)
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True, bos_token=bos,
                                            eos_token=eos, raise_exception=raise_exception)


def builtin_render(name: str, messages: list[dict]) -> str:
    """llama.cpp's own C++ rendering of a built-in template (`gemma`, `chatml`)."""
    keep = [(m["role"].encode(), m["content"].encode()) for m in messages]
    chat = (llama_cpp.llama_chat_message * len(keep))(*[llama_cpp.llama_chat_message(r, c) for r, c in keep])
    size = 1 << 16
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_chat_apply_template(name.encode(), chat, len(keep), True, buf, size)
    if n < 0 or n > size:
        sys.exit(f"llama_chat_apply_template({name}) failed: {n}")
    return buf.raw[:n].decode("utf-8")


def greedy(llm: Llama, prompt: list[int], steps: int = STEPS) -> dict:
    """Evaluate the prompt (in llm.n_batch batches), then up to `steps` greedy tokens one at a time."""
    vocab = llm.n_vocab()
    model_vocab = llama_cpp.llama_model_get_vocab(llm.model)
    llm.reset()
    llm.eval(prompt)
    tokens, margins = [], []
    for _ in range(steps):
        row = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,)).astype(np.float32)
        top2 = np.argpartition(row, -2)[-2:]
        best = int(np.argmax(row))
        second = int(top2[0] if top2[0] != best else top2[1])
        tokens.append(best)
        margins.append(round(float(row[best] - row[second]), 6))
        if llama_cpp.llama_vocab_is_eog(model_vocab, best):
            break
        llm.eval([best])
    return {"greedy": tokens, "margins": margins}


def make(models_dir: Path, name: str, chat_format: str) -> None:
    path = models_dir / name
    batched, sequential = open_pair(path)
    bos = token_text(batched, batched.token_bos())
    eos = token_text(batched, batched.token_eos())
    template = GEMMA3_TEMPLATE if chat_format == "gemma" else batched.metadata["tokenizer.chat_template"]

    prompts = []
    for messages in PROMPTS:
        text = render(template, messages, bos, eos)
        # Cross-check the template with llama.cpp's built-in one (which adds neither BOS nor ChatML's
        # default system message, so give it the same system turn).
        if chat_format == "gemma":
            assert text == bos + builtin_render("gemma", messages), "Gemma template disagrees with llama.cpp's"
        else:
            system = [] if messages[0]["role"] == "system" else [
                {"role": "system", "content": "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."}]
            assert text == builtin_render("chatml", system + messages), "ChatML template disagrees with llama.cpp's"
        ids = batched.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        run = greedy(batched, ids)
        one = greedy(sequential, ids)
        agree = next((i for i, (a, b) in enumerate(zip(run["greedy"], one["greedy"])) if a != b), None)
        if agree is None and len(run["greedy"]) != len(one["greedy"]):
            agree = min(len(run["greedy"]), len(one["greedy"]))
        answer = batched.detokenize(run["greedy"]).decode("utf-8", errors="replace")
        print(f"{name} prompt {len(prompts)}: {len(ids)} ids, {len(run['greedy'])} greedy, "
              f"min margin {min(run['margins']):.4f}, batched vs sequential: "
              f"{'identical' if agree is None else f'differ from step {agree}'}; {answer[:60]!r}")
        prompts.append({"messages": messages, "text": text, "ids": ids, "batched": run, "sequential": one,
                        "batchedDiffersFromSequentialAt": agree, "answer": answer})
    del batched, sequential

    write_fixture(FIXTURES / f"{name}.greedy.json", {
        "generator": "scripts/make-real-model-fixtures.py",
        "model": {"file": name, "sha256": sha256(path)},
        "chatFormat": chat_format,
        "llamaCpp": {"version": llama_cpp.__version__, "threads": THREADS, "kvCache": "f16", "flashAttention": False,
                     "nCtx": 512, "batchedNBatch": 512, "steps": STEPS, "stopsAtEndOfGeneration": True},
        "prompts": prompts,
    })


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--raw"]
    raw = "--raw" in sys.argv[1:]
    models_dir = Path(args[0] if args else
                      subprocess.run([str(REPO / "scripts" / "models-dir")], capture_output=True, text=True, check=True).stdout.strip())
    for name, chat_format in MODELS.items():
        if raw:
            make_raw(models_dir, name)
        else:
            make(models_dir, name, chat_format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
