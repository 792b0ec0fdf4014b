#!/usr/bin/env bash
# The one gate for orders, in the real engine against okx-sim: an intent
# published straight onto the bus (the driver plugin) reaches OKX only
# through the executor after the risk chain; a rejected one is answered,
# stored with its verdicts and never seen by okx-sim; a resize changes what
# is sent; mode = paper follows a live account and never trades it.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 7 dk:demo-secret-1:dp:long_short_mode:10000 lk:live-secret-22:lp:net_mode:10000:live
export DK=dk DS=demo-secret-1 DP=dp LK=lk LS=live-secret-22 LP=lp

{
  ini_core "mode = paper"
  ini_okx okx_demo demo DK DS DP "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP" "candles ="
  ini_okx okx_live live LK LS LP "instruments = BTC-USDT-SWAP" "candles ="
  cat <<EOF
[risk.sizes]
module = script
reject_over = 5
resize_to = 2
[risk.universe]
module = script
reject_instruments = ETH-USDT-SWAP
EOF
  ini_driver
} >engine.ini

engine_start
wait_log engine.out "exchange.okx_demo: state up" 20
wait_log engine.out "exchange.okx_live: state up" 20
check "the gate says the demo account is traded" contains engine.out "core.executor: exchange.okx_demo (demo account): traded"
check "and the live one followed, never traded" contains engine.out "core.executor: exchange.okx_live (live account): mode = paper: followed, never traded"
check "the chain in config order" grep -q "risk rule 1: risk.sizes" engine.out
check "the live account is still followed (its balance)" wait_log events.log "BALANCE exchange.okx_live ccy=USDT" 10

# 1. approved by both rules: sent as asked
intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 id=g-ok"
wait_log events.log "RESULT exchange.okx_demo intent=g-ok cl=gok ok=1" 10
check "an approved intent reaches okx-sim" sim_order_is BTC-USDT-SWAP gok filled dk demo-secret-1 dp -H "x-simulated-trading: 1"
check "both rules judged it, in order" grep -q "VERDICT intent=g-ok rule=risk.sizes verdict=0" events.log
check "the second rule too" grep -q "VERDICT intent=g-ok rule=risk.universe verdict=0" events.log
check "verdicts stored" qeq "SELECT count(*) FROM risk_verdicts WHERE intent_id='g-ok' AND verdict='approve'" 2

# 2. resized: okx-sim sees the smaller size
intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=buy pos=long type=market sz=3 id=g-resize"
wait_log events.log "RESULT exchange.okx_demo intent=g-resize cl=gresize ok=1" 10
check "the resize verdict names the new size" grep -q "VERDICT intent=g-resize rule=risk.sizes verdict=1 sz=2 name=resize reason=3 contracts resized to 2" events.log
check "okx-sim has the resized order" sim_order_is BTC-USDT-SWAP gresize filled dk demo-secret-1 dp -H "x-simulated-trading: 1"
check "of 2 contracts" [ "$(j out.json 'd["data"][0]["sz"]')" = 2 ]
check "the order row says what was sent" qeq "SELECT sz FROM orders WHERE intent_id='g-resize'" 2

# 3. rejected: answered, stored, never sent
intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=buy pos=long type=market sz=10 id=g-big"
wait_log events.log "RESULT exchange.okx_demo intent=g-big cl=gbig ok=0 code=risk_rejected" 10
check "the rejection names the rule and why" grep -q "intent=g-big cl=gbig ok=0 code=risk_rejected ord= msg=risk.sizes/max_size: 10 contracts is over 5" events.log
check "the next rule never saw it" lacks events.log "VERDICT intent=g-big rule=risk.universe"
check "stored as rejected" qeq "SELECT state || ' ' || code FROM orders WHERE intent_id='g-big'" "rejected risk_rejected"
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=gbig" "" dk demo-secret-1 dp -H "x-simulated-trading: 1"
check "okx-sim never saw the rejected order" [ "$(j out.json 'd["code"]')" = 51603 ]

# 4. the second rule rejects another instrument
intent "op=place account=exchange.okx_demo inst=ETH-USDT-SWAP side=buy pos=long type=market sz=1 id=g-eth"
wait_log events.log "RESULT exchange.okx_demo intent=g-eth cl=geth ok=0 code=risk_rejected" 10
check "rejected by the second rule after the first approved" grep -q "VERDICT intent=g-eth rule=risk.universe verdict=2" events.log

# 5. paper mode: the live account is never traded
intent "op=place account=exchange.okx_live inst=BTC-USDT-SWAP side=buy type=market sz=1 id=g-live"
wait_log events.log "RESULT exchange.okx_live intent=g-live cl=glive ok=0 code=risk_rejected" 10
check "refused by the gate before any rule" grep -q "VERDICT intent=g-live rule=core.gate verdict=2" events.log
check "no rule was asked" lacks events.log "VERDICT intent=g-live rule=risk."
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=glive" "" lk live-secret-22 lp
check "okx-sim never saw an order on the live account" [ "$(j out.json 'd["code"]')" = 51603 ]

# 6. a reduction passes the entry rules (closes are never blocked by them)
intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=sell pos=long type=market sz=3 reduce=1 id=g-reduce"
wait_log events.log "RESULT exchange.okx_demo intent=g-reduce cl=greduce ok=1" 10
check "a reduction over the size limits is not resized" sim_order_is BTC-USDT-SWAP greduce filled dk demo-secret-1 dp -H "x-simulated-trading: 1"
check "of all 3 contracts" [ "$(j out.json 'd["data"][0]["sz"]')" = 3 ]

engine_stop
check "no order was sent outside the gate" [ "$(grep -c 'RESULT .* ok=1' events.log)" = 3 ]
rt_finish
