#!/usr/bin/env bash
# exchange_okx records its public frames, and a later engine with okx-sim
# gone replays the recording offline (instruments from a saved file): the
# same TICKER events in the same order, the same final books, and
# exchange_paper trades on the replayed market at the recorded book prices.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_start sim.out --seed 12
WS=${URL/http:/ws:}/ws/v5
curl -s -o inst.json "$URL/api/v5/public/instruments?instType=SWAP"
check "instrument list saved" grep -q '"code":"0"' inst.json

# --- 1. record 3 s of live (okx-sim) market data ----------------------------
cat >record.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data1
[storage.sqlite]
path = $RT_TMP/data1/engine.db
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = BTC, ETH
candles =
record = $RT_TMP/rec.txt
[source.driver]
log_file = $RT_TMP/live.log
EOF2
"$AITRADER" run -c record.ini >record.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log record.out "exchange.okx_data: state up" 20
# Enough for every check below: 20 books and 3 tickers of each instrument.
for inst in BTC-USDT-SWAP ETH-USDT-SWAP; do
  wait_count live.log "BOOK $inst" 20 20
  wait_count live.log "TICKER $inst" 3 20
done
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "recording engine stops cleanly" [ "$RT_RC" = 0 ]
check "says where it records" contains record.out "recording the market frames to $RT_TMP/rec.txt"
frames=$(wc -l <rec.txt)
check "frames recorded, one a line with its time ($frames)" [ "$(grep -cE '^[0-9]+\.[0-9]{6}: [{p]' rec.txt)" = "$frames" ]
check "books and tickers in the recording" grep -q '"channel":"books"' rec.txt
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null

# --- 2. replay it offline, as fast as possible --------------------------------
cat >replay.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data2
[storage.sqlite]
path = $RT_TMP/data2/engine.db
[exchange.okx_data]
module = okx
rest_url = http://127.0.0.1:9
instruments_file = $RT_TMP/inst.json
instruments = BTC, ETH
replay = $RT_TMP/rec.txt
replay_speed = 0
[source.driver]
log_file = $RT_TMP/replay.log
EOF2
"$AITRADER" run -c replay.ini >replay.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log replay.out "replay of $RT_TMP/rec.txt finished: $frames frames played" 20
check "every recorded frame played" contains replay.out "finished: $frames frames played"
check "no unreadable frame" lacks replay.out "unreadable market frame"
check "state tells the replay is over" contains replay.out "exchange.okx_data: state degraded: 2 instruments; replay finished"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "replay engine stops cleanly" [ "$RT_RC" = 0 ]
grep '^TICKER' live.log >live.tickers
grep '^TICKER' replay.log >replay.tickers
n=$(wc -l <live.tickers)
check "tickers replayed ($n live)" [ "$n" -gt 5 ]
check "the live tickers, in order, are what the replay published" \
  [ "$(head -n "$n" replay.tickers | md5sum)" = "$(md5sum <live.tickers)" ]
for inst in BTC-USDT-SWAP ETH-USDT-SWAP; do
  want=$(grep "^BOOK $inst" live.log | tail -1)
  got=$(grep "^BOOK $inst" replay.log | tail -1)
  check "$inst book after the replay as it was live" [ -n "$want" -a "$want" = "$got" ]
done

# --- 3. paper-trade the replayed market at the recorded pace -----------------
cat >paper.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data3
[storage.sqlite]
path = $RT_TMP/data3/engine.db
[exchange.okx_data]
module = okx
instruments_file = $RT_TMP/inst.json
instruments = BTC, ETH
replay = $RT_TMP/rec.txt
[exchange.paper]
market = exchange.okx_data
instruments_file = $RT_TMP/inst.json
instruments = BTC
balance = 1000
[source.driver]
log_file = $RT_TMP/paper.log
intent_file = $RT_TMP/intents.txt
EOF2
touch intents.txt
"$AITRADER" run -c paper.ini >paper.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log paper.out "exchange.paper: state up" 20
echo "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=1 id=rp-1" >>intents.txt
wait_log paper.log "FILL exchange.paper BTC-USDT-SWAP cl=rp1" 10
px=$(sed -n 's/^FILL exchange.paper BTC-USDT-SWAP cl=rp1 px=\([0-9.]*\) .*/\1/p' paper.log | head -1)
check "paper market order filled on the replayed book ($px)" grep -q "^BOOK BTC-USDT-SWAP .* ask0=$px\$" paper.log
check "and at a best ask that was live" grep -q "^BOOK BTC-USDT-SWAP .* ask0=$px\$" live.log
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "paper engine stops cleanly" [ "$RT_RC" = 0 ]

# --- 4. replay is market data only ---------------------------------------------
cat >bad.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data4
[exchange.okx_data]
module = okx
replay = $RT_TMP/rec.txt
record = $RT_TMP/again.txt
EOF2
"$AITRADER" run -c bad.ini >bad.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_exit "$ENGINE"
check "replay and record together are refused" [ "$RT_RC" != 0 ]
check "with the reason" contains bad.out "replay plays market data only: remove record from this instance"
sed -i "s#^replay = .*#replay = $RT_TMP/nothere.rec#; /^record/d" bad.ini
"$AITRADER" run -c bad.ini >bad2.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_exit "$ENGINE"
check "a missing recording is refused at start" [ "$RT_RC" != 0 ]
check "naming the file" contains bad2.out "replay: cannot read $RT_TMP/nothere.rec: No such file or directory"
rt_finish
