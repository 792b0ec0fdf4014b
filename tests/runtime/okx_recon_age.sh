#!/usr/bin/env bash
# Reconciliation of orders rows a previous run left "sent" that okx-sim
# never got: a recent one (its request's expTime passed, the row stamped ten
# minutes ago) is "unsent" — its owner may send it again; one stamped two
# hours ago is "failed", since OKX forgets orders canceled unfilled after
# about two hours and "not at OKX" no longer means "never sent".
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 7 ak:age-secret-1:ap:net_mode:10000
export AK=ak AS=age-secret-1 AP=ap
{
  ini_core "mode = paper"
  ini_okx okx demo AK AS AP "instruments = BTC-USDT-SWAP" "candles ="
} >engine.ini

# a first run creates the database
engine_start
wait_log engine.out "exchange.okx: state up" 20
engine_stop

now=$(($(date +%s) * 1000))
for row in "recent:$((now - 600000))" "old:$((now - 7200000))"; do
  name=${row%%:*} ms=${row#*:}
  q "INSERT INTO orders (intent_id, cl_ord_id, account, origin, inst_id, op, side, sz, state, created_ms, updated_ms)
     VALUES ('age/$name', 'age$name', 'exchange.okx', 'manual', 'BTC-USDT-SWAP', 'place', 'buy', '1', 'sent', $ms, $ms)"
done

engine_start
wait_log engine.out "reconciliation: 2 order(s) of a previous run without an answer" 20
check "the recent row okx-sim never got is unsent" qeq "SELECT state, code FROM orders WHERE intent_id='age/recent'" "unsent|unsent"
check "the two-hour-old one is failed, not unsent" qeq "SELECT state, code FROM orders WHERE intent_id='age/old'" "failed|51603"
check "and says why" contains engine.out "stored over an hour before: never placed, or canceled unfilled"
engine_stop
rt_finish
