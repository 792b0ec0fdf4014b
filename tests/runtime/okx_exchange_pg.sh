#!/usr/bin/env bash
# exchange_okx and exchange_paper storing into PostgreSQL (a throwaway cluster):
# the same SQL as on SQLite, with NUMERIC and BOOLEAN columns and OKX's ""
# (none) values, must land: instruments, accounts, orders, fills, positions,
# equity snapshots.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
pg_up
pqeq() {
  local i=0
  while [ $i -lt 50 ]; do
    [ "$(pq "$1")" = "$2" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "query: $1 -> $(pq "$1") (want $2)" >&2
  return 1
}

cat >accounts.json <<'EOF'
[{"apiKey": "pk", "secretKey": "pg-secret-1", "passphrase": "pp", "demo": false,
  "posMode": "long_short_mode", "balances": {"USDT": "10000"}}]
EOF
sim_start sim.out --seed 4 --accounts accounts.json
WS=${URL/http:/ws:}/ws/v5
export PK=pk PS=pg-secret-1 PP=pp
cat >engine.ini <<EOF
[core]
mode = live     ; exchange.okx is a live (non-demo) okx-sim account
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.postgres]
conninfo = env:AT_PG
[exchange.okx]
api_key = env:PK
secret_key = env:PS
passphrase = env:PP
rest_url = $URL
ws_public_url = $WS/public
ws_private_url = $WS/private
ws_business_url = $WS/business
instruments = BTC, DOGE
candles =
[exchange.paper]
market = exchange.okx
rest_url = $URL
instruments = BTC
[source.driver]
log_file = $RT_TMP/events.log
intent_file = $RT_TMP/intents.txt
EOF
touch intents.txt
"$AITRADER" run -c engine.ini >engine.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log engine.out "exchange.okx: state up" 30
wait_log engine.out "exchange.paper: state up" 30
echo "op=place account=exchange.okx inst=BTC-USDT-SWAP side=buy pos=long type=limit sz=1 px=1000 id=pg-limit" >>intents.txt
echo "op=place account=exchange.okx inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1.5 sl=1000 id=pg-mkt" >>intents.txt
echo "op=place account=exchange.paper inst=BTC-USDT-SWAP side=buy type=market sz=2 id=pg-paper" >>intents.txt
wait_log events.log "RESULT exchange.paper intent=pg-paper" 20
wait_log events.log "FILL exchange.okx BTC-USDT-SWAP cl=pgmkt" 20
check "instruments stored (NUMERIC sizes)" pqeq "SELECT count(*), min(lot_sz)::text FROM instruments WHERE exchange='exchange.okx'" "2|0.01"
check "account stored (BOOLEAN demo)" pqeq "SELECT demo, pos_mode FROM accounts WHERE id='exchange.okx'" "f|long_short_mode"
check "live limit order stored with avg_px NULL (OKX sent \"\")" pqeq "SELECT state, avg_px IS NULL, px::text FROM orders WHERE intent_id='pg-limit'" "live|t|1000"
check "market order filled, exact size and a negative fee" pqeq "SELECT state, acc_fill_sz::text, fee < 0 FROM orders WHERE intent_id='pg-mkt'" "filled|1.5|t"
check "fill rows for both venues" pqeq "SELECT count(DISTINCT account) FROM fills" 2
check "cross position stored (margin \"\" is NULL)" pqeq "SELECT pos::text, margin IS NULL FROM positions WHERE account='exchange.okx' AND pos_side='long'" "1.5|t"
check "equity snapshots from totalEq" pqeq "SELECT count(*) > 0 FROM equity_snapshots WHERE account='exchange.paper'" t
check "no storage error logged" lacks engine.out "storage.postgres: write failed"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
rt_finish
