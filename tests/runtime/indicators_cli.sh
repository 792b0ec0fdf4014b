#!/usr/bin/env bash
# `aitrader indicators --csv FILE [--inst ID]` (CONTRACTS §1): TA-Lib's
# 252-bar regression data as a candle CSV, checked on every warm-up boundary
# against the reference vectors (§5.5); strict CSV errors as FILE:LINE, exit 2.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"

# The fixture has bar,high,low,close: give it ISO timestamps one minute
# apart from 2026-01-01T00:00Z, open = close, and an ignored extra column.
python3 - "$AT_SOURCE_DIR/tests/data/talib-regression-252.csv" >reg.csv <<'EOF'
import csv, sys, datetime
rows = list(csv.DictReader(open(sys.argv[1])))
print("TS,note,Open,High,Low,Close")
t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
for r in rows:
    t = t0 + datetime.timedelta(minutes=int(r["bar"]))
    print(f'{t.strftime("%Y-%m-%dT%H:%M:%SZ")},x,{r["close"]},{r["high"]},{r["low"]},{r["close"]}')
EOF

rc=0; "$AITRADER" indicators --csv reg.csv >reg.jsonl 2>reg.err || rc=$?
check "indicators on 252 bars exits 0" [ "$rc" -eq 0 ]
check "one JSON object per candle" [ "$(wc -l <reg.jsonl)" -eq 252 ]

check "fields, order, warm-up nulls and TA-Lib values at the boundaries" python3 - reg.jsonl <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = ["ts", "close", "ema12", "ema26", "rsi14", "macd", "macd_signal", "macd_hist",
        "bb_upper", "bb_mid", "bb_lower", "atr14", "vol_rv"]
bad = []
def want(cond, msg):
    if not cond:
        bad.append(msg)
for i, r in enumerate(rows):
    want(list(r) == keys, f"bar {i}: keys {list(r)}")
want(rows[0]["ts"] == 1767225600000 and rows[251]["ts"] == 1767225600000 + 251 * 60000, "ts epoch ms")
want(rows[0]["close"] == 91.5 and rows[251]["close"] == 107.87, "close echoed")
# first output bar of each field (TA-Lib lookbacks)
first = {"ema12": 11, "ema26": 25, "rsi14": 14, "macd": 33, "macd_signal": 33, "macd_hist": 33,
         "bb_upper": 19, "bb_mid": 19, "bb_lower": 19, "atr14": 14, "vol_rv": 14}
for k, f in first.items():
    want(rows[f - 1][k] is None, f"{k} null at bar {f - 1}")
    want(all(isinstance(rows[i][k], float) for i in range(f, 252)), f"{k} numbers from bar {f}")
def full(i, k, v):
    want(abs(rows[i][k] - v) <= 1e-9 * abs(v), f"{k} bar {i}: {rows[i][k]} != {v}")
def dp(i, k, v, d):
    want(abs(rows[i][k] - v) <= 0.5 * 10 ** -d + 1e-12, f"{k} bar {i}: {rows[i][k]} != {v}")
full(14, "rsi14", 49.14733969986358); full(15, "rsi14", 52.3255527953366)
full(16, "rsi14", 46.07239657691366); full(251, "rsi14", 49.63210207086755)
full(33, "macd", -1.9738314311425853); full(33, "macd_signal", -2.7071077420416256)
dp(33, "macd_hist", 0.7333, 4)
dp(251, "macd", 0.9040093, 7); dp(251, "macd_signal", 1.4045942, 7); dp(251, "macd_hist", -0.5005849, 7)
dp(19, "bb_upper", 98.0734, 4); dp(19, "bb_mid", 92.8910, 4); dp(19, "bb_lower", 87.7086, 4)
dp(14, "atr14", 3.5782143, 7); dp(15, "atr14", 3.4876276, 7); dp(251, "atr14", 3.2608095, 7)
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# --inst keeps one instrument's rows when the file names them.
cat >two.csv <<'EOF'
ts,instId,open,high,low,close,volume
1767225600000,BTC-USDT-SWAP,1,2,0.5,1.5,3
1767225600000,ETH-USDT-SWAP,1,2,0.5,1.5,3
1767225660000,BTC-USDT-SWAP,1.5,2,1,2,3
EOF
rc=0; "$AITRADER" indicators --csv two.csv --inst BTC-USDT-SWAP >two.jsonl 2>two.err || rc=$?
check "--inst filters by the instId column" [ "$rc" -eq 0 -a "$(wc -l <two.jsonl)" -eq 2 ]
check "warm-up values are JSON null" contains two.jsonl '"ema12":null'

# Strict parsing: FILE:LINE: reason on stderr, exit 2, nothing after the bad row.
{ head -n 4 reg.csv; echo "2026-01-01T00:03:00Z,x,1,2,0.5,oops"; tail -n +6 reg.csv; } >bad.csv
rc=0; "$AITRADER" indicators --csv bad.csv >bad.out 2>bad.err || rc=$?
check "bad CSV exits 2" [ "$rc" -eq 2 ]
check "bad CSV error names file and line" contains bad.err "bad.csv:5: close: 'oops' is not a finite number"
check "rows before the bad one were printed" [ "$(wc -l <bad.out)" -eq 3 ]

printf 'ts,open,high,close\n1,1,1,1\n' >nolow.csv
rc=0; "$AITRADER" indicators --csv nolow.csv >/dev/null 2>nolow.err || rc=$?
check "missing column exits 2 at line 1" [ "$rc" -eq 2 ] && check "missing column named" contains nolow.err "nolow.csv:1: header has no 'low' column"
{ head -n 3 reg.csv; sed -n 2p reg.csv; } >order.csv
rc=0; "$AITRADER" indicators --csv order.csv >/dev/null 2>order.err || rc=$?
check "rows out of time order exit 2 at their line" [ "$rc" -eq 2 ] && check "order error at line 4" contains order.err "order.csv:4: ts"
rc=0; "$AITRADER" indicators --csv missing.csv >/dev/null 2>missing.err || rc=$?
check "missing file exits 2" [ "$rc" -eq 2 ] && check "missing file named" contains missing.err "missing.csv"
rc=0; "$AITRADER" indicators >/dev/null 2>nocsv.err || rc=$?
check "indicators without --csv exits 2" [ "$rc" -eq 2 ]
"$AITRADER" --help >help.out
check "--help lists indicators" contains help.out "indicators --csv FILE"

# Hostile input. A NUL byte used to end the row silently (here the whole row:
# dropped, exit 0); now it is an error at its line.
{ head -n 3 reg.csv; printf '\x00'; sed -n 4p reg.csv; tail -n +5 reg.csv; } >nul.csv
rc=0; "$AITRADER" indicators --csv nul.csv >nul.out 2>nul.err || rc=$?
check "a NUL byte exits 2" [ "$rc" -eq 2 ]
check "a NUL byte is named at its line" contains nul.err "nul.csv:4: NUL byte at column 1"
check "rows before the NUL byte were printed" [ "$(wc -l <nul.out)" -eq 2 ]

# A line over 64 KiB is refused at its line, and an endless one is not read
# into memory (a 1.1 GB line used to take 1.05 GB): 256 MiB through a pipe,
# the reader stops after 64 KiB.
python3 -c 'import sys; sys.stdout.write("ts,open,high,low,close\n1," + "1" * 70000 + ",1,1,1\n")' >long.csv
rc=0; "$AITRADER" indicators --csv long.csv >/dev/null 2>long.err || rc=$?
check "a line over 64 KiB exits 2" [ "$rc" -eq 2 ]
check "a long line is named at its line" contains long.err "long.csv:2: line too long (over 65536 bytes)"
check "an endless line: exit 2 at line 2, RSS stays small" python3 - "$AITRADER" <<'EOF'
import resource, subprocess, sys
p = subprocess.Popen([sys.argv[1], "indicators", "--csv", "/dev/stdin"], stdin=subprocess.PIPE,
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sent = 0
try:
    p.stdin.write(b"ts,open,high,low,close\n")
    chunk = b"7" * (1 << 20)
    while sent < 256 << 20:
        p.stdin.write(chunk)
        sent += len(chunk)
    p.stdin.close()
except BrokenPipeError:
    pass
err = p.stderr.read().decode()
rc = p.wait()
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"rc {rc}, stderr {err.strip()!r}, sent {sent >> 20} MiB, max RSS {rss_mb:.0f} MB", file=sys.stderr)
sys.exit(0 if rc == 2 and "/dev/stdin:2: line too long" in err and rss_mb < 128 else 1)
EOF

# A UTF-8 byte order mark (modules.ini accepts one) used to be refused.
{ printf '\xEF\xBB\xBF'; cat reg.csv; } >bom.csv
rc=0; "$AITRADER" indicators --csv bom.csv >bom.out 2>bom.err || rc=$?
check "a BOM before the header is skipped" [ "$rc" -eq 0 -a "$(wc -l <bom.out)" -eq 252 ]

# Not files: a directory used to be "empty file"; a pipe is a stream and is
# read. (A FIFO nobody ever writes to is refused after TA_CSV_FIFO_WAIT_MS:
# test_ta_csv checks that with a short wait.)
mkdir dir.csv
rc=0; "$AITRADER" indicators --csv dir.csv >/dev/null 2>dir.err || rc=$?
check "a directory exits 2" [ "$rc" -eq 2 ] && check "a directory is named as one" contains dir.err "dir.csv: is a directory"
rc=0; "$AITRADER" indicators --csv /dev/null >/dev/null 2>dev.err || rc=$?
check "a device exits 2" [ "$rc" -eq 2 ] && check "a device is named as one" contains dev.err "/dev/null: is a character device, not a CSV file"
# A named FIFO whose writer opens after the reader: the reader waits for it
# (it used to read EOF at once, "empty file", and the writer died of
# SIGPIPE). The writer starts once the reader holds the FIFO open.
mkfifo fifo.csv
# has_open PID FILE: PID has FILE open, or PID is gone (nothing to wait for).
has_open() {
  local f
  kill -0 "$1" 2>/dev/null || return 0
  for f in /proc/"$1"/fd/*; do
    [ "$(readlink "$f" 2>/dev/null)" = "$2" ] && return 0
  done
  return 1
}
"$AITRADER" indicators --csv fifo.csv >fifo.out 2>fifo.err &
reader=$!; RT_PIDS+=("$reader")
wait_until 10 "the reader to open fifo.csv" has_open "$reader" "$RT_TMP/fifo.csv" || true
wrc=0; timeout 10 sh -c 'cat reg.csv >fifo.csv' || wrc=$?
wait_exit "$reader" 20
check "a FIFO whose writer comes after the reader opened it is read: exit 0, 252 rows" \
  [ "$RT_RC" -eq 0 -a "$(wc -l <fifo.out)" -eq 252 ]
check "and its writer wrote everything (exit 0, not SIGPIPE) ($wrc)" [ "$wrc" -eq 0 ]
# A writer that opens the FIFO and closes it without writing: empty, at once.
"$AITRADER" indicators --csv fifo.csv >/dev/null 2>fifo0.err &
reader=$!; RT_PIDS+=("$reader")
wait_until 10 "the reader to open fifo.csv" has_open "$reader" "$RT_TMP/fifo.csv" || true
timeout 10 sh -c ': >fifo.csv' || true
wait_exit "$reader" 20
check "a FIFO closed without a byte written reads as empty: exit 2" [ "$RT_RC" -eq 2 ] &&
  check "named as empty" contains fifo0.err "fifo.csv:1: empty file"
rc=0; "$AITRADER" indicators --csv <(cat reg.csv) >pipe.out 2>pipe.err || rc=$?
check "a pipe is read as a stream" [ "$rc" -eq 0 -a "$(wc -l <pipe.out)" -eq 252 ]

# The real OKX 1m candles, when present: one line per row, no error.
DATA="$AT_SOURCE_DIR/../shared/data/okx_freqtrade_huckhuck12/okx_BTC-USDT-SWAP_1m_20260101-20260116.csv"
if [ -r "$DATA" ]; then
  rc=0; "$AITRADER" indicators --csv "$DATA" --inst BTC-USDT-SWAP >btc.jsonl 2>btc.err || rc=$?
  check "real BTC 1m candles: exit 0, one line per row" [ "$rc" -eq 0 -a "$(wc -l <btc.jsonl)" -eq "$(($(wc -l <"$DATA") - 1))" ]
else
  echo "skip - real BTC 1m candles: $DATA not present"
fi
rt_finish
