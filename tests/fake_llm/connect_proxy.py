#!/usr/bin/env python3
"""A recording HTTP CONNECT proxy for tests (loopback only).

    connect_proxy.py [--port 0] [--log FILE] [--auth USER:PASSWORD] [--stdin-exit]

prints its URL ("http://127.0.0.1:PORT") on the first line of stdout once it
listens. Each CONNECT host:port to a loopback address is tunnelled and
recorded; anything else is refused and recorded too, so a test sees a client
that skipped the tunnel:
  - CONNECT to a non-loopback host: 403 (tests never leave the machine);
  - a request in absolute form (GET http://host/...): 405, recorded as FORWARD;
  - with --auth, a CONNECT without the right Proxy-Authorization: 407.
Records: one line per request appended to --log ("CONNECT 127.0.0.1:8443",
"DENIED ...", "FORWARD ...", "AUTH-FAILED ..."), then "TUNNEL target LINE"
with the first line the client sent through the tunnel (plain ws:// and
http:// show their request line, TLS shows "(binary)"); GET /_tunnels on
the proxy itself answers them as JSON [{"kind","target","up","down","first"}]
(bytes relayed each way, updated as they flow).
"""
import argparse
import base64
import json
import socket
import socketserver
import sys
import threading

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class State:
    def __init__(self, log, auth):
        self.lock = threading.Lock()
        self.records = []
        self.log = log
        self.auth = auth

    def record(self, kind, target):
        rec = {"kind": kind, "target": target, "up": 0, "down": 0, "first": ""}
        with self.lock:
            self.records.append(rec)
            self._log("%s %s" % (kind, target))
        return rec

    def tunnelled(self, rec, first):
        with self.lock:
            rec["first"] = first
            self._log("TUNNEL %s %s" % (rec["target"], first or "(binary)"))

    def _log(self, line):
        if self.log:
            with open(self.log, "a") as f:
                f.write(line + "\n")


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 65536:
            return None, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1").split("\r\n"), rest


def first_line(data):
    """The request line a client sent in the tunnel, when it is plain text
    (ws:// and http:// through the tunnel; TLS is binary: "")."""
    line = data.split(b"\r\n", 1)[0]
    ok = line and all(32 <= c < 127 for c in line)
    return line.decode("ascii") if ok else ""


def pump(src, dst, rec, key, st):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if key == "up" and rec["up"] == 0:
                st.tunnelled(rec, first_line(b))
            dst.sendall(b)
            with st.lock:
                rec[key] += len(b)
    except OSError:
        pass
    finally:
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(socketserver.BaseRequestHandler):
    def reply(self, line, body=b""):
        self.request.sendall(("HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                              % (line, len(body))).encode() + body)

    def handle(self):
        st = self.server.state
        lines, rest = read_head(self.request)
        if not lines:
            return
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self.reply("400 Bad Request")
            return
        method, target, _ = parts
        headers = {}
        for h in lines[1:]:
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        if method == "GET" and target == "/_tunnels":
            with st.lock:
                body = json.dumps(st.records).encode()
            self.reply("200 OK", body)
            return
        if method != "CONNECT":
            st.record("FORWARD", target)
            self.reply("405 Method Not Allowed")
            return
        if st.auth:
            want = "Basic " + base64.b64encode(st.auth.encode()).decode()
            if headers.get("proxy-authorization", "").lower() != want.lower():
                st.record("AUTH-FAILED", target)
                self.request.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                     b"Proxy-Authenticate: Basic realm=\"test\"\r\n"
                                     b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
        host, _, port = target.rpartition(":")
        if host not in LOOPBACK or not port.isdigit():
            st.record("DENIED", target)
            self.reply("403 Forbidden")
            return
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            up.settimeout(None)
        except OSError:
            st.record("UNREACHABLE", target)
            self.reply("502 Bad Gateway")
            return
        rec = st.record("CONNECT", target)
        # One write: lws reads the proxy's answer with a single recv().
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            st.tunnelled(rec, first_line(rest))
            up.sendall(rest)
            with st.lock:
                rec["up"] += len(rest)
        t = threading.Thread(target=pump, args=(up, self.request, rec, "down", st), daemon=True)
        t.start()
        pump(self.request, up, rec, "up", st)
        t.join()
        up.close()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--auth", help="USER:PASSWORD the proxy requires (Basic)")
    ap.add_argument("--stdin-exit", action="store_true", help="exit when stdin closes")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a.log, a.auth)
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    if a.stdin_exit:
        threading.Thread(target=lambda: (sys.stdin.read(), srv.shutdown()), daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
