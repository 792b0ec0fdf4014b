#!/usr/bin/env bash
# make bench: measures and prints a table; writes bench/results.json
# (CONTRACTS §1). Figures without a peer implementation are compared with the
# target the issue set (peer "target"), so ratio > 1 means better than asked.
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
sim="$build/okx-sim"
tool="$build/bench/okxsim_bench"
out="$src/bench/results.json"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

cat >"$tmp/accounts.json" <<'JSON'
[{"apiKey": "bench-key", "secretKey": "bench-secret", "passphrase": "bench-pass", "demo": true,
  "posMode": "long_short_mode", "balances": {"USDT": "10000"}}]
JSON
insts="$src/tests/data/okx_instruments_swap_sample.json"

# The peers the figures are compared against (ccxt for okx_ingest,
# technicalindicators for ta_throughput) are pinned npm packages: installed
# here, so a fresh clone gets every figure; one that cannot be installed is
# named at the end and the run fails.
peers_ok=1
bash "$src/scripts/deps.sh" --npm-peers tests/ccxt bench/ta-peer || peers_ok=0
missing=()

start_sim() { # prints the URL; startup time (ms) in $tmp/startup_ms
  local t0 t1
  t0=$(date +%s%N)
  "$sim" --port 0 --quiet --accounts "$tmp/accounts.json" --instruments "$insts" "$@" >"$tmp/sim.out" 2>"$tmp/sim.err" &
  echo $! >"$tmp/sim.pid"
  local up=0
  for _ in $(seq 1 2500); do # polls the condition; 5 s at most
    grep -q "listening on" "$tmp/sim.out" 2>/dev/null && { up=1; break; }
    sleep 0.002
  done
  t1=$(date +%s%N)
  if [ "$up" = 0 ]; then
    echo "bench: okx-sim did not start within 5 s:" >&2
    cat "$tmp/sim.err" >&2
    return 1
  fi
  echo $(( (t1 - t0) / 1000000 )) >"$tmp/startup_ms"
  sed -n 's/^okx-sim listening on //p' "$tmp/sim.out"
}

# Startup: best of 5 (process spawn to the "listening" line).
best=999999
for _ in 1 2 3 4 5; do
  start_sim >/dev/null
  ms=$(cat "$tmp/startup_ms"); kill "$(cat "$tmp/sim.pid")"; wait "$(cat "$tmp/sim.pid")" 2>/dev/null || true
  [ "$ms" -lt "$best" ] && best=$ms
done

url=$(start_sim)
export OKXSIM_KEY=bench-key OKXSIM_SECRET=bench-secret OKXSIM_PASSPHRASE=bench-pass
rps=$("$tool" rest "$url" 3 8 | sed -n 's/^rest_rps //p')
books=$("$tool" books "$url" 5 10)
kill "$(cat "$tmp/sim.pid")"; wait "$(cat "$tmp/sim.pid")" 2>/dev/null || true
bmps=$(sed -n 's/^books_msgs_per_s //p' <<<"$books")
gaps=$(sed -n 's/^books_gaps //p' <<<"$books")
lag=$(sed -n 's/^books_lag_ms_p99 //p' <<<"$books")

# OKX market-data ingest: okxlib (bench/okx_ingest.c: parse + book apply with
# seqId and checksum checks + the bus event filled) against ccxt 4.5.84's pro
# okx handlers (bench/ccxt_ingest.mjs: JSON.parse + handleMessage), both on
# the same deterministic 200,000-frame stream (bench/okx_ingest_gen.py).
export OKX_INGEST_MPS="" OKX_INGEST_P50="" OKX_INGEST_P99="" OKX_INGEST_CCXT_MPS=""
if [ -x "$build/bench/okx_ingest" ]; then
  stream="$tmp/okx_stream.txt"
  python3 "$src/bench/okx_ingest_gen.py" "$stream" 200000 2>/dev/null
  ingest=$("$build/bench/okx_ingest" "$stream" 2>/dev/null)
  OKX_INGEST_MPS=$(sed -n 's/^okx_ingest_msgs_per_s //p' <<<"$ingest")
  OKX_INGEST_P50=$(sed -n 's/^okx_ingest_p50_us //p' <<<"$ingest")
  OKX_INGEST_P99=$(sed -n 's/^okx_ingest_p99_us //p' <<<"$ingest")
  if command -v node >/dev/null && [ -d "$src/tests/ccxt/node_modules/ccxt" ]; then
    OKX_INGEST_CCXT_MPS=$(node "$src/bench/ccxt_ingest.mjs" "$stream" | sed -n 's/^ccxt_ingest_msgs_per_s //p')
  fi
  [ -n "$OKX_INGEST_CCXT_MPS" ] || missing+=("okx_ingest (peer: ccxt in tests/ccxt)")
  # The same stream as OKX sends books today: checksum 0 (deprecated 2026-06),
  # so no CRC to verify; ccxt is measured again on this file.
  stream0="$tmp/okx_stream_nocrc.txt"
  python3 "$src/bench/okx_ingest_gen.py" "$stream0" 200000 --no-checksum 2>/dev/null
  export OKX_INGEST0_MPS=$("$build/bench/okx_ingest" "$stream0" 2>/dev/null | sed -n 's/^okx_ingest_msgs_per_s //p')
  if command -v node >/dev/null && [ -d "$src/tests/ccxt/node_modules/ccxt" ]; then
    export OKX_INGEST0_CCXT_MPS=$(node "$src/bench/ccxt_ingest.mjs" "$stream0" | sed -n 's/^ccxt_ingest_msgs_per_s //p')
  fi
fi

# Engine memory with exchange_okx following 10 instruments (public data from
# okx-sim): RSS (the target; shared library pages counted in full), its
# private part, and Pss (shared pages divided among the processes mapping
# them). Per mapping: /proc/PID/smaps (README, Troubleshooting).
export ENGINE_RSS_KB="" ENGINE_PRIV_KB="" ENGINE_PSS_KB=""
if [ -f "$build/plugins/exchange_okx.so" ]; then
  url=$(start_sim)
  ws=${url/http:/ws:}/ws/v5
  mkdir -p "$tmp/eng"
  cat >"$tmp/eng/rss.ini" <<EOF
[core]
data_dir = $tmp/eng/data
log_level = info
[storage.sqlite]
path = $tmp/eng/data/rss.db
[exchange.okx]
rest_url = $url
ws_public_url = $ws/public
ws_business_url = $ws/business
instruments = BTC, ETH, SOL, DOGE, XRP, ADA, LTC, DOT, AVAX, LINK
EOF
  "$build/aitrader" run -c "$tmp/eng/rss.ini" >"$tmp/eng/out" 2>&1 &
  epid=$!
  # Measured once the feed is up, after a fixed span of following it: the
  # span is part of what the figure means (memory in steady use), not a
  # guess at when something is ready.
  for _ in $(seq 1 200); do
    grep -q "exchange.okx: state up" "$tmp/eng/out" && break
    sleep 0.1
  done
  if ! grep -q "exchange.okx: state up" "$tmp/eng/out"; then
    echo "bench: the engine did not come up within 20 s:" >&2
    tail -n 20 "$tmp/eng/out" >&2
    exit 1
  fi
  sleep 6
  ENGINE_RSS_KB=$(awk '/^VmRSS:/ {print $2}' /proc/$epid/status)
  ENGINE_PRIV_KB=$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' /proc/$epid/smaps_rollup)
  ENGINE_PSS_KB=$(awk '/^Pss:/ {print $2}' /proc/$epid/smaps_rollup)
  kill -INT "$epid"; wait "$epid" 2>/dev/null || true
  kill "$(cat "$tmp/sim.pid")"; wait "$(cat "$tmp/sim.pid")" 2>/dev/null || true
fi

# ---- ta_throughput (issue 5) ---------------------------------------------
# Indicator throughput: lib/ta's standard set (bench/ta_bench.c) against
# technicalindicators 3.1.0 (bench/ta-peer/ta_peer.mjs, the faster of its batch
# and streaming APIs), both on the same candles: OKX BTC 5m May-Dec 2022 when
# ../shared/data is there, else a deterministic random walk (the TA-Lib
# regression file has no ts/open columns, which the CSV reader needs).
export TA_BPS="" TA_PEER_BPS="" TA_PEER_API="" TA_BARS=""
if [ -x "$build/bench/ta_bench" ]; then
  ta_csv="$src/../shared/data/okx_freqtrade_huckhuck12/okx_BTC-USDT-SWAP_5m_20220501-20221231.csv"
  if [ ! -f "$ta_csv" ]; then
    ta_csv="$src/tests/data/talib-regression-252.csv"
    ta_cols=$(head -1 "$ta_csv" | tr 'A-Z' 'a-z' | tr -d '"\r' | tr ',' '\n')
    if ! grep -qx ts <<<"$ta_cols" || ! grep -qx open <<<"$ta_cols"; then
      ta_csv="$tmp/ta_walk.csv"
      python3 - "$ta_csv" <<'GEN'
import math, sys
x, px, ts = 12345, 30000.0, 1651363200000
with open(sys.argv[1], "w") as f:
    f.write("ts,open,high,low,close,volume\n")
    for _ in range(70000):
        u = []
        for _ in range(3):
            x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
            u.append((x >> 11) / 2**53)
        o, c = px, px * math.exp((u[0] - 0.5) * 0.004)
        h, l = max(o, c) * (1 + u[1] * 0.001), min(o, c) * (1 - u[2] * 0.001)
        f.write(f"{ts},{o:.2f},{h:.2f},{l:.2f},{c:.2f},{100 + u[1] * 400:.3f}\n")
        px, ts = c, ts + 300000
GEN
    fi
  fi
  ta_out=$("$build/bench/ta_bench" "$ta_csv")
  TA_BPS=$(sed -n 's/^ta_bars_per_s //p' <<<"$ta_out")
  TA_BARS=$(sed -n 's/^ta_bars //p' <<<"$ta_out")
  if command -v node >/dev/null && [ -d "$src/bench/ta-peer/node_modules/technicalindicators" ]; then
    ta_peer=$(node "$src/bench/ta-peer/ta_peer.mjs" "$ta_csv")
    TA_PEER_BPS=$(sed -n 's/^ta_peer_bars_per_s //p' <<<"$ta_peer")
    TA_PEER_API=$(sed -n 's/^ta_peer_api //p' <<<"$ta_peer")
  fi
  [ -n "$TA_PEER_BPS" ] || missing+=("ta_throughput (peer: technicalindicators in bench/ta-peer)")
fi
# ---- end ta_throughput ----------------------------------------------------

# ---- sched_report (issue 5) ----------------------------------------------
# AI calls/day and move-to-trigger delay, adaptive scheduler vs fixed 3/12/15
# min (bench/sched_report.c), on the OKX candles when ../shared/data is there.
if [ -x "$build/bench/sched_report" ] && [ -d "$src/../shared/data" ]; then
  "$build/bench/sched_report" --data "$src/../shared/data" --json "$src/bench/sched_report.json" || true
fi
export SCHED_JSON="$src/bench/sched_report.json"
# ---- end sched_report -----------------------------------------------------

# ---- trading loop (issue 10) ---------------------------------------------
# decision -> order on the wire to okx-sim, the LLM excluded
# (bench/decision_order.c: in-process engine on the real clock, gate on,
# exchange_okx against okx-sim; 500 rounds paced 40 ms apart, under OKX's 60
# orders per 2 s, so exchange_okx's rate limiter never holds one back;
# okx-sim's answer reported apart), and the context figures for a trader with
# 10 symbols (bench/trading_context.c: render time; prompt tokens, ours
# against a reconstruction of the seed's prompt for the same state).
export LOOP_OUT="" CTX_OUT="" LOOP_NORMAL=""
if [ -x "$build/bench/decision_order" ] && [ -f "$build/plugins/exchange_okx.so" ]; then
  # a deep account: 500 rounds of small opens never run out of margin
  cat >"$tmp/accounts.json" <<'JSON'
[{"apiKey": "bench-key", "secretKey": "bench-secret", "passphrase": "bench-pass", "demo": true,
  "posMode": "long_short_mode", "balances": {"USDT": "10000000"}}]
JSON
  url=$(start_sim)
  LOOP_OUT=$("$build/bench/decision_order" "$src" "$build" "$url" 500 40 full)
  # the same with synchronous = normal (durable against a crash of the
  # engine, kill -9 included; not against power loss): the commit is no
  # longer an fdatasync
  LOOP_NORMAL=$("$build/bench/decision_order" "$src" "$build" "$url" 500 40 normal)
  export LOOP_NORMAL
  kill "$(cat "$tmp/sim.pid")"; wait "$(cat "$tmp/sim.pid")" 2>/dev/null || true
fi
if [ -x "$build/bench/trading_context" ]; then
  CTX_OUT=$("$build/bench/trading_context" "$src" "$build" 2000)
fi
# ---- end trading loop -----------------------------------------------------

# ---- dashboard (issue 11) --------------------------------------------------
# The engine with exchange_okx on an okx-sim demo account (10 instruments, 6
# positions opened through the dashboard's own POST /api/orders) and
# ui_dashboard: GET /api/accounts/{id}/positions over 64 keep-alive
# connections for 5 s (bench/dash_load.c), then 200 WebSocket clients on /ws
# for 10 s: delay from each ticker's ts to its receipt, and the engine's RSS
# with them connected. okx-sim steps every 500 ms here, so every ticker is
# pushed as it comes: the dashboard's 4-a-second coalescing holds one back
# only when two come within 250 ms, and a held one's age is that wait, not
# the fan-out.
export DASH_HTTP="" DASH_WS=""
if [ -x "$build/bench/dash_load" ] && [ -f "$build/plugins/ui_dashboard.so" ] &&
  [ -f "$build/plugins/exchange_okx.so" ]; then
  cat >"$tmp/accounts.json" <<'JSON'
[{"apiKey": "bench-key", "secretKey": "bench-secret", "passphrase": "bench-pass", "demo": true,
  "posMode": "long_short_mode", "balances": {"USDT": "10000000"}}]
JSON
  url=$(start_sim --tick 500)
  ws=${url/http:/ws:}/ws/v5
  mkdir -p "$tmp/dash"
  cat >"$tmp/dash/dash.ini" <<EOF
[core]
data_dir = $tmp/dash/data
[storage.sqlite]
path = $tmp/dash/data/dash.db
[exchange.okx]
demo = true
api_key = env:OKXSIM_KEY
secret_key = env:OKXSIM_SECRET
passphrase = env:OKXSIM_PASSPHRASE
rest_url = $url
ws_public_url = $ws/public
ws_private_url = $ws/private
ws_business_url = $ws/business
instruments = BTC, ETH, SOL, DOGE, XRP, ADA, LTC, DOT, AVAX, LINK
[ui.dashboard]
port = 0
EOF
  "$build/aitrader" run -c "$tmp/dash/dash.ini" >"$tmp/dash/out" 2>&1 &
  dpid=$!
  for _ in $(seq 1 200); do # polls the condition; 20 s at most
    grep -q "exchange.okx: state up" "$tmp/dash/out" && grep -q "^dashboard: http" "$tmp/dash/out" && break
    sleep 0.1
  done
  line=$(grep "^dashboard: http" "$tmp/dash/out" || true)
  if [ -z "$line" ] || ! grep -q "exchange.okx: state up" "$tmp/dash/out"; then
    echo "bench: the engine with the dashboard did not come up within 20 s:" >&2
    tail -n 20 "$tmp/dash/out" >&2
    exit 1
  fi
  dport=$(sed -n 's|^dashboard: http://127.0.0.1:\([0-9]*\)/.*|\1|p' <<<"$line")
  dtoken=${line##*#token=}
  durl=http://127.0.0.1:$dport
  for inst in BTC ETH SOL; do
    for ps in long short; do
      side=buy; [ "$ps" = short ] && side=sell
      code=$(curl -s -o "$tmp/dash/order.json" -w '%{http_code}' -X POST "$durl/api/orders" \
        -H "Authorization: Bearer $dtoken" -H "Content-Type: application/json" \
        --data-raw "{\"account\":\"exchange.okx\",\"instId\":\"$inst-USDT-SWAP\",\"side\":\"$side\",\"posSide\":\"$ps\",\"ordType\":\"market\",\"sz\":\"1\",\"lever\":\"3\"}")
      if [ "$code" != 201 ]; then
        echo "bench: a manual order through the dashboard was answered $code: $(cat "$tmp/dash/order.json")" >&2
        exit 1
      fi
    done
  done
  npos=0
  for _ in $(seq 1 100); do # the 6 positions on the bus; 10 s at most
    npos=$(curl -s "$durl/api/accounts/exchange.okx/positions" |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
    [ "$npos" = 6 ] && break
    sleep 0.1
  done
  if [ "$npos" != 6 ]; then
    echo "bench: the dashboard shows $npos positions, not the 6 opened" >&2
    exit 1
  fi
  DASH_HTTP=$("$build/bench/dash_load" http "$durl" /api/accounts/exchange.okx/positions 64 5)
  DASH_WS=$("$build/bench/dash_load" ws "$durl" /ws 200 10 "$dpid")
  kill -INT "$dpid"; wait "$dpid" 2>/dev/null || true
  kill "$(cat "$tmp/sim.pid")"; wait "$(cat "$tmp/sim.pid")" 2>/dev/null || true
fi
# ---- end dashboard ----------------------------------------------------------

# ---- backtest (issue 14) ---------------------------------------------------
# aitrader backtest over 10 instruments of 1m candles (the tests/data BTC
# file under the 10 names of the instruments sample: throughput, not PnL)
# with the rules trader on all 10, indicator_ta, risk.limits and the paper
# venue: bars per second through the whole pipeline and the peak RSS.
BT_BARS=0; BT_S=0; BT_KB=0
if [ -x "$build/aitrader" ]; then
  mkdir -p "$tmp/bt"
  btargs=()
  bsyms=""
  for i in BTC ETH LTC DOT DOGE SOL TRX ADA AVAX LINK; do
    cp "$src/tests/data/okx_BTC-USDT-SWAP_1m_20260109-20260111.csv" "$tmp/bt/okx_$i-USDT-SWAP_1m.csv"
    btargs+=(--data "$tmp/bt/okx_$i-USDT-SWAP_1m.csv")
    bsyms="$bsyms${bsyms:+, }$i-USDT-SWAP"
  done
  cat >"$tmp/bt/bt.ini" <<EOF
[core]
plugin_dir = $build/plugins
[exchange.okx_data]
module = okx
[exchange.paper]
market = exchange.okx_data
[indicator.ta]
source = exchange.okx_data
[risk.limits]
[ai.rules]
[trader.rules]
ai = ai.rules
account = exchange.paper
symbols = $bsyms
EOF
  if /usr/bin/time -f "%e %M" -o "$tmp/bt/time" "$build/aitrader" backtest -c "$tmp/bt/bt.ini" \
      --instruments "$insts" "${btargs[@]}" >"$tmp/bt/out" 2>&1; then
    BT_BARS=$(sed -n 's/^backtest .*, \([0-9]*\) bars$/\1/p' "$tmp/bt/out")
    read -r BT_S BT_KB <"$tmp/bt/time"
  else
    echo "bench: the backtest failed:" >&2; tail -5 "$tmp/bt/out" >&2
  fi
fi
export BT_BARS BT_S BT_KB
# ---- end backtest ----------------------------------------------------------

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
python3 - "$out" "$machine" "$best" "$rps" "$bmps" "$gaps" "$lag" <<'PY'
import json, os, sys
out, machine, start, rps, bmps, gaps, lag = sys.argv[1:]
start, rps, bmps, gaps, lag = float(start), float(rps), float(bmps), int(gaps), float(lag)
figs = [
  {"name": "okxsim_startup", "unit": "ms", "value": start, "peer": "target", "peer_value": 100,
   "ratio": round(100 / max(start, 1), 2)},
  {"name": "okxsim_rest", "unit": "req/s", "value": round(rps), "peer": "target", "peer_value": 5000,
   "ratio": round(rps / 5000, 2)},
  # 10 instruments' books every 100 ms: "not falling behind" is the push lag
  # (book ts to arrival) staying under one period, with no seqId gap.
  {"name": "okxsim_books_10x100ms_lag_p99", "unit": "ms", "value": lag, "peer": "target (one 100 ms period)",
   "peer_value": 100, "ratio": round(100 / max(lag, 1), 2), "msgs_per_s": bmps, "seqid_gaps": gaps},
]
# okx_ingest: msgs/s vs ccxt on the same stream (target ratio >= 20);
# okx_ingest_p99: frame -> event latency vs the 20 us target.
imps, ip50, ip99, cmps = (os.environ.get(k, "") for k in
                          ("OKX_INGEST_MPS", "OKX_INGEST_P50", "OKX_INGEST_P99", "OKX_INGEST_CCXT_MPS"))
if imps and cmps:
  figs.append({"name": "okx_ingest", "unit": "msgs/s", "value": round(float(imps)), "peer": "ccxt 4.5.84",
               "peer_value": round(float(cmps)), "ratio": round(float(imps) / float(cmps), 2),
               "target_ratio": 20})
i0, c0 = os.environ.get("OKX_INGEST0_MPS", ""), os.environ.get("OKX_INGEST0_CCXT_MPS", "")
if i0 and c0:
  figs.append({"name": "okx_ingest_no_checksum", "unit": "msgs/s", "value": round(float(i0)),
               "peer": "ccxt 4.5.84", "peer_value": round(float(c0)), "ratio": round(float(i0) / float(c0), 2),
               "target_ratio": 20, "note": "books with checksum 0, as OKX sends them since 2026-06"})
if ip99:
  figs.append({"name": "okx_ingest_p99", "unit": "us", "value": float(ip99), "peer": "target",
               "peer_value": 20, "ratio": round(20 / max(float(ip99), 0.001), 2), "p50_us": float(ip50)})
rss, priv, pss = (os.environ.get(k, "") for k in ("ENGINE_RSS_KB", "ENGINE_PRIV_KB", "ENGINE_PSS_KB"))
if rss:
  mb = float(rss) / 1024
  figs.append({"name": "engine_rss_10_instruments", "unit": "MB", "value": round(mb, 1), "peer": "target",
               "peer_value": 15, "ratio": round(15 / mb, 2), "private_mb": round(float(priv or 0) / 1024, 1),
               "pss_mb": round(float(pss or 0) / 1024, 1)})
# ta_throughput: lib/ta standard set vs technicalindicators (target ratio >= 30).
tbps, tpeer, tapi, tbars = (os.environ.get(k, "") for k in ("TA_BPS", "TA_PEER_BPS", "TA_PEER_API", "TA_BARS"))
if tbps and tpeer:
  figs.append({"name": "ta_throughput", "unit": "bars/s", "value": round(float(tbps)),
               "peer": "technicalindicators 3.1.0", "peer_value": round(float(tpeer)),
               "ratio": round(float(tbps) / float(tpeer), 2), "target_ratio": 30,
               "peer_api": tapi, "bars": int(tbars or 0)})
# sched_report: pooled median delay move -> AI call, ours vs fixed 12 min.
sj = os.environ.get("SCHED_JSON", "")
if sj and os.path.exists(sj):
  rows = {r["schedule"]: r for r in map(json.loads, open(sj)) if r["dataset"] == "all"}
  if "adaptive" in rows and "fixed 12m" in rows:
    a, p = rows["adaptive"], rows["fixed 12m"]
    figs.append({"name": "sched_median_delay_vs_12m", "unit": "min", "value": a["median_delay_min"],
                 "peer": "fixed 12 min", "peer_value": p["median_delay_min"],
                 "ratio": round(p["median_delay_min"] / max(a["median_delay_min"], 0.01), 2),
                 "calls_per_day": a["calls_per_day"], "peer_calls_per_day": p["calls_per_day"],
                 "p90_delay_min": a["p90_delay_min"], "peer_p90_delay_min": p["p90_delay_min"],
                 "moves": a["moves"]})
# trading loop (issue 10): decision -> request out to okx-sim p99 vs the
# 1 ms target; context render for 10 symbols (no target: shown against 1 ms);
# prompt tokens, ratio = seed / ours (the issue asks >= 2).
def kv(text):
  return dict(l.split(" ", 1) for l in text.splitlines() if " " in l)
lo, co = kv(os.environ.get("LOOP_OUT", "")), kv(os.environ.get("CTX_OUT", ""))
if "decision_wire_us_p99" in lo:
  p99 = float(lo["decision_wire_us_p99"]) / 1000
  ms = lambda k: round(float(lo[k]) / 1000, 3) if k in lo else None
  figs.append({"name": "decision_to_wire_p99", "unit": "ms", "value": round(p99, 3), "peer": "target",
               "peer_value": 1, "ratio": round(1 / max(p99, 0.001), 2),
               "p50_ms": ms("decision_wire_us_p50"), "max_ms": ms("decision_wire_us_max"),
               "ack_p50_ms": ms("decision_ack_us_p50"), "ack_p99_ms": ms("decision_ack_us_p99"),
               "ack_max_ms": ms("decision_ack_us_max"),
               "disk_fdatasync_p50_ms": ms("disk_fdatasync_us_p50"),
               "disk_fdatasync_p99_ms": ms("disk_fdatasync_us_p99"),
               "rounds": int(lo["decision_order_rounds"]), "pace_ms": int(lo["decision_order_pace_ms"]),
               "synchronous": "full"})
ln = kv(os.environ.get("LOOP_NORMAL", ""))
if "decision_wire_us_p99" in ln:
  p99n = float(ln["decision_wire_us_p99"]) / 1000
  figs.append({"name": "decision_to_wire_p99_sync_normal", "unit": "ms", "value": round(p99n, 3),
               "peer": "target", "peer_value": 1, "ratio": round(1 / max(p99n, 0.001), 2),
               "p50_ms": round(float(ln["decision_wire_us_p50"]) / 1000, 3),
               "max_ms": round(float(ln["decision_wire_us_max"]) / 1000, 3),
               "rounds": int(ln["decision_order_rounds"]), "synchronous": "normal"})
if "context_build_us_p50" in co:
  c50 = float(co["context_build_us_p50"])
  figs.append({"name": "context_build_10_symbols", "unit": "us", "value": c50, "peer": "1 ms",
               "peer_value": 1000, "ratio": round(1000 / max(c50, 0.1), 2),
               "p99_us": float(co["context_build_us_p99"]), "bytes": int(co["context_render_bytes"])})
  ours, seed = int(co["prompt_tokens_ours"]), int(co["prompt_tokens_seed"])
  figs.append({"name": "prompt_tokens_10_symbols", "unit": "tokens", "value": ours,
               "peer": "seed prompt (reconstructed)", "peer_value": seed, "ratio": round(seed / ours, 2),
               "target_ratio": 2})
# dashboard (issue 11): positions route req/s (target >= 30,000) and p99
# (target <= 5 ms) over 64 keep-alive connections; /ws fan-out delay p99 to
# 200 clients (no target: shown against one 250 ms push period, the most a
# ticker may wait to be pushed) with the engine's RSS then.
dh, dw = kv(os.environ.get("DASH_HTTP", "")), kv(os.environ.get("DASH_WS", ""))
if "dash_http_rps" in dh:
  drps, dp99 = float(dh["dash_http_rps"]), float(dh["dash_http_p99_us"]) / 1000
  common = {"conns": int(dh["dash_http_conns"]), "requests": int(dh["dash_http_requests"]),
            "errors": int(dh["dash_http_errors"]), "body_bytes": int(dh["dash_http_body_bytes"])}
  figs.append({"name": "dashboard_positions_rps", "unit": "req/s", "value": round(drps),
               "peer": "target", "peer_value": 30000, "ratio": round(drps / 30000, 2), **common})
  figs.append({"name": "dashboard_positions_p99", "unit": "ms", "value": round(dp99, 2),
               "peer": "target", "peer_value": 5, "ratio": round(5 / max(dp99, 0.001), 2),
               "p50_ms": round(float(dh["dash_http_p50_us"]) / 1000, 2),
               "max_ms": round(float(dh["dash_http_max_us"]) / 1000, 2), **common})
if "dash_ws_delay_ms_p99" in dw:
  wp99 = float(dw["dash_ws_delay_ms_p99"])
  rss_mb = float(dw.get("dash_ws_engine_rss_kb", 0)) / 1024
  figs.append({"name": "dashboard_ws_fanout_p99", "unit": "ms", "value": wp99,
               "peer": "one 250 ms push period", "peer_value": 250, "ratio": round(250 / max(wp99, 0.01), 2),
               "p50_ms": float(dw["dash_ws_delay_ms_p50"]), "max_ms": float(dw["dash_ws_delay_ms_max"]),
               "clients": int(dw["dash_ws_clients"]), "tickers": int(dw["dash_ws_tickers"]),
               "tickers_per_client_min": int(dw["dash_ws_tickers_per_client_min"]),
               "tickers_per_client_max": int(dw["dash_ws_tickers_per_client_max"])})
  # no target of its own: against the engine's 15 MB target without the
  # dashboard (engine_rss_10_instruments, the same 10 instruments)
  figs.append({"name": "dashboard_engine_rss_200_ws", "unit": "MB", "value": round(rss_mb, 1),
               "peer": "engine_rss_10_instruments target", "peer_value": 15,
               "ratio": round(15 / max(rss_mb, 0.1), 2),
               "without_dashboard_mb": round(float(rss) / 1024, 1) if rss else None})
bt_bars, bt_s, bt_kb = (float(os.environ.get(k) or 0) for k in ("BT_BARS", "BT_S", "BT_KB"))
if bt_bars and bt_s:
  # bars of all 10 files (the report counts them all) per wall-clock second,
  # the whole pipeline included
  bps = bt_bars / bt_s
  figs.append({"name": "backtest_bars_per_s_10_instruments", "unit": "bars/s", "value": round(bps),
               "peer": "target", "peer_value": 2000000, "ratio": round(bps / 2000000, 4),
               "bars": int(bt_bars), "seconds": bt_s})
  figs.append({"name": "backtest_rss_10_instruments", "unit": "MB", "value": round(bt_kb / 1024, 1),
               "peer": "engine_rss_10_instruments target", "peer_value": 15,
               "ratio": round(15 / max(bt_kb / 1024, 0.1), 2)})
json.dump({"machine": machine, "figures": figs}, open(out, "w"), indent=1)
print(f"{'benchmark':28} {'value':>12} {'unit':8} {'peer':>12} {'ratio':>7}")
for f in figs:
    print(f"{f['name']:28} {f['value']:>12} {f['unit']:8} {f['peer_value']:>12} {f['ratio']:>7}")
print(f"books: {bmps:.1f} updates/s over 10 instruments, {gaps} seqId gaps; written {out}")
if "decision_wire_us_p99" in lo:
  us = lambda k: lo.get(k, "?")
  print(f"decision -> wire: p50 {us('decision_wire_us_p50')} us, p99 {us('decision_wire_us_p99')} us, "
        f"max {us('decision_wire_us_max')} us; okx-sim ack (wire -> ORDER_RESULT): p50 "
        f"{us('decision_ack_us_p50')} us, p99 {us('decision_ack_us_p99')} us, max "
        f"{us('decision_ack_us_max')} us; {us('decision_order_rounds')} rounds paced "
        f"{us('decision_order_pace_ms')} ms apart; this disk's fdatasync p50 "
        f"{us('disk_fdatasync_us_p50')} us, p99 {us('disk_fdatasync_us_p99')} us")
if "dash_ws_delay_ms_p99" in dw:
  print(f"dashboard: positions {dh.get('dash_http_rps', '?')} req/s over 64 connections, p50 "
        f"{dh.get('dash_http_p50_us', '?')} us, p99 {dh.get('dash_http_p99_us', '?')} us; /ws to 200 "
        f"clients: ticker delay p50 {dw['dash_ws_delay_ms_p50']} ms, p99 {dw['dash_ws_delay_ms_p99']} ms, "
        f"engine RSS {rss_mb:.1f} MB")
PY

if [ ${#missing[@]} -gt 0 ]; then
  for m in "${missing[@]}"; do
    echo "bench: no peer figure for $m" >&2
  done
  [ "$peers_ok" = 1 ] || echo "bench: the npm peers could not be installed (see above)" >&2
  exit 1
fi
