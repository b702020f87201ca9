#!/bin/sh
# Ask brised a question with socat: one Varlink call (a JSON object ending in a NUL byte) in, one
# reply out. Usage: examples/shell/ask.sh "Why is the sky blue?"   (- reads the question from stdin;
# BRISE_SOCKET picks the socket). Exits 2 without a question, 1 when the daemon answers with an error
# or cannot be reached.
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 QUESTION   (or - to read it from stdin)" >&2
  exit 2
fi
question=$1
[ "$question" = "-" ] && question=$(cat)
# JSON string escaping: backslash and quote, then control characters (newline, tab, CR, others dropped).
escaped=$(printf '%s' "$question" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r/\\r/g' \
  | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }' | tr -d '\000-\010\013\014\016-\037')
socket=${BRISE_SOCKET:-/run/brise/brised.sock}
reply=$(printf '{"method":"io.brise.Inference.Chat","parameters":{"messages":[{"role":"user","content":"%s"}],"options":{"temperature":0,"max_tokens":64}}}\0' "$escaped" \
  | socat -t 120 - "UNIX-CONNECT:$socket" | tr -d '\0') || { echo "$0: cannot reach brised at $socket" >&2; exit 1; }
if [ -z "$reply" ]; then
  echo "$0: no answer from brised at $socket" >&2
  exit 1
fi
echo "$reply"
case $reply in
  *'"error":'*) exit 1 ;;
esac
