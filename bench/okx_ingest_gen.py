#!/usr/bin/env python3
"""Write a deterministic OKX public WebSocket stream for bench/okx_ingest.c
and bench/ccxt_ingest.mjs: one frame per line, 200,000 frames by default,
~80 % books updates, 12 % trades, 8 % tickers, ~295 bytes a frame.

Four USDT swaps at 2025-2026 prices and their real tick sizes. Each starts
with a 400-level books snapshot; then every update changes 1-8 levels
(mostly near the touch: size changes, deletes, inserts), carries a valid
prevSeqId/seqId chain and the CRC-32 checksum OKX used to send, computed
here independently of the C code under test (zlib.crc32 over the original
strings of the top 25 levels, interleaved bid:sz:ask:sz).

usage: okx_ingest_gen.py OUT [N]
"""
import bisect
import random
import sys
import zlib

# instId, mid price, tick decimals, typical size range (contracts)
INSTS = [
    ("BTC-USDT-SWAP", 97000.0, 1, (1, 400)),
    ("ETH-USDT-SWAP", 3400.0, 2, (1, 900)),
    ("SOL-USDT-SWAP", 190.0, 3, (1, 1500)),
    ("DOGE-USDT-SWAP", 0.32, 6, (1, 3000)),
]
DEPTH = 400


def fmt_px(ticks, dec):
    # OKX writes prices without trailing zeros ("97000.1", "3400", "0.3201")
    s = str(ticks) if dec == 0 else "%d.%0*d" % (ticks // 10**dec, dec, ticks % 10**dec)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


class Book:
    def __init__(self, rng, name, mid, dec, szr):
        self.rng, self.name, self.dec, self.szr = rng, name, dec, szr
        self.tick_mid = int(round(mid * 10**dec))
        # bids/asks: sorted tick lists (ascending) + size text per tick
        self.bids, self.asks, self.sz = [], [], {}
        b = self.tick_mid - 1
        a = self.tick_mid + 1
        for _ in range(DEPTH):
            self.bids.insert(0, b)
            self.sz[("b", b)] = self.size()
            b -= 1 + (rng.random() < 0.3)
            self.asks.append(a)
            self.sz[("a", a)] = self.size()
            a += 1 + (rng.random() < 0.3)
        self.seq = rng.randrange(10**9, 2 * 10**9)
        self.trade_id = rng.randrange(10**8, 10**9)

    def size(self):
        lo, hi = self.szr
        return str(self.rng.randint(lo, hi))

    def level(self, side, t):
        return '["%s","%s","0","%d"]' % (fmt_px(t, self.dec), self.sz[(side, t)], self.rng.randint(1, 30))

    def checksum(self):
        if NO_CHECKSUM:
            return 0  # what OKX sends since the checksum was deprecated (2026-06)
        parts = []
        top_b = self.bids[::-1][:25]
        top_a = self.asks[:25]
        for i in range(25):
            if i < len(top_b):
                parts += [fmt_px(top_b[i], self.dec), self.sz[("b", top_b[i])]]
            if i < len(top_a):
                parts += [fmt_px(top_a[i], self.dec), self.sz[("a", top_a[i])]]
        c = zlib.crc32(":".join(parts).encode())
        return c - (1 << 32) if c >= (1 << 31) else c

    def snapshot(self, ts):
        bids = ",".join(self.level("b", t) for t in self.bids[::-1])
        asks = ",".join(self.level("a", t) for t in self.asks)
        return ('{"arg":{"channel":"books","instId":"%s"},"action":"snapshot","data":[{"asks":[%s],'
                '"bids":[%s],"ts":"%d","checksum":%d,"prevSeqId":-1,"seqId":%d}]}'
                % (self.name, asks, bids, ts, self.checksum(), self.seq))

    def update(self, ts):
        rng = self.rng
        ch = {"b": {}, "a": {}}  # side -> tick -> size text ("0" = delete)
        for _ in range(rng.choice((5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 12, 15))):
            side = "b" if rng.random() < 0.5 else "a"
            lst = self.bids if side == "b" else self.asks
            # distance from the touch: mostly the first few levels
            k = min(int(rng.expovariate(1 / 6.0)), len(lst) - 1)
            t = lst[-1 - k] if side == "b" else lst[k]
            r = rng.random()
            if r < 0.55:  # size change
                self.sz[(side, t)] = self.size()
                ch[side][t] = self.sz[(side, t)]
            elif r < 0.78 and len(lst) > 300:  # delete
                lst.remove(t)
                del self.sz[(side, t)]
                ch[side][t] = "0"
            else:  # insert at a free tick next to t, on the far side of the touch
                nt = t - 1 if side == "b" else t + 1
                other = self.asks if side == "b" else self.bids
                crosses = (side == "b" and nt >= self.asks[0]) or (side == "a" and nt <= self.bids[-1])
                if (side, nt) in self.sz or crosses or not other:
                    continue
                bisect.insort(lst, nt)
                self.sz[(side, nt)] = self.size()
                ch[side][nt] = self.sz[(side, nt)]
                if len(lst) > DEPTH:  # keep 400 a side: the worst level goes
                    w = lst.pop(0) if side == "b" else lst.pop()
                    del self.sz[(side, w)]
                    ch[side][w] = "0"
        prev = self.seq
        self.seq += rng.randint(1, 3)

        def lv(side, t, s):
            n = 0 if s == "0" else rng.randint(1, 30)
            return '["%s","%s","0","%d"]' % (fmt_px(t, self.dec), s, n)

        bids = ",".join(lv("b", t, s) for t, s in sorted(ch["b"].items(), reverse=True))
        asks = ",".join(lv("a", t, s) for t, s in sorted(ch["a"].items()))
        return ('{"arg":{"channel":"books","instId":"%s"},"action":"update","data":[{"asks":[%s],'
                '"bids":[%s],"ts":"%d","checksum":%d,"prevSeqId":%d,"seqId":%d}]}'
                % (self.name, asks, bids, ts, self.checksum(), prev, self.seq))

    def trade(self, ts):
        rng = self.rng
        self.trade_id += rng.randint(1, 5)
        buy = rng.random() < 0.5
        t = self.asks[0] if buy else self.bids[-1]
        return ('{"arg":{"channel":"trades","instId":"%s"},"data":[{"instId":"%s","tradeId":"%d",'
                '"px":"%s","sz":"%s","side":"%s","ts":"%d","count":"%d","source":"0","seqId":%d}]}'
                % (self.name, self.name, self.trade_id, fmt_px(t, self.dec), self.size(),
                   "buy" if buy else "sell", ts, rng.randint(1, 4), self.trade_id // 7))

    def ticker(self, ts):
        rng = self.rng
        bb, ba = self.bids[-1], self.asks[0]
        last = ba if rng.random() < 0.5 else bb
        d = self.dec
        o = int(self.tick_mid * 0.98)
        hi, lo = int(self.tick_mid * 1.03), int(self.tick_mid * 0.96)
        vol = rng.randint(10**6, 10**8)
        return ('{"arg":{"channel":"tickers","instId":"%s"},"data":[{"instType":"SWAP","instId":"%s",'
                '"last":"%s","lastSz":"%s","askPx":"%s","askSz":"%s","bidPx":"%s","bidSz":"%s",'
                '"open24h":"%s","high24h":"%s","low24h":"%s","volCcy24h":"%d.%d","vol24h":"%d",'
                '"sodUtc0":"%s","sodUtc8":"%s","ts":"%d"}]}'
                % (self.name, self.name, fmt_px(last, d), self.size(), fmt_px(ba, d),
                   self.sz[("a", ba)], fmt_px(bb, d), self.sz[("b", bb)], fmt_px(o, d),
                   fmt_px(hi, d), fmt_px(lo, d), vol // 100, rng.randint(0, 99), vol,
                   fmt_px(o, d), fmt_px(o + 7, d), ts))


NO_CHECKSUM = False


def main():
    global NO_CHECKSUM
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    NO_CHECKSUM = len(sys.argv) > 3 and sys.argv[3] == "--no-checksum"
    rng = random.Random(20260501)
    books = [Book(rng, *i) for i in INSTS]
    ts = 1767225600000  # 2026-01-01
    total = 0
    with open(out, "w") as f:
        for b in books:
            line = b.snapshot(ts)
            f.write(line + "\n")
            total += len(line)
        for i in range(n - len(books)):
            ts += rng.randint(0, 3)
            b = books[rng.randrange(len(books))]
            r = rng.random()
            line = b.update(ts) if r < 0.80 else b.trade(ts) if r < 0.92 else b.ticker(ts)
            f.write(line + "\n")
            total += len(line)
    sys.stderr.write("okx_ingest_gen: %d frames, %.1f bytes a frame, %s\n" % (n, total / n, out))


if __name__ == "__main__":
    main()
