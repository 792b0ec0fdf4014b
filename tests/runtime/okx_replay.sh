#!/usr/bin/env bash
# exchange_okx records its public frames, and a later engine with okx-sim
# gone replays the recording offline (instruments from a saved file): the
# same TICKER events in the same order, the same final books, and
# exchange_paper trades on the replayed market at the recorded book prices.
# The recording carries its instrument list (an instruments: line), so a
# replay needs no network at all: with replay_at = recorded each frame is
# played when the clock reaches its recorded time, for a paper venue whose
# instruments come from the recording too.
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
frames=$(grep -cE '^[0-9]+\.[0-9]{6}: [{p]' rec.txt)
check "frames recorded, one a line with its time ($frames)" [ "$frames" -gt 40 ]
check "the instrument list first, once (one load), then only frames" \
  [ "$(head -c 13 rec.txt)" = "instruments: " -a "$(grep -c '^instruments: ' rec.txt)" = 1 \
    -a "$(wc -l <rec.txt)" = $((frames + 1)) ]
check "the list holds the followed instruments' rows as okx-sim sent them" python3 - <<'PY'
import json
line = open("rec.txt").readline()
doc = json.loads(line[len("instruments: "):])
rows = {r["instId"]: r for r in json.load(open("inst.json"))["data"]}
got = doc["data"]
assert doc["code"] == "0", doc["code"]
assert sorted(r["instId"] for r in got) == ["BTC-USDT-SWAP", "ETH-USDT-SWAP"], got
assert all(r == rows[r["instId"]] for r in got)
PY
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
# subseq A B: A's lines appear in B in order. Live, a busy bus may fold a
# ticker into the next one (they coalesce) before a subscriber sees it; a
# replay plays a frame a loop turn, so it publishes every one.
subseq() {
  python3 - "$1" "$2" <<'PY'
import sys
a, b = (open(p).read().splitlines() for p in sys.argv[1:])
it = iter(b)
sys.exit(0 if a and all(x in it for x in a) else 1)
PY
}
check "the live tickers, in order, are among what the replay published" subseq live.tickers replay.tickers
check "one ticker a recorded ticker item" \
  [ "$(wc -l <replay.tickers)" = "$(grep -o '"channel":"tickers"' rec.txt | wc -l)" ]
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
; a quarter of the recorded pace: the order must reach the venue while the
; recording still plays (under a loaded ASan run it once came after its end)
replay_speed = 0.25
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
check "with the reason" contains bad.out "a replay records nothing: remove record from this instance"
sed -i "s#^replay = .*#replay = $RT_TMP/nothere.rec#; /^record/d" bad.ini
"$AITRADER" run -c bad.ini >bad2.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_exit "$ENGINE"
check "a missing recording is refused at start" [ "$RT_RC" != 0 ]
check "naming the file" contains bad2.out "replay: cannot read $RT_TMP/nothere.rec: No such file or directory"
sed -i "s#^replay = .*#replay = $RT_TMP/rec.txt#; \$a replay_at = recorded\nreplay_speed = 0" bad.ini
rc=0; "$AITRADER" check-config -c bad.ini >bad3.out 2>&1 || rc=$?
check "replay_at = recorded with another speed is refused by check-config" [ "$rc" = 2 ]
check "at the file and line of replay_speed" \
  contains bad3.out "bad.ini:$(grep -n '^replay_speed' bad.ini | cut -d: -f1): [exchange.okx_data] replay_speed: replay_at = recorded plays each frame at its recorded time"

# --- 5. offline, nothing but the recording: replay_at = recorded, paper ------
# The recording's frames moved (all by one offset, to the microsecond) to
# start 5 s from now, so on the real clock they are still to come: each
# must wait for its time. Both instances take their instruments from the
# recording; every URL is a closed port.
python3 - "$frames" <<'PY'
import sys, time
out, first, last, n = [], None, None, 0
shift = None
for line in open("rec.txt"):
    head, sep, rest = line.partition(": ")
    if line.startswith("instruments: "):
        out.append(line)
        continue
    sec, frac = head.split(".")
    us = int(sec) * 1000000 + int(frac)
    if shift is None:
        shift = int(time.time() * 1e6) + 5000000 - us
    us += shift
    first = us if first is None else first
    last = us
    n += 1
    out.append("%d.%06d: %s" % (us // 1000000, us % 1000000, rest))
assert n == int(sys.argv[1]), (n, sys.argv[1])
open("rec-at.txt", "w").writelines(out)
open("rec-at.times", "w").write("%d %d\n" % (first, last))
PY
read -r first_us last_us <rec-at.times
cat >offline.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data5
[storage.sqlite]
path = $RT_TMP/data5/engine.db
[exchange.okx_data]
module = okx
rest_url = http://127.0.0.1:9
instruments = BTC, ETH
replay = $RT_TMP/rec-at.txt
replay_at = recorded
[exchange.paper]
market = exchange.okx_data
rest_url = http://127.0.0.1:9
instruments_file = $RT_TMP/rec-at.txt
instruments = BTC
balance = 1000
[source.driver]
log_file = $RT_TMP/offline.log
intent_file = $RT_TMP/intents5.txt
EOF2
touch intents5.txt
"$AITRADER" run -c offline.ini >offline.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log offline.out "exchange.paper: state up" 30
check "the replay took its instruments from the recording" \
  contains offline.out "exchange.okx_data: instrument list from $RT_TMP/rec-at.txt:1"
check "and so did the paper venue" \
  contains offline.out "exchange.paper: instrument list from $RT_TMP/rec-at.txt:1"
check "played at the recorded times" contains offline.out "replaying $RT_TMP/rec-at.txt at the recorded times"
echo "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=1 id=ra-1" >>intents5.txt
wait_log offline.log "FILL exchange.paper BTC-USDT-SWAP cl=ra1" 10
px=$(sed -n 's/^FILL exchange.paper BTC-USDT-SWAP cl=ra1 px=\([0-9.]*\) .*/\1/p' offline.log | head -1)
check "paper market order filled at a best ask that was live ($px)" grep -q "^BOOK BTC-USDT-SWAP .* ask0=$px\$" live.log
wait_log offline.out "replay of $RT_TMP/rec-at.txt finished: $frames frames played" 20
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "offline engine stops cleanly" [ "$RT_RC" = 0 ]
check "nothing asked of the network" lacks offline.out "retrying in 5 s"
# Log times are the wall clock's, in milliseconds: the venue saw its first
# price no earlier than the first frame's time, the replay ended no earlier
# than the last one's (and not seconds late).
logged_us() { # logged_us TEXT: the time of the first log line holding TEXT
  grep -F -- "$1" offline.out | head -1 | cut -d' ' -f1 |
    python3 -c 'import sys, datetime; t = sys.stdin.read().strip(); print(int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000) * 1000)'
}
up_us=$(logged_us "exchange.paper: state up")
done_us=$(logged_us "replay of $RT_TMP/rec-at.txt finished")
check "no price before the first frame's recorded time" [ "$up_us" -ge $((first_us / 1000 * 1000)) ]
check "the last frame not before its recorded time" [ "$done_us" -ge $((last_us / 1000 * 1000)) ]
check "nor long after it" [ "$done_us" -le $((last_us + 3000000)) ]
grep '^TICKER' offline.log >offline.tickers
check "the live tickers, in order, are among what the offline replay published" \
  subseq live.tickers offline.tickers
check "frames still to come: no warning about past times" lacks offline.out "the recording's first frame is"
# The same with the recording as it was (its times past on this clock): it
# plays at once, and says so.
sed "s#rec-at.txt#rec.txt#g; s#data5#data6#g" offline.ini >past.ini
"$AITRADER" run -c past.ini >past.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log past.out "exchange.okx_data: replay of $RT_TMP/rec.txt finished" 30
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "recorded times already past: said, with how far" \
  grep -qE "exchange.okx_data: replay_at = recorded: the recording's first frame is [0-9.]+ s before this clock's now, so what is past plays at once" past.out
rt_finish
