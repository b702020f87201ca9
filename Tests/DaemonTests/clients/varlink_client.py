#!/usr/bin/env python3
"""An independent Varlink client for brised's tests: the `varlink` package from PyPI, not our code.

usage: varlink_client.py SOCKET ACTION [ARG]
  info                      org.varlink.service.GetInfo
  describe INTERFACE        org.varlink.service.GetInterfaceDescription (prints the text)
  generate JSON             io.brise.Inference.Generate with more=true; JSON = {"prompt", "options"}
  chat JSON                 io.brise.Inference.Chat with more=true; JSON = {"messages", "tools", "options"}
  tokenize TEXT             io.brise.Inference.Tokenize
  status                    io.brise.Inference.GetStatus
Prints one JSON object; a Varlink error prints {"error": NAME, "parameters": {...}} and exits 3.
"""
import json
import sys

import varlink


def main() -> int:
    socket, action = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        with varlink.Client(address="unix:" + socket) as client:
            if action in ("info", "describe"):
                with client.open("org.varlink.service") as service:
                    if action == "info":
                        out = service.GetInfo()
                    else:
                        out = service.GetInterfaceDescription(arg)
            else:
                # open() fetches and parses our interface description: a parse failure fails here.
                with client.open("io.brise.Inference", namespaced=False) as brise:
                    if action == "generate":
                        request = json.loads(arg)
                        chunks = list(brise.Generate(request["prompt"], request.get("options"), _more=True))
                        out = {"chunks": chunks}
                    elif action == "chat":
                        request = json.loads(arg)
                        chunks = list(brise.Chat(request["messages"], request.get("tools"), request.get("options"), _more=True))
                        out = {"chunks": chunks}
                    elif action == "tokenize":
                        out = brise.Tokenize(arg, None, None)
                    elif action == "status":
                        out = brise.GetStatus()
                    else:
                        print(f"unknown action {action}", file=sys.stderr)
                        return 2
    except varlink.VarlinkError as error:
        print(json.dumps({"error": error.error(), "parameters": error.parameters()}))
        return 3
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
