"""A web function (Type: HTTP) on the standard library's http.server.

SCF forwards each API Gateway request to the server on port 9000 as plain HTTP; this one
answers a few paths that show what goes through: `/` (hello), `/echo` (the request as
JSON), `/binary` (the body back, byte for byte), `/cookies` (two Set-Cookie headers),
`/slow?ms=N`, `/crash` (the process exits mid-request), `/hog?mb=N` (holds N MB),
`/big?mb=N` (an N MB body); anything else is a 404. Every answer names its instance in
`X-Instance`. It
routes on the path's last segment, so it answers the same under any route prefix (the
gateway forwards the whole path: `/py/echo` for a route `/py`).
"""
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit


INSTANCE = uuid.uuid4().hex
HELD = []


class Handler(BaseHTTPRequestHandler):
    # Keep-alive: the host reuses one connection per instance.
    protocol_version = "HTTP/1.1"
    # The head and the body are two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        # Each request's own line in its log (stderr, like http.server's default).
        sys.stderr.write("python web: %s\n" % (fmt % args))

    def send(self, status, body, content_type="text/plain; charset=utf-8", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Instance", INSTANCE)
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        url = urlsplit(self.path)
        data = self.body()
        page = "/" + url.path.rstrip("/").rsplit("/", 1)[-1]
        if page in ("/", "/py"):
            print("hello request %s" % self.headers.get("x-scf-request-id"))
            self.send(200, b"hello from a Python web function\n")
        elif page == "/echo":
            parsed = json.loads(data) if data else None
            answer = {
                "method": self.command,
                "path": url.path,
                "query": parse_qs(url.query, keep_blank_values=True),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": parsed,
            }
            self.send(200, json.dumps(answer).encode(), "application/json")
        elif page == "/binary":
            self.send(200, data, "application/octet-stream")
        elif page == "/cookies":
            self.send(200, b"cookies set\n", extra=[
                ("Set-Cookie", "a=1; Path=/"),
                ("Set-Cookie", "b=2; HttpOnly"),
                ("X-Multi", "one"),
                ("X-Multi", "two"),
            ])
        elif page == "/slow":
            ms = int(parse_qs(url.query).get("ms", ["1000"])[0])
            print("sleeping %d ms" % ms)
            time.sleep(ms / 1000)
            self.send(200, b"slept\n")
        elif page == "/hog":
            mb = int(parse_qs(url.query).get("mb", ["256"])[0])
            HELD.append(b"h" * (mb * 1024 * 1024))
            time.sleep(1)
            self.send(200, b"held\n")
        elif page == "/big":
            mb = int(parse_qs(url.query).get("mb", ["7"])[0])
            self.send(200, b"x" * (mb * 1024 * 1024))
        elif page == "/crash":
            print("crashing on purpose")
            os._exit(3)
        else:
            self.send(404, json.dumps({"error": "no such page", "path": url.path}).encode(),
                      "application/json")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "9000"))
    print("python web function listening on 0.0.0.0:%d" % port)
    HTTPServer(("0.0.0.0", port), Handler).serve_forever()
