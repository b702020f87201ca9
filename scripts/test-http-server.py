#!/usr/bin/env python3
"""A small HTTP/1.1 file server for the model store's tests: ranges, drops, lies.

    scripts/test-http-server.py ROOT LOG

Serves the files in ROOT on 127.0.0.1 at a free port, prints the port on the first line of stdout,
and appends one JSON line per request to LOG: {"path", "range", "if_range", "status"}. It stops when
its stdin closes (or on SIGTERM), so a test that dies cannot leave it running.

The first path segment picks a behaviour for the file named by the rest:

    /files/NAME        the file, with Range support (206 + Content-Range, 416 past the end)
    /drop-once/NAME    the first request for NAME sends the headers and half the body, then closes
                       the connection; later requests behave as /files/
    /drop-always/NAME  every request drops halfway (nothing ever completes)
    /no-range/NAME     ignores Range: always 200 with the whole file
    /bad-range/NAME    answers a Range request with 206 and a Content-Range that starts at byte 0
    /flaky/NAME        the first request gets 503, later ones behave as /files/

Anything else, or a missing file, is 404.
"""
import http.server
import json
import os
import sys
import threading

ROOT, LOG = sys.argv[1], sys.argv[2]
seen = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, status):
        entry = {
            "path": self.path,
            "range": self.headers.get("Range"),
            "if_range": self.headers.get("If-Range"),
            "status": status,
        }
        with lock, open(LOG, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def simple(self, status, body=b""):
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        parts = self.path.split("?")[0].lstrip("/").split("/", 1)
        if len(parts) != 2 or "/" in parts[1] or parts[1].startswith("."):
            return self.simple(404, b"not found\n")
        mode, name = parts
        path = os.path.join(ROOT, name)
        if mode not in ("files", "drop-once", "drop-always", "no-range", "bad-range", "flaky") \
                or not os.path.isfile(path):
            return self.simple(404, b"not found\n")
        with open(path, "rb") as f:
            data = f.read()
        with lock:
            count = seen.get(self.path, 0)
            seen[self.path] = count + 1

        if mode == "flaky" and count == 0:
            return self.simple(503, b"busy\n")

        start = 0
        status = 200
        wanted = self.headers.get("Range")
        if wanted and mode != "no-range":
            spec = wanted.strip()
            if not spec.startswith("bytes=") or not spec[6:].endswith("-"):
                return self.simple(400, b"only open-ended ranges\n")
            start = int(spec[6:-1])
            if start >= len(data):
                self.record(416)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        body = data[start:]
        self.record(status)
        self.send_response(status)
        if status == 206:
            shown = 0 if mode == "bad-range" else start
            self.send_header("Content-Range", f"bytes {shown}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1-%d"' % len(data))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode == "drop-always" or (mode == "drop-once" and count == 0):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-body (as the pull does when it pauses) is not news


server = Server(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # until the test closes our stdin (or exits)
server.shutdown()
