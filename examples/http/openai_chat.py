#!/usr/bin/env python3
"""Ask brised a question through its HTTP socket with the official openai SDK (pip install openai).

Usage: examples/http/openai_chat.py "Why is the sky blue?"
BRISE_HTTP_SOCKET picks the socket (default /run/brise/brised-http.sock, brised-http.socket's).
Streams the answer; exits 2 without a question, 1 when brised cannot be reached or refuses.
"""
import os
import sys

import openai

try:  # newer openai releases ship their own httpx fork
    import httpx2 as httpx
except ImportError:
    import httpx

if len(sys.argv) != 2 or not sys.argv[1].strip():
    print(f"usage: {sys.argv[0]} QUESTION", file=sys.stderr)
    sys.exit(2)
socket = os.environ.get("BRISE_HTTP_SOCKET", "/run/brise/brised-http.sock")
# The host in base_url is not used: every request goes through the Unix socket. No API key is
# checked on the socket (brised checks the peer's credentials); the SDK wants one, any will do.
client = openai.OpenAI(
    base_url="http://brised/v1", api_key="unused", max_retries=0,
    http_client=httpx.Client(transport=httpx.HTTPTransport(uds=socket)))
try:
    stream = client.chat.completions.create(
        model="brised", messages=[{"role": "user", "content": sys.argv[1]}], temperature=0, max_tokens=64, stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()
except openai.APIConnectionError:
    print(f"{sys.argv[0]}: cannot reach brised at {socket} (is http_socket or brised-http.socket on?)", file=sys.stderr)
    sys.exit(1)
except openai.APIStatusError as error:
    print(f"{sys.argv[0]}: brised refused: {error.status_code} {error.message}", file=sys.stderr)
    sys.exit(1)
