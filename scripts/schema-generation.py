#!/usr/bin/env python3
"""Structured output through a running brised, on real-world JSON Schemas (issue #17's generation goal).

For every fixture of Fixtures/schemas/real-world/*.json (sorted by name; each is {"description",
"prompt", "schema"}), one Varlink call io.brise.Inference.Chat over brised's Unix socket: the prompt
as the only user message, greedy (temperature 0), max_tokens 400, and the schema as a strict
json_schema response_format. The streamed text is parsed with json.loads and validated with the
`jsonschema` package (Draft202012Validator, format checking on).

Per schema one line: name, status, finish reason, generated tokens, seconds. Statuses:

  ok           finished, parses, validates
  refused      InvalidParameter (the daemon cannot enforce the schema; its reason is printed)
  INVALID      parses but does not validate
  unparsable   finished with "stop" but is not JSON
  truncated    cut by max_tokens ("length") before the JSON was complete: counts against the
               stop rate, not as unparsable (a cut answer cannot be whole JSON)
  error        any other Varlink error, a closed connection or the timeout

Exits 1 when more than 5% of the schemas are refused, an answer is INVALID or unparsable, a request
failed (error), or fewer than 90% of the answers finished with "stop" within max_tokens.

  scripts/schema-generation.py [--socket PATH] [--limit N] [--only SUBSTRING] [--json-out FILE]

The socket defaults to $BRISE_SOCKET. Needs only Python 3.11 and `jsonschema` (e.g.
~/.cache/brise/venv/bin/python). Without the optional rfc3339-validator package jsonschema does not
check "date-time" and "time"; this script then checks them itself exactly as that package would.
"""
import argparse
import calendar
import json
import os
import re
import socket
import sys
import time
from pathlib import Path

try:
    import jsonschema
except ImportError:
    sys.exit("schema-generation: needs the jsonschema package (e.g. run with ~/.cache/brise/venv/bin/python)")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures" / "schemas" / "real-world"
METHOD = "io.brise.Inference.Chat"
REFUSAL = "io.brise.Inference.InvalidParameter"
MAX_REFUSED_PERCENT = 5.0
MIN_STOP_PERCENT = 90.0

# RFC 3339 as rfc3339-validator checks it (what jsonschema uses for "date-time" and "time").
_RFC3339 = re.compile(
    r"^(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0123]):(?:[0-5]\d):(?:[0-5]\d)(?:\.\d+)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$", re.IGNORECASE | re.ASCII)


def _rfc3339(text):
    m = _RFC3339.match(text)
    if m is None:
        return False
    year, month, day = map(int, m.groups())
    return year != 0 and 1 <= day <= calendar.monthrange(year, month)[1]


def format_checker():
    """jsonschema's draft 2020-12 format checker, with "date-time" and "time" when it lacks them.

    Returns the checker and the names of the formats this script added."""
    base = jsonschema.Draft202012Validator.FORMAT_CHECKER
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    added = []
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(lambda v: not isinstance(v, str) or _rfc3339(v.upper()))
        added.append("date-time")
    if "time" not in checker.checkers:
        checker.checks("time")(lambda v: not isinstance(v, str) or _rfc3339("1970-01-01T" + v.upper()))
        added.append("time")
    return checker, added


def formats_in(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        for v in node.values():
            formats_in(v, found)
    elif isinstance(node, list):
        for v in node:
            formats_in(v, found)
    return found


class CallFailed(Exception):
    pass


def chat(path, prompt, schema, max_tokens, timeout):
    """One streamed Chat call. Returns (text, last reply's parameters) or raises CallFailed; a
    Varlink error reply is returned as ("error", name, parameters)."""
    call = {"method": METHOD, "more": True,
            "parameters": {"messages": [{"role": "user", "content": prompt}],
                           "options": {"temperature": 0, "max_tokens": max_tokens,
                                       "response_format": {"type": "json_schema",
                                                           "json_schema": {"name": "answer", "schema": schema, "strict": True}}}}}
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps(call).encode() + b"\0")
        buffer = b""
        pieces = []
        while True:
            while b"\0" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallFailed(f"no final reply within {timeout:g} s")
                s.settimeout(left)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    raise CallFailed(f"no final reply within {timeout:g} s") from None
                if not chunk:
                    raise CallFailed("the daemon closed the connection before the final reply")
                buffer += chunk
            raw, buffer = buffer.split(b"\0", 1)
            try:
                reply = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise CallFailed(f"malformed reply: {e}: {raw[:200]!r}") from None
            if not isinstance(reply, dict):
                raise CallFailed(f"malformed reply: {raw[:200]!r}")
            if "error" in reply:
                return ("error", reply["error"], reply.get("parameters") or {})
            parameters = reply.get("parameters") or {}
            pieces.append(parameters.get("text") or "")
            if not reply.get("continues"):
                return ("reply", "".join(pieces), parameters)
    except OSError as e:
        raise CallFailed(f"socket: {e}") from None
    finally:
        s.close()


def first_error(validator, instance):
    best = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if best is None:
        return None
    where = "/" + "/".join(str(p) for p in best.absolute_path)
    return f"at {where}: {best.message}"[:300]


def run_one(path, name, fixture, args, checker):
    schema = fixture["schema"]
    result = {"name": name, "status": None, "finish_reason": None, "tokens": None, "seconds": None,
              "text": None, "reason": None}
    start = time.monotonic()
    try:
        outcome = chat(path, fixture["prompt"], schema, args.max_tokens, args.timeout)
    except CallFailed as e:
        result.update(status="error", reason=str(e), seconds=time.monotonic() - start)
        return result
    result["seconds"] = time.monotonic() - start
    if outcome[0] == "error":
        _, error, parameters = outcome
        if error == REFUSAL:
            reason = f"{parameters.get('parameter', '?')}: {parameters.get('reason', '?')}"
            result.update(status="refused", reason=reason)
        else:
            result.update(status="error", reason=f"{error} {json.dumps(parameters)}")
        return result
    _, text, last = outcome
    usage = last.get("usage") or {}
    result.update(text=text, finish_reason=last.get("finish_reason"), tokens=usage.get("generated_tokens"))
    try:
        instance = json.loads(text)
    except json.JSONDecodeError as e:
        if result["finish_reason"] == "length":
            result.update(status="truncated", reason=f"cut after {result['tokens']} tokens: {e}")
        else:
            result.update(status="unparsable", reason=str(e))
        return result
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    problem = first_error(validator, instance)
    if problem is not None:
        result.update(status="INVALID", reason=problem)
    else:
        result["status"] = "ok"
    return result


def percent(part, whole):
    return 100.0 * part / whole if whole else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--socket", default=os.environ.get("BRISE_SOCKET"), help="brised's Varlink socket (default $BRISE_SOCKET)")
    ap.add_argument("--fixtures", type=Path, default=FIXTURES, help=f"directory of fixtures (default {FIXTURES.relative_to(REPO)})")
    ap.add_argument("--limit", type=int, default=None, help="only the first N fixtures (after --only)")
    ap.add_argument("--only", default=None, help="only fixtures whose file name contains SUBSTRING")
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per request (default 300)")
    ap.add_argument("--json-out", type=Path, default=None, help="write the per-schema results (with the answers) to FILE")
    ap.add_argument("--verbose", action="store_true", help="print the text of every answer that is not ok")
    args = ap.parse_args()
    if not args.socket:
        ap.error("no socket: pass --socket PATH or set BRISE_SOCKET")

    files = sorted(args.fixtures.glob("*.json"))
    if args.only:
        files = [f for f in files if args.only in f.name]
    if args.limit is not None:
        files = files[:args.limit]
    if not files:
        sys.exit(f"schema-generation: no fixtures in {args.fixtures}" + (f" matching {args.only!r}" if args.only else ""))
    fixtures = [(f.stem, json.loads(f.read_text())) for f in files]
    for name, fixture in fixtures:
        jsonschema.Draft202012Validator.check_schema(fixture["schema"])

    checker, added = format_checker()
    used = set()
    for _, fixture in fixtures:
        formats_in(fixture["schema"], used)
    if added:
        print(f"note: jsonschema lacks {', '.join(added)} (rfc3339-validator is not installed); checked by this script instead")
    unchecked = sorted(used - set(checker.checkers))
    if unchecked:
        print(f"note: formats not checked by this jsonschema install: {', '.join(unchecked)}")

    results = []
    started = time.monotonic()
    width = max(len(name) for name, _ in fixtures)
    for name, fixture in fixtures:
        r = run_one(args.socket, name, fixture, args, checker)
        results.append(r)
        tokens = "-" if r["tokens"] is None else str(r["tokens"])
        line = f"{name:{width}}  {r['status']:10}  {r['finish_reason'] or '-':6}  {tokens:>4} tok  {r['seconds']:6.1f} s"
        if r["reason"]:
            line += f"  {r['reason']}"
        print(line, flush=True)
        if args.verbose and r["status"] not in ("ok", "refused") and r["text"] is not None:
            print("    " + r["text"].replace("\n", "\n    "))
    total_seconds = time.monotonic() - started

    n = len(results)
    count = lambda status: sum(1 for r in results if r["status"] == status)
    refused, errors = count("refused"), count("error")
    answered = [r for r in results if r["status"] not in ("refused", "error")]
    valid = count("ok")
    invalid, unparsable, truncated = count("INVALID"), count("unparsable"), count("truncated")
    stopped = sum(1 for r in answered if r["finish_reason"] == "stop")
    refused_pct, stop_pct = percent(refused, n), percent(stopped, len(answered))

    print()
    print(f"schemas      {n}")
    print(f"refused      {refused} ({refused_pct:.1f}%, at most {MAX_REFUSED_PERCENT:g}%)")
    if errors:
        print(f"errors       {errors}")
    print(f"answered     {len(answered)}")
    print(f"valid        {valid} of the {len(answered) - truncated} finished answers"
          f" (INVALID {invalid}, unparsable {unparsable}; truncated by max_tokens {truncated})")
    print(f"stop within {args.max_tokens} tokens  {stopped}/{len(answered)} ({stop_pct:.1f}%, at least {MIN_STOP_PERCENT:g}%)")
    generated = [r["tokens"] for r in answered if r["tokens"] is not None]
    if generated:
        print(f"tokens       mean {sum(generated) / len(generated):.0f}, max {max(generated)}")
    print(f"total time   {total_seconds:.1f} s")

    failures = []
    if refused_pct > MAX_REFUSED_PERCENT:
        failures.append(f"{refused_pct:.1f}% refused")
    if invalid or unparsable:
        failures.append(f"{invalid} invalid and {unparsable} unparsable answers")
    if errors:
        failures.append(f"{errors} failed requests")
    if answered and stop_pct < MIN_STOP_PERCENT:
        failures.append(f"only {stop_pct:.1f}% stopped within {args.max_tokens} tokens")
    if not answered:
        failures.append("no answers")

    if args.json_out:
        args.json_out.write_text(json.dumps({
            "socket": args.socket, "max_tokens": args.max_tokens, "total_seconds": total_seconds,
            "summary": {"schemas": n, "refused": refused, "errors": errors, "answered": len(answered), "valid": valid,
                        "invalid": invalid, "unparsable": unparsable, "truncated": truncated, "stopped": stopped,
                        "refused_percent": refused_pct, "stop_percent": stop_pct},
            "results": results}, indent=2, ensure_ascii=False) + "\n")

    print("schema generation: " + ("FAILED (" + "; ".join(failures) + ")" if failures else "ok"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
