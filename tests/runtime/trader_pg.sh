#!/usr/bin/env bash
# A trader on PostgreSQL (a throwaway cluster) and the paper venue (okx-sim's
# public market): the decision row with every column of migration 006, the
# order it produced, and the stored decision read back after a restart.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
pg_up
pqeq() { wait_eq 10 "$2" pq "$1"; }

sim_start sim.out --seed 5
WS=${URL/http:/ws:}/ws/v5
cat >answers.txt <<'EOF'
@reasoning the trend is up
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3, "take_profit": 200000, "stop_loss": 10000, "reason": "trend up", "invalidation": "below the range"}]}
EOF
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
balance = 10000
[ai.stub]
answers_file = $RT_TMP/answers.txt
[trader.alpha]
ai = ai.stub
account = exchange.paper
symbols = BTC-USDT-SWAP
long_period = 60m
EOF

"$AITRADER" run -c engine.ini >first.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log first.out "core: running" 20
check "the decision is stored in PostgreSQL" pqeq "SELECT count(*) FROM decisions WHERE trader = 'alpha'" 1
K=$(pq "SELECT id FROM decisions WHERE trader = 'alpha'")
check "valid, with the columns of migration 006" \
  pqeq "SELECT valid, validation, attempts, length(prompt_hash), prompt_tokens > 50, reasoning, finish_reason FROM decisions WHERE id = '$K'" \
  "t|ok|1|64|t|the trend is up|stop"
check "its intents" pqeq "SELECT intents_json::json->0->>'intent_id' FROM decisions WHERE id = '$K'" "$K/0"
check "the paper venue filled the entry, with its TP/SL" \
  pqeq "SELECT state, tp_trigger_px, sl_trigger_px, origin FROM orders WHERE decision_id = '$K'" "filled|200000|10000|alpha"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]

"$AITRADER" run -c engine.ini >second.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
check "after a restart the decision is read back" wait_log second.out "trader.alpha: 1 past decisions read back" 20
check "and the window is not asked again" lacks second.out "trader.alpha: trigger alpha:"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "still one decision" pqeq "SELECT count(*) FROM decisions" 1
rt_finish
