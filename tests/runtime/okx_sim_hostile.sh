#!/usr/bin/env bash
# okx-sim against hostile clients (issue 9, item 10): connections that send
# nothing or half a request are closed by the timeouts; over --max-conns the
# surplus gets a 503 while connected clients go on; out of descriptors
# (ulimit -n 64) it pauses accepting instead of spinning and logs it once; a
# client that sends pipelined requests or subscribes without reading is
# dropped with okx-sim's memory bounded; subscriptions with extra fields do
# not multiply; the subscription cap answers OKX-style error 60014.
# The clients are in okx_sim_hostile.py (python3, loopback only).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
H="$AT_SOURCE_DIR/tests/runtime/okx_sim_hostile.py"
# Under ASan freed memory sits in a quarantine (256 MB by default) and would
# count as growth: keep it small so RSS measures what okx-sim holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"

port() { echo "${URL##*:}"; }
kv() { sed -n "s/^$2=//p" "$1"; } # kv FILE KEY
stop_sim() { kill "$SIM_PID" 2>/dev/null || true; wait_exit "$SIM_PID" 10; }
# serves: the sim answers a REST request (retried while connections close)
serves() {
  local i=0
  while [ $i -lt 50 ]; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v5/public/time")" = 200 ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# --- options ----------------------------------------------------------------------
"$SIM" --help >help.txt
for o in max-conns max-output request-timeout idle-timeout max-subs; do
  check "--help documents --$o" grep -q -- "--$o" help.txt
done
check "--help gives the defaults" grep -q "(512)" help.txt
rc=0; "$SIM" --max-conns 0 2>bad.err || rc=$?
check "--max-conns 0 is refused with exit 2" [ "$rc" = 2 ]
rc=0; "$SIM" --request-timeout 1500.5 2>bad.err || rc=$?
check "--request-timeout 1500.5 is refused" [ "$rc:$(grep -c 'whole number' bad.err)" = 2:1 ]

# --- timeouts: silent, half-sent and idle keep-alive connections are closed --------
# 2 s for a request: the keep-alive probe opened after 40 hostile sockets must
# not miss it on a loaded box; the idle timeout is the one that closes it.
sim_start idle.out --request-timeout 2000 --idle-timeout 800
python3 "$H" "$(port)" idle 20 15 >idle.kv || true
check "keep-alive still serves a second request" [ "$(kv idle.kv keepalive_again)" = 200 ]
check "every silent, half-sent and idle connection is closed ($(kv idle.kv closed)/$(kv idle.kv opened))" \
  [ "$(kv idle.kv opened):$(kv idle.kv closed)" = 41:41 ]
check "serves after" serves
stop_sim
check "the 41 timeouts are counted at exit" grep -q "timed out 41," idle.out.err

# --- connection cap: the surplus gets 503, connected clients go on ----------------
sim_start cap.out --max-conns 8
python3 "$H" "$(port)" cap 8 >cap.kv || true
cat cap.kv
check "connections over --max-conns 8 that send a 1 MB request read the whole 503 ($(kv cap.kv surplus_answers))" \
  [ "$(kv cap.kv surplus_503)" = 1 ]
check "with OKX's 50001" [ "$(kv cap.kv surplus_code)" = 50001 ]
check "a client connected before is still served" [ "$(kv cap.kv after_status)" = 200 ]
check "new clients are served once connections close" serves
check "the refusal is logged" grep -q "refusing connections over --max-conns 8" cap.out.err
stop_sim

# --- out of descriptors: accepting pauses, no busy loop, one log line ------------
(ulimit -n 64 && exec "$SIM" --port 0) >flood.out 2>flood.err &
SIM_PID=$!
RT_PIDS+=("$SIM_PID")
wait_log flood.out "okx-sim listening on http://127.0.0.1:"
URL=$(sed -n 's/^okx-sim listening on //p' flood.out)
python3 "$H" "$(port)" flood "$SIM_PID" 64 200 1 >flood.kv || true
cat flood.kv
check "the flood used up okx-sim's descriptors" [ "$(kv flood.kv server_fds)" -ge 63 ]
check "no busy loop while out of descriptors (cpu $(kv flood.kv cpu_pct) % < 30 %)" \
  [ "$(kv flood.kv cpu_pct)" -lt 30 ]
check "serves after the flood" serves
n=$(grep -ciE 'accept|open files' flood.err || true)
check "the accept failure is logged, at most twice ($n lines)" [ "$n" -ge 1 -a "$n" -le 2 ]
check "with the error and a count" grep -q "accept failed (Too many open files).*pauses so far" flood.err
stop_sim

# --- a non-reading client with pipelined requests --------------------------------
sim_start pipe.out --depth 400 --max-output 262144 --request-timeout 1500
python3 "$H" "$(port)" pipeline "$SIM_PID" pipe.out.err 10000 1 >pipe.kv || true
cat pipe.kv
check "it sent pipelined requests" [ "$(kv pipe.kv requests_sent)" -ge 100 ]
check "okx-sim drops it" [ "$(kv pipe.kv drop_logged):$(kv pipe.kv dropped)" = 1:1 ]
check "okx-sim's RSS stays bounded (+$(kv pipe.kv rss_growth_mb) MB < 48)" \
  [ "$(kv pipe.kv rss_growth_mb)" -lt 48 ]
check "serves after" serves
stop_sim

# --- a non-reading WebSocket subscriber -------------------------------------------
sim_start wsslow.out --depth 400 --tick 10 --max-output 262144
python3 "$H" "$(port)" ws-slow "$SIM_PID" wsslow.out.err 30 >wsslow.kv || true
cat wsslow.kv
check "okx-sim drops the slow subscriber" [ "$(kv wsslow.kv drop_logged):$(kv wsslow.kv dropped)" = 1:1 ]
check "okx-sim's RSS stays bounded (+$(kv wsslow.kv rss_growth_mb) MB < 48)" \
  [ "$(kv wsslow.kv rss_growth_mb)" -lt 48 ]
check "serves after" serves
stop_sim

# --- one op subscribing to many books: more snapshots than --max-output at once --
# A client that reads is not a slow consumer even though the snapshots of one
# subscribe op pass the cap before a byte of them can be sent; one that does
# not read is still dropped.
python3 "$H" 0 instruments 64 many.json
sim_start many.out --instruments many.json --depth 400 --max-output 262144
python3 "$H" "$(port)" ws-many many.out.err 64 1 30 >many.kv || true
cat many.kv
check "a reader subscribing to 64 books in one op gets every ack and snapshot" \
  [ "$(kv many.kv acks):$(kv many.kv snapshots)" = 64:64 ]
check "the snapshots passed --max-output ($(kv many.kv snapshot_bytes) > 262144 bytes)" \
  [ "$(kv many.kv snapshot_bytes)" -gt 262144 ]
check "and updates after them, without being dropped" \
  [ "$(kv many.kv updates):$(kv many.kv drop_logged):$(kv many.kv dropped)" = 128:0:0 ]
python3 "$H" "$(port)" ws-many many.out.err 64 0 30 >many0.kv || true
cat many0.kv
check "a client subscribing the same without reading is dropped" \
  [ "$(kv many0.kv drop_logged):$(kv many0.kv dropped)" = 1:1 ]
check "serves after" serves
stop_sim

# --- subscriptions: keyed by what OKX keys them on, capped per connection --------
sim_start ws.out --max-subs 3
python3 "$H" "$(port)" ws-extra 50 >extra.kv || true
cat extra.kv
check "each of the 51 subscribe args is acknowledged" [ "$(kv extra.kv acks)" = 51 ]
check "50 books args with extra fields make one subscription: one snapshot" \
  [ "$(kv extra.kv snapshots)" = 1 ]
check "each book update arrives once" [ "$(kv extra.kv max_copies_per_seq)" = 1 ]
check "pushes echo the fields OKX knows, not the extra one" \
  [ "$(kv extra.kv push_args)" = '{"channel": "books", "instId": "BTC-USDT-SWAP"}' ]
check "one unsubscribe ends it" [ "$(kv extra.kv books_after_unsubscribe)" = 0 ]
python3 "$H" "$(port)" ws-cap 3 >cap.kv || true
cat cap.kv
check "the subscription over --max-subs 3 gets error 60014; a repeat is acknowledged" \
  [ "$(kv cap.kv events)" = "subscribe,subscribe,subscribe,error/60014,subscribe" ]
check "the error echoes the request id" [ "$(kv cap.kv error_id)" = cap1 ]
check "and says why" grep -q "at most 3 subscriptions per connection" cap.kv
stop_sim

rt_finish
