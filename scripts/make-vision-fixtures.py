#!/usr/bin/env python3
"""Makes the vision reference fixtures: synthetic Pixtral-type mmproj files, a matching tiny mistral3
text model, synthetic images, and llama.cpp's (libmtmd's) outputs on them.

Run with the venv that has gguf, numpy, Pillow and llama-cpp-python (its `llama_cpp.mtmd_cpp` bindings):

  ~/.cache/brise/venv/bin/python scripts/make-vision-fixtures.py              everything committed
  ~/.cache/brise/venv/bin/python scripts/make-vision-fixtures.py --only wide  the Ministral-3-3B-sized
        encoder (F16, ~0.8 GB) and a 1-layer 3072-wide text model, into $BRISE_FIXTURE_CACHE
        (default ~/.cache/brise/fixture-models), for scripts/bench-vision-llamacpp.py; never committed

What it writes under Fixtures/vision/ (see Fixtures/vision/README.md):

- tiny-pixtral-mmproj-F16.gguf: a `clip` file with projector type `pixtral` as llama.cpp's converter
  writes a Mistral 3 / Ministral 3 one: hidden 64, 2 layers, 4 heads of 16, SwiGLU FFN 128
  (clip.use_silu), patch 16, spatial merge 2 (mm.input_norm + mm.patch_merger), GELU projector with
  biases to width 128, v.token_embd.img_break. 2-D/4-D weights F16 (the conv kernel and the patch
  merger too, as the converter's F16 output has them), norms/biases F32. Seeded.
- tiny-pixtral-mmproj-Q8_0.gguf: the same quantized by llama.cpp's own quantizer (llama_model_quantize
  on the `clip` arch): matrices Q8_0, while llama.cpp keeps v.patch_embd and mm.patch_merger as they
  were (F16).
- tiny-mistral3-vision-F32.gguf: a 2-layer `mistral3` text model of width 128 with a toy
  SentencePiece-style vocabulary holding the control tokens <s> </s> [INST] [/INST] [IMG] [IMG_BREAK]
  [IMG_END]; written as F32 from a seeded RNG and kept F32 (see make_tiny). The mmproj's
  v.token_embd.img_break is this F32 model's token_embd row of [IMG_BREAK], as the converter does.
- images/*.png, images/*.jpg: deterministic synthetic images of several sizes and aspect ratios.
- tiny-pixtral-<F16|Q8_0>.json (+ embd/*.f32): per image, llama.cpp's decoded bitmap, the chunks of
  "[INST]<marker>Describe the image.[/INST]", the encoded image embeddings (clip flash attention on
  and off), then the text model's first logits and a 32-token greedy continuation after evaluating
  the chunks, once with the whole prompt in one batch and once one position at a time.
"""
from __future__ import annotations

import argparse
import base64
import ctypes
import hashlib
import importlib.util
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import gguf

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Fixtures" / "vision"
IMAGES = OUT / "images"
EMBD = OUT / "embd"
CACHE = Path(os.environ.get("BRISE_FIXTURE_CACHE", Path.home() / ".cache" / "brise" / "fixture-models"))

_spec = importlib.util.spec_from_file_location("make_model_fixtures", REPO / "scripts" / "make-model-fixtures.py")
mmf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mmf)  # type: ignore[union-attr]

PIXTRAL_MEAN = [0.48145466, 0.4578275, 0.40821073]
PIXTRAL_STD = [0.26862954, 0.26130258, 0.27577711]
PROMPT = "[INST]{marker}Describe the image.[/INST]"
SPECIALS = ["[INST]", "[/INST]", "[IMG]", "[IMG_BREAK]", "[IMG_END]"]
N_CTX = 2048
FULL_EMBD_MAX_TOKENS = 300  # images with at most this many output embeddings get a full .f32 file


# --------------------------------------------------------------------------------------------
# Vocabulary and text model

def vision_vocab(size: int = 384) -> dict:
    """The repo's toy SentencePiece vocabulary with Mistral's control tokens after <unk> <s> </s>:
    ids 3-7 are [INST] [/INST] [IMG] [IMG_BREAK] [IMG_END] (type CONTROL)."""
    base = mmf.toy_vocab(size - len(SPECIALS))
    n = len(SPECIALS)
    return {"model": "llama",
            "tokens": base["tokens"][:3] + SPECIALS + base["tokens"][3:],
            "scores": base["scores"][:3] + [0.0] * n + base["scores"][3:],
            "types": base["types"][:3] + [3] * n + base["types"][3:],
            "bos": 1, "eos": 2}


TEXT = mmf.Shape("mistral3", 128, 2, 4, 2, 32, 256, N_CTX, theta=1e6,
                 yarn={"factor": 4.0, "original": 512, "log_mul": 1.0}, temperature=0.1)
WIDE_TEXT = mmf.Shape("mistral3", 3072, 1, 24, 8, 128, 1024, 4096, theta=1e6)


# --------------------------------------------------------------------------------------------
# mmproj

class Vision:
    def __init__(self, hidden, layers, heads, ffn, patch, merge, proj, image_size, eps=1e-5):
        self.hidden, self.layers, self.heads, self.ffn = hidden, layers, heads, ffn
        self.patch, self.merge, self.proj, self.image_size, self.eps = patch, merge, proj, image_size, eps

    def tensors(self):
        """(name, numpy shape (ggml ne reversed), role) in the order the converter writes a Mistral 3."""
        h, f, p, m = self.hidden, self.ffn, self.patch, self.merge
        out = [("v.patch_embd.weight", (h, 3, p, p), "conv"),
               ("v.pre_ln.weight", (h,), "norm")]
        for i in range(self.layers):
            out += [(f"v.blk.{i}.attn_k.weight", (h, h), "mat"),
                    (f"v.blk.{i}.attn_out.weight", (h, h), "mat"),
                    (f"v.blk.{i}.attn_q.weight", (h, h), "mat"),
                    (f"v.blk.{i}.attn_v.weight", (h, h), "mat"),
                    (f"v.blk.{i}.ln1.weight", (h,), "norm"),
                    (f"v.blk.{i}.ffn_down.weight", (h, f), "mat"),
                    (f"v.blk.{i}.ffn_gate.weight", (f, h), "mat"),
                    (f"v.blk.{i}.ffn_up.weight", (f, h), "mat"),
                    (f"v.blk.{i}.ln2.weight", (h,), "norm")]
        out += [("mm.input_norm.weight", (h,), "norm"),
                ("mm.patch_merger.weight", (h, h * m * m), "mat"),
                ("mm.1.weight", (self.proj, h), "mat"),
                ("mm.1.bias", (self.proj,), "bias"),
                ("mm.2.weight", (self.proj, self.proj), "mat"),
                ("mm.2.bias", (self.proj,), "bias")]
        return out


TINY_VISION = Vision(hidden=64, layers=2, heads=4, ffn=128, patch=16, merge=2, proj=TEXT.hidden, image_size=1024)
# Ministral 3 3B's encoder (Pixtral-style, 24 layers of 1024, patch 14, merge 2, projector to 3072).
WIDE_VISION = Vision(hidden=1024, layers=24, heads=16, ffn=4096, patch=14, merge=2, proj=3072, image_size=1540)


def vision_weights(rng: np.random.Generator, shape, role: str) -> np.ndarray:
    if role == "norm":
        return (1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    if role == "bias":
        return (0.05 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    fan_in = int(np.prod(shape[1:]))
    # Half of a unit-gain init: activations stay O(1) through the residual stream.
    return (0.5 / np.sqrt(fan_in) * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)


def write_mmproj(path: Path, v: Vision, img_break: np.ndarray, seed: int) -> None:
    """A pixtral mmproj in the converter's F16 layout: >=2-D tensors F16, 1-D ones F32."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_string("general.name", "brise synthetic pixtral mmproj")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_clip_has_vision_encoder(True)
    w.add_clip_projector_type(gguf.VisionProjectorType.PIXTRAL)
    w.add_vision_projection_dim(v.proj)
    w.add_vision_image_size(v.image_size)
    w.add_vision_patch_size(v.patch)
    w.add_vision_embedding_length(v.hidden)
    w.add_vision_feed_forward_length(v.ffn)
    w.add_vision_block_count(v.layers)
    w.add_vision_head_count(v.heads)
    w.add_vision_image_mean(PIXTRAL_MEAN)
    w.add_vision_image_std(PIXTRAL_STD)
    w.add_vision_attention_layernorm_eps(v.eps)
    w.add_vision_use_silu(True)
    w.add_vision_spatial_merge_size(v.merge)
    for name, shape, role in v.tensors():
        data = vision_weights(rng, shape, role)
        w.add_tensor(name, data.astype(np.float16) if data.ndim >= 2 else data)
    w.add_tensor("v.token_embd.img_break", img_break.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def token_row(model: Path, token: int) -> np.ndarray:
    r = gguf.GGUFReader(str(model))
    t = next(t for t in r.tensors if t.name == "token_embd.weight")
    assert t.tensor_type == gguf.GGMLQuantizationType.F32
    return np.array(t.data[token], dtype=np.float32)


def tensor_types(path: Path) -> dict[str, str]:
    r = gguf.GGUFReader(str(path))
    return {t.name: t.tensor_type.name for t in r.tensors}


# --------------------------------------------------------------------------------------------
# Images

def make_images() -> dict[str, Path]:
    """Deterministic synthetic images (numpy RNG seeded per image), written with Pillow."""
    from PIL import Image, ImageDraw
    IMAGES.mkdir(parents=True, exist_ok=True)
    out = {}

    def grad(w, h, seed):
        rng = np.random.default_rng(seed)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0.5, 2.0, 3)
        r = (255 * x / max(w - 1, 1)) * a[0] % 256
        g = (255 * y / max(h - 1, 1)) * a[1] % 256
        b = (128 + 127 * np.sin((x + y) / max(w, h) * np.pi * 2 * a[2]))
        return np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)

    def shapes(arr, seed, n):
        rng = np.random.default_rng(seed)
        img = Image.fromarray(arr)
        d = ImageDraw.Draw(img)
        w, h = img.size
        for _ in range(n):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            x1, y1 = x0 + int(rng.integers(1, max(2, w // 2))), y0 + int(rng.integers(1, max(2, h // 2)))
            color = tuple(int(c) for c in rng.integers(0, 256, 3))
            (d.ellipse if rng.integers(0, 2) else d.rectangle)([x0, y0, x1, y1], fill=color)
        return img

    def noise(arr, seed, amp):
        rng = np.random.default_rng(seed)
        return (arr.astype(np.int16) + rng.integers(-amp, amp + 1, arr.shape)).clip(0, 255).astype(np.uint8)

    def save(name, img, **kw):
        path = IMAGES / name
        img.save(path, **kw)
        out[path.stem] = path

    save("1x1.png", Image.fromarray(np.array([[[200, 30, 90]]], dtype=np.uint8)))
    save("16x16.png", Image.fromarray(noise(grad(16, 16, 1), 2, 20)))
    save("64x48.png", shapes(grad(64, 48, 3), 4, 5))
    save("200x120.png", Image.fromarray(noise(np.array(shapes(grad(200, 120, 5), 6, 8)), 7, 12)))
    save("512x512.png", shapes(grad(512, 512, 8), 9, 12))
    save("2000x20.png", shapes(grad(2000, 20, 10), 11, 20))
    save("20x1500.png", shapes(grad(20, 1500, 12), 13, 20))
    # 1024×1024 is exactly llama.cpp's pixel budget for this file (1024 merged tokens of 32×32 px):
    # kept as is. 1600×1200 is over it and is downscaled.
    save("1024x1024.png", shapes(grad(1024, 1024, 14), 15, 16))
    save("1600x1200.png", shapes(grad(1600, 1200, 16), 17, 16))
    save("160x96.jpg", shapes(noise(grad(160, 96, 18), 19, 8), 20, 6).convert("RGB"), quality=90)
    return out


# --------------------------------------------------------------------------------------------
# llama.cpp

LOG: list[str] = []


@ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
def _log(level, text, user):  # noqa: ARG001
    LOG.append(text.decode(errors="replace"))


def quiet() -> None:
    import llama_cpp
    from llama_cpp import mtmd_cpp
    llama_cpp.llama_log_set(_log, None)
    mtmd_cpp.mtmd_log_set(_log, None)
    mtmd_cpp.mtmd_helper_log_set(_log, None)


def isa() -> str:
    import llama_cpp
    info = llama_cpp.llama_print_system_info().decode()
    return "avx512" if "AVX512 = 1" in info else "avx2" if "AVX2 = 1" in info else "neon" if "NEON = 1" in info else "other"


FLASH = {"auto": -1, "off": 0, "on": 1}  # llama_flash_attn_type


def load_text_model(path: Path):
    import llama_cpp
    mp = llama_cpp.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), mp)
    if not model:
        sys.exit(f"llama.cpp could not load {path}")
    return model


def new_context(model, n_batch: int):
    import llama_cpp
    cp = llama_cpp.llama_context_default_params()
    cp.n_ctx = N_CTX
    cp.n_batch = n_batch
    cp.n_ubatch = n_batch
    cp.n_threads = 2
    cp.n_threads_batch = 2
    cp.flash_attn_type = FLASH["off"]
    cp.type_k = 1  # GGML_TYPE_F16
    cp.type_v = 1
    ctx = llama_cpp.llama_init_from_model(model, cp)
    if not ctx:
        sys.exit("llama.cpp could not create a context")
    return ctx


def new_mtmd(mmproj: Path, model, flash: str, warmup: bool = True):
    from llama_cpp import mtmd_cpp
    p = mtmd_cpp.mtmd_context_params_default()
    p.use_gpu = False
    p.print_timings = False
    p.n_threads = 2
    p.flash_attn_type = FLASH[flash]
    p.warmup = warmup
    LOG.clear()
    ctx = mtmd_cpp.mtmd_init_from_file(str(mmproj).encode(), model, p)
    if not ctx:
        sys.exit(f"libmtmd could not load {mmproj}:\n{''.join(LOG)}")
    said = [line for line in "".join(LOG).splitlines() if "flash attention is" in line]
    return ctx, (said[-1].split("flash attention is")[-1].strip() if said else None)


def bitmap_from_file(mctx, path: Path):
    from llama_cpp import mtmd_cpp
    data = path.read_bytes()
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    bmp = mtmd_cpp.mtmd_helper_bitmap_init_from_buf(mctx, buf, len(data), False)
    if not bmp:
        sys.exit(f"libmtmd could not decode {path}")
    return bmp


def decoded(mctx, path: Path) -> tuple[dict, bytes]:
    from llama_cpp import mtmd_cpp
    bmp = bitmap_from_file(mctx, path)
    nx, ny = mtmd_cpp.mtmd_bitmap_get_nx(bmp), mtmd_cpp.mtmd_bitmap_get_ny(bmp)
    n = mtmd_cpp.mtmd_bitmap_get_n_bytes(bmp)
    rgb = ctypes.string_at(mtmd_cpp.mtmd_bitmap_get_data(bmp), n)
    mtmd_cpp.mtmd_bitmap_free(bmp)
    assert n == nx * ny * 3
    return {"nx": nx, "ny": ny, "rgbSha256": hashlib.sha256(rgb).hexdigest()}, rgb


def tokenize(mctx, path: Path, prompt: str):
    from llama_cpp import mtmd_cpp
    bmp = bitmap_from_file(mctx, path)
    chunks = mtmd_cpp.mtmd_input_chunks_init()
    text = prompt.encode()
    inp = mtmd_cpp.mtmd_input_text(text, len(text), True, True)
    bitmaps = (mtmd_cpp.mtmd_bitmap_p_ctypes * 1)(bmp)
    rc = mtmd_cpp.mtmd_tokenize(mctx, chunks, ctypes.byref(inp), bitmaps, 1)
    mtmd_cpp.mtmd_bitmap_free(bmp)
    if rc != 0:
        sys.exit(f"mtmd_tokenize failed ({rc}) on {path}")
    return chunks


def describe_chunks(chunks) -> tuple[list[dict], list[int], int]:
    """Every chunk, the flat prompt layout (text token ids, -1 for each image embedding) and the
    index of the image chunk."""
    from llama_cpp import mtmd_cpp
    out, layout, image_index = [], [], -1
    for i in range(mtmd_cpp.mtmd_input_chunks_size(chunks)):
        c = mtmd_cpp.mtmd_input_chunks_get(chunks, i)
        kind = mtmd_cpp.mtmd_input_chunk_get_type(c)
        n_pos = mtmd_cpp.mtmd_input_chunk_get_n_pos(c)
        if kind == mtmd_cpp.MTMD_INPUT_CHUNK_TYPE_TEXT:
            n = ctypes.c_size_t()
            ptr = mtmd_cpp.mtmd_input_chunk_get_tokens_text(c, ctypes.byref(n))
            toks = [ptr[k] for k in range(n.value)]
            out.append({"type": "text", "tokens": toks, "nPos": n_pos})
            layout += toks
        elif kind == mtmd_cpp.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            it = mtmd_cpp.mtmd_input_chunk_get_tokens_image(c)
            n_tok = mtmd_cpp.mtmd_image_tokens_get_n_tokens(it)
            out.append({"type": "image", "nx": mtmd_cpp.mtmd_image_tokens_get_nx(it),
                        "ny": mtmd_cpp.mtmd_image_tokens_get_ny(it), "nTokens": n_tok,
                        "nPos": n_pos, "chunkNTokens": mtmd_cpp.mtmd_input_chunk_get_n_tokens(c)})
            layout += [-1] * n_tok
            image_index = i
        else:
            sys.exit(f"unexpected chunk type {kind}")
    return out, layout, image_index


def encode(mctx, chunks, index: int, n_embd: int) -> np.ndarray:
    from llama_cpp import mtmd_cpp
    c = mtmd_cpp.mtmd_input_chunks_get(chunks, index)
    n_tok = mtmd_cpp.mtmd_input_chunk_get_n_tokens(c)
    if mtmd_cpp.mtmd_encode_chunk(mctx, c) != 0:
        sys.exit("mtmd_encode_chunk failed")
    ptr = mtmd_cpp.mtmd_get_output_embd(mctx)
    return np.ctypeslib.as_array(ptr, shape=(n_tok * n_embd,)).reshape(n_tok, n_embd).copy()


def pixtral_grid(nx: int, ny: int, v: Vision) -> dict:
    """llama.cpp's resize target for a pixtral image (mtmd_image_preprocessor_dyn_size ->
    img_tool::calc_size_preserved_ratio, in float32 as there), and the grids it gives. libmtmd itself
    reports nx = n_tokens, ny = 1 for this projector, so the grid is recomputed here and checked
    against n_tokens."""
    f32 = np.float32
    align = v.patch * v.merge
    area = v.patch * v.patch * v.merge * v.merge
    min_px, max_px = 8 * area, 1024 * area  # clip.cpp: hparams.set_limit_image_tokens(8, 1024)

    def rnd(x):  # std::round on float: half away from zero
        return int(np.floor(f32(x) / f32(align) + f32(0.5))) * align

    w, h = max(align, rnd(nx)), max(align, rnd(ny))
    if w * h > max_px:
        beta = np.sqrt(f32(f32(ny) * f32(nx)) / f32(max_px), dtype=f32)
        h = max(align, int(np.floor(f32(f32(ny) / beta) / f32(align))) * align)
        w = max(align, int(np.floor(f32(f32(nx) / beta) / f32(align))) * align)
    elif w * h < min_px:
        beta = np.sqrt(f32(min_px) / f32(f32(ny) * f32(nx)), dtype=f32)
        h = int(np.ceil(f32(f32(ny) * beta) / f32(align))) * align
        w = int(np.ceil(f32(f32(nx) * beta) / f32(align))) * align
    px, py = w // align, h // align
    return {"resizedWidth": w, "resizedHeight": h, "patchesX": w // v.patch, "patchesY": h // v.patch,
            "mergedX": px, "mergedY": py, "nTokensExpected": px * py + py - 1}


def top10(row: np.ndarray) -> dict:
    ids = np.argsort(-row, kind="stable")[:10]
    return {"ids": [int(i) for i in ids], "logits": [float(row[i]) for i in ids]}


def evaluate(mctx, model, chunks, n_vocab: int, n_batch: int) -> dict:
    """mtmd_helper_eval_chunks (the image's embeddings decoded in batches of n_batch with causal
    attention, the text likewise, logits of the last position only), then 32 greedy steps."""
    import llama_cpp
    from llama_cpp import mtmd_cpp
    lctx = new_context(model, n_batch)
    n_past = llama_cpp.llama_pos(0)
    rc = mtmd_cpp.mtmd_helper_eval_chunks(mctx, lctx, chunks, 0, 0, n_batch, True, ctypes.byref(n_past))
    if rc != 0:
        sys.exit(f"mtmd_helper_eval_chunks failed ({rc})")
    prompt_positions = n_past.value

    def logits() -> np.ndarray:
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(lctx, -1), shape=(n_vocab,)).copy()

    first = logits()
    row, greedy, margins = first, [], []
    pos = prompt_positions
    for _ in range(32):
        nxt = int(np.argmax(row))
        greedy.append(nxt)
        margins.append(float(row[nxt] - np.partition(row, -2)[-2]))
        tok = (llama_cpp.llama_token * 1)(nxt)
        if llama_cpp.llama_decode(lctx, llama_cpp.llama_batch_get_one(tok, 1)) != 0:
            sys.exit("llama_decode failed")
        pos += 1
        row = logits()
    llama_cpp.llama_free(lctx)
    return {"nBatch": n_batch, "nUbatch": n_batch, "promptPositions": prompt_positions,
            "firstLogits": base64.b64encode(first.astype("<f4").tobytes()).decode(),
            "firstTop10": top10(first), "greedy32": greedy, "greedyMargins": margins}


def embedding_record(e: np.ndarray, stem: str, write: bool) -> dict:
    raw = e.astype("<f4").tobytes()
    """The n_tokens × n_embd embeddings: the whole as a little-endian f32 file when small, else (too
    large to commit) the first and last rows and every row's L2 norm; the SHA-256 of the f32 bytes
    either way."""
    rec = {"nTokens": int(e.shape[0]), "nEmbd": int(e.shape[1]), "sha256": hashlib.sha256(raw).hexdigest()}
    if write:
        EMBD.mkdir(parents=True, exist_ok=True)
        (EMBD / f"{stem}.f32").write_bytes(raw)
        rec["file"] = f"embd/{stem}.f32"
    else:
        rec["firstRow"] = [float(x) for x in e[0]]
        rec["lastRow"] = [float(x) for x in e[-1]]
        rec["rowNorms"] = [float(x) for x in np.linalg.norm(e.astype(np.float64), axis=1)]
    return rec


def run_mmproj(mmproj: Path, text_model: Path, images: dict[str, Path], label: str) -> dict:
    import llama_cpp
    quiet()
    model = load_text_model(text_model)
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    n_embd = llama_cpp.llama_model_n_embd(model)
    from llama_cpp import mtmd_cpp
    marker = mtmd_cpp.mtmd_default_marker().decode()
    prompt = PROMPT.format(marker=marker)

    ctxs = {}
    resolved = {}
    for flash in ("on", "off"):
        ctxs[flash], resolved[flash] = new_mtmd(mmproj, model, flash)
    auto_ctx, resolved["auto"] = new_mtmd(mmproj, model, "auto")
    nowarm_ctx, resolved["autoWithoutWarmup"] = new_mtmd(mmproj, model, "auto", warmup=False)

    result = {"mmproj": {"file": mmproj.name, "sha256": mmf.sha256(mmproj), "tensorTypes": tensor_types(mmproj)},
              "textModel": {"file": text_model.name, "sha256": mmf.sha256(text_model)},
              "prompt": prompt, "marker": marker, "addSpecial": True, "parseSpecial": True,
              "clipFlashAttention": {"requested": {"on": "enabled", "off": "disabled", "auto": "auto (default)"},
                                     "reportedAfterWarmup": resolved},
              "images": {}}
    auto_checked = False
    for name, path in images.items():
        img: dict = {"file": f"images/{path.name}", "fileSha256": mmf.sha256(path)}
        img["decoded"], rgb = decoded(ctxs["on"], path)
        if path.suffix == ".jpg":  # JPEG decoders differ: keep stb_image's pixels as llama.cpp got them
            (OUT / "decoded").mkdir(parents=True, exist_ok=True)
            (OUT / "decoded" / f"{path.name}.rgb").write_bytes(rgb)
            img["decoded"]["file"] = f"decoded/{path.name}.rgb"
        chunks = tokenize(ctxs["on"], path, prompt)
        img["chunks"], img["layout"], idx = describe_chunks(chunks)
        d = img["decoded"]
        img["grid"] = pixtral_grid(d["nx"], d["ny"], TINY_VISION)
        if img["grid"]["nTokensExpected"] != img["chunks"][idx]["nTokens"]:
            sys.exit(f"{name}: the resize formula here gives {img['grid']}, libmtmd {img['chunks'][idx]}")
        img["runs"] = {}
        embd_on = None
        for flash in ("on", "off"):
            mctx = ctxs[flash]
            ch = tokenize(mctx, path, prompt)
            e = encode(mctx, ch, idx, n_embd)
            run = {"embeddings": embedding_record(e, f"{label}-{name}-flash-{flash}",
                                                  e.shape[0] <= FULL_EMBD_MAX_TOKENS)}
            if flash == "on":
                embd_on = e
            else:
                run["embeddings"]["maxAbsDiffVsFlashOn"] = float(np.max(np.abs(e - embd_on)))
            run["batched"] = evaluate(mctx, model, ch, n_vocab, N_CTX)
            run["sequential"] = evaluate(mctx, model, ch, n_vocab, 1)
            run["batchedFirstLogitsEqualSequential"] = run["batched"]["firstLogits"] == run["sequential"]["firstLogits"]
            mtmd_cpp.mtmd_input_chunks_free(ch)
            img["runs"][f"flash{flash.capitalize()}"] = run
            print(f"  {label} {name} flash {flash}: {e.shape[0]} embeddings, greedy {run['batched']['greedy32'][:6]}...",
                  flush=True)
        if not auto_checked:
            for key, mctx in (("auto", auto_ctx), ("autoWithoutWarmup", nowarm_ctx)):
                ch = tokenize(mctx, path, prompt)
                e = encode(mctx, ch, idx, n_embd)
                mtmd_cpp.mtmd_input_chunks_free(ch)
                result["clipFlashAttention"][f"{key}EqualsFlashOn"] = bool(np.array_equal(e, embd_on))
                e_off = np.fromfile(EMBD / f"{label}-{name}-flash-off.f32", dtype="<f4").reshape(e.shape) \
                    if (EMBD / f"{label}-{name}-flash-off.f32").exists() else None
                if e_off is not None:
                    result["clipFlashAttention"][f"{key}EqualsFlashOff"] = bool(np.array_equal(e, e_off))
            result["clipFlashAttention"]["checkedOn"] = name
            auto_checked = True
        mtmd_cpp.mtmd_input_chunks_free(chunks)
        result["images"][name] = img
    for c in (*ctxs.values(), auto_ctx, nowarm_ctx):
        mtmd_cpp.mtmd_free(c)
    llama_cpp.llama_model_free(model)
    result["llamaCpp"] = {"version": llama_cpp.__version__, "isa": isa(), "threads": 2, "backend": "CPU",
                          "text": {"nCtx": N_CTX, "kvCache": "f16", "flashAttention": False,
                                   "batched": "n_batch = n_ubatch = nCtx: the whole image in one ubatch",
                                   "sequential": "n_batch = n_ubatch = 1: one position per llama_decode"}}
    return result


# --------------------------------------------------------------------------------------------

def make_tiny() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    vocab = vision_vocab()
    # F32 text weights: a quantized text model re-rounds its activations at every layer, and a
    # 1e-4 change in the image embeddings (clip flash attention on vs off inside llama.cpp itself)
    # then moves the first logits by ~0.2 and flips greedy continuations; in F32 it moves them by
    # ~0.003, so 32 greedy tokens test the image path rather than the rounding.
    f32 = OUT / "tiny-mistral3-vision-F32.gguf"
    mmf.write_f32(f32, TEXT, vocab, 1000)
    text_model = f32
    img_break = token_row(f32, vocab["tokens"].index("[IMG_BREAK]"))
    f16 = OUT / "tiny-pixtral-mmproj-F16.gguf"
    write_mmproj(f16, TINY_VISION, img_break, 1001)
    q8 = OUT / "tiny-pixtral-mmproj-Q8_0.gguf"
    mmf.quantize(f16, q8, 7)
    images = make_images()
    for label, mmproj in (("F16", f16), ("Q8_0", q8)):
        result = run_mmproj(mmproj, text_model, images, label)
        mmf.write_json(OUT / f"tiny-pixtral-{label}.json", result)


def make_wide() -> tuple[Path, Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    vocab = vision_vocab()
    text_model = CACHE / "wide-mistral3-vision-1layer-Q8_0.gguf"
    mmf.write_quantized_shape(text_model, WIDE_TEXT, vocab, 1100, "Q8_0")
    rng = np.random.default_rng(1101)
    img_break = rng.standard_normal(WIDE_VISION.proj, dtype=np.float32)
    mmproj = CACHE / "ministral3b-pixtral-mmproj-F16.gguf"
    write_mmproj(mmproj, WIDE_VISION, img_break, 1102)
    print(f"wrote {text_model}\nwrote {mmproj}")
    return text_model, mmproj


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["tiny", "wide"], help="make one kind only (default: tiny)")
    args = ap.parse_args()
    if args.only in (None, "tiny"):
        make_tiny()
    if args.only == "wide":
        make_wide()
    return 0


if __name__ == "__main__":
    sys.exit(main())
