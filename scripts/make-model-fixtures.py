#!/usr/bin/env python3
"""Makes the forward-pass reference fixtures: synthetic llama / mistral3 models and llama.cpp's outputs.

Run with the venv that has gguf, numpy, mistral-common and llama-cpp-python
(~/.cache/brise/venv/bin/python scripts/make-model-fixtures.py). Three kinds of model:

- tiny: `llama` and `mistral3` (YaRN with a small original context, attention temperature) with
  hidden 256, 2 layers, a toy SentencePiece-style vocabulary. Written as F32 with gguf-py from a
  seeded RNG, then quantized by llama.cpp to Q8_0, Q4_0, Q5_0, Q4_K_M and Q6_K. The quantized files
  are small and committed under Fixtures/models/.
- wide: a `mistral3` like the tiny one but with attention wider than the hidden size (4 heads of
  128 over 256), untied output, FFN 512, as F16, Q8_0, Q4_K_M, Q5_K_M and Q6_K (committed too).
- tekken: a tiny `llama` model with the real Tekken vocabulary (131 072 tokens, from mistral-common's
  tekken_240718.json), its 2-D weights seeded random Q8_0 blocks written directly (gguf-py's Q8_0
  quantizer rounds differently from llama.cpp's, so quantizing would not be reproducible without
  llama.cpp). Too large to commit (~80 MB): `--regenerate` rebuilds it bit-exactly with gguf-py alone.
- ministral3b: `mistral3` with the real Ministral 3 3B layer shapes (hidden 3072, 32/8 heads of 128,
  FFN 9216, tied embeddings, Tekken vocabulary size) but 2 layers, in llama.cpp's Q4_K_M type mix.
  Its weights are seeded random blocks written directly in each quantized type (gguf-py has no K-quant
  quantizer), so `--regenerate` rebuilds it without llama.cpp. ~330 MB, kept outside the repository.

For every model, llama.cpp (F16 KV cache, flash attention off, 2 threads) evaluates fixed token
sequences, once with the prompt fed token by token and once as one batch (see llama_outputs); the
JSON beside each model records the SHA-256 of the file it ran on and, for both, the full logits of
the last prompt position, the top-10 logits of every position, and a 32-token greedy continuation
with llama.cpp's top-2 margin at each step.

  make-model-fixtures.py                 make everything (needs llama-cpp-python)
  make-model-fixtures.py --regenerate    rebuild the uncommitted model files only (gguf-py + numpy)

Large files go to $BRISE_FIXTURE_CACHE (default ~/.cache/brise/fixture-models).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import gguf

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures" / "models"
CACHE = Path(os.environ.get("BRISE_FIXTURE_CACHE", Path.home() / ".cache" / "brise" / "fixture-models"))

QUANTS = {  # name -> llama_ftype
    "Q8_0": 7,
    "Q4_0": 2,
    "Q5_0": 8,
    "Q4_K_M": 15,
    "Q6_K": 18,
}


# --------------------------------------------------------------------------------------------
# Vocabularies

def toy_vocab(size: int) -> dict:
    """A SentencePiece-style (`llama`) vocabulary: <unk> <s> </s>, the 256 byte tokens, then pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(tokens) < size:
        # Unique pieces: one letter, two, then (past 26 + 26·26) base-26 numerals of three and more.
        if i < 26 + 26 * 26:
            piece = "\u2581" + letters[i % 26] + (letters[(i // 26) % 26] if i >= 26 else "")
        else:
            n, digits = i, ""
            while n:
                digits += letters[n % 26]
                n //= 26
            piece = "\u2581" + digits + "x"
        tokens.append(piece)
        types.append(1)
        i += 1
    scores = [0.0] * 259 + [-float(k) for k in range(size - 259)]
    return {"model": "llama", "tokens": tokens, "scores": scores, "types": types, "bos": 1, "eos": 2}


def tekken_vocab() -> dict:
    """The real Tekken vocabulary as llama.cpp's converter writes it (MODEL-SPEC §5.2)."""
    from gguf.vocab import MistralVocab  # type: ignore
    import mistral_common  # noqa: F401  (the wheel ships the tokenizer files)
    import shutil
    source = Path(mistral_common.__file__).parent / "data" / "tekken_240718.json"
    # MistralVocab chooses among every tokenizer file in a directory: give it one holding only this.
    directory = CACHE / "tekken_240718"
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, directory / "tekken.json")
    vocab = MistralVocab(directory)
    tokens, scores, types = [], [], []
    for text, score, ttype in vocab.all_tokens():
        tokens.append(text)
        scores.append(score)
        types.append(int(ttype))
    return {"model": "gpt2", "pre": "tekken", "tokens": tokens, "scores": scores, "types": types,
            "merges": vocab.extract_vocab_merges_from_model(), "bos": 1, "eos": 2}


def add_vocab(w: gguf.GGUFWriter, v: dict) -> None:
    w.add_string("tokenizer.ggml.model", v["model"])
    if "pre" in v:
        w.add_string("tokenizer.ggml.pre", v["pre"])
    w.add_array("tokenizer.ggml.tokens", v["tokens"])
    w.add_array("tokenizer.ggml.scores", v["scores"])
    w.add_array("tokenizer.ggml.token_type", v["types"])
    if "merges" in v:
        w.add_array("tokenizer.ggml.merges", v["merges"])
    w.add_uint32("tokenizer.ggml.bos_token_id", v["bos"])
    w.add_uint32("tokenizer.ggml.eos_token_id", v["eos"])
    w.add_bool("tokenizer.ggml.add_bos_token", True)


# --------------------------------------------------------------------------------------------
# Models

class Shape:
    def __init__(self, arch, hidden, layers, heads, kv_heads, head_dim, ffn, ctx, theta=1e6,
                 yarn=None, temperature=0.0, tied=False, experts=0, used=0):
        self.arch, self.hidden, self.layers = arch, hidden, layers
        self.heads, self.kv_heads, self.head_dim, self.ffn = heads, kv_heads, head_dim, ffn
        self.ctx, self.theta, self.yarn, self.temperature, self.tied = ctx, theta, yarn, temperature, tied
        self.experts, self.used = experts, used  # a sparse mixture of experts (Mixtral: 8, top 2)

    def keys(self, w: gguf.GGUFWriter) -> None:
        a = self.arch
        w.add_string("general.name", f"brise synthetic {a}")
        w.add_uint32(f"{a}.context_length", self.ctx)
        w.add_uint32(f"{a}.embedding_length", self.hidden)
        w.add_uint32(f"{a}.block_count", self.layers)
        w.add_uint32(f"{a}.feed_forward_length", self.ffn)
        w.add_uint32(f"{a}.attention.head_count", self.heads)
        w.add_uint32(f"{a}.attention.head_count_kv", self.kv_heads)
        w.add_uint32(f"{a}.attention.key_length", self.head_dim)
        w.add_uint32(f"{a}.attention.value_length", self.head_dim)
        w.add_uint32(f"{a}.rope.dimension_count", self.head_dim)
        w.add_float32(f"{a}.rope.freq_base", self.theta)
        w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", 1e-5)
        if self.yarn:
            w.add_string(f"{a}.rope.scaling.type", "yarn")
            w.add_float32(f"{a}.rope.scaling.factor", self.yarn["factor"])
            w.add_uint32(f"{a}.rope.scaling.original_context_length", self.yarn["original"])
            w.add_float32(f"{a}.rope.scaling.yarn_beta_fast", 32.0)
            w.add_float32(f"{a}.rope.scaling.yarn_beta_slow", 1.0)
            w.add_float32(f"{a}.rope.scaling.yarn_log_multiplier", self.yarn.get("log_mul", 1.0))
        if self.temperature:
            w.add_float32(f"{a}.attention.temperature_scale", self.temperature)
        if self.experts:
            w.add_uint32(f"{a}.expert_count", self.experts)
            w.add_uint32(f"{a}.expert_used_count", self.used)

    def tensors(self, n_vocab: int):
        """(name, ne shape as numpy (out, in) order, role) for every tensor, in llama.cpp's order."""
        h, q, kv, f = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim, self.ffn
        out = [("token_embd.weight", (n_vocab, h), "embd")]
        for i in range(self.layers):
            out += [
                (f"blk.{i}.attn_norm.weight", (h,), "norm"),
                (f"blk.{i}.attn_q.weight", (q, h), "q"),
                (f"blk.{i}.attn_k.weight", (kv, h), "k"),
                (f"blk.{i}.attn_v.weight", (kv, h), "v"),
                (f"blk.{i}.attn_output.weight", (h, q), "o"),
                (f"blk.{i}.ffn_norm.weight", (h,), "norm"),
            ]
            if self.experts:
                # llama.cpp's stacked layout (numpy order: expert, out, in); the router stays F32.
                e = self.experts
                out += [
                    (f"blk.{i}.ffn_gate_inp.weight", (e, h), "router"),
                    (f"blk.{i}.ffn_gate_exps.weight", (e, f, h), "gate"),
                    (f"blk.{i}.ffn_down_exps.weight", (e, h, f), "down"),
                    (f"blk.{i}.ffn_up_exps.weight", (e, f, h), "up"),
                ]
            else:
                out += [
                    (f"blk.{i}.ffn_gate.weight", (f, h), "gate"),
                    (f"blk.{i}.ffn_up.weight", (f, h), "up"),
                    (f"blk.{i}.ffn_down.weight", (h, f), "down"),
                ]
        out.append(("output_norm.weight", (h,), "norm"))
        if not self.tied:
            out.append(("output.weight", (n_vocab, h), "output"))
        return out


def float_weights(rng: np.random.Generator, shape, role: str) -> np.ndarray:
    if role == "norm":
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    if role == "embd":
        return rng.standard_normal(shape).astype(np.float32)
    fan_in = shape[-1]
    if role == "router":
        # Router logits with a standard deviation of ~4: a clear top two for most tokens, so the choice
        # of experts rarely hinges on the last bit of a float.
        return (4.0 * rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
    if role == "output":
        # Logits with a standard deviation of ~8: random models otherwise give near-ties between the
        # top tokens, and greedy parity would hinge on the last bit of a float.
        return (8.0 * rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


def write_f32(path: Path, shape: Shape, vocab: dict, seed: int, quant_q8_0: bool = False) -> None:
    """An F32 model (or, with quant_q8_0, its 2-D weights quantized to Q8_0 by gguf-py)."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), shape.arch)
    shape.keys(w)
    add_vocab(w, vocab)
    w.add_file_type(7 if quant_q8_0 else 0)
    for name, dims, role in shape.tensors(len(vocab["tokens"])):
        data = float_weights(rng, dims, role)
        if quant_q8_0 and data.ndim == 2 and role != "router":
            q = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def q4_k_m_type(name: str, role: str, layer: int, n_layers: int, tied: bool) -> gguf.GGMLQuantizationType:
    """llama.cpp's Q4_K_M choice per tensor (MODEL-SPEC §3.6)."""
    T = gguf.GGMLQuantizationType
    if role in ("norm", "router"):
        return T.F32
    if role == "output" or (role == "embd" and tied):
        return T.Q6_K
    if role in ("v", "down") and more_bits(layer, n_layers):
        return T.Q6_K
    return T.Q4_K


def random_blocks(rng: np.random.Generator, qtype: gguf.GGMLQuantizationType, rows: int, cols: int,
                  scale: float) -> np.ndarray:
    """Seeded random blocks of qtype: random quants and sub-scales, f16 block scales up to `scale`.

    Random sub-scales and quants are large (a Q6_K sub-scale times its quant averages ~1000), so a
    real file's block scales are tiny, often f16 subnormals; layer weights use such scales here so
    each layer's output stays comparable to the residual stream and the input keeps mattering."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    nblocks = rows * (cols // block)
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    scales = (rng.integers(1, 1000, size=(nblocks, 2)) / 1000.0 * scale).astype(np.float16).view(np.uint8).reshape(nblocks, 4)
    T = gguf.GGMLQuantizationType
    if qtype in (T.Q8_0, T.Q4_0, T.Q5_0):
        raw[:, 0:2] = scales[:, 0:2]
    elif qtype in (T.Q4_K, T.Q5_K):
        # Centred like real blocks: every sub-block's 6-bit scale and min are 32, and dmin is d·7.5
        # (d·16·7.5 for Q5_K's 5-bit quants), so x = d·32·(q − 7.5): random bytes here would give all
        # weights a shared offset and every layer would push one fixed direction.
        d = scales[:, 0:2].copy().view(np.float16).astype(np.float32)
        dmin = (d * (7.5 if qtype == T.Q4_K else 15.5)).astype(np.float16).view(np.uint8).reshape(nblocks, 2)
        raw[:, 0:2] = scales[:, 0:2]
        raw[:, 2:4] = dmin
        raw[:, 4:8] = 0xA0   # sub-blocks 0-3: scale 32; top bits of sub-blocks 4-7's scales (0b10)
        raw[:, 8:12] = 0xA0  # sub-blocks 0-3: min 32; top bits of sub-blocks 4-7's mins
        raw[:, 12:16] = 0x00  # sub-blocks 4-7: low bits of scale and min (0) -> 32 with the top bits
    elif qtype == T.Q6_K:
        raw[:, 208:210] = scales[:, 0:2]
    return raw.reshape(rows, cols // block * size)


def write_quantized_shape(path: Path, shape: Shape, vocab: dict, seed: int, mix: str) -> None:
    """A model written directly in a quantized type mix (`Q4_K_M` as llama.cpp chooses it, or `Q8_0`)
    with seeded random blocks: reproducible from the seed with numpy alone."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), shape.arch)
    shape.keys(w)
    add_vocab(w, vocab)
    w.add_file_type({"Q4_K_M": 15, "Q4_0": 2, "Q8_0": 7}[mix])
    w.add_quantization_version(2)
    T = gguf.GGMLQuantizationType
    for name, dims, role in shape.tensors(len(vocab["tokens"])):
        layer = int(name.split(".")[1]) if name.startswith("blk.") else 0
        if mix == "Q4_K_M":
            qtype = q4_k_m_type(name, role, layer, shape.layers, shape.tied)
        elif role in ("norm", "router"):
            qtype = T.F32
        elif mix == "Q4_0":
            # llama.cpp's Q4_0: Q6_K for the output matrix (the tied embedding when there is none).
            qtype = T.Q6_K if role == "output" or (role == "embd" and shape.tied) else T.Q4_0
        else:
            qtype = T.Q8_0
        if qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, float_weights(rng, dims, role))
        else:
            scale = 1.0 / 64 if role in ("embd", "output") else 1.0 / 1000
            rows = int(np.prod(dims[:-1]))
            data = random_blocks(rng, qtype, rows, dims[-1], scale)
            data = data.reshape(*dims[:-1], data.shape[-1])
            w.add_tensor(name, data, raw_shape=data.shape, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# The models and sequences

TINY = {
    "tiny-llama": Shape("llama", 256, 2, 4, 2, 64, 256, 256, theta=10000.0),
    "tiny-mistral3": Shape("mistral3", 256, 2, 4, 2, 64, 256, 256, theta=1e6,
                           yarn={"factor": 4.0, "original": 64, "log_mul": 1.0}, temperature=0.1),
}
TEKKEN = ("tekken-llama", Shape("llama", 256, 2, 4, 2, 64, 256, 1024, theta=1e8))
# Held-out-like: the shape features the tiny models lack, where K-quant sums once left llama.cpp's
# order -- attention width ≠ hidden (4 heads of 128 over hidden 256), every hidden-wide row a single
# 256-wide super-block, untied output, YaRN -- in five types, F16 among them.
WIDE = ("wide-mistral3", Shape("mistral3", 256, 2, 4, 2, 128, 512, 256, theta=1e6,
                               yarn={"factor": 4.0, "original": 64, "log_mul": 1.0}, temperature=0.1))
WIDE_QUANTS = {"F16": 1, "Q8_0": 7, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}
BIG = ("ministral3b-2layer", Shape("mistral3", 3072, 2, 32, 8, 128, 9216, 262144, theta=1e6,
                                    yarn={"factor": 16.0, "original": 16384, "log_mul": 1.0},
                                    temperature=0.1, tied=True))

# Mixtral-shaped (`llama` with 8 experts, each token through 2): a tiny one quantized by llama.cpp from
# F32 (committed), and a 2-layer one at Mixtral 8x7B's full width (hidden 4096, FFN 14336, 32/8 heads
# of 128), written as seeded random Q8_0 blocks and requantized by llama.cpp to its Q4_K_M mix.
MOE_TINY = ("tiny-mixtral", Shape("llama", 256, 2, 4, 2, 64, 256, 256, theta=1e6, experts=8, used=2))
MOE_QUANTS = {"Q8_0": 7, "Q4_K_M": 15}
MOE_WIDE = ("mixtral-2layer", Shape("llama", 4096, 2, 32, 8, 128, 14336, 32768, theta=1e6, experts=8, used=2))


def sequences(n_vocab: int, seed: int) -> dict[str, list[int]]:
    rng = np.random.default_rng(seed)
    return {
        "short": [1] + [int(t) for t in rng.integers(3, n_vocab, 15)],
        "long": [1] + [int(t) for t in rng.integers(3, n_vocab, 99)],  # past YaRN's original context of 64
    }


# --------------------------------------------------------------------------------------------
# llama.cpp

def run_llama(model: Path, tokens: list[int], n_ctx: int, n_batch: int) -> dict:
    """Prefill `tokens` in batches of `n_batch`, then 32 greedy single-token decode steps."""
    from llama_cpp import Llama
    llm = Llama(model_path=str(model), n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch, n_threads=2,
                logits_all=True, flash_attn=False, verbose=False, seed=0)
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    top = []
    for row in scores:
        ids = np.argsort(-row, kind="stable")[:10]
        top.append({"ids": [int(i) for i in ids], "logits": [float(row[i]) for i in ids]})
    greedy, margins = [], []
    for _ in range(32):
        row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        nxt = int(np.argmax(row))
        second = np.partition(row, -2)[-2]
        greedy.append(nxt)
        margins.append(float(row[nxt] - second))
        llm.eval([nxt])
    return {
        "lastLogits": base64.b64encode(scores[-1].astype("<f4").tobytes()).decode(),
        "top10": top,
        "greedy32": greedy,
        "greedyMargins": margins,
    }


def llama_outputs(model: Path, seqs: dict[str, list[int]], n_ctx: int) -> dict:
    """llama.cpp's outputs two ways. `sequential`: the prompt one token at a time (n_batch 1), so every
    product is llama.cpp's mat-vec path, as in its decode steps. `batched`: the prompt as one batch,
    where llama.cpp multiplies repacked Q4_0/Q4_K/Q8_0 weights with its mat-mat (GEMM) kernels, whose
    results differ from its own mat-vec ones (on Q4_K by up to a cosine of 0.994 on the 3B-shaped
    model). Brise's prefill equals its own token-by-token decode bit for bit, so `sequential` is the
    reference it is held to; the gap to `batched` is reported."""
    import llama_cpp
    out = {}
    for name, tokens in seqs.items():
        out[name] = {"tokens": tokens,
                     "sequential": run_llama(model, tokens, n_ctx, 1),
                     "batched": run_llama(model, tokens, n_ctx, n_ctx)}
    # The instruction set llama.cpp's CPU kernels were built for: their summation order (F32, K-quant
    # dots) and exp differ between its AVX2 and AVX-512 builds, so bit-exactness is claimed per ISA.
    info = llama_cpp.llama_print_system_info().decode()
    isa = "avx512" if "AVX512 = 1" in info else "avx2" if "AVX2 = 1" in info else "neon" if "NEON = 1" in info else "other"
    out["llamaCpp"] = {"version": llama_cpp.__version__, "kvCache": "f16", "flashAttention": False,
                       "threads": 2, "nCtx": n_ctx, "isa": isa}
    return out


def quantize(src: Path, dst: Path, ftype: int, requantize: bool = False) -> None:
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 2
    params.allow_requantize = requantize
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        sys.exit(f"llama.cpp could not quantize {src} to ftype {ftype}")


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


# --------------------------------------------------------------------------------------------

def make_quantized_set(name: str, shape: Shape, seed: int, quants: dict[str, int]) -> None:
    """An F32 model of `shape` (toy vocabulary), quantized by llama.cpp to each of `quants`, each with
    llama.cpp's outputs beside it; committed under Fixtures/models."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    vocab = toy_vocab(320)
    f32 = CACHE / f"{name}-F32.gguf"
    write_f32(f32, shape, vocab, seed)
    seqs = sequences(len(vocab["tokens"]), seed)
    for quant, ftype in quants.items():
        path = FIXTURES / f"{name}-{quant}.gguf"
        quantize(f32, path, ftype)
        result = llama_outputs(path, seqs, shape.ctx)
        result["model"] = {"file": path.name, "sha256": sha256(path), "committed": True}
        write_json(FIXTURES / f"{name}-{quant}.json", result)


def make_tiny() -> None:
    for seed, (name, shape) in enumerate(TINY.items(), start=100):
        make_quantized_set(name, shape, seed, QUANTS)


def make_wide() -> None:
    name, shape = WIDE
    make_quantized_set(name, shape, 600, WIDE_QUANTS)


def make_tekken() -> Path:
    name, shape = TEKKEN
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-Q8_0.gguf"
    write_quantized_shape(path, shape, tekken_vocab(), 300, "Q8_0")
    return path


def make_full_3b(path: Path, mix: str = "Q4_K_M") -> Path:
    """The full Ministral 3 3B shape (26 layers) in llama.cpp's Q4_K_M mix (or Q4_0, Q8_0), for speed
    comparisons (not a parity fixture): ~2.1 GB as Q4_K_M, seeded, reproducible."""
    name, shape = BIG
    full = Shape(shape.arch, shape.hidden, 26, shape.heads, shape.kv_heads, shape.head_dim, shape.ffn, shape.ctx,
                 theta=shape.theta, yarn=shape.yarn, temperature=shape.temperature, tied=shape.tied)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_quantized_shape(path, full, tekken_vocab(), 500, mix)
    return path


def make_full_8b(path: Path, mix: str = "Q4_K_M") -> Path:
    """The Ministral 3 8B shape (34 layers, hidden 4096, 32/8 heads of 128, FFN 14336, untied output,
    Tekken vocabulary size) with seeded random weights, for speed comparisons: ~5.2 GB as Q4_K_M."""
    full = Shape("mistral3", 4096, 34, 32, 8, 128, 14336, 262144, theta=1e6,
                 yarn={"factor": 16.0, "original": 16384, "log_mul": 1.0}, temperature=0.1, tied=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_quantized_shape(path, full, tekken_vocab(), 800, mix)
    return path


def make_moe_tiny() -> None:
    name, shape = MOE_TINY
    make_quantized_set(name, shape, 700, MOE_QUANTS)


def make_moe_wide() -> list[Path]:
    """The 2-layer full-width Mixtral shape as Q8_0 (seeded random blocks, ~3.2 GB) and, quantized by
    llama.cpp from it, Q4_K_M (~1.8 GB), with llama.cpp's outputs on both (not committed)."""
    name, shape = MOE_WIDE
    CACHE.mkdir(parents=True, exist_ok=True)
    vocab = toy_vocab(32000)
    q8 = CACHE / f"{name}-Q8_0.gguf"
    write_quantized_shape(q8, shape, vocab, 900, "Q8_0")
    q4 = CACHE / f"{name}-Q4_K_M.gguf"
    quantize(q8, q4, 15, requantize=True)
    for path in (q8, q4):
        result = llama_outputs(path, sequences(32000, 900), 512)
        result["model"] = {"file": path.name, "sha256": sha256(path), "committed": False}
        write_json(FIXTURES / f"{path.stem}.json", result)
    return [q8, q4]


def make_big() -> Path:
    name, shape = BIG
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-Q4_K_M.gguf"
    vocab = tekken_vocab()
    write_quantized_shape(path, shape, vocab, 400, "Q4_K_M")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regenerate", action="store_true",
                    help="rebuild the uncommitted model files only (no llama.cpp needed) and check their SHA-256")
    ap.add_argument("--only", choices=["tiny", "wide", "tekken", "big", "moe", "moe-wide"], help="make one kind only")
    ap.add_argument("--full-3b", type=Path, metavar="PATH",
                    help="write the full 26-layer Ministral 3 3B-shaped model (for benchmarks) to PATH and exit")
    ap.add_argument("--full-8b", type=Path, metavar="PATH",
                    help="write the 34-layer Ministral 3 8B-shaped model (for benchmarks) to PATH and exit")
    ap.add_argument("--mix", choices=["Q4_K_M", "Q4_0", "Q8_0"], default="Q4_K_M",
                    help="the type mix of --full-3b / --full-8b (default Q4_K_M)")
    args = ap.parse_args()

    if args.full_3b:
        print(f"wrote {make_full_3b(args.full_3b, args.mix)}")
        return 0
    if args.full_8b:
        print(f"wrote {make_full_8b(args.full_8b, args.mix)}")
        return 0

    if args.regenerate:
        ok = True
        for maker, name in ((make_tekken, TEKKEN[0] + "-Q8_0"), (make_big, BIG[0] + "-Q4_K_M")):
            reference = FIXTURES / f"{name}.json"
            if not reference.exists():
                print(f"skip {name}: no reference {reference.name}")
                continue
            path = maker()
            want = json.loads(reference.read_text())["model"]["sha256"]
            got = sha256(path)
            print(f"{'ok' if got == want else 'MISMATCH'} {path} sha256 {got}")
            ok &= got == want
        return 0 if ok else 1

    if args.only in (None, "moe"):
        make_moe_tiny()
    if args.only in (None, "moe-wide"):
        make_moe_wide()
    if args.only in (None, "tiny"):
        make_tiny()
    if args.only in (None, "wide"):
        make_wide()
    if args.only in (None, "tekken"):
        name, shape = TEKKEN
        path = make_tekken()
        result = llama_outputs(path, sequences(131072, 300), shape.ctx)
        result["model"] = {"file": path.name, "sha256": sha256(path), "committed": False}
        write_json(FIXTURES / f"{name}-Q8_0.json", result)
    if args.only in (None, "big"):
        name, shape = BIG
        path = make_big()
        result = llama_outputs(path, sequences(131072, 400), 512)
        result["model"] = {"file": path.name, "sha256": sha256(path), "committed": False}
        write_json(FIXTURES / f"{name}-Q4_K_M.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
