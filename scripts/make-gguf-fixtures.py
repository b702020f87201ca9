#!/usr/bin/env python3
"""Write the small GGUF test files in Fixtures/gguf/ and, next to each, the values gguf-py reads back.

    ~/.cache/brise/venv/bin/python scripts/make-gguf-fixtures.py [--out DIR]

DIR defaults to Fixtures/gguf/ in the repository. Needs Python 3.11 with the `gguf` package
(gguf-py, llama.cpp's reader/writer) and numpy; no network. The output is reproducible: the same
gguf-py version gives byte-identical files on every run (numpy RNG seeded per file).

Files written (see MODEL-SPEC.md section 2 for the format):

  tiny-v3.gguf            arch "llama": llama.* hyperparameters, a small SentencePiece-style
                          tokenizer, one key of every GGUF value type with extreme values
                          (integer min/max, -0.0, subnormals, inf, NaN, empty/non-ASCII/NUL strings,
                          empty arrays, an array of each element type, nested arrays), and F32, F16,
                          Q8_0 and Q4_K tensors with 1-D to 4-D shapes. No general.alignment (32).
  tiny-v2.gguf            the same bytes with the header version field set to 2.
  aligned-64.gguf         arch "mistral3" with the YaRN / temperature-scale keys and
                          general.alignment = 64; F32 and Q8_0 tensors whose sizes are not
                          multiples of 64, so 32-byte alignment would give wrong offsets.
  tekken-scores-i32.gguf  arch "llama", tokenizer "gpt2" / pre "tekken", tokens + merges, and
                          tokenizer.ggml.scores stored as an INT32 array (as mistral-common's
                          Tekken conversion writes it).

The tensors are not a runnable model; they only exercise the container.

For each NAME.gguf the script writes NAME.json with what gguf-py's GGUFReader reads from the
written file (not what was handed to the writer):

  {"file", "version", "alignment", "dataOffset" (absolute), "fileSize",
   "metadata": [{"key", "type", "value"}                                      (scalars)
              | {"key", "type": "ARRAY", "elementType", "count", "values"}],  (all elements;
                 a nested array element is {"type": "ARRAY", "elementType", "count", "values"})
   "tensors": [{"name", "type", "typeId", "shape" (ne order), "offset" (relative to the data
                section), "absoluteOffset", "bytes"}],
   "firstValues": {tensor name: first 16 values from gguf.quants.dequantize}}

Types are gguf-py's GGUFValueType / GGMLQuantizationType names. Floats are JSON numbers holding the
exact value (a float32 widened to double); NaN and infinities are the strings "nan", "inf", "-inf".
Metadata is in file order.

gguf-py writer limitations worked around here (see FixtureWriter):
  * GGUFWriter refuses empty arrays (add_array silently skips them, _pack_val raises), so empty
    arrays are packed by hand with struct: u32 element type, u64 count 0.
  * add_string skips empty strings, so the empty string goes through add_key_value directly.
  * Nested arrays: the writer types an inner array from its first Python element, which can only
    give INT32/FLOAT32/BOOL/STRING and fails on an empty inner array; inner arrays are therefore
    wrapped in TypedArray and packed with their declared element type.
  * The writer always writes version 3; tiny-v2.gguf is patched (the 4 bytes after the magic).
  * gguf-py has no Q4_K quantizer, so Q4_K tensors are random block bytes with sane f16 d/dmin.
  * gguf-py's reader flattens nested arrays in ReaderField.contents(), so values are decoded from
    the reader's ReaderField.parts (the arrays it parsed from the file) instead.

Note: llama.cpp's own C reader (ggml/src/gguf.cpp) rejects arrays of arrays ("invalid GGUF type"),
so tiny-v3.gguf and tiny-v2.gguf load in gguf-py but not in llama.cpp.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFReader, GGUFValueType as VT, GGUFWriter

REPO = Path(__file__).resolve().parent.parent
FIRST_VALUES = 16


# --------------------------------------------------------------------------------------------
# Writing


class TypedArray:
    """An array value with an explicit element type (for empty arrays and nested arrays)."""

    def __init__(self, element_type: VT, values: list[Any]):
        self.element_type = element_type
        self.values = values


class FixtureWriter(GGUFWriter):
    """GGUFWriter that can also pack empty arrays and nested arrays with declared element types."""

    def _pack_val(self, val: Any, vtype: VT, add_vtype: bool, sub_type: VT | None = None) -> bytes:
        if isinstance(val, TypedArray):
            assert vtype == VT.ARRAY
            return self._pack_val(val.values, VT.ARRAY, add_vtype, sub_type=val.element_type)
        if vtype == VT.ARRAY and len(val) == 0:
            # GGUF spec: u32 element type, u64 count, then no elements.
            assert sub_type is not None, "an empty array needs an explicit element type"
            out = struct.pack("<I", int(VT.ARRAY)) if add_vtype else b""
            return out + struct.pack("<IQ", int(sub_type), 0)
        return super()._pack_val(val, vtype, add_vtype, sub_type=sub_type)

    def add_typed_array(self, key: str, element_type: VT, values: list[Any]) -> None:
        self.add_key_value(key, values, VT.ARRAY, sub_type=element_type)


def f32(x: float) -> float:
    """The float32 nearest to x (as a Python float)."""
    return float(np.float32(x))


def q4_k_blocks(rng: np.random.Generator, rows_shape: tuple[int, ...], row_len: int) -> np.ndarray:
    """Random Q4_K bytes (no quantizer in gguf-py): per 256-value block d, dmin (f16), 12 bytes of
    6-bit scales/mins, 128 bytes of nibbles. d and dmin are small positive normal halfs."""
    assert row_len % 256 == 0
    n_blocks = int(np.prod(rows_shape)) * (row_len // 256)
    d = rng.uniform(0.002, 0.02, n_blocks).astype(np.float16)
    dmin = rng.uniform(0.001, 0.01, n_blocks).astype(np.float16)
    blocks = np.empty((n_blocks, 144), dtype=np.uint8)
    blocks[:, 0:2] = d.view(np.uint8).reshape(n_blocks, 2)
    blocks[:, 2:4] = dmin.view(np.uint8).reshape(n_blocks, 2)
    blocks[:, 4:144] = rng.integers(0, 256, (n_blocks, 140), dtype=np.uint8)
    return blocks.reshape(*rows_shape, (row_len // 256) * 144)


def q8_0(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    data = rng.standard_normal(shape).astype(np.float32)
    return gguf.quants.quantize(data, QT.Q8_0)


def add_every_value_type(w: FixtureWriter) -> None:
    """One key of every GGUF value type, with extreme values."""
    # Integers: both ends of every range.
    w.add_uint8("test.uint8.min", 0)
    w.add_uint8("test.uint8.max", 255)
    w.add_int8("test.int8.min", -128)
    w.add_int8("test.int8.max", 127)
    w.add_uint16("test.uint16.max", 65535)
    w.add_int16("test.int16.min", -32768)
    w.add_int16("test.int16.max", 32767)
    w.add_uint32("test.uint32.max", 4294967295)
    w.add_int32("test.int32.min", -2147483648)
    w.add_int32("test.int32.max", 2147483647)
    w.add_uint64("test.uint64.max", 18446744073709551615)
    w.add_uint64("test.uint64.big", 9007199254740993)  # 2^53 + 1: not representable as a double
    w.add_int64("test.int64.min", -9223372036854775808)
    w.add_int64("test.int64.max", 9223372036854775807)
    # float32
    w.add_float32("test.float32.one_tenth", 0.1)
    w.add_float32("test.float32.negative_zero", -0.0)
    w.add_float32("test.float32.min_subnormal", float(np.finfo(np.float32).smallest_subnormal))
    w.add_float32("test.float32.max", float(np.finfo(np.float32).max))
    w.add_float32("test.float32.inf", math.inf)
    w.add_float32("test.float32.neg_inf", -math.inf)
    w.add_float32("test.float32.nan", math.nan)
    # float64
    w.add_float64("test.float64.one_tenth", 0.1)
    w.add_float64("test.float64.negative_zero", -0.0)
    w.add_float64("test.float64.min_subnormal", 5e-324)
    w.add_float64("test.float64.max", sys.float_info.max)
    w.add_float64("test.float64.inf", math.inf)
    w.add_float64("test.float64.neg_inf", -math.inf)
    w.add_float64("test.float64.nan", math.nan)
    # bool
    w.add_bool("test.bool.true", True)
    w.add_bool("test.bool.false", False)
    # strings (add_string drops empty strings, so use add_key_value)
    w.add_key_value("test.string.empty", "", VT.STRING)
    w.add_string("test.string.utf8", "héllo wörld — 日本語 🦀 ∑")
    w.add_string("test.string.nul_and_newlines", "a\x00b\nc\r\n\td")
    # arrays of every element type
    w.add_typed_array("test.array.uint8", VT.UINT8, [0, 1, 127, 128, 255])
    w.add_typed_array("test.array.int8", VT.INT8, [-128, -1, 0, 1, 127])
    w.add_typed_array("test.array.uint16", VT.UINT16, [0, 1, 65535])
    w.add_typed_array("test.array.int16", VT.INT16, [-32768, 0, 32767])
    w.add_typed_array("test.array.uint32", VT.UINT32, [0, 1, 4294967295])
    w.add_typed_array("test.array.int32", VT.INT32, [-2147483648, -1, 0, 2147483647])
    w.add_typed_array("test.array.float32", VT.FLOAT32,
                      [0.1, -0.0, float(np.finfo(np.float32).smallest_subnormal), math.inf,
                       -math.inf, math.nan, 3.4028234663852886e38, -1.5])
    w.add_typed_array("test.array.bool", VT.BOOL, [True, False, True])
    w.add_typed_array("test.array.string", VT.STRING, ["", "a", "ünïcödé", "日本", "🦀", "x y\nz"])
    w.add_typed_array("test.array.uint64", VT.UINT64, [0, 9007199254740993, 18446744073709551615])
    w.add_typed_array("test.array.int64", VT.INT64,
                      [-9223372036854775808, -1, 0, 9223372036854775807])
    w.add_typed_array("test.array.float64", VT.FLOAT64,
                      [0.1, -0.0, 5e-324, sys.float_info.max, math.inf, -math.inf, math.nan])
    # long enough that a 16-element head is a strict prefix
    w.add_typed_array("test.array.int32_long", VT.INT32, list(range(-20, 20)))
    # empty arrays (packed by hand, see FixtureWriter)
    w.add_typed_array("test.array.empty_uint8", VT.UINT8, [])
    w.add_typed_array("test.array.empty_string", VT.STRING, [])
    # nested arrays (inner arrays carry their own element type and count)
    w.add_typed_array("test.array.nested_int32", VT.ARRAY, [
        TypedArray(VT.INT32, [1, 2, 3]),
        TypedArray(VT.INT32, []),
        TypedArray(VT.INT32, [-2147483648, 2147483647]),
    ])
    w.add_typed_array("test.array.nested_string", VT.ARRAY, [
        TypedArray(VT.STRING, ["a", "bc"]),
        TypedArray(VT.STRING, ["", "ü"]),
        TypedArray(VT.STRING, []),
    ])


def tiny_llama_tokenizer(w: FixtureWriter) -> None:
    tokens = ["<unk>", "<s>", "</s>", "<0x0A>", "<0x00>", "▁", "▁the", "▁hello", "▁world",
              "é", "日本", "🦀", "ing", "▁a", ".", "[INST]"]
    scores = [0.0, 0.0, 0.0, 0.0, 0.0, -1.0, -2.5, -3.0, -3.25, -7.0, -8.0, -9.0, -4.0,
              -1e-3, -1e6, 0.0]
    # SentencePiece token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte
    token_type = [2, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_typed_array("tokenizer.ggml.scores", VT.FLOAT32, scores)
    w.add_typed_array("tokenizer.ggml.token_type", VT.INT32, token_type)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(
        "{{ bos_token }}\n"
        "{%- for message in messages %}\n"
        "    {%- if message['role'] == 'user' %}\n"
        "        {{- '[INST] ' + message['content'] + ' [/INST]' }}\n"
        "    {%- else %}\n"
        "        {{- message['content'] + eos_token }}\n"
        "    {%- endif %}\n"
        "{%- endfor %}\n"
    )


def write_tiny(path: Path) -> None:
    rng = np.random.default_rng(3)
    w = FixtureWriter(path, "llama")
    w.add_name("brise tiny fixture")
    w.add_file_type(15)  # MOSTLY_Q4_K_M (nominal)
    w.add_quantization_version(2)
    w.add_context_length(2048)
    w.add_embedding_length(256)
    w.add_block_count(1)
    w.add_feed_forward_length(768)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_key_length(64)
    w.add_value_length(64)
    w.add_rope_dimension_count(64)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(16)
    tiny_llama_tokenizer(w)
    add_every_value_type(w)

    # Tensors: F32, F16, Q8_0, Q4_K; 1-D .. 4-D (numpy shapes; ne order is the reverse).
    w.add_tensor("token_embd.weight", q4_k_blocks(rng, (16,), 256), raw_dtype=QT.Q4_K)  # ne [256,16]
    w.add_tensor("output_norm.weight", rng.standard_normal(256).astype(np.float32))      # ne [256]
    w.add_tensor("blk.0.attn_k.weight", q8_0(rng, (8, 256)), raw_dtype=QT.Q8_0)         # ne [256,8]
    w.add_tensor("test.f16_1d_odd", rng.standard_normal(33).astype(np.float16))          # 66 bytes
    w.add_tensor("test.f32_2d", rng.standard_normal((3, 5)).astype(np.float32))          # ne [5,3]
    w.add_tensor("test.f16_3d", rng.standard_normal((3, 4, 32)).astype(np.float16))     # ne [32,4,3]
    w.add_tensor("test.q8_0_3d", q8_0(rng, (2, 3, 64)), raw_dtype=QT.Q8_0)              # ne [64,3,2]
    w.add_tensor("test.f32_4d", rng.standard_normal((2, 3, 4, 8)).astype(np.float32))   # ne [8,4,3,2]
    w.add_tensor("test.q4_k_4d", q4_k_blocks(rng, (2, 1, 2), 256), raw_dtype=QT.Q4_K)  # ne [256,2,1,2]
    w.add_tensor("test.q8_0_4d", q8_0(rng, (1, 2, 1, 32)), raw_dtype=QT.Q8_0)          # ne [32,1,2,1]
    finish(w)


def write_aligned_64(path: Path) -> None:
    rng = np.random.default_rng(64)
    w = FixtureWriter(path, "mistral3")
    w.add_name("brise aligned-64 fixture")
    w.add_custom_alignment(64)  # general.alignment = 64 (UINT32)
    w.add_file_type(7)  # MOSTLY_Q8_0 (nominal)
    w.add_quantization_version(2)
    w.add_context_length(262144)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(192)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_key_length(32)
    w.add_value_length(32)
    w.add_rope_dimension_count(32)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(131072)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(16.0)
    w.add_rope_scaling_orig_ctx_len(16384)
    w.add_rope_scaling_yarn_beta_fast(32.0)
    w.add_rope_scaling_yarn_beta_slow(1.0)
    w.add_rope_scaling_yarn_log_mul(1.0)
    w.add_attn_temperature_scale(0.1)
    # sizes 160, 204, 136, 68 bytes: none a multiple of 64
    w.add_tensor("output_norm.weight", rng.standard_normal(40).astype(np.float32))
    w.add_tensor("blk.0.attn_q.weight", q8_0(rng, (3, 64)), raw_dtype=QT.Q8_0)
    w.add_tensor("blk.0.attn_norm.weight", rng.standard_normal(34).astype(np.float32))
    w.add_tensor("blk.0.attn_k.weight", q8_0(rng, (2, 32)), raw_dtype=QT.Q8_0)
    finish(w)


def write_tekken(path: Path) -> None:
    rng = np.random.default_rng(131)
    # Byte-level BPE pieces as gpt2-style tokenizers store them (Ġ = space, Ċ = newline).
    tokens = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "a", "b", "c", "t", "h", "e", "Ġ",
              "Ċ", "th", "Ġt", "Ġth", "the", "Ġthe", "é", "æĹ¥", "ðŁ¦Ģ", "er", "Ġa", "ing"]
    merges = ["t h", "Ġ t", "Ġt h", "th e", "Ġth e", "e r", "Ġ a", "in g"]
    w = FixtureWriter(path, "llama")
    w.add_name("brise tekken fixture")
    w.add_context_length(1024)
    w.add_embedding_length(32)
    w.add_block_count(1)
    w.add_feed_forward_length(96)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("tekken")
    w.add_token_list(tokens)
    w.add_token_merges(merges)
    # INT32 scores (mistral-common's Tekken conversion writes int zeros; non-zero here so a reader
    # that decodes them as FLOAT32 bit patterns gives visibly wrong values).
    w.add_typed_array("tokenizer.ggml.scores", VT.INT32, [-i for i in range(len(tokens))])
    w.add_typed_array("tokenizer.ggml.token_type", VT.INT32, [2, 3, 3, 3, 3] + [1] * (len(tokens) - 5))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_tensor("token_embd.weight", rng.standard_normal((len(tokens), 32)).astype(np.float32))
    finish(w)


def finish(w: FixtureWriter) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def patch_version(path: Path, version: int) -> None:
    with open(path, "r+b") as f:
        assert f.read(4) == b"GGUF"
        f.write(struct.pack("<I", version))


# --------------------------------------------------------------------------------------------
# Reading back (everything below uses only what GGUFReader parsed from the file)


def json_float(x: float) -> float | str:
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def decode_value(parts: list[np.ndarray], i: int, vtype: VT) -> tuple[Any, int]:
    """Decode one value of type vtype from ReaderField.parts starting at parts[i].

    Returns (value, index of the next part). Arrays become
    {"type": "ARRAY", "elementType", "count", "values"}."""
    if vtype == VT.STRING:
        return bytes(parts[i + 1]).decode("utf-8"), i + 2
    if vtype == VT.ARRAY:
        etype = VT(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        values = []
        for _ in range(count):
            v, i = decode_value(parts, i, etype)
            values.append(v)
        return {"type": "ARRAY", "elementType": etype.name, "count": count, "values": values}, i
    raw = parts[i][0]
    if vtype in (VT.FLOAT32, VT.FLOAT64):
        return json_float(raw), i + 1
    if vtype == VT.BOOL:
        return bool(raw), i + 1
    return int(raw), i + 1


def metadata_entries(reader: GGUFReader) -> list[dict[str, Any]]:
    entries = []
    # The first three fields are the reader's pseudo-fields GGUF.version/tensor_count/kv_count.
    for field in list(reader.fields.values())[3:]:
        vtype = VT(int(field.parts[2][0]))
        value, end = decode_value(field.parts, 3, vtype)
        assert end == len(field.parts), field.name
        if isinstance(value, dict):
            entries.append({"key": field.name, "type": "ARRAY", "elementType": value["elementType"],
                            "count": value["count"], "values": value["values"]})
            if value["elementType"] != "ARRAY":  # cross-check with gguf-py's own decoding
                flat = field.contents()
                mine = value["values"]
                assert len(flat) == len(mine), field.name
                if value["elementType"] in ("FLOAT32", "FLOAT64"):
                    flat = [json_float(v) for v in flat]
                assert flat == mine, field.name
        else:
            entries.append({"key": field.name, "type": vtype.name, "value": value})
    return entries


def read_back(path: Path) -> dict[str, Any]:
    reader = GGUFReader(path)
    data_offset = int(reader.data_offset)
    tensors = []
    first_values = {}
    for t in reader.tensors:
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "typeId": int(t.tensor_type),
            "shape": [int(d) for d in t.shape],
            "offset": int(t.data_offset) - data_offset,
            "absoluteOffset": int(t.data_offset),
            "bytes": int(t.n_bytes),
        })
        values = gguf.quants.dequantize(t.data, t.tensor_type).reshape(-1)[:FIRST_VALUES]
        first_values[t.name] = [json_float(np.float32(v)) for v in values]
    return {
        "file": path.name,
        "version": int(reader.fields["GGUF.version"].parts[0][0]),
        "alignment": int(reader.alignment),
        "dataOffset": data_offset,
        "fileSize": os.path.getsize(path),
        "metadata": metadata_entries(reader),
        "tensors": tensors,
        "firstValues": first_values,
    }


def check_layout(info: dict[str, Any]) -> None:
    """The invariants llama.cpp's reader enforces: offsets are the padded running sum."""
    align = info["alignment"]
    assert info["dataOffset"] % align == 0
    expected = 0
    for t in info["tensors"]:
        assert t["offset"] == expected, (info["file"], t["name"], t["offset"], expected)
        expected += (t["bytes"] + align - 1) // align * align
    assert info["dataOffset"] + expected == info["fileSize"], info["file"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "Fixtures" / "gguf")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    write_tiny(out / "tiny-v3.gguf")
    write_tiny(out / "tiny-v2.gguf")
    patch_version(out / "tiny-v2.gguf", 2)
    write_aligned_64(out / "aligned-64.gguf")
    write_tekken(out / "tekken-scores-i32.gguf")

    total = 0
    for name in ["tiny-v3", "tiny-v2", "aligned-64", "tekken-scores-i32"]:
        path = out / f"{name}.gguf"
        info = read_back(path)
        check_layout(info)
        text = json.dumps(info, sort_keys=False, indent=1, ensure_ascii=False) + "\n"
        (out / f"{name}.json").write_text(text, encoding="utf-8")
        size = info["fileSize"]
        total += size + len(text.encode("utf-8"))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        types = sorted({t["type"] for t in info["tensors"]})
        dims = sorted({len(t["shape"]) for t in info["tensors"]})
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {size} bytes, "
              f"v{info['version']}, align {info['alignment']}, data at {info['dataOffset']}, "
              f"{len(info['metadata'])} keys, {len(info['tensors'])} tensors "
              f"({', '.join(types)}; dims {', '.join(map(str, dims))}), sha256 {digest}…")
    print(f"total {total} bytes (GGUF + JSON) in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
