#!/usr/bin/env python3
"""Ask brised a question with the `varlink` package (pip install varlink) and stream the answer.

    python3 examples/python/ask.py "Why is the sky blue?"     (BRISE_SOCKET picks the daemon's socket)
    echo "Why is the sky blue?" | python3 examples/python/ask.py -

Exits 2 without a question, 1 when the daemon cannot be reached or answers with an error.
"""
import os
import sys

import varlink

socket = os.environ.get("BRISE_SOCKET", "/run/brise/brised.sock")
question = " ".join(sys.argv[1:])
if question == "-":
    question = sys.stdin.read()
if not question.strip():
    print(f"usage: {sys.argv[0]} QUESTION   (or - to read it from stdin)", file=sys.stderr)
    sys.exit(2)
try:
    with varlink.Client(address="unix:" + socket) as client, client.open("io.brise.Inference") as brise:
        messages = [{"role": "user", "content": question}]
        for reply in brise.Chat(messages, None, {"temperature": 0, "max_tokens": 64}, _more=True):
            print(reply["text"], end="", flush=True)
            if "finish_reason" in reply:
                print(f"\n[{reply['finish_reason']}, {reply['usage']['generated_tokens']} tokens]")
except varlink.VarlinkError as error:
    print(f"\n{sys.argv[0]}: brised answered {error.error()}: {error.parameters()}", file=sys.stderr)
    sys.exit(1)
except OSError as error:
    print(f"{sys.argv[0]}: cannot reach brised at {socket}: {error.strerror or error}", file=sys.stderr)
    sys.exit(1)
