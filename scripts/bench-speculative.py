#!/usr/bin/env python3
"""Speculative decoding: Brise with and without prompt lookup, next to llama.cpp (plain, and its
prompt-lookup decoding through llama-cpp-python), on the same file and prompts, in the same run.

Workloads (chat-formatted):
  edit   greedy: Fixtures/speculative/inventory.py (153 lines) in the prompt; the answer is the whole
         file with one method renamed (most of it is copied from the prompt).
  story  a short story, sampled (temperature 0.8, seed 42: a greedy small model loops, which prompt
         lookup would copy); it copies nothing, and speculation must not slow it down.

Each round runs every peer once, in an order that alternates between rounds. Brise runs through a
running brised (start it with the same model, e.g. `brised --model M --socket S --parallel 4
--context 4096`); its decode rate is the generated tokens over the generation seconds its usage
reports. llama.cpp's is timed from its first streamed token to its last (the prompt excluded, as for
Brise). Both keep the prompt cached between rounds. With --streams 4, four edit requests run at once
on the daemon, with and without guesses, and the aggregate rates (all tokens over the wall time)
are compared.

  scripts/bench-speculative.py --socket S --model M [--rounds 3] [--workload edit --workload story]
      [--streams 4] [--no-llama]
"""
import argparse, json, os, socket, statistics, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "Fixtures", "speculative", "inventory.py")


def workloads():
    source = open(SOURCE).read()
    return {
        "edit": ("Rename the method `needs_reorder` to `is_low` everywhere in this file. Answer with the whole file "
                 "and nothing else.\n\n```python\n" + source + "```", 1500, None),
        "story": ("Write a short story (about 300 words) about a lighthouse keeper who finds a message in a bottle "
                  "written in a language nobody on the island can read.", 400, 42),
    }


def brise_chat(path, content, max_tokens, speculative, seed=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    options = {"temperature": 0, "max_tokens": max_tokens, "speculative": speculative}
    if seed is not None:
        options.update(temperature=0.8, seed=seed)
    call = {"method": "io.brise.Inference.Chat", "parameters": {"messages": [{"role": "user", "content": content}], "options": options}}
    s.sendall(json.dumps(call).encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        data = s.recv(1 << 20)
        if not data:
            raise SystemExit("brised closed the connection")
        buf += data
    reply = json.loads(buf.split(b"\0", 1)[0])
    if "error" in reply:
        raise SystemExit(f"brised: {reply}")
    p = reply["parameters"]
    u = p["usage"]
    return {"text": p["text"], "tokens": u["generated_tokens"], "rate": u["generated_tokens"] / u["generation_seconds"],
            "drafted": u.get("drafted_tokens"), "accepted": u.get("accepted_tokens")}


def llama_chat(llm, content, max_tokens, seed=None):
    first = last = None
    pieces = []
    sampling = dict(temperature=0.0) if seed is None else dict(temperature=0.8, seed=seed, top_k=40, top_p=0.95, min_p=0.05)
    for chunk in llm.create_chat_completion(messages=[{"role": "user", "content": content}], max_tokens=max_tokens,
                                            stream=True, **sampling):
        delta = chunk["choices"][0]["delta"].get("content")
        if delta:
            now = time.perf_counter()
            first = first or now
            last = now
            pieces.append(delta)
    text = "".join(pieces)
    tokens = len(llm.tokenize(text.encode(), add_bos=False, special=False))
    return {"text": text, "tokens": tokens, "rate": (tokens - 1) / (last - first) if last and last > first else 0.0}


def streams(path, content, max_tokens, speculative, n):
    results = [None] * n

    def run(i):
        results[i] = brise_chat(path, content, max_tokens, speculative)
    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return sum(r["tokens"] for r in results) / wall, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", default=os.environ.get("BRISE_SOCKET"))
    ap.add_argument("--model", required=True, help="the GGUF file brised serves (for llama.cpp)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workload", action="append", choices=["edit", "story"])
    ap.add_argument("--streams", type=int, default=0, help="also run N edit streams at once (0: skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-llama", action="store_true")
    args = ap.parse_args()
    loads = workloads()
    llamas = {}
    if not args.no_llama:
        from llama_cpp import Llama
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding
        common = dict(model_path=args.model, n_ctx=4096, n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
        llamas["llama.cpp"] = Llama(**common)
        # Its draft model needs the logits of every position.
        llamas["llama.cpp lookup"] = Llama(**common, logits_all=True, draft_model=LlamaPromptLookupDecoding(num_pred_tokens=10))

    for name in args.workload or ["edit", "story"]:
        content, max_tokens, seed = loads[name]
        peers = [("brise", lambda: brise_chat(args.socket, content, max_tokens, "off", seed)),
                 ("brise ngram", lambda: brise_chat(args.socket, content, max_tokens, "ngram", seed)),
                 ("brise auto", lambda: brise_chat(args.socket, content, max_tokens, "auto", seed))]
        peers += [(k, (lambda llm=v: llama_chat(llm, content, max_tokens, seed))) for k, v in llamas.items()]
        # Warm-up: every peer caches the prompt (not timed).
        for _, run in peers:
            run()
        rates = {k: [] for k, _ in peers}
        texts = {}
        for r in range(args.rounds):
            order = peers if r % 2 == 0 else list(reversed(peers))
            line = []
            for key, run in order:
                result = run()
                rates[key].append(result["rate"])
                texts.setdefault(key, result["text"])
                extra = f", {result['accepted']}/{result['drafted']} guesses right" if result.get("drafted") else ""
                line.append(f"{key} {result['rate']:.2f} tok/s ({result['tokens']} tokens{extra})")
            print(f"{name} round {r + 1}: " + "; ".join(line), flush=True)
        plain = statistics.median(rates["brise"])
        print(f"{name}: brise text identical with ngram: {texts['brise ngram'] == texts['brise']}, with auto: {texts['brise auto'] == texts['brise']}")
        for key in rates:
            print(f"{name}: {key:18s} median {statistics.median(rates[key]):6.2f} tok/s, {statistics.median(rates[key]) / plain:.2f}x brise plain")
        if llamas:
            best = max(statistics.median(rates[k]) for k in llamas)
            for key in ("brise ngram", "brise auto"):
                per_round = [rates[key][i] / max(rates[k][i] for k in llamas) for i in range(args.rounds)]
                print(f"{name}: {key} / llama.cpp best: median of rounds {statistics.median(per_round):.2f}x "
                      f"(medians {statistics.median(rates[key]) / best:.2f}x)")

    if args.streams:
        content, max_tokens, _ = loads["edit"]
        streams(args.socket, content, max_tokens, "off", args.streams)  # warm every slot
        ratios = []
        for r in range(args.rounds):
            plain, _ = streams(args.socket, content, max_tokens, "off", args.streams)
            guessed, results = streams(args.socket, content, max_tokens, "ngram", args.streams)
            ratios.append(guessed / plain)
            drafted = sum(r["drafted"] or 0 for r in results)
            accepted = sum(r["accepted"] or 0 for r in results)
            print(f"{args.streams} edit streams round {r + 1}: plain {plain:.2f} tok/s aggregate, ngram {guessed:.2f} "
                  f"({accepted}/{drafted} guesses right); ratio {guessed / plain:.2f}", flush=True)
        print(f"{args.streams} edit streams: median ratio ngram/plain {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
