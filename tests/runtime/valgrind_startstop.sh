#!/usr/bin/env bash
# valgrind over full start/stop cycles of the real engine: storage and test
# plugins, then the venues against okx-sim with orders placed: no invalid
# access, no leak. (Not run in the ASan build.)
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
cat >vg.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
log_level = debug
[storage.sqlite]
path = $RT_TMP/data/vg.db
[source.p1]
module = probe
publish = 20
EOF2
# AT_NO_DLCLOSE keeps plugin code mapped so a leak report can name it.
AT_NO_DLCLOSE=1 valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no \
  "$AITRADER" run -c vg.ini >vg.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log vg.out "running; Ctrl-C or SIGTERM stops" 60
# The probe's 50 ms timer has fired a few times (its ticks log at debug).
wait_count vg.out "source.p1: tick" 3 60
kill -INT "$pid"
wait_exit "$pid" 60; rc=$RT_RC
check "engine under valgrind exits 0 (no errors, no leaks)" [ "$rc" = 0 ]
check "stopped cleanly" contains vg.out "core: stopped"
check "the bus delivered the probe's 20 alerts" contains vg.out "probe source.p1: stop seen=20"
[ "$rc" = 0 ] || cat vg.out

# The same with the venues: exchange_okx (keys, both feeds) and exchange_paper
# against okx-sim, an order placed, then a stop.
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
export VK=k VS=vg-secret-1 VP=p
cat >accounts.json <<EOF2
[{"apiKey": "k", "secretKey": "vg-secret-1", "passphrase": "p", "demo": false,
  "posMode": "net_mode", "balances": {"USDT": "1000"}}]
EOF2
sim_start sim.out --seed 2 --accounts accounts.json
ws=${URL/http:/ws:}/ws/v5
cat >vg2.ini <<EOF2
[core]
mode = live
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/vg2.db
[exchange.okx]
api_key = env:VK
secret_key = env:VS
passphrase = env:VP
rest_url = $URL
ws_public_url = $ws/public
ws_private_url = $ws/private
ws_business_url = $ws/business
instruments = BTC, ETH
[exchange.paper]
market = exchange.okx
rest_url = $URL
instruments = BTC
[source.driver]
log_file = $RT_TMP/vg-events.log
intent_file = $RT_TMP/vg-intents.txt
EOF2
touch vg-intents.txt
AT_NO_DLCLOSE=1 valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no \
  "$AITRADER" run -c vg2.ini >vg2.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log vg2.out "exchange.paper: state up" 60
# both of the account's private feeds up: an order's fill is pushed on them
wait_log vg2.out "exchange.okx: state up" 60
echo "op=place account=exchange.okx inst=BTC-USDT-SWAP side=buy type=market sz=1 sl=1000 id=vg-1" >>vg-intents.txt
echo "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=1 sl=1000 id=vg-2" >>vg-intents.txt
wait_log vg-events.log "RESULT exchange.paper intent=vg-2" 60
wait_log vg-events.log "RESULT exchange.okx intent=vg-1" 60
# Stop once both orders are filled and booked (the fill and position paths ran).
wait_log vg-events.log "FILL exchange.paper BTC-USDT-SWAP cl=vg2" 60
wait_log vg-events.log "FILL exchange.okx BTC-USDT-SWAP cl=vg1" 60 ||
  grep -E 'exchange.okx|core.executor' vg2.out | tail -30
wait_log vg-events.log "POSITION exchange.okx BTC-USDT-SWAP side=0 pos=1 " 60
kill -INT "$pid"
wait_exit "$pid" 60; rc=$RT_RC
check "venues under valgrind: orders placed" contains vg-events.log "RESULT exchange.okx intent=vg-1 cl=vg1 ok=1"
check "venues under valgrind exit 0 (no errors, no leaks)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || cat vg2.out
rt_finish
