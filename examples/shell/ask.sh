#!/bin/sh
# Ask brised a question with socat: one Varlink call (a JSON object ending in a NUL byte) in, one
# reply out. Usage: examples/shell/ask.sh "Why is the sky blue?"   (BRISE_SOCKET picks the socket)
printf '{"method":"io.brise.Inference.Chat","parameters":{"messages":[{"role":"user","content":"%s"}],"options":{"temperature":0,"max_tokens":64}}}\0' "$1" \
  | socat -t 120 - "UNIX-CONNECT:${BRISE_SOCKET:-/run/brise/brised.sock}" | tr -d '\0'; echo
