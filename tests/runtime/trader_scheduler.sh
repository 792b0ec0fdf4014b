#!/usr/bin/env bash
# A [trader.*] section in the real engine: its scheduler starts as
# trader.<name>, triggers at once on the first start (stored in `triggers`),
# the trader asks its AI instance (ai_stub: "hold everything") and its
# DECISION answers the trigger; a restart within the long period does not
# trigger again (the idempotency key survives the restart).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
sim_start sim.out --seed 6
WS=${URL/http:/ws:}/ws/v5
cat >engine.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/engine.db
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = BTC
[exchange.paper]
market = exchange.okx_data
rest_url = $URL
instruments = BTC
[ai.stub]
[trader.alpha]
ai = ai.stub
account = exchange.paper
symbols = BTC-USDT-SWAP
long_period = 12m
short_period = 5m
EOF2
DB="$RT_TMP/data/engine.db"
# run_once LOG WHAT COMMAND...: run the engine until COMMAND (a bounded wait)
# succeeds, checked as WHAT, then stop it.
run_once() {
  local log=$1 what=$2; shift 2
  "$AITRADER" run -c engine.ini >>"$log" 2>&1 &
  ENGINE=$!; RT_PIDS+=("$ENGINE")
  wait_log "$log" "core: running" 20
  check "$what" "$@"
  kill -TERM "$ENGINE"; wait_exit "$ENGINE"
}
run_once first.out "first run: the trigger's decision is stored" \
  qeq_db "$DB" "SELECT count(*) FROM triggers WHERE decision_id IS NOT NULL" 1
check "first run stops cleanly" [ "$RT_RC" = 0 ]
check "the trader starts" contains first.out "trader.alpha: trader on (ai ai.stub, account exchange.paper, 1 symbols)"
check "first start triggers at once" grep -q "trader.alpha: trigger alpha:long:[0-9]*: " first.out
check "the trader asks the AI instance" contains first.out "ai.stub: ai stub request 1: trader alpha id alpha:long:"
key=$(grep -o "trader.alpha: trigger alpha:long:[0-9]*" first.out | head -1 | sed 's/.*trigger //')
check "the trigger is stored with the key it was logged with ($key)" qeq_db "$DB" "SELECT count(*), min(trader), min(key) FROM triggers" "1|alpha|$key"
check "the DECISION is written to the trigger's row (time, id, cost)" qeq_db "$DB" "SELECT decided_ms >= ts_ms, decision_id, cost_usd FROM triggers" "1|$key|0.25"
check "and stored as a valid decision holding everything" qeq_db "$DB" "SELECT valid, actions_json FROM decisions WHERE id = '$key'" '1|{"decisions":[]}'
# Second start: the scheduler reads its history back and logs when it fires
# next; a trigger that ignored the history would fire at once, long before
# the stop that follows.
run_once second.out "second run: the scheduler resumed from its history" \
  wait_log second.out "trader.alpha: resumed: last trigger" 20
check "second run stops cleanly" [ "$RT_RC" = 0 ]
check "the trader ran again after the restart" contains second.out "trader.alpha: trader on"
check "and read its decision back" contains second.out "trader.alpha: 1 past decisions read back"
check "it resumed from the stored trigger, the next one due in minutes" \
  grep -qE "trader.alpha: resumed: last trigger [0-9]+ s ago \(long mode\), 1 in 24 h, next in [1-9][0-9]{2} s" second.out
check "and read the stored trigger back before deciding" lacks second.out "cannot read past triggers"
check "a restart inside the long period does not trigger again" lacks second.out "trader.alpha: trigger alpha:"
check "still one stored trigger" qeq_db "$DB" "SELECT count(*) FROM triggers" 1
rt_finish
