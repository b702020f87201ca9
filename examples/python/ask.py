#!/usr/bin/env python3
"""Ask brised a question with the `varlink` package (pip install varlink) and stream the answer.

    python3 examples/python/ask.py "Why is the sky blue?"     (BRISE_SOCKET picks the daemon's socket)
"""
import os
import sys

import varlink

socket = os.environ.get("BRISE_SOCKET", "/run/brise/brised.sock")
question = " ".join(sys.argv[1:])
with varlink.Client(address="unix:" + socket) as client, client.open("io.brise.Inference") as brise:
    messages = [{"role": "user", "content": question}]
    for reply in brise.Chat(messages, None, {"temperature": 0, "max_tokens": 64}, _more=True):
        print(reply["text"], end="", flush=True)
        if "finish_reason" in reply:
            print(f"\n[{reply['finish_reason']}, {reply['usage']['generated_tokens']} tokens]")
