#!/usr/bin/env python3
"""Check `brise inspect --json` against gguf-py's GGUFReader on the same GGUF files.

    ~/.cache/brise/venv/bin/python scripts/compare-gguf-inspect.py FILE [FILE...] [--brise PATH]
    ~/.cache/brise/venv/bin/python scripts/compare-gguf-inspect.py --self-test [FILE...]

For each FILE it runs `BRISE inspect --json FILE` (BRISE defaults to .build/debug/brise in the
repository) and compares its JSON with what gguf-py (llama.cpp's Python GGUF reader) reads:

  * version, alignment, dataOffset, fileSize;
  * every metadata key, in file order, with its type; scalar values exactly (integers of every
    width exactly, so 64-bit values must be written as JSON integers; FLOAT32 compared as float32,
    FLOAT64 as double, NaN equal to NaN, and the sign of zero must match); for arrays the element
    type, the count and the head (the first min(count, 16) elements; a nested array inside a head
    is {"type": "ARRAY", "elementType", "count", "head"});
  * every tensor's name, type name, typeId, shape (ne order), offset (relative to the data section),
    absoluteOffset and bytes.

Brise's JSON: {"version", "alignment", "dataOffset", "fileSize",
  "metadata": [{"key", "type", "value"} | {"key", "type": "ARRAY", "elementType", "count", "head"}],
  "tensors": [{"name", "type", "typeId", "shape", "offset", "absoluteOffset", "bytes"}], ...}
Floats are JSON numbers; NaN and infinities the strings "nan", "inf", "-inf". Other fields are
ignored.

Output: `ok FILE: K keys, T tensors`, or `FAIL FILE: ...` followed by the first 20 mismatches, per
file; then `N passed, N failed`. Exit status 1 if any file failed (2 on usage errors).

--self-test checks this script's own comparison logic without a brise binary: for each FILE
(default: the two real models in the models directory, scripts/models-dir, plus
Fixtures/gguf/*.gguf) it builds the Brise-shaped JSON from gguf-py, checks that it passes (also
through a fake `brise` executable, and in a Swift-like number spelling: integral floats without a
fraction, negative zero as -0), and that each of a set of single-value perturbations is caught.

Needs Python 3.11 with the `gguf` package and numpy; no network.
"""

from __future__ import annotations

import argparse
import hashlib
import copy
import json
import math
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from gguf import GGUFReader, GGUFValueType as VT

REPO = Path(__file__).resolve().parent.parent
HEAD = 16
MAX_REPORTED = 20

INT_TYPES = {VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.UINT64, VT.INT64}
FLOAT_TYPES = {VT.FLOAT32, VT.FLOAT64}
SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


# --------------------------------------------------------------------------------------------
# Expected values, from gguf-py's reader


def json_float(x: float) -> float | str:
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def decode(parts: list[np.ndarray], i: int, vtype: VT, full: bool = True) -> tuple[Any, int]:
    """Decode one value from a gguf-py ReaderField's parts starting at parts[i].

    Arrays become {"type": "ARRAY", "elementType", "count", "head"}. With full=False the walk stops
    after the head (the returned index is then meaningless); nested arrays are always walked fully
    so that the next element can be found. (gguf-py's ReaderField.contents() flattens nested
    arrays, so the parts are walked directly.)"""
    if vtype == VT.STRING:
        return bytes(parts[i + 1]).decode("utf-8"), i + 2
    if vtype == VT.ARRAY:
        etype = VT(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        head = []
        for k in range(count if full else min(count, HEAD)):
            v, i = decode(parts, i, etype, True)
            if k < HEAD:
                head.append(v)
        return {"type": "ARRAY", "elementType": etype.name, "count": count, "head": head}, i
    raw = parts[i][0]
    if vtype in FLOAT_TYPES:
        return json_float(raw), i + 1
    if vtype == VT.BOOL:
        return bool(raw), i + 1
    return int(raw), i + 1


def expected_json(path: Path) -> dict[str, Any]:
    """What `brise inspect --json` should print for path, per gguf-py (Brise's JSON shape)."""
    reader = GGUFReader(path)
    metadata = []
    # The first three fields are gguf-py's pseudo-fields GGUF.version/tensor_count/kv_count.
    for field in list(reader.fields.values())[3:]:
        vtype = VT(int(field.parts[2][0]))
        value, _ = decode(field.parts, 3, vtype, full=False)
        if vtype == VT.ARRAY:
            metadata.append({"key": field.name, "type": "ARRAY", "elementType": value["elementType"],
                             "count": value["count"], "head": value["head"]})
        else:
            metadata.append({"key": field.name, "type": vtype.name, "value": value})
    data_offset = int(reader.data_offset)
    tensors = [{
        "name": t.name,
        "type": t.tensor_type.name,
        "typeId": int(t.tensor_type),
        "shape": [int(d) for d in t.shape],
        "offset": int(t.data_offset) - data_offset,
        "absoluteOffset": int(t.data_offset),
        "bytes": int(t.n_bytes),
    } for t in reader.tensors]
    return {
        "version": int(reader.fields["GGUF.version"].parts[0][0]),
        "alignment": int(reader.alignment),
        "dataOffset": data_offset,
        "fileSize": os.path.getsize(path),
        "metadata": metadata,
        "tensors": tensors,
    }


# --------------------------------------------------------------------------------------------
# Parsing Brise's output


def _parse_int(s: str) -> int | float:
    # JSON "-0" is a float negative zero written the way Swift's JSONSerialization writes it.
    return -0.0 if s == "-0" else int(s)


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name} (NaN/inf must be strings)")


def parse_json(text: str) -> Any:
    return json.loads(text, parse_int=_parse_int, parse_constant=_reject_constant)


# --------------------------------------------------------------------------------------------
# Comparison


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def as_float(x: Any) -> float | None:
    if isinstance(x, str):
        return SPECIAL_FLOATS.get(x)
    if is_number(x):
        return float(x)
    return None


def same_float(vtype: VT, exp: Any, act: Any) -> bool:
    e, a = as_float(exp), as_float(act)
    if e is None or a is None:
        return False
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    if vtype == VT.FLOAT32:
        with np.errstate(over="ignore"):
            e32, a32 = np.float32(e), np.float32(a)
        return bool(e32 == a32) and bool(np.signbit(e32) == np.signbit(a32))
    return e == a and math.copysign(1.0, e) == math.copysign(1.0, a)


def show(x: Any) -> str:
    s = json.dumps(x, ensure_ascii=False)
    return s if len(s) <= 80 else s[:77] + "..."


def compare_value(vtype: VT, exp: Any, act: Any, where: str, out: list[str]) -> None:
    if vtype == VT.ARRAY:
        compare_array(exp, act, where, out)
    elif vtype in INT_TYPES:
        if not (isinstance(act, int) and not isinstance(act, bool)) or act != exp:
            out.append(f"{where}: expected {vtype.name} {exp}, got {show(act)}")
    elif vtype in FLOAT_TYPES:
        if not same_float(vtype, exp, act):
            out.append(f"{where}: expected {vtype.name} {show(exp)}, got {show(act)}")
    elif vtype == VT.BOOL:
        if not isinstance(act, bool) or act != exp:
            out.append(f"{where}: expected {show(exp)}, got {show(act)}")
    elif vtype == VT.STRING:
        if not isinstance(act, str) or act != exp:
            out.append(f"{where}: expected {show(exp)}, got {show(act)}")
    else:
        out.append(f"{where}: unhandled type {vtype}")


def compare_array(exp: dict[str, Any], act: Any, where: str, out: list[str]) -> None:
    """exp and act: {"type": "ARRAY", "elementType", "count", "head"} (act may lack "type" at the
    top level of a metadata entry, whose "type" is checked by the caller)."""
    if not isinstance(act, dict):
        out.append(f"{where}: expected an array object, got {show(act)}")
        return
    if act.get("elementType") != exp["elementType"]:
        out.append(f"{where}: elementType expected {exp['elementType']}, got {show(act.get('elementType'))}")
        return
    if act.get("count") != exp["count"] or not is_number(act.get("count")):
        out.append(f"{where}: count expected {exp['count']}, got {show(act.get('count'))}")
    head = act.get("head")
    if not isinstance(head, list):
        out.append(f"{where}: head missing or not a list")
        return
    if len(head) != len(exp["head"]):
        out.append(f"{where}: head has {len(head)} elements, expected {len(exp['head'])}")
    etype = VT[exp["elementType"]]
    for k, (e, a) in enumerate(zip(exp["head"], head)):
        if etype == VT.ARRAY and isinstance(a, dict) and a.get("type") != "ARRAY":
            out.append(f"{where}[{k}]: nested array must have \"type\": \"ARRAY\", got {show(a.get('type'))}")
        compare_value(etype, e, a, f"{where}[{k}]", out)


def compare(exp: dict[str, Any], act: Any) -> list[str]:
    out: list[str] = []
    if not isinstance(act, dict):
        return [f"top level: expected a JSON object, got {show(act)}"]
    for f in ("version", "alignment", "dataOffset", "fileSize"):
        if act.get(f) != exp[f] or not is_number(act.get(f)):
            out.append(f"{f}: expected {exp[f]}, got {show(act.get(f))}")

    # metadata: order first, then values by key (so one missing key does not cascade)
    md = act.get("metadata")
    if not isinstance(md, list) or not all(isinstance(m, dict) for m in md):
        out.append("metadata: missing or not a list of objects")
        md = []
    exp_keys = [m["key"] for m in exp["metadata"]]
    act_keys = [m.get("key") for m in md]
    if exp_keys != act_keys:
        missing = [k for k in exp_keys if k not in act_keys]
        extra = [k for k in act_keys if k not in exp_keys]
        if missing:
            out.append(f"metadata: {len(missing)} keys missing, e.g. {show(missing[:3])}")
        if extra:
            out.append(f"metadata: {len(extra)} unexpected keys, e.g. {show(extra[:3])}")
        if len(exp_keys) != len(act_keys):
            out.append(f"metadata: {len(act_keys)} keys, expected {len(exp_keys)}")
        common = [k for k in exp_keys if k in act_keys]
        common_act = [k for k in act_keys if k in exp_keys]
        for i, (e, a) in enumerate(zip(common, common_act)):
            if e != a:
                out.append(f"metadata: key order differs: #{i} of the shared keys is {a!r}, expected {e!r}")
                break
    by_key = {m.get("key"): m for m in md}
    for m in exp["metadata"]:
        a = by_key.get(m["key"])
        if a is None:
            continue
        where = m["key"]
        if a.get("type") != m["type"]:
            out.append(f"{where}: type expected {m['type']}, got {show(a.get('type'))}")
            continue
        if m["type"] == "ARRAY":
            compare_array(m, a, where, out)
        elif "value" not in a:
            out.append(f"{where}: no \"value\"")
        else:
            compare_value(VT[m["type"]], m["value"], a["value"], where, out)

    # tensors
    ts = act.get("tensors")
    if not isinstance(ts, list) or not all(isinstance(t, dict) for t in ts):
        out.append("tensors: missing or not a list of objects")
        ts = []
    if len(ts) != len(exp["tensors"]):
        out.append(f"tensors: {len(ts)} tensors, expected {len(exp['tensors'])}")
    for i, (e, a) in enumerate(zip(exp["tensors"], ts)):
        where = f"tensor #{i} {e['name']!r}"
        for f in ("name", "type", "typeId", "shape", "offset", "absoluteOffset", "bytes"):
            av = a.get(f)
            ok = av == e[f] and (f in ("name", "type") or
                                 (isinstance(av, list) and all(is_number(x) for x in av)) or is_number(av))
            if not ok:
                out.append(f"{where}: {f} expected {show(e[f])}, got {show(av)}")
    return out


def report(label: str, exp: dict[str, Any], problems: list[str]) -> bool:
    if not problems:
        print(f"ok {label}: {len(exp['metadata'])} keys, {len(exp['tensors'])} tensors")
        return True
    print(f"FAIL {label}: {len(problems)} mismatch{'es' if len(problems) != 1 else ''}")
    for p in problems[:MAX_REPORTED]:
        print(f"  {p}")
    if len(problems) > MAX_REPORTED:
        print(f"  ... and {len(problems) - MAX_REPORTED} more")
    return False


def run_brise(brise: Path, path: Path) -> tuple[Any, str | None]:
    try:
        proc = subprocess.run([str(brise), "inspect", "--json", str(path)],
                              capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"could not run {brise}: {e}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return None, f"brise exited with {proc.returncode}: {' | '.join(tail)}"
    try:
        return parse_json(proc.stdout), None
    except ValueError as e:
        return None, f"brise output is not valid JSON: {e}"


def check_files(files: list[Path], brise: Path) -> int:
    passed = failed = 0
    for path in files:
        exp = expected_json(path)
        act, err = run_brise(brise, path)
        if report(str(path), exp, [err] if err else compare(exp, act)):
            passed += 1
        else:
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------
# Self-test


def swift_style(x: Any) -> str:
    """JSON text with numbers spelled as Swift's JSONSerialization does: integral doubles without
    a fraction (1.0 -> 1), negative zero as -0."""
    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: conv(w) for k, w in v.items()}
        if isinstance(v, list):
            return [conv(w) for w in v]
        if isinstance(v, float) and v == 0 and math.copysign(1, v) < 0:
            return "__NEGZERO__"
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            return int(v)
        return v
    return json.dumps(conv(x)).replace('"__NEGZERO__"', "-0")


def metadata_where(exp: dict[str, Any], pred: Callable[[dict[str, Any]], bool]) -> int | None:
    return next((i for i, m in enumerate(exp["metadata"]) if pred(m)), None)


def perturbations(exp: dict[str, Any]) -> list[tuple[str, Callable[[dict[str, Any]], None]]]:
    """(description, mutation) pairs; only those that apply to this file."""
    md = exp["metadata"]
    out: list[tuple[str, Callable[[dict[str, Any]], None]]] = []

    def at(i: int, f: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        return lambda j: f(j["metadata"][i])

    i = metadata_where(exp, lambda m: m["type"] in ("UINT32", "INT32"))
    if i is not None:
        out.append((f"{md[i]['key']} + 1", at(i, lambda m: m.update(value=m["value"] + 1))))
    i = metadata_where(exp, lambda m: m["type"] == "UINT64" and m["value"] > 2**53)
    if i is not None:
        out.append((f"{md[i]['key']} - 1 (beyond 2^53)", at(i, lambda m: m.update(value=m["value"] - 1))))
    i = metadata_where(exp, lambda m: m["type"] == "FLOAT32" and isinstance(m["value"], float)
                       and m["value"] != 0)
    if i is not None:
        def ulp(m: dict[str, Any]) -> None:
            v = np.float32(m["value"])
            m["value"] = float(np.nextafter(v, np.float32(np.inf), dtype=np.float32))
        out.append((f"{md[i]['key']} one float32 ulp up", at(i, ulp)))
    i = metadata_where(exp, lambda m: m["type"] in ("FLOAT32", "FLOAT64") and m["value"] == 0
                       and math.copysign(1, m["value"]) < 0)
    if i is not None:
        out.append((f"{md[i]['key']} -0.0 -> 0.0", at(i, lambda m: m.update(value=0.0))))
    i = metadata_where(exp, lambda m: m["type"] == "FLOAT32" and m["value"] == "nan")
    if i is not None:
        out.append((f"{md[i]['key']} nan -> 0", at(i, lambda m: m.update(value=0.0))))
    i = metadata_where(exp, lambda m: m["type"] == "FLOAT64" and isinstance(m["value"], float)
                       and m["value"] != 0)
    if i is not None:
        def ulp64(m: dict[str, Any]) -> None:
            m["value"] = math.nextafter(m["value"], math.inf)
        out.append((f"{md[i]['key']} one float64 ulp up", at(i, ulp64)))
    i = metadata_where(exp, lambda m: m["type"] == "STRING" and m["value"] != "")
    if i is not None:
        out.append((f"{md[i]['key']} string changed", at(i, lambda m: m.update(value=m["value"] + "x"))))
    i = metadata_where(exp, lambda m: m["type"] == "BOOL")
    if i is not None:
        out.append((f"{md[i]['key']} negated", at(i, lambda m: m.update(value=not m["value"]))))
    i = metadata_where(exp, lambda m: m["type"] == "UINT32")
    if i is not None:
        out.append((f"{md[i]['key']} type UINT32 -> INT32", at(i, lambda m: m.update(type="INT32"))))
    i = metadata_where(exp, lambda m: m["type"] == "ARRAY" and m["elementType"] == "STRING" and m["count"] > 1)
    if i is not None:
        out.append((f"{md[i]['key']} head[1] changed", at(i, lambda m: m["head"].__setitem__(1, m["head"][1] + "!"))))
        out.append((f"{md[i]['key']} count + 1", at(i, lambda m: m.update(count=m["count"] + 1))))
        out.append((f"{md[i]['key']} head truncated", at(i, lambda m: m["head"].pop())))
    i = metadata_where(exp, lambda m: m["type"] == "ARRAY" and m["elementType"] in ("INT32", "FLOAT32")
                       and m["count"] > 0)
    if i is not None:
        def change_elem(m: dict[str, Any]) -> None:
            m["head"][-1] = m["head"][-1] + 1 if isinstance(m["head"][-1], (int, float)) else 0.0
        out.append((f"{md[i]['key']} last head element changed", at(i, change_elem)))
        out.append((f"{md[i]['key']} elementType changed", at(i, lambda m: m.update(
            elementType="FLOAT32" if m["elementType"] == "INT32" else "INT32"))))
    i = metadata_where(exp, lambda m: m["type"] == "ARRAY" and m["elementType"] == "ARRAY"
                       and any(h["count"] > 0 for h in m["head"]))
    if i is not None:
        def nested(m: dict[str, Any]) -> None:
            inner = next(h for h in m["head"] if h["count"] > 0)
            inner["head"][0] = inner["head"][0] + 1 if isinstance(inner["head"][0], int) else inner["head"][0] + "!"
        out.append((f"{md[i]['key']} nested element changed", at(i, nested)))
    if len(md) > 1:
        out.append(("first two metadata keys swapped", lambda j: j["metadata"].__setitem__(
            slice(0, 2), [j["metadata"][1], j["metadata"][0]])))
        out.append(("last metadata key dropped", lambda j: j["metadata"].pop()))
    out.append(("dataOffset + 32", lambda j: j.update(dataOffset=j["dataOffset"] + 32)))
    out.append(("version changed", lambda j: j.update(version=j["version"] + 1)))
    if exp["tensors"]:
        last = len(exp["tensors"]) - 1
        out.append(("last tensor offset + alignment", lambda j: j["tensors"][last].update(
            offset=j["tensors"][last]["offset"] + j["alignment"])))
        out.append(("first tensor shape reversed + [1]", lambda j: j["tensors"][0].update(
            shape=list(reversed(j["tensors"][0]["shape"])) + [1])))
        out.append(("first tensor type name changed", lambda j: j["tensors"][0].update(
            type="F16" if j["tensors"][0]["type"] != "F16" else "F32")))
        out.append(("last tensor renamed", lambda j: j["tensors"][last].update(
            name=j["tensors"][last]["name"] + ".x")))
        out.append(("last tensor dropped", lambda j: j["tensors"].pop()))
    return out


def self_test(files: list[Path]) -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        # A fake brise that prints a prepared JSON file, to exercise the subprocess path too.
        fake = Path(tmp) / "brise"
        fake.write_text('#!/bin/sh\n[ "$1" = inspect ] && [ "$2" = --json ] || exit 64\n'
                        f'exec cat "{tmp}/$(basename "$3").json"\n')
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        for path in files:
            exp = expected_json(path)
            # Extra summary fields Brise may add must be ignored.
            fake_json = dict(exp, architecture="x", tensorCount=len(exp["tensors"]))
            (Path(tmp) / (path.name + ".json")).write_text(json.dumps(fake_json))
            act, err = run_brise(fake, path)
            problems = [err] if err else compare(exp, act)
            problems += [f"swift-style numbers: {p}" for p in compare(exp, parse_json(swift_style(fake_json)))]
            if problems:
                report(f"self-test {path} (unmodified)", exp, problems)
                failures += 1
                continue
            missed = []
            perts = perturbations(exp)
            for desc, mutate in perts:
                mutated = copy.deepcopy(fake_json)
                mutate(mutated)
                if not compare(exp, parse_json(json.dumps(mutated))):
                    missed.append(desc)
            if missed:
                failures += 1
                print(f"FAIL self-test {path}: perturbations not detected: {'; '.join(missed)}")
            else:
                print(f"ok self-test {path}: passes unmodified (via fake brise, and Swift-style numbers), "
                      f"{len(perts)}/{len(perts)} perturbations detected")
    print(f"{len(files) - failures} passed, {failures} failed")
    return 1 if failures else 0


def default_self_test_files() -> list[Path]:
    models = Path(subprocess.run([str(REPO / "scripts" / "models-dir")], capture_output=True, text=True, check=True).stdout.strip())
    files = [models / "gemma-3-270m-q4_k_m.gguf", models / "qwen2.5-coder-0.5b-instruct-q4.gguf"]
    files = [f for f in files if f.exists()]
    files += sorted((REPO / "Fixtures" / "gguf").glob("*.gguf"))
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, metavar="FILE")
    ap.add_argument("--brise", type=Path, default=REPO / ".build" / "debug" / "brise",
                    help="brise binary (default: .build/debug/brise in the repository)")
    ap.add_argument("--self-test", action="store_true",
                    help="test the comparison logic against JSON built from gguf-py")
    ap.add_argument("--write-expected", type=Path, metavar="DIR",
                    help="write gguf-py's reading of each FILE to DIR/<file name>.json (the committed "
                         "reference the Swift real-model test compares brise against) and exit")
    args = ap.parse_args()
    if args.write_expected:
        args.write_expected.mkdir(parents=True, exist_ok=True)
        for f in args.files:
            exp = expected_json(f)
            exp["sha256"] = hashlib.sha256(f.read_bytes()).hexdigest()
            out = args.write_expected / (f.name + ".json")
            out.write_text(json.dumps(exp, indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {out}")
        return 0
    if args.self_test:
        files = args.files or default_self_test_files()
        if not files:
            print("self-test: no GGUF files found", file=sys.stderr)
            return 2
        return self_test(files)
    if not args.files:
        ap.error("no FILE given")
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if not (args.brise.is_file() and os.access(args.brise, os.X_OK)):
        print(f"error: brise binary not found at {args.brise} (build it, or pass --brise PATH)",
              file=sys.stderr)
        return 2
    return check_files(args.files, args.brise)


if __name__ == "__main__":
    sys.exit(main())
