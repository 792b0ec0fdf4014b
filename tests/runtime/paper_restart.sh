#!/usr/bin/env bash
# The paper account survives a restart (exchange_paper keeps its venue state
# in the paper_state row): cash, the position, the open limit order and the
# attached stop loss are the same after a clean stop and after a kill -9,
# ids go on without repeating, exchange_okx's reconciliation at start finds
# the open orders its own; a corrupt stored state stops the engine with the
# account and the reason; reset = true starts again from balance.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_start sim.out --seed 5
WS=${URL/http:/ws:}/ws/v5
DB="$RT_TMP/data/engine.db"
# write_ini RUN [extra paper keys...]: the config of one run (its own event log)
write_ini() {
  local run=$1; shift
  cat >engine.ini <<EOF
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $DB
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = ${DATA_INSTS:-BTC}
candles =
[exchange.paper]
market = exchange.okx_data
rest_url = $URL
instruments = ${PAPER_INSTS:-BTC-USDT-SWAP}
balance = 10000
$(printf '%s\n' "$@")
[source.driver]
log_file = $RT_TMP/events$run.log
intent_file = $RT_TMP/intents.txt
EOF
}
touch intents.txt
q() { sqlite3 "$DB" "$1"; }
qeq() { qeq_db "$DB" "$1" "$2"; }
intent() { echo "$*" >>intents.txt; }
start_engine() { # start_engine RUN [extra paper keys...]
  local run=$1; shift
  write_ini "$run" "$@"
  : >"events$run.log"
  "$AITRADER" run -c engine.ini >"engine$run.out" 2>&1 &
  ENGINE=$!; RT_PIDS+=("$ENGINE")
}
ord_of() { sed -n "s/.*RESULT exchange.paper intent=$2 cl=[a-z0-9]* ok=1 code=0 ord=\([0-9]*\).*/\1/p" "$1"; }
# 10000 + the fees of every fill so far, exactly (only buys: no PnL realised)
cash_want() {
  python3 -c '
import sys
from decimal import Decimal as D
print("{:f}".format((D("10000") + sum((D(f) for f in sys.argv[1].split()), D(0))).normalize()))' \
    "$(q "SELECT group_concat(fee, ' ') FROM fills WHERE account='exchange.paper'")"
}
# the cash, position, orders and algos the restore reported
restored() { sed -n 's/.*exchange.paper: paper account restored (seq [0-9]*): \(.*\), next id.*/\1/p' "$1"; }

# --- run 1: a position with a stop loss, a resting limit order; clean stop ------------
start_engine 1
wait_log engine1.out "exchange.paper: state up" 20
check "a new account at first" contains engine1.out "exchange.paper: no stored paper account: a new one with 10000 USDT"
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=2 sl=60000 tp=200000 id=r1-open"
wait_log events1.log "RESULT exchange.paper intent=r1-open cl=r1open ok=1" 10
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=limit sz=1 px=70000.05 id=r1-limit"
wait_log events1.log "RESULT exchange.paper intent=r1-limit cl=r1limit ok=1" 10
LIMIT=$(ord_of events1.log r1-limit)
check "the limit order rests" qeq "SELECT state FROM orders WHERE intent_id='r1-limit'" live
wait_log events1.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=2 " 10
check "state stored as it changes (before any stop)" [ "$(q "SELECT count(*) FROM paper_state WHERE account='exchange.paper' AND state_json LIKE '%r1limit%'")" = 1 ]
WANT1=$(cash_want)
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]

# --- run 2: the same account; a new order continues the ids; then kill -9 -------------
start_engine 2
wait_log engine2.out "exchange.paper: state up" 20
check "restored: cash exact, the position, the limit order and the stop loss ($(restored engine2.out))" \
  [ "$(restored engine2.out)" = "cash $WANT1 USDT, 1 open position(s), 1 open order(s), 1 live algo order(s)" ]
wait_log events2.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=2 " 10
check "the restored position is published again" contains events2.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=2 "
check "the restored balance is published again" grep -q "^BALANCE exchange.paper ccy=USDT" events2.log
# The start-up reconciliation (orders-pending, orders-algo-pending, then one
# storage query per order) was queued when the account was restored; storage
# answers in queue order, so the answer to an intent stored after it proves
# it has run. A cancel of an order that does not exist uses no id.
intent "op=cancel account=exchange.paper inst=BTC-USDT-SWAP ord=1 id=r2-marker"
wait_log events2.log "RESULT exchange.paper intent=r2-marker" 10
check "reconciliation: the open order and the stop loss are ours" lacks engine2.out "is not ours"
MAXORD=$(q "SELECT max(CAST(ord_id AS INTEGER)) FROM orders WHERE account='exchange.paper'")
NFILLS=$(q "SELECT count(*) FROM fills WHERE account='exchange.paper'")
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=1 id=r2-add"
wait_log events2.log "RESULT exchange.paper intent=r2-add cl=r2add ok=1" 10
kill -9 "$ENGINE"; wait_exit "$ENGINE"   # right after the answer
ADD=$(ord_of events2.log r2-add)
check "ordIds continue after the restart ($ADD > $MAXORD)" python3 -c "import sys; sys.exit(0 if int('$ADD') > int('$MAXORD') else 1)"
check "the first new ordId is the restored id counter" contains engine2.out "next id $ADD"

# --- run 3: after kill -9 nothing acknowledged is lost ----------------------------------
start_engine 3
wait_log engine3.out "exchange.paper: state up" 20
WANT3=$(cash_want)
check "restored after kill -9: the order answered just before is there ($(restored engine3.out))" \
  [ "$(restored engine3.out)" = "cash $WANT3 USDT, 1 open position(s), 1 open order(s), 1 live algo order(s)" ]
wait_log events3.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=3 " 10
check "position 2 + 1 after kill -9" contains events3.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=3 "
check "the new fill is stored once: its tradeId is new" qeq "SELECT count(*) FROM fills WHERE account='exchange.paper'" $((NFILLS + 1))
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=1 id=r3-more"
wait_log events3.log "RESULT exchange.paper intent=r3-more cl=r3more ok=1" 10
check "ids still continue ($(ord_of events3.log r3-more) > $ADD)" python3 -c "import sys; sys.exit(0 if int('$(ord_of events3.log r3-more)') > int('$ADD') else 1)"
check "every tradeId distinct" qeq "SELECT count(*) - count(DISTINCT trade_id) FROM fills WHERE account='exchange.paper'" 0
check "four fills in all" qeq "SELECT count(*) FROM fills WHERE account='exchange.paper'" $((NFILLS + 2))
# the limit order of run 1 is still at the venue: cancel it by its ordId
intent "op=cancel account=exchange.paper inst=BTC-USDT-SWAP ord=$LIMIT id=r3-cancel"
wait_log events3.log "cl=r1limit ord=$LIMIT state=4" 10
check "the run-1 limit order survived two restarts and is canceled now" qeq "SELECT state FROM orders WHERE intent_id='r1-limit'" canceled
# the stop loss of run 1 (2 contracts) still watches the price
sim_control price '{"instId":"BTC-USDT-SWAP","px":"59000"}'
wait_log events3.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=2 " 10
check "the run-1 stop loss fired after two restarts: 4 - 2 = 2 left" contains events3.log "POSITION exchange.paper BTC-USDT-SWAP side=0 pos=2 "
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop after kill -9 and restart" [ "$RT_RC" = 0 ]
SEQ=$(q "SELECT seq FROM paper_state WHERE account='exchange.paper'")

# --- a corrupt stored state: refused with the account and the reason ------------------
cp "$DB" good.db
q "UPDATE paper_state SET state_json = replace(state_json, '\"posMode\":\"net_mode\"', '\"posMode\":\"sideways\"') WHERE account='exchange.paper'"
start_engine 4
wait_exit "$ENGINE" 20
check "a corrupt state stops the engine (exit 1)" [ "$RT_RC" = 1 ]
check "the error names the account and the field" grep -q "exchange.paper: paper account exchange.paper cannot be restored (paper_state seq $SEQ, .*): posMode: \"sideways\" is not net_mode or long_short_mode" engine4.out
check "and says how to go on" contains engine4.out "or set reset = true to start again from balance"
check "the stored state is left as it was" qeq "SELECT count(*) FROM paper_state WHERE state_json LIKE '%sideways%'" 1
q "UPDATE paper_state SET state_json = substr(state_json, 1, 200) WHERE account='exchange.paper'"
start_engine 5
wait_exit "$ENGINE" 20
check "a truncated state stops the engine too" [ "$RT_RC" = 1 ]
check "with the JSON error" grep -q "cannot be restored .*: state_json is not JSON" engine5.out

# --- reset = true: a fresh account, the old state kept in audit_log, ids go on --------
cp good.db "$DB"
MAXORD=$(q "SELECT max(CAST(ord_id AS INTEGER)) FROM orders WHERE account='exchange.paper'")
start_engine 6 "reset = true"
wait_log engine6.out "exchange.paper: state up" 20
check "reset: warned and set aside" contains engine6.out "reset = true: the stored paper account (seq $SEQ) is set aside in audit_log"
check "the old state is in audit_log" qeq "SELECT count(*) FROM audit_log WHERE kind='paper_reset' AND data_json LIKE '%r1open%'" 1
wait_log events6.log "BALANCE exchange.paper ccy=USDT eq=10000 " 10
check "the account starts again from balance" contains events6.log "BALANCE exchange.paper ccy=USDT eq=10000 "
check "its old position row shows flat" qeq "SELECT pos FROM positions WHERE account='exchange.paper'" 0
intent "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=1 id=r6-new"
wait_log events6.log "RESULT exchange.paper intent=r6-new cl=r6new ok=1" 10
check "ids go on after a reset too" python3 -c "import sys; sys.exit(0 if int('$(ord_of events6.log r6-new)') > int('$MAXORD') else 1)"
check "and so do tradeIds (the fill is stored)" qeq "SELECT count(*) - count(DISTINCT trade_id) FROM fills WHERE account='exchange.paper'" 0
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop after the reset" [ "$RT_RC" = 0 ]

# --- an instrument the stored account never traded: its tradeIds start from the clock
DATA_INSTS="BTC, ETH" PAPER_INSTS="BTC-USDT-SWAP, ETH-USDT-SWAP" start_engine 7
wait_log engine7.out "exchange.paper: state up" 20
intent "op=place account=exchange.paper inst=ETH-USDT-SWAP side=buy type=market sz=1 id=r7-eth"
wait_log events7.log "RESULT exchange.paper intent=r7-eth cl=r7eth ok=1" 10
tid=$(q "SELECT trade_id FROM fills WHERE account='exchange.paper' AND inst_id='ETH-USDT-SWAP'")
check "a newly added instrument's tradeIds come from the clock, not 1 ($tid)" \
  python3 -c "import sys; sys.exit(0 if int('${tid:-0}') > 10**12 else 1)"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop with the added instrument" [ "$RT_RC" = 0 ]
rt_finish
