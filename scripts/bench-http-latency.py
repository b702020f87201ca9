#!/usr/bin/env python3
"""Time to first token through brised's HTTP face against Varlink, on the same request and daemon.

Starts brised (BRISED, default .build/release/brised) on MODEL (default the committed tiny model) with
both sockets, then alternates N requests (default 50) of each: a streamed completion of one token
(Varlink Generate with "more": true; HTTP POST /v1/completions with "stream": true), timing from the
first byte sent to the first text received, over raw sockets in this one process. Prints the medians
and the HTTP face's added time.

  scripts/bench-http-latency.py [--model FILE] [--brised PATH] [-n 50]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def varlink_ttft(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    call = {"method": "io.brise.Inference.Generate", "more": True,
            "parameters": {"prompt": "The capital of France is", "options": {"temperature": 0, "max_tokens": 2}}}
    start = time.perf_counter()
    s.sendall(json.dumps(call).encode() + b"\0")
    data = b""
    while b"\0" not in data:
        data += s.recv(65536)
    elapsed = time.perf_counter() - start
    while not data.endswith(b"\0") or b'"continues"' in data.split(b"\0")[-2]:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return elapsed


def http_ttft(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    body = json.dumps({"prompt": "The capital of France is", "temperature": 0, "max_tokens": 2, "stream": True}).encode()
    request = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    start = time.perf_counter()
    s.sendall(request)
    data = b""
    while b"data: " not in data:
        data += s.recv(65536)
    elapsed = time.perf_counter() - start
    while s.recv(65536):
        pass
    s.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO / "Fixtures/models/tiny-llama-Q8_0.gguf"))
    parser.add_argument("--brised", default=str(REPO / ".build/release/brised"))
    parser.add_argument("-n", type=int, default=50)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="brise-latency-")
    varlink, http = os.path.join(directory, "v.sock"), os.path.join(directory, "h.sock")
    daemon = subprocess.Popen([args.brised, "--model", args.model, "--socket", varlink, "--http-socket", http, "--log-level", "warning"])
    try:
        for _ in range(600):
            if os.path.exists(varlink) and os.path.exists(http):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        varlink_ttft(varlink), http_ttft(http)  # warm both paths
        v, h = [], []
        for _ in range(args.n):
            v.append(varlink_ttft(varlink))
            h.append(http_ttft(http))
        mv, mh = statistics.median(v), statistics.median(h)
        print(f"time to first token, median of {args.n} (alternating): Varlink {mv * 1000:.2f} ms, HTTP {mh * 1000:.2f} ms, "
              f"HTTP adds {(mh - mv) * 1000:+.2f} ms")
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


if __name__ == "__main__":
    main()
