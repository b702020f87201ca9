#!/usr/bin/env python3
"""Writes the vision pixel fixtures (Fixtures/vision/pixels) from llama.cpp itself.

    ~/.cache/brise/venv/bin/python scripts/dump-llamacpp-pixels.py

What llama.cpp does with an image, measured on the library llama-cpp-python 0.3.36 ships
(site-packages/llama_cpp/lib/libmtmd.so), not on a rebuild of it:

  * decoding: libmtmd's own stb_image 2.30 (`stbi_load_from_memory(..., 3)`, which
    `mtmd_helper_bitmap_init_from_buf` calls) over PNG and JPEG variants this script writes;
  * preprocessing: libmtmd's `mtmd_image_preprocessor_dyn_size::preprocess` (Pixtral's), with a
    `clip_hparams` filled as clip.cpp fills it for PROJECTOR_TYPE_PIXTRAL (bicubic, 8...1024 tokens).

A small C++ driver (below) is compiled with g++ against the sdist's headers (the same version, so the
structs' layouts match) and linked to the shipped libmtmd.so. The sdist is found under /tmp/lcp or
~/.cache/brise, or downloaded with pip into ~/.cache/brise.

Written (all deterministic: the images come from a seeded generator):
  png/*.png              PNG variants; decoded.json has stb's RGB digest for each
  jpeg/*.jpg             JPEG variants; jpeg/*.stb.png is stb's decode of each, stored losslessly,
                         so the Swift tests can measure libjpeg-turbo against it
  inputs/*.png           preprocessing inputs (PNG, decoded identically by both sides)
  preprocessed.json      per input and (patch, merge): the target size, the SHA-256 of the float32
                         little-endian pixels and a few sample values
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Fixtures/vision/pixels"
VERSION = "0.3.36"
CACHE = Path.home() / ".cache/brise"
VENV = Path(os.environ.get("BRISE_VENV", CACHE / "venv"))
PIXTRAL_MEAN = [0.48145466, 0.4578275, 0.40821073]
PIXTRAL_STD = [0.26862954, 0.26130258, 0.27577711]

DRIVER = r"""
// Calls the shipped libmtmd.so: stb_image's decoder and the dyn_size (Pixtral) preprocessor.
#include "mtmd-image.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" unsigned char *stbi_load_from_memory(const unsigned char *, int, int *, int *, int *, int);
extern "C" void stbi_image_free(void *);

static clip_hparams g_hparams;
// The preprocessor's constructor asks clip for the hparams; answer with ours.
const clip_hparams * clip_get_hparams(const struct clip_ctx *) { return &g_hparams; }

static std::vector<unsigned char> slurp(const char * path) {
    std::vector<unsigned char> bytes;
    FILE * f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
    fclose(f);
    return bytes;
}

static void spit(const char * path, const void * data, size_t n) {
    FILE * f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}

int main(int argc, char ** argv) {
    if (argc == 4 && strcmp(argv[1], "decode") == 0) {
        std::vector<unsigned char> bytes = slurp(argv[2]);
        int w, h, c;
        unsigned char * rgb = stbi_load_from_memory(bytes.data(), (int) bytes.size(), &w, &h, &c, 3);
        if (!rgb) { printf("fail\n"); return 0; }
        spit(argv[3], rgb, (size_t) w * h * 3);
        stbi_image_free(rgb);
        printf("%d %d %d\n", w, h, c);
        return 0;
    }
    if (argc == 8 && strcmp(argv[1], "preprocess") == 0) {
        std::vector<unsigned char> bytes = slurp(argv[2]);
        int w = atoi(argv[3]), h = atoi(argv[4]);
        g_hparams.patch_size = atoi(argv[5]);
        g_hparams.n_merge = atoi(argv[6]);
        g_hparams.image_resize_algo = RESIZE_ALGO_BICUBIC;
        g_hparams.set_limit_image_tokens(8, 1024);
        const float mean[3] = {MEAN0, MEAN1, MEAN2}, stdv[3] = {STD0, STD1, STD2};
        for (int i = 0; i < 3; i++) { g_hparams.image_mean[i] = mean[i]; g_hparams.image_std[i] = stdv[i]; }
        clip_image_u8 img;
        img.set_size({w, h}, false);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const unsigned char * p = &bytes[((size_t) y * w + x) * 3];
                img.set_pixel(x, y, {p[0], p[1], p[2]});
            }
        mtmd_image_preprocessor_dyn_size pre((const clip_ctx *) &g_hparams);
        mtmd_image_preproc_out out = pre.preprocess(img);
        const clip_image_f32 & f = out.entries.at(0);
        const std::vector<float> & buf = f.get_ro_buf();
        spit(argv[7], buf.data(), buf.size() * sizeof(float));
        printf("%d %d %d %d\n", f.nx(), f.ny(), g_hparams.image_min_pixels, g_hparams.image_max_pixels);
        return 0;
    }
    fprintf(stderr, "usage: driver decode IN OUT | driver preprocess IN.rgb W H PATCH MERGE OUT\n");
    return 2;
}
"""


def find_sdist():
    for base in (Path("/tmp/lcp"), CACHE):
        root = base / f"llama_cpp_python-{VERSION}"
        if (root / "vendor/llama.cpp/tools/mtmd/mtmd-image.h").exists():
            return root
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(VENV / "bin/python"), "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"llama-cpp-python=={VERSION}", "-d", tmp], check=True)
        archive = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    return CACHE / f"llama_cpp_python-{VERSION}"


def build_driver(sdist, work):
    lib = next(VENV.glob("lib/python3*/site-packages/llama_cpp/lib"))
    llama = sdist / "vendor/llama.cpp"
    source = DRIVER
    for i in range(3):
        source = source.replace(f"MEAN{i}", repr(PIXTRAL_MEAN[i]) + "f").replace(f"STD{i}", repr(PIXTRAL_STD[i]) + "f")
    (work / "driver.cpp").write_text(source)
    binary = work / "driver"
    subprocess.run(["g++", "-std=c++17", "-O1", "-o", str(binary), str(work / "driver.cpp"),
                    "-I", str(llama / "tools/mtmd"), "-I", str(llama / "ggml/include"), "-I", str(llama / "include"),
                    "-L", str(lib), "-lmtmd", "-lggml-base", "-lggml", f"-Wl,-rpath,{lib}"], check=True)
    return binary


# MARK: - Images


def pattern(width, height, seed, noise=48):
    """Smooth gradients with noise on top: cheap to compress where smooth, with every byte value."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    w, h = max(width - 1, 1), max(height - 1, 1)
    r = 255 * x / w
    g = 255 * y / h
    b = 127.5 + 127.5 * np.sin(x / 7.0 + y / 11.0)
    img = np.stack([r, g, b], axis=-1)
    img += rng.integers(-noise, noise + 1, size=img.shape) if noise else 0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def sparse_noise(width, height, seed):
    """Gradients, with noise only in a few blocks (large images stay small as PNG)."""
    img = pattern(width, height, seed, noise=0)
    rng = np.random.default_rng(seed + 1)
    for _ in range(4):
        bw, bh = min(width, 48), min(height, 48)
        x0, y0 = rng.integers(0, width - bw + 1), rng.integers(0, height - bh + 1)
        img[y0:y0 + bh, x0:x0 + bw] = rng.integers(0, 256, size=(bh, bw, 3), dtype=np.uint8)
    return img


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def filter_rows(rows, bpp):
    """Filters each row with type (row index mod 5), so libpng's five unfilters are all exercised."""
    out = bytearray()
    prior = bytes(len(rows[0])) if rows else b""
    for index, row in enumerate(rows):
        kind = index % 5
        filtered = bytearray(len(row))
        for i, value in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = a
            elif kind == 2:
                predictor = b
            elif kind == 3:
                predictor = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            filtered[i] = (value - predictor) & 0xFF
        out.append(kind)
        out += filtered
        prior = row
    return bytes(out)


def pack_row(samples, depth):
    """One row of samples (ints) packed at `depth` bits, big-endian, MSB first."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(samples, color_type, depth, interlace=False, palette=None, trns=None):
    """A PNG from an (h, w, channels) array of samples, written here (PIL cannot write 16-bit RGB,
    low bit depths of every type, or Adam7)."""
    height, width, channels = samples.shape
    bpp = max(1, channels * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    data = b""
    for x0, y0, dx, dy in passes:
        rows = []
        for y in range(y0, height, dy):
            row = samples[y, x0::dx].reshape(-1).tolist()
            if row:
                rows.append(pack_row(row, depth))
        if rows:
            data += filter_rows(rows, bpp)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        out += png_chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    # Split the data over two IDAT chunks, as large encoders do.
    compressed = zlib.compress(data, 9)
    half = len(compressed) // 2
    out += png_chunk(b"IDAT", compressed[:half]) + png_chunk(b"IDAT", compressed[half:])
    return out + png_chunk(b"IEND", b"")


def png_variants():
    rng = np.random.default_rng(7)
    w, h = 37, 23
    rgb = pattern(w, h, 1)
    alpha = rng.integers(0, 256, size=(h, w, 1), dtype=np.uint8)
    gray = pattern(w, h, 2)[..., :1]
    pil = {}

    def pil_png(array, mode, **options):
        from io import BytesIO
        buffer = BytesIO()
        Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array, mode=mode).save(buffer, "PNG", **options)
        return buffer.getvalue()

    pil["rgb8"] = pil_png(rgb, "RGB")
    pil["rgba8"] = pil_png(np.concatenate([rgb, alpha], -1), "RGBA")
    pil["gray8"] = pil_png(gray, "L")
    pil["graya8"] = pil_png(np.concatenate([gray, alpha], -1), "LA")
    quantized = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT)
    from io import BytesIO
    buffer = BytesIO()
    quantized.save(buffer, "PNG")
    pil["palette8"] = buffer.getvalue()
    buffer = BytesIO()
    quantized.save(buffer, "PNG", transparency=bytes(range(0, 256, 3)))
    pil["palette8-trns"] = buffer.getvalue()

    palette16 = rng.integers(0, 256, size=(16, 3), dtype=np.uint8)
    indices16 = rng.integers(0, 16, size=(h, w, 1))
    palette4 = palette16[:4]
    indices4 = rng.integers(0, 4, size=(h, w, 1))
    wide16 = rng.integers(0, 65536, size=(h, w, 3))
    written = {
        "rgb16": write_png(wide16, 2, 16),
        "rgba16": write_png(np.concatenate([wide16, rng.integers(0, 65536, size=(h, w, 1))], -1), 6, 16),
        "gray16": write_png(wide16[..., :1], 0, 16),
        "graya16": write_png(wide16[..., :2], 4, 16),
        "gray1": write_png(rng.integers(0, 2, size=(h, w, 1)), 0, 1),
        "gray2": write_png(rng.integers(0, 4, size=(h, w, 1)), 0, 2),
        "gray4": write_png(rng.integers(0, 16, size=(h, w, 1)), 0, 4),
        "gray8-trns": write_png(gray, 0, 8, trns=struct.pack(">H", int(gray[0, 0, 0]))),
        "rgb8-trns": write_png(rgb, 2, 8, trns=struct.pack(">HHH", *[int(v) for v in rgb[0, 0]])),
        "palette4": write_png(indices16, 3, 4, palette=palette16),
        "palette2-trns": write_png(indices4, 3, 2, palette=palette4, trns=b"\x00\x80"),
        "rgb8-interlaced": write_png(rgb, 2, 8, interlace=True),
        "rgba16-interlaced": write_png(np.concatenate([wide16, wide16[..., :1]], -1), 6, 16, interlace=True),
        "gray1-interlaced": write_png(rng.integers(0, 2, size=(h, w, 1)), 0, 1, interlace=True),
        "palette4-interlaced": write_png(indices16, 3, 4, interlace=True, palette=palette16),
        "rgb8-1x1": write_png(rgb[:1, :1], 2, 8),
        "rgb8-3x2-interlaced": write_png(rgb[:2, :3], 2, 8, interlace=True),
    }
    return {**pil, **written}


def jpeg_variants():
    from io import BytesIO
    photo = Image.fromarray(pattern(67, 45, 3, noise=24))
    variants = {}

    def save(name, image, **options):
        buffer = BytesIO()
        image.save(buffer, "JPEG", **options)
        variants[name] = buffer.getvalue()

    save("baseline-420", photo, quality=90, subsampling=2)
    save("baseline-422", photo, quality=90, subsampling=1)
    save("baseline-444", photo, quality=90, subsampling=0)
    save("progressive-420", photo, quality=85, subsampling=2, progressive=True)
    save("progressive-444", photo, quality=85, subsampling=0, progressive=True)
    save("gray", photo.convert("L"), quality=90)
    save("cmyk", photo.convert("CMYK"), quality=90)
    save("large-420", Image.fromarray(pattern(256, 192, 4, noise=16)), quality=80, subsampling=2)
    save("q100-444", photo, quality=100, subsampling=0)
    return variants


# The preprocessing inputs: name -> (width, height). The limits: patch 16 merge 2 -> 8192...1048576
# pixels, patch 14 merge 2 -> 6272...802816.
INPUTS = {
    "1x1": (1, 1),
    "3x2": (3, 2),
    "40x30-upscaled": (40, 30),
    "wide-4000x1": (4000, 1),
    "tall-1x3000": (1, 3000),
    "wide-2000x9": (2000, 9),
    "square-512": (512, 512),
    "1000x700": (1000, 700),
    "333x517-odd": (333, 517),
    "1500x1000-downscaled": (1500, 1000),
}


def main():
    sdist = find_sdist()
    for sub in ("png", "jpeg", "inputs"):
        (OUT / sub).mkdir(parents=True, exist_ok=True)
        for old in (OUT / sub).iterdir():
            old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        driver = build_driver(sdist, work)

        def stb(path):
            raw = work / "stb.rgb"
            answer = subprocess.run([str(driver), "decode", str(path), str(raw)], check=True, capture_output=True, text=True).stdout.split()
            if answer[0] == "fail":
                return None
            w, h, _ = map(int, answer)
            return w, h, raw.read_bytes()

        decoded = {}
        for name, data in sorted(png_variants().items()):
            path = OUT / "png" / f"{name}.png"
            path.write_bytes(data)
            w, h, rgb = stb(path)
            decoded[f"png/{name}.png"] = {"width": w, "height": h, "sha256": hashlib.sha256(rgb).hexdigest()}
        for name, data in sorted(jpeg_variants().items()):
            path = OUT / "jpeg" / f"{name}.jpg"
            path.write_bytes(data)
            w, h, rgb = stb(path)
            reference = OUT / "jpeg" / f"{name}.stb.png"
            Image.frombytes("RGB", (w, h), rgb).save(reference, optimize=True)
            decoded[f"jpeg/{name}.jpg"] = {"width": w, "height": h, "sha256": hashlib.sha256(rgb).hexdigest(),
                                           "stb": f"jpeg/{name}.stb.png"}

        cases = []
        for index, (name, (w, h)) in enumerate(INPUTS.items()):
            path = OUT / "inputs" / f"{name}.png"
            image = sparse_noise(w, h, 100 + index) if w * h > 100_000 else pattern(w, h, 100 + index)
            Image.fromarray(image).save(path, optimize=True)
            sw, sh, rgb = stb(path)
            assert (sw, sh) == (w, h) and rgb == image.tobytes()
            raw = work / "in.rgb"
            raw.write_bytes(rgb)
            for patch, merge in ((16, 2), (14, 2)):
                floats = work / "out.f32"
                answer = subprocess.run([str(driver), "preprocess", str(raw), str(w), str(h), str(patch), str(merge), str(floats)],
                                        check=True, capture_output=True, text=True).stdout.split()
                tw, th, min_pixels, max_pixels = map(int, answer)
                values = np.frombuffer(floats.read_bytes(), dtype="<f4")
                assert values.size == tw * th * 3
                picks = sorted({0, 1, 2, values.size // 3, values.size // 2, values.size // 2 + 1, values.size - 1,
                                *np.random.default_rng(index * 100 + patch).integers(0, values.size, 5).tolist()})
                cases.append({
                    "input": f"inputs/{name}.png", "width": w, "height": h, "patch": patch, "merge": merge,
                    "min_pixels": min_pixels, "max_pixels": max_pixels,
                    "target_width": tw, "target_height": th,
                    "sha256": hashlib.sha256(values.astype("<f4").tobytes()).hexdigest(),
                    "samples": [{"index": i, "bits": f"{values.view('<u4')[i]:08x}", "value": float(values[i])} for i in picks],
                })
                print(f"{name:22} patch {patch} merge {merge}: {w}x{h} -> {tw}x{th}")

    header = {"generator": "scripts/dump-llamacpp-pixels.py", "llama_cpp_python": VERSION,
              "library": "llama_cpp/lib/libmtmd.so (stbi_load_from_memory, mtmd_image_preprocessor_dyn_size::preprocess)"}
    (OUT / "decoded.json").write_text(json.dumps({**header, "images": decoded}, indent=1) + "\n")
    (OUT / "preprocessed.json").write_text(json.dumps({**header, "mean": PIXTRAL_MEAN, "std": PIXTRAL_STD, "cases": cases}, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT.relative_to(ROOT)}: {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
