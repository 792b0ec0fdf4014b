#!/usr/bin/env bash
# The engine with exchange_paper priced by exchange_okx's public market data
# (from okx-sim, no keys): the same scenarios as okx_exchange, on the paper
# venue: hedge and net mode, fills at book prices with exact fees, an
# attached stop loss triggered by a price move (its ALGO_ORDER live, then
# effective), TP/SL canceled with their position, limit and cancel, exact
# sizes, margin refusal, rows stored.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_start sim.out --seed 9
WS=${URL/http:/ws:}/ws/v5
cat >engine.ini <<EOF
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
instruments = BTC, ETH, DOGE
candles =
[exchange.paper_hedge]
module = paper
market = exchange.okx_data
rest_url = $URL
instruments = BTC, ETH, DOGE
pos_mode = long_short_mode
balance = 5000
[exchange.paper_net]
module = paper
market = exchange.okx_data
rest_url = $URL
instruments = BTC-USDT-SWAP
balance = 10000
[source.driver]
log_file = $RT_TMP/events.log
intent_file = $RT_TMP/intents.txt
EOF
touch intents.txt
DB="$RT_TMP/data/engine.db"
q() { sqlite3 "$DB" "$1"; }
qeq() { qeq_db "$DB" "$1" "$2"; }
intent() { echo "$*" >>intents.txt; }

"$AITRADER" run -c engine.ini >engine.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log engine.out "exchange.paper_hedge: state up: paper venue, 3 instruments; market data flowing" 20
wait_log engine.out "exchange.paper_net: state up" 20
check "paper venues up once market data flows" contains engine.out "exchange.paper_net: state up"
check "paper account as configured" contains engine.out "exchange.paper_hedge: paper account: 5000 USDT, long_short_mode"

# --- hedge: open long 1 BTC contract, then close: balance moves by fees + PnL --
intent "op=place account=exchange.paper_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 id=ph-open"
wait_log events.log "FILL exchange.paper_hedge BTC-USDT-SWAP cl=phopen" 10
check "market order filled at a book price" grep -q "FILL exchange.paper_hedge BTC-USDT-SWAP cl=phopen px=[0-9.]* sz=1 fee=-" events.log
wait_log events.log "RESULT exchange.paper_hedge intent=ph-open cl=phopen ok=1 code=0" 10
intent "op=close account=exchange.paper_hedge inst=BTC-USDT-SWAP pos=long id=ph-close"
wait_log events.log "POSITION exchange.paper_hedge BTC-USDT-SWAP side=1 pos=0 " 10
check "close-position flattened the long" contains events.log "POSITION exchange.paper_hedge BTC-USDT-SWAP side=1 pos=0 "
check "fills stored" qeq "SELECT count(*) FROM fills WHERE account='exchange.paper_hedge'" 2
# Each fee is exactly -(px x sz x ctVal x taker rate), and the cash after is
# 5000 + (exit - entry) x 1 x 0.01 + both fees, exactly (no position left).
want=$(sqlite3 "$DB" "SELECT group_concat(side || ':' || px || ':' || sz || ':' || fee, ' ') FROM fills WHERE account='exchange.paper_hedge' ORDER BY ts_ms")
balance_exact() {
  local got
  got=$(sed -n 's/^BALANCE exchange.paper_hedge ccy=USDT eq=\([0-9.]*\) .*/\1/p' events.log | tail -1)
  python3 -c '
import sys
from decimal import Decimal as D, ROUND_HALF_EVEN
fills, got = sys.argv[1].split(), D(sys.argv[2] or "0")
cash, px = D("5000"), {}
for f in fills:
    side, p, sz, fee = f.split(":")
    want_fee = -(D(p) * D(sz) * D("0.01") * D("0.0005")).quantize(D("1e-8"), ROUND_HALF_EVEN)
    if D(fee) != want_fee:
        sys.exit(2)
    px[side] = D(p)
    cash += D(fee)
cash += (px["sell"] - px["buy"]) * D("0.01")
sys.exit(0 if cash == got else 1)
' "$want" "$got"
}
poll() { local i=0; while [ $i -lt 50 ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
check "fees exact and balance = 5000 + PnL + fees, exactly ($want)" poll balance_exact

# --- an attached stop loss at the venue, triggered by a market move ------------------
intent "op=place account=exchange.paper_hedge inst=ETH-USDT-SWAP side=buy pos=long type=market sz=2 sl=1500 id=ph-sl"
wait_log events.log "POSITION exchange.paper_hedge ETH-USDT-SWAP side=1 pos=2 " 10
check "the paper venue publishes the stop loss: ALGO_ORDER live" wait_log events.log "ALGO exchange.paper_hedge ETH-USDT-SWAP id=" 10
check "(its algoClOrdId, sell, long)" grep -q "^ALGO exchange.paper_hedge ETH-USDT-SWAP id=[0-9]* cl=phsla type=conditional state=1 side=2 pos=1$" events.log
sim_control price '{"instId":"ETH-USDT-SWAP","px":"1400"}'
wait_log events.log "POSITION exchange.paper_hedge ETH-USDT-SWAP side=1 pos=0 " 10
check "the stop loss closed the position when the market fell through it" contains events.log "POSITION exchange.paper_hedge ETH-USDT-SWAP side=1 pos=0 "
check "its ALGO_ORDER says it fired" wait_log events.log "cl=phsla type=conditional state=2" 10

# --- TP/SL of a position closed by hand: canceled with it (the paper venue never keeps them)
intent "op=place account=exchange.paper_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 tp=1000000 sl=100 id=ph-tpsl"
check "entry with TP and SL: ALGO_ORDER live" wait_log events.log "cl=phtpsla type=oco state=1" 10
intent "op=close account=exchange.paper_hedge inst=BTC-USDT-SWAP pos=long id=ph-tpsl-close"
check "closing the position cancels them: ALGO_ORDER canceled" wait_log events.log "cl=phtpsla type=oco state=4" 10

# --- limit far from the market, then cancel ------------------------------------------
intent "op=place account=exchange.paper_hedge inst=BTC-USDT-SWAP side=buy pos=long type=limit sz=1 px=80000.05 id=ph-limit"
wait_log events.log "RESULT exchange.paper_hedge intent=ph-limit" 10
ord=$(sed -n 's/.*intent=ph-limit cl=phlimit ok=1 code=0 ord=\([0-9]*\).*/\1/p' events.log)
check "limit order rests (price rounded down to the tick)" [ -n "$ord" ]
check "stored with the price sent (80000.05 rounded down to tick 0.1)" qeq "SELECT px, state FROM orders WHERE intent_id='ph-limit'" "80000|live"
intent "op=cancel account=exchange.paper_hedge inst=BTC-USDT-SWAP ord=$ord id=ph-cancel"
wait_log events.log "cl=phlimit ord=$ord state=4" 10
check "canceled" qeq "SELECT state FROM orders WHERE intent_id='ph-limit'" canceled

# --- sizes and margin ------------------------------------------------------------------
intent "op=place account=exchange.paper_hedge inst=DOGE-USDT-SWAP side=buy pos=long type=market sz=2.567 id=ph-doge"
wait_log events.log "FILL exchange.paper_hedge DOGE-USDT-SWAP cl=phdoge" 10
check "DOGE: 2.567 contracts sent as 2.56 (lot 0.01), i.e. 2,560 DOGE" grep -q "FILL exchange.paper_hedge DOGE-USDT-SWAP cl=phdoge px=[0-9.]* sz=2.56 " events.log
intent "op=place account=exchange.paper_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=900 id=ph-huge"
wait_log events.log "RESULT exchange.paper_hedge intent=ph-huge" 10
check "an order beyond the margin is refused with 51008" contains events.log "intent=ph-huge cl=phhuge ok=0 code=51008"
check "refusal stored with its code" qeq "SELECT state, code FROM orders WHERE intent_id='ph-huge'" "rejected|51008"

# --- net mode: buy 2, sell 3 -> short 1 --------------------------------------------------
intent "op=place account=exchange.paper_net inst=BTC-USDT-SWAP side=buy type=market sz=2 id=pn-buy"
wait_log events.log "FILL exchange.paper_net BTC-USDT-SWAP cl=pnbuy" 10
intent "op=place account=exchange.paper_net inst=BTC-USDT-SWAP side=sell type=market sz=3 id=pn-sell"
wait_log events.log "POSITION exchange.paper_net BTC-USDT-SWAP side=0 pos=-1 " 10
check "net mode: buy 2 then sell 3 is short 1" contains events.log "POSITION exchange.paper_net BTC-USDT-SWAP side=0 pos=-1 "
check "accounts are separate: the hedge account's BTC long stays closed" [ "$(grep "^POSITION exchange.paper_hedge BTC-USDT-SWAP " events.log | tail -1 | grep -c " pos=0 ")" = 1 ]

kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
rt_finish
