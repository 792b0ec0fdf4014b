#!/usr/bin/env bash
# paper_restart on PostgreSQL (a throwaway cluster): the paper account's
# state row written on every change and read back at start, through a clean
# stop and a kill -9, and a broken row refused.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
pg_up

sim_start sim.out --seed 6
WS=${URL/http:/ws:}/ws/v5
cat >engine.ini <<EOF
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.postgres]
conninfo = env:AT_PG
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = BTC
candles =
[exchange.paper]
market = exchange.okx_data
rest_url = $URL
instruments = BTC
pos_mode = long_short_mode
balance = 2500.5
[source.driver]
log_file = $RT_TMP/events.log
intent_file = $RT_TMP/intents.txt
EOF
touch intents.txt
intent() { echo "$*" >>intents.txt; }
start_engine() {
  "$AITRADER" run -c engine.ini >"engine$1.out" 2>&1 &
  ENGINE=$!; RT_PIDS+=("$ENGINE")
}
restored() { sed -n 's/.*exchange.paper: paper account restored (seq [0-9]*): \(.*\), next id.*/\1/p' "$1"; }
cash_want() {
  python3 -c '
import sys
from decimal import Decimal as D
print("{:f}".format((D("2500.5") + sum((D(f) for f in sys.argv[1].split()), D(0))).normalize()))' \
    "$(pq "SELECT string_agg(fee::text, ' ') FROM fills WHERE account='exchange.paper'")"
}

start_engine 1
wait_log engine1.out "exchange.paper: state up" 30
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1.5 sl=50000 id=g1-open"
wait_log events.log "RESULT exchange.paper intent=g1-open cl=g1open ok=1" 10
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=sell pos=short type=limit sz=0.25 px=150000.05 id=g1-limit"
wait_log events.log "RESULT exchange.paper intent=g1-limit cl=g1limit ok=1" 10
wait_eq 10 1 pq "SELECT count(*) FROM paper_state WHERE account='exchange.paper' AND state_json LIKE '%g1limit%'"
check "the state row is in PostgreSQL" [ "$(pq "SELECT count(*) FROM paper_state WHERE account='exchange.paper' AND state_json LIKE '%g1limit%'")" = 1 ]
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]

start_engine 2
wait_log engine2.out "exchange.paper: state up" 30
W=$(cash_want)
check "restored from PostgreSQL ($(restored engine2.out))" \
  [ "$(restored engine2.out)" = "cash $W USDT, 1 open position(s), 1 open order(s), 1 live algo order(s)" ]
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy pos=long type=market sz=0.5 id=g2-add"
wait_log events.log "RESULT exchange.paper intent=g2-add cl=g2add ok=1" 10
kill -9 "$ENGINE"; wait_exit "$ENGINE"

start_engine 3
wait_log engine3.out "exchange.paper: state up" 30
W=$(cash_want)
check "restored after kill -9 ($(restored engine3.out))" \
  [ "$(restored engine3.out)" = "cash $W USDT, 1 open position(s), 1 open order(s), 1 live algo order(s)" ]
wait_log events.log "POSITION exchange.paper BTC-USDT-SWAP side=1 pos=2 " 10
check "the long is 1.5 + 0.5" contains events.log "POSITION exchange.paper BTC-USDT-SWAP side=1 pos=2 "
# The start-up reconciliation was queued on storage when the account was
# restored; the answer to an intent stored after it proves it has run (a
# cancel of an order that does not exist uses no id).
intent "op=cancel account=exchange.paper inst=BTC-USDT-SWAP ord=1 id=r3-marker"
wait_log events.log "RESULT exchange.paper intent=r3-marker" 10
check "reconciliation finds the open order and the stop loss ours" lacks engine3.out "is not ours"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]

pq "UPDATE paper_state SET state_json = replace(state_json, '\"cash\":{\"USDT\":\"', '\"cash\":{\"USDT\":\"O') WHERE account='exchange.paper'" >/dev/null
start_engine 4
wait_exit "$ENGINE" 30
check "a broken row stops the engine (exit 1)" [ "$RT_RC" = 1 ]
check "naming the field" grep -q "exchange.paper cannot be restored (paper_state seq [0-9]*, .*): cash.USDT: \"O[0-9.]*\" is not a decimal string" engine4.out

# reset = true over the broken row: a new account, the old state in audit_log
sed -i -e 's/^balance = 2500.5$/balance = 2500.5\nreset = true/' -e 's/events.log$/events5.log/' engine.ini
start_engine 5
wait_log engine5.out "exchange.paper: state up" 30
check "reset over a broken row starts afresh" contains engine5.out "reset = true: the stored paper account"
check "the broken state is kept in audit_log" [ "$(pq "SELECT count(*) FROM audit_log WHERE kind = 'paper_reset' AND data_json LIKE '%\"O%'")" = 1 ]
wait_log events5.log "BALANCE exchange.paper ccy=USDT eq=2500.5 " 10
check "from balance again" contains events5.log "BALANCE exchange.paper ccy=USDT eq=2500.5 "
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
rt_finish
