#!/usr/bin/env python3
"""A long prompt joining running streams, through the real daemon: how long the streams pause, and
how long the joiner waits for its first token, each compared with the prompt's prefill alone.

    python3 scripts/bench-join-latency.py [MODEL.gguf] [--prompt-tokens 1500] [--streams 3] [-t 2]

Without MODEL, the Ministral 3 3B-shaped Q4_K_M fixture (scripts/make-model-fixtures.py --full-3b).
Starts `.build/release/brised --parallel streams+1` on a socket of its own and speaks Varlink over the
socket directly (JSON + NUL). First the long prompt alone (its time to first token = its prefill);
then `streams` greedy streams start, and once each has produced a few tokens a different prompt of
the same length joins. Printed: the longest gap between two tokens of any running stream while the
joiner is prefilled, as a fraction of the prefill alone (the issue asks ≤ 40%), and the joiner's time
to its first token over its time alone (≤ 2.5×).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BRISE_FIXTURE_CACHE", Path.home() / ".cache" / "brise" / "fixture-models"))


class Client:
    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buffer = b""

    def call(self, method: str, parameters: dict, more: bool = False) -> None:
        message = {"method": method, "parameters": parameters}
        if more:
            message["more"] = True
        self.sock.sendall(json.dumps(message).encode() + b"\0")

    def receive(self) -> dict:
        while b"\0" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("connection closed")
            self.buffer += data
        raw, self.buffer = self.buffer.split(b"\0", 1)
        reply = json.loads(raw)
        if "error" in reply:
            raise RuntimeError(f"error: {reply}")
        return reply


def generate_timed(path: str, prompt: str, max_tokens: int, times: list[float], started: threading.Event | None = None):
    client = Client(path)
    client.call("io.brise.Inference.Generate", {"prompt": prompt, "options": {"max_tokens": max_tokens, "temperature": 0}}, more=True)
    while True:
        reply = client.receive()
        now = time.perf_counter()
        if reply.get("parameters", {}).get("text"):
            times.append(now)
            if started is not None and len(times) >= 3:
                started.set()
        if not reply.get("continues"):
            return reply["parameters"]


def text_of_tokens(path: str, words: list[str], tokens: int) -> str:
    """A text of about `tokens` tokens, by tokenizing a growing repetition of `words`."""
    client = Client(path)
    text = ""
    i = 0
    while True:
        candidate = text + " " + words[i % len(words)] + f" {i}"
        client.call("io.brise.Inference.Tokenize", {"text": candidate})
        count = len(client.receive()["parameters"]["tokens"])
        if count > tokens:
            return text
        text = candidate
        i += 1 if count < tokens - 64 else 1
        if count < tokens - 200:  # grow fast while far away
            text += " " + " ".join(words) * 3
            i += 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", type=Path)
    ap.add_argument("--prompt-tokens", type=int, default=1500)
    ap.add_argument("--streams", type=int, default=3)
    ap.add_argument("-t", "--threads", type=int, default=2)
    args = ap.parse_args()
    model = args.model or CACHE / "ministral3b-26layer-Q4_K_M.gguf"
    brised = REPO / ".build" / "release" / "brised"
    if not brised.exists():
        sys.exit("build first: swift build -c release")
    directory = tempfile.mkdtemp(prefix="brise-join-")
    path = os.path.join(directory, "brised.sock")
    daemon = subprocess.Popen([str(brised), "--model", str(model), "--socket", path, "--parallel", str(args.streams + 1),
                               "--context", str(args.prompt_tokens + 512), "--threads", str(args.threads),
                               "--log-level", "warning"], stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            if os.path.exists(path):
                break
            time.sleep(0.1)
        words_a = "alpha river stone window garden copper lantern meadow".split()
        words_b = "zebra orbit velvet harbor quartz ember tundra saffron".split()
        alone_prompt = text_of_tokens(path, words_a, args.prompt_tokens)
        join_prompt = "Summarise: " + text_of_tokens(path, words_b, args.prompt_tokens - 4)

        times: list[float] = []
        start = time.perf_counter()
        alone = generate_timed(path, alone_prompt, 2, times)
        alone_first = times[0] - start
        print(f"alone: {alone['usage']['prompt_tokens']} prompt tokens, first token after {alone_first:.2f} s")

        streams = [[] for _ in range(args.streams)]
        ready = [threading.Event() for _ in range(args.streams)]
        threads = [threading.Thread(target=generate_timed, args=(path, f"Tell me about topic {i}.", 400, streams[i], ready[i]))
                   for i in range(args.streams)]
        for t in threads:
            t.start()
        for r in ready:
            r.wait()
        joined: list[float] = []
        join_start = time.perf_counter()
        join = generate_timed(path, join_prompt, 2, joined)
        join_first = joined[0] - join_start
        gaps = []
        for s in streams:
            window = [t for t in s if join_start - 5 <= t <= joined[0] + 0.01]
            gaps += [b - a for a, b in zip(window, window[1:])]
        longest = max(gaps) if gaps else float("nan")
        for t in threads:
            t.join()
        print(f"joined {args.streams} streams: {join['usage']['prompt_tokens']} prompt tokens, first token after {join_first:.2f} s")
        print(f"longest pause of a running stream while it was prefilled: {longest:.2f} s "
              f"= {longest / alone_first:.0%} of the prefill alone (goal ≤ 40%)")
        print(f"joiner's first token: {join_first / alone_first:.2f}× its time alone (goal ≤ 2.5×)")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
