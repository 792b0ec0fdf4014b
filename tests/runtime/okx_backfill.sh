#!/usr/bin/env bash
# exchange_okx's `backfill` against okx-sim: at start the last N closed
# candles come over REST and are published oldest first, one minute apart,
# with okx-sim's own values, before any live candle of the business
# WebSocket (the open one is left to it) and before any ticker of the public
# one, which waits for it too; check-config refuses backfill
# without candles, with a replay, and over OKX's 300.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

# Every REST answer 300 ms late: the WebSockets would be up long before the
# backfill's answer if they did not wait for it.
sim_start sim.out --seed 3 --fault latency=300
WS=${URL/http:/ws:}/ws/v5

section() {
  cat <<EOF
[exchange.md]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = BTC-USDT-SWAP
EOF
  printf '%s\n' "$@"
}
{
  ini_core
  section "candles = 1m" "backfill = 40" "record = $RT_TMP/frames.rec"
  ini_driver
} >engine.ini
# okx-sim's candles are wall-clock minutes: start well inside one, so that the
# backfill, the first live candle and the REST answer compared with them all
# fall in the same minute (at most 20 s of waiting).
i=0
while [ $(($(date +%s) % 60)) -lt 2 ] || [ $(($(date +%s) % 60)) -gt 40 ]; do
  [ $i -lt 200 ] || break
  sleep 0.1; i=$((i + 1))
done
engine_start
wait_log engine.out "backfill: 39 closed BTC-USDT-SWAP 1m candles from REST" 20
wait_log events.log "confirmed=0" 20 # the open candle, from the WebSocket
# okx-sim's own closed candles (newest first), as "open_ms close" oldest first.
curl -s "$URL/api/v5/market/candles?instId=BTC-USDT-SWAP&bar=1m&limit=100" >rest.json
python3 - rest.json >rest.txt <<'EOF'
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["data"] if r[8] == "1"]
for r in reversed(rows):
    print(r[0], r[4])
EOF
sed -n 's/^CANDLE BTC-USDT-SWAP bar=60 close=\([^ ]*\) open_ms=\([0-9]*\) confirmed=\([01]\)$/\2 \1 \3/p' \
  events.log >candles.txt
# The candles before the first open (confirmed=0) one: the backfill.
awk '$3 == 0 { exit } { print $1, $2 }' candles.txt >backfilled.txt
check "39 backfilled candles before the first live one" [ "$(wc -l <backfilled.txt)" = 39 ]
closed_recorded() { python3 - frames.rec <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    ts, _, frame = line.partition(": ")
    if '"channel":"candle1m"' in frame:
        seen |= {r[0] for r in json.loads(frame)["data"] if r[8] == "1"}
print(len(seen))
PY
}
check "the backfill is recorded as frames, 39 closed candles (a replay fetches nothing)" \
  [ "$(closed_recorded)" -ge 39 ]
check "oldest first, one minute apart" awk 'NR > 1 && $1 != prev + 60000 { bad = 1 } { prev = $1 } END { exit bad }' backfilled.txt
check "okx-sim's closed candles, values and times" \
  bash -c 'grep -qxFf backfilled.txt rest.txt && [ "$(grep -cxFf backfilled.txt rest.txt)" = 39 ]'
check "the newest backfilled candle is okx-sim's newest closed one" \
  [ "$(tail -n 1 backfilled.txt | cut -d' ' -f1)" = "$(tail -n 1 rest.txt | cut -d' ' -f1)" ]
first_ticker=$(grep -n '^TICKER ' events.log | head -n 1 | cut -d: -f1)
last_fetched=$(grep -n 'confirmed=1$' events.log | sed -n 39p | cut -d: -f1)
check "no ticker before the fetched candles (the public feed waits too)" \
  [ "${first_ticker:-0}" -gt "${last_fetched:-1000000}" ]
live_open=$(awk '$3 == 0 { print $1; exit }' candles.txt)
check "the live candle is the next minute" [ "$live_open" = "$(($(tail -n 1 backfilled.txt | cut -d' ' -f1) + 60000))" ]
engine_stop

# The refusals, at their line.
refused() { # refused WHAT TEXT LINE...: check-config exits 2 naming backfill and TEXT
  local what=$1 text=$2; shift 2
  { ini_core; section "$@"; } >bad.ini
  local rc=0
  "$AITRADER" check-config -c bad.ini >bad.out 2>&1 || rc=$?
  check "$what: exit 2" [ "$rc" = 2 ]
  check "$what: says why" contains bad.out "[exchange.md] backfill: $text"
}
refused "backfill without candles" "no candles are subscribed" "candles =" "backfill = 10"
echo '1767225600: {"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":[]}' >rec.txt
refused "backfill with a replay" "a replay has no candles" "replay = $RT_TMP/rec.txt" "backfill = 10"
refused "backfill over 300" "" "backfill = 301"

rt_finish
