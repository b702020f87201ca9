#!/usr/bin/env python3
"""JSON-Schema-Test-Suite (draft 2020-12) through `brise schema check`, and through llguidance beside it.

The suite comes from the `jsonschema` sdist on PyPI (it carries the suite under json/tests/); it is
downloaded once into ~/.cache/brise/json-schema-suite. For every case of the keywords below (and the
six formats of optional/format), each instance is serialized with json.dumps and checked:

  brise:      `brise schema check --schema FILE` (exit 0 accepted, 1 rejected, 3 schema not supported)
  llguidance: LLMatcher over the same schema, the instance's tokens (Qwen2.5 vocabulary) then EOS

Prints, per engine: schemas refused, valid instances accepted, invalid instances accepted. Exits 1 when
brise accepts an invalid instance of a schema it compiled, accepts < 99% of valid instances of the
schemas it compiled, or supports < 95% of the cases (the goals of issue #17). A second table covers
more keywords (MORE_KEYWORDS: uniqueItems, not, if/then/else, …); there too an invalid instance
accepted fails the run.
"""
import argparse, glob, json, os, subprocess, sys, tempfile, tarfile, pathlib

KEYWORDS = ["type", "properties", "required", "additionalProperties", "enum", "const", "items", "prefixItems",
            "minItems", "maxItems", "anyOf", "oneOf", "allOf", "ref", "defs", "minLength", "maxLength", "pattern",
            "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "boolean_schema"]
FORMATS = ["date", "time", "date-time", "uuid", "email", "ipv4"]
# Beyond the list (printed as a second table): never an invalid instance accepted there either.
MORE_KEYWORDS = ["uniqueItems", "not", "if-then-else", "dependentRequired", "propertyNames", "multipleOf",
                 "patternProperties", "minProperties", "maxProperties", "contains", "dependentSchemas"]


def suite_dir():
    cache = pathlib.Path(os.environ.get("BRISE_SCHEMA_SUITE_CACHE", pathlib.Path.home() / ".cache/brise/json-schema-suite"))
    found = glob.glob(str(cache / "jsonschema-*/json/tests/draft2020-12"))
    if found:
        return pathlib.Path(found[0])
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "jsonschema", "-d", str(cache)], check=True)
    archive = sorted(cache.glob("jsonschema-*.tar.gz"))[-1]
    with tarfile.open(archive) as t:
        t.extractall(cache, filter="data")
    return pathlib.Path(glob.glob(str(cache / "jsonschema-*/json/tests/draft2020-12"))[0])


def cases(root, keywords=KEYWORDS, formats=FORMATS):
    for k in keywords:
        for group in json.load(open(root / f"{k}.json")):
            yield k, group
    for f in formats:
        for group in json.load(open(root / "optional/format" / f"{f}.json")):
            yield "format:" + f, group


def run_brise(brise, groups):
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "schema.json")
        for keyword, group in groups:
            with open(path, "w") as fh:
                json.dump(group["schema"], fh)
            results = []
            for test in group["tests"]:
                text = json.dumps(test["data"])
                p = subprocess.run([brise, "schema", "check", "--schema", path], input=text.encode(), capture_output=True)
                if p.returncode == 3:
                    results = None
                    break
                if p.returncode not in (0, 1):
                    raise SystemExit(f"brise schema check failed ({p.returncode}) on {keyword}: {group['description']}: {p.stderr.decode()}")
                results.append(p.returncode == 0)
            out.append(results)
    return out


def run_llguidance(groups, model):
    try:
        import llama_cpp, llguidance, llguidance.llamacpp
    except ImportError as e:
        print(f"llguidance side skipped: {e}")
        return None
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # llama.cpp logs the whole vocabulary load
    try:
        m = llama_cpp.llama_model_load_from_file(model.encode(), params)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
    vocab = llama_cpp.llama_model_get_vocab(m)
    tok = llguidance.llamacpp.lltokenizer_from_vocab(vocab)
    out = []
    for keyword, group in groups:
        try:
            grammar = llguidance.LLMatcher.grammar_from_json_schema(group["schema"])
            is_error, _ = llguidance.LLMatcher.validate_grammar_with_warnings(grammar, tok)
            ok = not is_error
        except Exception:
            ok = False
        if not ok:
            out.append(None)
            continue
        results = []
        for test in group["tests"]:
            matcher = llguidance.LLMatcher(tok, grammar)
            if matcher.is_error():
                results = None
                break
            tokens = tok.tokenize_str(json.dumps(test["data"]))
            accepted = matcher.consume_tokens(tokens) and matcher.is_accepting()
            results.append(bool(accepted))
        out.append(results)
    return out


def summarize(name, groups, results):
    schemas = len(groups)
    refused = sum(1 for r in results if r is None)
    total = valid_total = valid_ok = invalid_accepted = unsupported_cases = 0
    bad = []
    for (keyword, group), r in zip(groups, results):
        for i, test in enumerate(group["tests"]):
            total += 1
            if r is None:
                unsupported_cases += 1
                continue
            if test["valid"]:
                valid_total += 1
                valid_ok += r[i]
                if not r[i]:
                    bad.append(f"  rejects valid: {keyword}: {group['description']} / {test['description']}")
            elif r[i]:
                invalid_accepted += 1
                bad.append(f"  ACCEPTS INVALID: {keyword}: {group['description']} / {test['description']}")
    supported = 100.0 * (total - unsupported_cases) / total
    valid_pct = 100.0 * valid_ok / max(1, valid_total)
    print(f"{name:11} schemas refused {refused:3}/{schemas}  cases supported {total - unsupported_cases}/{total} ({supported:.1f}%)  "
          f"valid accepted {valid_ok}/{valid_total} ({valid_pct:.1f}%)  invalid accepted {invalid_accepted}")
    return supported, valid_pct, invalid_accepted, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brise", default=".build/debug/brise")
    ap.add_argument("--model", default=None, help="GGUF whose vocabulary llguidance uses (default: the Qwen2.5 model)")
    ap.add_argument("--no-llguidance", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    root = suite_dir()
    groups = list(cases(root))
    brise = run_brise(args.brise, groups)
    supported, valid_pct, invalid_accepted, bad = summarize("brise", groups, brise)
    ll = None
    if not args.no_llguidance:
        model = args.model or os.path.join(subprocess.run(["scripts/models-dir"], capture_output=True, text=True).stdout.strip(),
                                           "qwen2.5-coder-0.5b-instruct-q4.gguf")
        ll = run_llguidance(groups, model)
        if ll is not None:
            _, _, _, llbad = summarize("llguidance", groups, ll)
            if args.verbose:
                print("\n".join(llbad))
    for (keyword, group), r in zip(groups, brise):
        if r is None and args.verbose:
            print(f"  refused: {keyword}: {group['description']}")
    if args.verbose or invalid_accepted:
        print("\n".join(bad))
    more = list(cases(root, MORE_KEYWORDS, []))
    print(f"more keywords ({', '.join(MORE_KEYWORDS)}):")
    brise_more = run_brise(args.brise, more)
    _, _, more_invalid, more_bad = summarize("brise", more, brise_more)
    if not args.no_llguidance and ll is not None:
        summarize("llguidance", more, run_llguidance(more, model))
    for (keyword, group), r in zip(more, brise_more):
        if r is None and args.verbose:
            print(f"  refused: {keyword}: {group['description']}")
    if args.verbose or more_invalid:
        print("\n".join(more_bad))
    failed = invalid_accepted > 0 or valid_pct < 99.0 or supported < 95.0 or more_invalid > 0
    print("schema suite: " + ("FAILED" if failed else "ok"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
