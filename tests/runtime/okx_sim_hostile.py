"""Hostile clients for okx-sim, driven by okx_sim_hostile.sh. Loopback only;
every wait is bounded. Each command prints key=value lines."""
import base64, json, os, socket, sys, time

HOST, PORT = "127.0.0.1", 0


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the command: state is field 3, utime 14, stime 15 (1-based)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((HOST, PORT))
    return s


def closed_by_peer(s, wait):
    """Drain s until EOF or reset within `wait` seconds: True if the server
    closed it, False if it is still open then."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def http_get(s, path):
    """One keep-alive request on s; the status code."""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return 0
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            return 0
        rest += chunk
    return int(head.split()[1])


# ------------------------------------------------------------------ WebSocket

def ws_open(path, rcvbuf=None):
    s = connect(rcvbuf)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: sim\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(1)  # byte by byte: leave any frame after the head unread
    assert buf.startswith(b"HTTP/1.1 101"), buf
    return s


def ws_send(s, text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        hdr = bytes([0x81, 0x80 | n])
    elif n < 65536:
        hdr = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
    s.sendall(hdr + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(data)))


class WsReader:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def _need(self, n, end):
        while len(self.buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.s.settimeout(left)
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def next(self, wait=5.0):
        """The next text message (str), or raise TimeoutError/EOFError."""
        end = time.monotonic() + wait
        self._need(2, end)
        n, hl = self.buf[1] & 0x7F, 2
        if n == 126:
            self._need(4, end)
            n, hl = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            self._need(10, end)
            n, hl = int.from_bytes(self.buf[2:10], "big"), 10
        self._need(hl + n, end)
        op, data = self.buf[0] & 0x0F, self.buf[hl:hl + n]
        self.buf = self.buf[hl + n:]
        if op == 8:
            raise EOFError
        return data.decode()


# ------------------------------------------------------------------ commands

def cmd_idle(n, wait):
    """n silent connections, n with half a request head, one keep-alive
    connection idle after a request: how many the server closed in `wait` s."""
    conns = [connect() for _ in range(n)]
    for _ in range(n):
        s = connect()
        s.sendall(b"GET /api/v5/public/time HTTP/1.1\r\nHost: sim\r\n")
        conns.append(s)
    ka = connect()
    print(f"keepalive_status={http_get(ka, '/api/v5/public/time')}")
    print(f"keepalive_again={http_get(ka, '/api/v5/public/time')}")
    conns.append(ka)
    t0 = time.monotonic()
    closed = sum(closed_by_peer(s, max(0.01, wait - (time.monotonic() - t0))) for s in conns)
    print(f"opened={len(conns)}")
    print(f"closed={closed}")


def cmd_cap(cap):
    """Fill the cap with idle connections (one of them a keep-alive HTTP
    client), send requests on surplus ones (each must read the whole 503);
    then see the keep-alive client still served."""
    ka = connect()
    print(f"before_status={http_get(ka, '/api/v5/public/time')}")
    held = [connect() for _ in range(cap - 1)]
    # A probe sends a whole request first, with a body large enough that the
    # server cannot have read it when it refuses (closing on unread input
    # would reset the connection: the probe's send fails before it reads the
    # 503), then reads the whole answer; the server closes after it.
    body = b"x" * 1000000
    req = (b"POST /api/v5/trade/order HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body

    def probe(wait):
        s = connect()
        s.settimeout(wait)
        data = b""
        try:
            s.sendall(req)
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            data = b"(no answer)"
        except (ConnectionResetError, BrokenPipeError):
            data = b"(reset)"
        s.close()
        return data

    # The server counts a connection once it accepted it: probe until a probe
    # is not served (bounded), then five more: each must read the 503.
    refused, end = b"", time.monotonic() + 5
    while time.monotonic() < end:
        refused = probe(max(0.01, min(2, end - time.monotonic())))
        if not refused.startswith(b"HTTP/1.1 ") or refused.startswith(b"HTTP/1.1 503"):
            break
        time.sleep(0.05)
    answers = [refused] + [probe(2) for _ in range(5)]
    print("surplus_answers=" + ",".join(a.split(b"\r\n", 1)[0].decode(errors="replace")
                                        for a in answers))
    if not all(a.startswith(b"HTTP/1.1 503") for a in answers):
        refused = next(a for a in answers if not a.startswith(b"HTTP/1.1 503"))
    print(f"surplus_503={int(refused.startswith(b'HTTP/1.1 503'))}")
    body = refused.split(b"\r\n\r\n", 1)[-1]
    try:
        print(f"surplus_code={json.loads(body)['code']}")
    except ValueError:
        print("surplus_code=none")
    print(f"after_status={http_get(ka, '/api/v5/public/time')}")
    held[0].close()
    for s in held[1:]:
        s.close()
    ka.close()


def cmd_flood(pid, fd_limit, n, window):
    """n connections when the server has far fewer descriptors: its CPU time
    over `window` s while they are held, then close them all."""
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((HOST, PORT))
            conns.append(s)
        except OSError:
            s.close()
    print(f"connected={len(conns)}")
    # measure once the server has used up its descriptors
    end = time.monotonic() + 10
    while len(os.listdir(f"/proc/{pid}/fd")) < fd_limit - 1 and time.monotonic() < end:
        time.sleep(0.02)
    print(f"server_fds={len(os.listdir(f'/proc/{pid}/fd'))}")
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(window)  # the measuring window itself
    used = cpu_s(pid) - c0
    print(f"cpu_pct={int(100 * used / (time.monotonic() - t0))}")
    for s in conns:
        s.close()


def wait_log(pid, log, text, wait, peak):
    """Wait until `text` is in the log, sampling RSS: (seen, peak)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        peak = max(peak, rss_kb(pid))
        with open(log, errors="replace") as f:
            if text in f.read():
                return True, peak
        time.sleep(0.05)
    return False, peak


def cmd_pipeline(pid, log, total, stall):
    """`total` pipelined book requests without reading a byte; stops sending
    when the server has taken nothing for `stall` s. Peak RSS growth until
    okx-sim logs that it dropped us, and that it did."""
    base = rss_kb(pid)
    s = connect(rcvbuf=4096)
    s.setblocking(False)
    req = b"GET /api/v5/market/books?instId=BTC-USDT-SWAP&sz=400 HTTP/1.1\r\nHost: sim\r\n\r\n"
    pending, sent, peak = req * total, 0, base
    last = time.monotonic()
    while sent < len(pending) and time.monotonic() - last < stall:
        try:
            k = s.send(pending[sent:sent + 65536])
            sent += k
            last = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)  # the server is not reading: poll
        except (ConnectionResetError, BrokenPipeError):
            break
        peak = max(peak, rss_kb(pid))
    seen, peak = wait_log(pid, log, "took no output", 20, peak)
    print(f"requests_sent={sent // len(req)}")
    print(f"drop_logged={int(seen)}")
    print(f"rss_growth_mb={(peak - base) // 1024}")
    s.setblocking(True)
    print(f"dropped={int(closed_by_peer(s, 10))}")


def cmd_ws_slow(pid, log, wait):
    """Subscribe to every public market channel of every instrument, then read
    nothing: peak RSS growth until okx-sim logs that it dropped us."""
    base = rss_kb(pid)
    s = ws_open("/ws/v5/public", rcvbuf=4096)
    insts = ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP", "DOGE-USDT-SWAP", "XRP-USDT-SWAP"]
    args = [{"channel": ch, "instId": i} for ch in ("books", "books5", "bbo-tbt", "tickers", "trades")
            for i in insts]
    ws_send(s, json.dumps({"op": "subscribe", "args": args}))
    seen, peak = wait_log(pid, log, "does not read", wait, base)
    print(f"drop_logged={int(seen)}")
    print(f"rss_growth_mb={(peak - base) // 1024}")
    print(f"dropped={int(closed_by_peer(s, 10))}")


def cmd_instruments(n, path):
    """Write an OKX instruments response with n linear swaps to path."""
    rows = [{"instType": "SWAP", "instId": f"C{i}-USDT-SWAP", "ctVal": "1", "tickSz": "0.1",
             "lotSz": "1", "minSz": "1"} for i in range(n)]
    with open(path, "w") as f:
        json.dump({"code": "0", "msg": "", "data": rows}, f)


def log_has(log, text):
    with open(log, errors="replace") as f:
        return text in f.read()


def cmd_ws_many(log, n, read, wait):
    """One op subscribing to the books of n instruments (C0..C{n-1}), whose
    snapshots together pass --max-output. A reader (read=1) takes everything
    and must get every snapshot, then two updates per book, without being
    dropped; a non-reader (read=0) must still be dropped."""
    s = ws_open("/ws/v5/public", rcvbuf=None if read else 4096)
    args = [{"channel": "books", "instId": f"C{i}-USDT-SWAP"} for i in range(n)]
    ws_send(s, json.dumps({"op": "subscribe", "args": args}))
    acks = snapshots = updates = snapshot_bytes = 0
    closed = False
    if read:
        r = WsReader(s)
        end = time.monotonic() + wait
        try:
            while (acks < n or snapshots < n or updates < 2 * n) and time.monotonic() < end:
                m = json.loads(r.next(max(0.01, end - time.monotonic())))
                if m.get("event") == "subscribe":
                    acks += 1
                elif m.get("action") == "snapshot":
                    snapshots += 1
                    snapshot_bytes += len(json.dumps(m))
                elif m.get("action") == "update":
                    updates += 1
        except (EOFError, ConnectionResetError):
            closed = True
        except TimeoutError:
            pass
    else:
        end = time.monotonic() + wait
        while not log_has(log, "does not read") and time.monotonic() < end:
            time.sleep(0.05)
        closed = closed_by_peer(s, 10)
    print(f"acks={acks}")
    print(f"snapshots={snapshots}")
    print(f"updates={updates}")
    print(f"snapshot_bytes={snapshot_bytes}")
    print(f"drop_logged={int(log_has(log, 'does not read'))}")
    print(f"dropped={int(closed)}")


def cmd_ws_extra(variants):
    """One books subscription asked for `variants` times, each with an extra
    field: acks, how often each book update arrives, and that one unsubscribe
    stops it."""
    s = ws_open("/ws/v5/public")
    r = WsReader(s)
    args = [{"channel": "books", "instId": "BTC-USDT-SWAP", "x": i} for i in range(variants)]
    args.append({"channel": "tickers", "instId": "BTC-USDT-SWAP"})
    ws_send(s, json.dumps({"op": "subscribe", "args": args}))
    acks = snapshots = updates = 0
    per_seq, push_args = {}, set()
    end = time.monotonic() + 10
    while (acks < variants + 1 or updates < 20) and time.monotonic() < end:
        m = json.loads(r.next())
        if m.get("event") == "subscribe":
            acks += 1
        elif m.get("arg", {}).get("channel") == "books":
            push_args.add(json.dumps(m["arg"], sort_keys=True))
            seq = m["data"][0]["seqId"]
            per_seq[seq] = per_seq.get(seq, 0) + 1
            if m["action"] == "snapshot":
                snapshots += 1
            else:
                updates += 1
    print(f"acks={acks}")
    print(f"snapshots={snapshots}")
    print(f"max_copies_per_seq={max(per_seq.values()) if per_seq else 0}")
    print(f"push_args={'|'.join(sorted(push_args))}")
    # one unsubscribe (without the extra field) ends the stream
    ws_send(s, json.dumps({"op": "unsubscribe",
                           "args": [{"channel": "books", "instId": "BTC-USDT-SWAP"}]}))
    while json.loads(r.next()).get("event") != "unsubscribe":
        pass
    tickers = books_after = 0
    while tickers < 5:  # tickers move with the book: five ticks without books
        m = json.loads(r.next())
        ch = m.get("arg", {}).get("channel")
        tickers += ch == "tickers"
        books_after += ch == "books"
    print(f"books_after_unsubscribe={books_after}")


def cmd_ws_cap(cap):
    """cap + 1 distinct subscriptions, then one repeated: the events."""
    s = ws_open("/ws/v5/public")
    r = WsReader(s)
    chans = ["tickers", "books5", "bbo-tbt", "trades", "mark-price", "funding-rate"]
    args = [{"channel": ch, "instId": "BTC-USDT-SWAP"} for ch in chans[:cap + 1]]
    args.append(dict(args[0], extra="same"))
    ws_send(s, json.dumps({"id": "cap1", "op": "subscribe", "args": args}))
    events = []
    while len(events) < len(args):
        m = json.loads(r.next())
        if "event" in m:
            events.append(m)
    print("events=" + ",".join(m["event"] + ("/" + m["code"] if "code" in m else "")
                               for m in events))
    err = [m for m in events if m["event"] == "error"]
    print(f"error_id={err[0].get('id', '') if err else ''}")
    print(f"error_msg={err[0].get('msg', '') if err else ''}")


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    cmd, args = sys.argv[2], sys.argv[3:]
    fn = globals()["cmd_" + cmd.replace("-", "_")]
    conv = [int(a) if a.isdigit() else a for a in args]
    fn(*conv)
