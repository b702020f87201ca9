#!/usr/bin/env python3
"""How an image request affects another app's stream on one brised: the longest gap between the
stream's tokens while the image is encoded, and the image request's time to its first token.

Usage (brised running with --mmproj, e.g. the 3B-shaped encoder from
`make-vision-fixtures.py --only wide` beside its text model, --parallel 2):
  python3 scripts/bench-image-interleave.py SOCKET [--image PNG] [--tokens 200]

App A asks Generate for --tokens tokens (greedy, raw prompt); once A's first tokens have come, app B
sends a Chat with the image. Prints A's median and longest inter-token gap before B arrives and while
B's image is encoded (until B's first token), and B's time to first token. Plain sockets, no client
library: Varlink messages are JSON objects ended by a NUL byte.
"""
from __future__ import annotations

import argparse
import base64
import json
import socket
import statistics
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def call(path: str, method: str, parameters: dict):
    """Yields (time, reply) for each streamed reply of one call."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(json.dumps({"method": method, "parameters": parameters, "more": True}).encode() + b"\0")
    buffer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while b"\0" in buffer:
            message, buffer = buffer.split(b"\0", 1)
            reply = json.loads(message)
            yield time.monotonic(), reply
            if "error" in reply or not reply.get("continues"):
                s.close()
                return


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("socket")
    ap.add_argument("--image", type=Path, default=REPO / "Fixtures/vision/images/512x512.png")
    ap.add_argument("--tokens", type=int, default=200)
    args = ap.parse_args()

    stamps: list[float] = []
    b_sent: list[float] = []
    b_first: list[float] = []

    def app_b() -> None:
        data = base64.b64encode(args.image.read_bytes()).decode()
        messages = [{"role": "user", "content": "", "chunks": [{"type": "image", "data": data}, {"type": "text", "text": "What is in the picture?"}]}]
        b_sent.append(time.monotonic())
        for at, reply in call(args.socket, "io.brise.Inference.Chat", {"messages": messages, "options": {"max_tokens": 8, "temperature": 0}}):
            if "error" in reply:
                raise SystemExit(f"image request failed: {reply}")
            if reply["parameters"].get("text") and not b_first:
                b_first.append(at)

    b = threading.Thread(target=app_b)
    options = {"max_tokens": args.tokens, "temperature": 0}
    for at, reply in call(args.socket, "io.brise.Inference.Generate", {"prompt": "Once upon a time", "options": options}):
        if "error" in reply:
            raise SystemExit(f"stream failed: {reply}")
        if reply["parameters"].get("text"):
            stamps.append(at)
        if len(stamps) == 10 and not b.is_alive() and not b_sent:
            b.start()
    b.join()
    if not b_sent or not b_first:
        raise SystemExit("the image request did not answer while the stream ran")
    gaps = [(stamps[i - 1], stamps[i] - stamps[i - 1]) for i in range(1, len(stamps))]
    before = [g for t, g in gaps if t < b_sent[0]]
    during = [g for t, g in gaps if b_sent[0] <= t < b_first[0]]
    # A gap that spans the whole encode starts before B's first token and ends after it.
    spanning = [g for t, g in gaps if t < b_first[0] <= t + g]
    during += spanning
    print(f"stream A: {len(stamps)} pieces; gaps before B: median {statistics.median(before) * 1000:.0f} ms, "
          f"longest {max(before) * 1000:.0f} ms")
    print(f"while B's image encoded ({(b_first[0] - b_sent[0]):.2f} s to B's first token): "
          f"{len(during)} gaps, longest {max(during) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
