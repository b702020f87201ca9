#!/bin/sh
# Ask brised a question over its HTTP socket with curl (OpenAI's chat-completions shape).
# Usage: examples/http/ask.sh "Why is the sky blue?"   (BRISE_HTTP_SOCKET picks the socket).
# Exits 2 without a question, 1 when brised cannot be reached or answers with an error.
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 QUESTION" >&2
  exit 2
fi
socket=${BRISE_HTTP_SOCKET:-/run/brise/brised-http.sock}
# JSON string escaping: backslash and quote, then control characters (newline, tab, CR, others dropped).
escaped=$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r/\\r/g' \
  | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }' | tr -d '\000-\010\013\014\016-\037')
reply=$(curl -sS --fail-with-body --max-time 120 --unix-socket "$socket" http://brised/v1/chat/completions \
  -H 'content-type: application/json' \
  -d "{\"messages\":[{\"role\":\"user\",\"content\":\"$escaped\"}],\"temperature\":0,\"max_tokens\":64}")
status=$?
echo "$reply"
[ $status -eq 0 ] || exit 1
