#!/usr/bin/env python3
"""Constrained vs unconstrained decoding speed through a running brised, 1 and N streams at once.

For each round, N concurrent Chat calls (same prompt, greedy, max_tokens) are sent without and then
with a response_format JSON Schema (Fixtures/schemas/bench/order.json by default); the decode rate is
the generated tokens over the generation seconds the daemon reports (usage), summed over the streams
for the aggregate. Alternates the two kinds, prints each round and the median ratio constrained /
unconstrained (the goal of issue #17: >= 0.9).

  scripts/bench-constrained.py --socket PATH [--streams 1 --streams 4] [--rounds 3]
"""
import argparse, json, os, socket, statistics, threading, time


def chat(path, messages, options):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(json.dumps({"method": "io.brise.Inference.Chat", "parameters": {"messages": messages, "options": options}, "more": True}).encode() + b"\0")
    buf = b""
    while True:
        data = s.recv(65536)
        if not data:
            raise SystemExit("connection closed")
        buf += data
        while b"\0" in buf:
            msg, buf = buf.split(b"\0", 1)
            r = json.loads(msg)
            if "error" in r:
                raise SystemExit(f"error: {r}")
            if not r.get("continues"):
                return r["parameters"]["usage"]


def round_(path, n, schema, max_tokens):
    results = [None] * n
    prompt = [{"role": "user", "content": "Write an example order for two items shipped to Springfield, as JSON."}]
    options = {"temperature": 0, "max_tokens": max_tokens}
    if schema is not None:
        options["response_format"] = {"type": "json_schema", "json_schema": {"name": "order", "schema": schema}}

    def run(i):
        results[i] = chat(path, prompt, options)
    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    tokens = sum(r["generated_tokens"] for r in results)
    per_stream = statistics.median(r["generated_tokens"] / r["generation_seconds"] for r in results)
    return tokens, per_stream, tokens / wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", default=os.environ.get("BRISE_SOCKET"))
    ap.add_argument("--streams", type=int, action="append")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--schema", default="Fixtures/schemas/bench/order.json")
    args = ap.parse_args()
    schema = json.load(open(args.schema))["schema"]
    for n in args.streams or [1, 4]:
        ratios = []
        for r in range(args.rounds):
            free = round_(args.socket, n, None, args.max_tokens)
            bound = round_(args.socket, n, schema, args.max_tokens)
            ratio = bound[1] / free[1]
            ratios.append(ratio)
            print(f"{n} stream(s), round {r + 1}: unconstrained {free[1]:.1f} tok/s per stream ({free[0]} tokens), "
                  f"constrained {bound[1]:.1f} tok/s per stream ({bound[0]} tokens); ratio {ratio:.2f}")
        print(f"{n} stream(s): median ratio constrained/unconstrained {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
