#!/usr/bin/env bash
# The offline demo as `make demo` runs it (scripts/demo.sh, here on this
# build and a temp data dir, the dashboard on any free port): within a
# minute of the URL the dashboard's API shows a BTC-USDT-SWAP ticker, a
# valid decision that opens for each trader (okx-sim's demo account and the
# paper venue) and a filled order on each account; SIGINT to the script
# stops the engine, then okx-sim, both with status 0, and the script exits 0.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
data=$RT_TMP/demo

# Job control on while it starts: a background job of a script otherwise
# ignores SIGINT, and the script could not trap it.
set -m
DEMO_DATA=$data DEMO_PORT=0 bash "$AT_SOURCE_DIR/scripts/demo.sh" "$AT_BUILD_DIR" >demo.out 2>&1 &
DEMO=$!
set +m
RT_PIDS+=("$DEMO")
wait_log demo.out "Dashboard: http://127.0.0.1:" 60
for f in engine okx-sim; do # killed at the end of the test whatever happens
  RT_PIDS+=("$(cat "$data/$f.pid")")
done
API=$(sed -n 's|^ *Dashboard: \(http://127.0.0.1:[0-9]*\)/#token=[0-9a-f]*$|\1|p' demo.out)
check "the URL carries the token" [ -n "$API" ]

# api_has NAME PATH EXPR: the JSON at PATH (as `d`) makes EXPR true.
api_has() {
  curl -sf "$API$2" >"$1.json" 2>/dev/null &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
      "$1.json" "$3" 2>/dev/null
}
# shown WHAT NAME PATH EXPR: waits (until the minute is up) for api_has.
deadline=$((SECONDS + 60))
shown() {
  local what=$1; shift
  while ! api_has "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      not_ok "within a minute: $what (last answer: $(head -c 300 "$1.json" 2>/dev/null))"
      return
    fi
    sleep 0.5
  done
  ok "within a minute: $what"
}
shown "a BTC-USDT-SWAP ticker" tickers /api/market/tickers \
  'any(t["instId"] == "BTC-USDT-SWAP" and float(t["last"]) > 0 for t in d)'
for t in sim paper; do
  shown "a decision of trader.$t that opens" "dec-$t" "/api/decisions?trader=$t" \
    'any(x["valid"] and any(a["action"].startswith("open_") for a in x["actions"]["decisions"]) for x in d)'
done
for a in exchange.okx_demo exchange.paper; do
  shown "a filled order on $a" "ord-$a" "/api/accounts/$a/orders?state=history" \
    'any(o["state"] == "filled" and o["origin"] in ("sim", "paper") for o in d)'
done
shown "a price that moves (okx-sim replays 60x)" tickers2 /api/market/tickers \
  'any(t["last"] != x["last"] for t in d for x in json.load(open("tickers.json")))'

# Ctrl-C: the script stops the engine, then okx-sim.
engine=$(cat "$data/engine.pid") sim=$(cat "$data/okx-sim.pid")
kill -INT "$DEMO"
wait_exit "$DEMO" 60
check "the demo exits 0 after SIGINT" [ "$RT_RC" = 0 ]
check "the engine stopped cleanly" contains demo.out "demo: engine exited with status 0"
check "okx-sim stopped cleanly" contains demo.out "demo: okx-sim exited with status 0"
check "the engine's own clean stop" contains "$data/engine.log" "core: stopped"
check "the engine stopped before okx-sim" \
  [ "$(grep -n 'engine exited' demo.out | cut -d: -f1)" -lt "$(grep -n 'okx-sim exited' demo.out | cut -d: -f1)" ]
check "no process left" bash -c "! kill -0 $engine 2>/dev/null && ! kill -0 $sim 2>/dev/null"

rt_finish
