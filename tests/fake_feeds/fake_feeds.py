#!/usr/bin/env python3
"""Fake news feed servers for tests (loopback only, Python standard library).

    fake_feeds.py --dir DIR [--port 0]

serves the files of DIR as feeds (GET /NAME serves DIR/NAME) and prints its
base URL ("http://127.0.0.1:PORT") on the first line of stdout once it
listens. What a real feed server does, kept here:
  - an ETag (the file's SHA-256) and a Last-Modified (its mtime); a request
    with a matching If-None-Match or an If-Modified-Since not older is 304
    with no body;
  - Content-Type application/rss+xml (atom+xml for *.atom).
Scripted behaviour per path (POST /_script {"path": "/x.xml", "status": 429,
"headers": {"Retry-After": "120"}, "times": 2}): that answer instead of the
file, `times` times (default forever until /_reset); a path without a query
stands for it with any query. *.json files are application/json (CryptoPanic's
answers). Special paths:
  - /big.xml: a valid RSS start followed by 50 MB of one description,
    streamed (never held in memory here either); its log entry says how
    many bytes went out before the client stopped reading ("sent");
  - /garbage.xml: random bytes.
A file path may carry ?delay=MS: it is answered that late.
GET /_log: every request {"path", "inm" (If-None-Match), "ims"
(If-Modified-Since), "ua", "status", "t"}.
"""
import argparse
import email.utils
import hashlib
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class State:
    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()
        self.log = []
        self.scripts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-feeds/1.0"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body=b"", headers=None, ctype="application/rss+xml"):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304 and body:
            self.wfile.write(body)

    def _record(self, status):
        st = self.server.state
        with st.lock:
            st.log.append({"path": self.path, "inm": self.headers.get("If-None-Match"),
                           "ims": self.headers.get("If-Modified-Since"),
                           "ua": self.headers.get("User-Agent"), "status": status,
                           "t": time.time()})

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        if self.path == "/_script":
            with st.lock:
                st.scripts[body["path"]] = dict(body, left=body.get("times", -1))
            self._send(200, b"{}", ctype="application/json")
        elif self.path == "/_reset":
            with st.lock:
                st.scripts.clear()
                st.log.clear()
            self._send(200, b"{}", ctype="application/json")
        else:
            self._send(404, b"{}", ctype="application/json")

    def do_GET(self):
        st = self.server.state
        if self.path == "/_log":
            with st.lock:
                body = json.dumps(st.log).encode()
            self._send(200, body, ctype="application/json")
            return
        with st.lock:
            sc = st.scripts.get(self.path) or st.scripts.get(self.path.split("?")[0])
            if sc and sc["left"] != 0:
                sc["left"] -= 1
            else:
                sc = None
        if sc:
            self._record(sc.get("status", 200))
            self._send(sc.get("status", 200), sc.get("body", "").encode(), sc.get("headers"))
            return
        if self.path == "/big.xml":
            head = b"<rss version='2.0'><channel><item><title>Big</title><description>"
            size = 50 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(head) + size))
            self.end_headers()
            sent = 0
            try:
                self.wfile.write(head)
                chunk = b"x" * 65536
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading at its limit
            with st.lock:
                st.log.append({"path": self.path, "status": 200, "sent": sent, "t": time.time()})
            return
        if self.path == "/garbage.xml":
            self._record(200)
            self._send(200, os.urandom(4096))
            return
        name = os.path.basename(self.path.split("?")[0])
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        for kv in query.split("&"):
            if kv.startswith("delay="):  # answer this late (a slow feed)
                time.sleep(int(kv[6:]) / 1000.0)
        path = os.path.join(st.dir, name)
        if not name or not os.path.isfile(path):
            self._record(404)
            self._send(404, b"not found", ctype="text/plain")
            return
        data = open(path, "rb").read()
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        mtime = int(os.path.getmtime(path))
        lm = email.utils.formatdate(mtime, usegmt=True)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = inm == etag if inm else False
        if not inm and ims:
            t = email.utils.parsedate_to_datetime(ims)
            fresh = t is not None and t.timestamp() >= mtime
        if fresh:
            self._record(304)
            self._send(304, headers={"ETag": etag, "Last-Modified": lm})
            return
        self._record(200)
        ctype = ("application/atom+xml" if name.endswith(".atom") else
                 "application/json" if name.endswith(".json") else "application/rss+xml")
        self._send(200, data, {"ETag": etag, "Last-Modified": lm}, ctype)


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a.dir)
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
