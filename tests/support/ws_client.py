#!/usr/bin/env python3
"""A WebSocket client on the standard library only (RFC 6455), for runtime tests.

ws_client.py URL [--origin ORIGIN] [--want TYPE] [--timeout S] [--ready FILE] [--out FILE]

Opens URL (ws://host:port/path) with the given Origin header and prints
"status N" for the handshake's answer; anything but 101 exits 3. Once open it
touches --ready FILE (so a test knows when to act), then reads text messages:
each is appended to --out FILE as "<arrival epoch ms> <message>" (one a
line); the first whose JSON "type"
is --want is printed and ends the run with exit 0. No such message within
--timeout seconds: exit 1; the server closing first: exit 2.
"""
import argparse
import base64
import json
import os
import socket
import struct
import sys
import time
from urllib.parse import urlparse


def handshake(sock, host, path, origin):
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin:
        lines.append(f"Origin: {origin}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = first.split(" ")
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return status, rest


class Reader:
    def __init__(self, sock, pending):
        self.sock, self.buf = sock, pending

    def take(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        b0, b1 = self.take(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.take(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.take(8))[0]
        mask = self.take(4) if b1 & 0x80 else None
        data = self.take(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        return b0 & 0x80, b0 & 0x0F, data


def send_frame(sock, opcode, data):
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(data)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--origin")
    ap.add_argument("--want")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--ready")
    ap.add_argument("--out")
    a = ap.parse_args()
    u = urlparse(a.url)
    sock = socket.create_connection((u.hostname, u.port or 80), timeout=a.timeout)
    status, rest = handshake(sock, u.netloc, u.path or "/", a.origin)
    print(f"status {status}", flush=True)
    if status != 101:
        return 3
    if a.ready:
        open(a.ready, "w").close()
    rd = Reader(sock, rest)
    deadline = time.time() + a.timeout
    parts, text_op = [], 0
    while True:
        left = deadline - time.time()
        if left <= 0:
            return 1
        sock.settimeout(left)
        try:
            fin, op, data = rd.frame()
        except (socket.timeout, TimeoutError):
            return 1
        except EOFError:
            return 2
        if op == 0x9:  # ping
            send_frame(sock, 0xA, data)
            continue
        if op == 0x8:  # close
            return 2
        if op in (0x1, 0x2):
            parts, text_op = [data], op
        elif op == 0x0:
            parts.append(data)
        if not fin or text_op != 0x1:
            continue
        msg = b"".join(parts).decode(errors="replace")
        if a.out:
            with open(a.out, "a") as f:
                f.write(f"{int(time.time() * 1000)} {msg}\n")
        try:
            typ = json.loads(msg).get("type")
        except (ValueError, AttributeError):
            typ = None
        if a.want and typ == a.want:
            print(msg, flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
