#!/usr/bin/env bash
# The real engine with exchange_okx against okx-sim, in both position modes:
# instruments stored, market events on the bus, orders (market, limit,
# cancel, attached SL triggered), algo orders as ALGO_ORDER events (live,
# triggered, canceled with their position, kept live under okx-sim's
# keep-algos fault, listed after a restart), exact size checks (the DOGE case), a
# WebSocket drop and reconnect, a 429 burst, and a kill -9 between sending
# an order and its answer: after the restart there is exactly one order at
# okx-sim for that intent and the row says what happened.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 5 hk:hedge-secret-1:hp:long_short_mode:10000 nk:net-secret-22:np:net_mode:10000:live
export HK=hk HS=hedge-secret-1 HP=hp NK=nk NS=net-secret-22 NP=np

{
  ini_core "mode = live     ; exchange.okx_net is a live (non-demo) okx-sim account"
  ini_okx okx_hedge demo HK HS HP "instruments = BTC, ETH/USDT:USDT, DOGE-USDT-SWAP" "leverage = 5"
  ini_okx okx_net live NK NS NP "instruments = BTC-USDT-SWAP" "candles ="
  ini_driver
} >engine.ini

engine_start
wait_log engine.out "exchange.okx_hedge: state up" 20
wait_log engine.out "exchange.okx_net: state up" 20
check "both accounts up (public and private WebSockets)" contains engine.out "exchange.okx_net: state up"
check "users' symbol forms resolved" contains engine.out "exchange.okx_hedge: 5 OKX swaps listed; following 3"
check "instruments stored" qeq "SELECT count(*) FROM instruments WHERE exchange='exchange.okx_hedge'" 3
check "accounts stored with their position mode" qeq "SELECT pos_mode FROM accounts WHERE id='exchange.okx_net'" net_mode
wait_log events.log "CANDLE ETH-USDT-SWAP" 10
wait_log events.log "TRADE ETH-USDT-SWAP" 10
for ev in "TICKER BTC-USDT-SWAP" "BOOK DOGE-USDT-SWAP" "TRADE ETH-USDT-SWAP" "MARK BTC-USDT-SWAP" "FUNDING BTC-USDT-SWAP" "CANDLE ETH-USDT-SWAP bar=60" "BALANCE exchange.okx_hedge ccy=USDT eq=10000"; do
  check "event on the bus: $ev" contains events.log "$ev"
done

# --- hedge mode: market long 1 with an attached stop loss -----------------------
intent "op=place account=exchange.okx_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 sl=20000 id=h-open-1"
wait_log events.log "RESULT exchange.okx_hedge intent=h-open-1" 10
check "market order accepted" contains events.log "RESULT exchange.okx_hedge intent=h-open-1 cl=hopen1 ok=1 code=0"
wait_log events.log "FILL exchange.okx_hedge BTC-USDT-SWAP cl=hopen1" 10
check "fill pushed over the private WebSocket" contains events.log "FILL exchange.okx_hedge BTC-USDT-SWAP cl=hopen1"
wait_log events.log "POSITION exchange.okx_hedge BTC-USDT-SWAP side=1 pos=1 " 10
check "position long 1" contains events.log "POSITION exchange.okx_hedge BTC-USDT-SWAP side=1 pos=1 "
check "order row filled, with ord_id and fee" qeq "SELECT state, ord_id IS NOT NULL, fee < 0 FROM orders WHERE intent_id='h-open-1'" "filled|1|1"
check "fill stored" qeq "SELECT count(*) FROM fills WHERE account='exchange.okx_hedge' AND cl_ord_id='hopen1'" 1
check "leverage 5 set at start" qeq "SELECT lever FROM positions WHERE account='exchange.okx_hedge'" 5
# The stop loss is an algo order at okx-sim (algoClOrdId = clOrdId + "a"),
# pushed on the business WebSocket's orders-algo channel once the entry filled.
wait_log events.log "cl=hopen1a type=conditional state=1" 10
check "the attached stop loss: ALGO_ORDER live (sell, long)" grep -q "^ALGO exchange.okx_hedge BTC-USDT-SWAP id=[0-9]* cl=hopen1a type=conditional state=1 side=2 pos=1$" events.log
# The stop loss lives at the exchange: a price below it closes the position.
sim_control price '{"instId":"BTC-USDT-SWAP","px":"19000"}'
wait_log events.log "POSITION exchange.okx_hedge BTC-USDT-SWAP side=1 pos=0 " 10
check "attached stop loss closed the position at okx-sim" contains events.log "POSITION exchange.okx_hedge BTC-USDT-SWAP side=1 pos=0 "
check "and its ALGO_ORDER says it fired (effective)" wait_log events.log "cl=hopen1a type=conditional state=2" 10
sim_control price '{"instId":"BTC-USDT-SWAP","px":"90000"}'

# --- cancel an algo order (the attached TP/SL of a position) -----------------------
intent "op=place account=exchange.okx_hedge inst=ETH-USDT-SWAP side=buy pos=long type=market sz=1 sl=100 id=h-algo"
wait_log events.log "FILL exchange.okx_hedge ETH-USDT-SWAP cl=halgo" 10
call GET "/api/v5/trade/orders-algo-pending?ordType=conditional,oco&instId=ETH-USDT-SWAP" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
algo=$(j out.json 'd["data"][0]["algoId"] if d["data"] else ""')
check "the attached stop loss is an algo order at okx-sim" [ -n "$algo" ]
intent "op=cancel_algo account=exchange.okx_hedge inst=ETH-USDT-SWAP ord=$algo id=h-algo-cxl"
wait_log events.log "RESULT exchange.okx_hedge intent=h-algo-cxl" 10
check "cancel_algo accepted" contains events.log "intent=h-algo-cxl cl=halgocxl ok=1 code=0"
call GET "/api/v5/trade/orders-algo-pending?ordType=conditional,oco&instId=ETH-USDT-SWAP" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "no algo order left" [ "$(j out.json 'len(d["data"])')" = 0 ]
check "ALGO_ORDER canceled for the algoId cancelled" wait_log events.log "ALGO exchange.okx_hedge ETH-USDT-SWAP id=$algo cl=halgoa type=conditional state=4" 10
intent "op=close account=exchange.okx_hedge inst=ETH-USDT-SWAP pos=long id=h-algo-close"
wait_log events.log "POSITION exchange.okx_hedge ETH-USDT-SWAP side=1 pos=0 " 10

# --- a position that closes takes its TP/SL with it at okx-sim: live, then canceled ----
intent "op=place account=exchange.okx_hedge inst=ETH-USDT-SWAP side=buy pos=long type=market sz=1 tp=100000 sl=100 id=h-orphan"
check "entry with TP and SL: ALGO_ORDER live (oco)" wait_log events.log "cl=horphana type=oco state=1 side=2 pos=1" 10
closed=$(count_lines events.log "POSITION exchange.okx_hedge ETH-USDT-SWAP side=1 pos=0 ")
intent "op=close account=exchange.okx_hedge inst=ETH-USDT-SWAP pos=long id=h-orphan-close"
wait_count events.log "POSITION exchange.okx_hedge ETH-USDT-SWAP side=1 pos=0 " $((closed + 1)) 10
check "the close cancels it at okx-sim: ALGO_ORDER canceled" wait_log events.log "cl=horphana type=oco state=4" 10

# --- okx-sim's keep-algos fault: the close leaves it live (as users report OKX doing) -----
sim_control fault '{"spec":"keep-algos=1"}'
intent "op=place account=exchange.okx_hedge inst=ETH-USDT-SWAP side=buy pos=long type=market sz=1 tp=100000 sl=100 id=h-kept"
wait_log events.log "cl=hkepta type=oco state=1" 10
kept=$(sed -n 's/^ALGO exchange.okx_hedge ETH-USDT-SWAP id=\([0-9]*\) cl=hkepta type=oco state=1 .*/\1/p' events.log)
check "(its ALGO_ORDER live names the algoId)" [ -n "$kept" ]
closed=$(count_lines events.log "POSITION exchange.okx_hedge ETH-USDT-SWAP side=1 pos=0 ")
intent "op=close account=exchange.okx_hedge inst=ETH-USDT-SWAP pos=long id=h-kept-close"
wait_count events.log "POSITION exchange.okx_hedge ETH-USDT-SWAP side=1 pos=0 " $((closed + 1)) 10
call GET "/api/v5/trade/orders-algo-pending?ordType=conditional,oco&instId=ETH-USDT-SWAP" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "keep-algos=1: the position is closed and its TP/SL still live at okx-sim" [ "$(j out.json '[o["algoId"] + ":" + o["state"] for o in d["data"]]')" = "['$kept:live']" ]
# Cancelling it is the engine's job now: a cancel okx-sim accepts proves it
# was live until then, and the only canceled ALGO_ORDER is that cancel's.
intent "op=cancel_algo account=exchange.okx_hedge inst=ETH-USDT-SWAP ord=$kept id=h-kept-cxl"
wait_log events.log "RESULT exchange.okx_hedge intent=h-kept-cxl" 10
check "the orphan is cancelled by algoId" contains events.log "intent=h-kept-cxl cl=hkeptcxl ok=1 code=0"
check "then its ALGO_ORDER says canceled" wait_log events.log "id=$kept cl=hkepta type=oco state=4" 10
check "once" [ "$(count_lines events.log "cl=hkepta type=oco state=4")" = 1 ]
sim_control fault '{"spec":"keep-algos=0"}'

# --- exact sizes: no order is ever sent with a wrong size -------------------------
intent "op=place account=exchange.okx_hedge inst=DOGE-USDT-SWAP side=buy pos=long type=market sz=0.001 id=doge-tiny"
wait_log events.log "RESULT exchange.okx_hedge intent=doge-tiny" 10
check "0.001 DOGE contracts refused before sending (below minSz)" contains events.log "intent=doge-tiny cl=dogetiny ok=0 code= ord= msg=0.001 contracts is below minSz 0.01 for DOGE-USDT-SWAP"
intent "op=place account=exchange.okx_hedge inst=DOGE-USDT-SWAP side=buy pos=long type=market sz=1.239 id=doge-one"
wait_log events.log "FILL exchange.okx_hedge DOGE-USDT-SWAP cl=dogeone" 10
check "1.239 contracts rounded down to the lot: 1.23 contracts, never 1000x" contains events.log "FILL exchange.okx_hedge DOGE-USDT-SWAP cl=dogeone px="
check "DOGE fill size is 1.23 contracts" grep -q "FILL exchange.okx_hedge DOGE-USDT-SWAP cl=dogeone px=[0-9.]* sz=1.23 " events.log

# --- limit order, then cancel ------------------------------------------------------
intent "op=place account=exchange.okx_hedge inst=ETH-USDT-SWAP side=buy pos=long type=limit sz=1 px=100.004 id=e-limit"
wait_log events.log "RESULT exchange.okx_hedge intent=e-limit" 10
ord=$(sed -n 's/.*intent=e-limit cl=elimit ok=1 code=0 ord=\([0-9]*\).*/\1/p' events.log)
check "limit order live, price rounded down to the tick" [ -n "$ord" ]
call GET "/api/v5/trade/order?instId=ETH-USDT-SWAP&clOrdId=elimit" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "okx-sim got px 100 (buy rounded down to tickSz 0.01)" [ "$(j out.json 'd["data"][0]["px"]')" = 100 ]
intent "op=amend account=exchange.okx_hedge inst=ETH-USDT-SWAP ord=$ord px=101.5 sz=2 id=e-amend"
wait_log events.log "RESULT exchange.okx_hedge intent=e-amend" 10
check "amend accepted" contains events.log "intent=e-amend cl=eamend ok=1 code=0"
call GET "/api/v5/trade/order?instId=ETH-USDT-SWAP&clOrdId=elimit" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "okx-sim shows the amended price and size" [ "$(j out.json 'd["data"][0]["px"] + "/" + d["data"][0]["sz"]')" = "101.5/2" ]
intent "op=cancel account=exchange.okx_hedge inst=ETH-USDT-SWAP ord=$ord id=e-cancel"
wait_log events.log "RESULT exchange.okx_hedge intent=e-cancel" 10
check "cancel accepted" contains events.log "intent=e-cancel cl=ecancel ok=1"
wait_log events.log "cl=elimit ord=$ord state=4" 10
check "order push: canceled" contains events.log "cl=elimit ord=$ord state=4"

# --- net mode: buy 2, sell 3 -> short 1 ---------------------------------------------
intent "op=place account=exchange.okx_net inst=BTC-USDT-SWAP side=buy type=market sz=2 id=n-buy"
wait_log events.log "FILL exchange.okx_net BTC-USDT-SWAP cl=nbuy" 10
intent "op=place account=exchange.okx_net inst=BTC-USDT-SWAP side=sell type=market sz=3 id=n-sell"
wait_log events.log "POSITION exchange.okx_net BTC-USDT-SWAP side=0 pos=-1 " 10
check "net mode: buy 2 then sell 3 is short 1" contains events.log "POSITION exchange.okx_net BTC-USDT-SWAP side=0 pos=-1 "
call POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long","ordType":"market","sz":"1"}' nk net-secret-22 np
check "(net account refuses posSide at okx-sim, so the plugin must omit it)" [ "$(j out.json 'd["data"][0]["sCode"]')" = 51000 ]

# --- a WebSocket drop: reconnect, resubscribe, books again ----------------------------
ups0=$(grep -c "exchange.okx_hedge: state up" engine.out)
sim_control fault '{"spec":"ws-drop=1"}'
check "dropped WebSocket reconnects" wait_log engine.out "exchange.okx_hedge: ws public: reconnecting" 10
sim_control fault '{"spec":"none"}' # cleared only once a drop happened
n0=$(grep -c "BOOK BTC-USDT-SWAP" events.log)
check "the instance is up again after the drop" wait_count engine.out "exchange.okx_hedge: state up" $((ups0 + 1))
check "books flow again after the reconnect" wait_count events.log "BOOK BTC-USDT-SWAP" $((n0 + 3))

# --- fills while the private feed was away are caught up after it is back ------------
intent "op=place account=exchange.okx_hedge inst=BTC-USDT-SWAP side=buy pos=long type=limit sz=1 px=85000 id=h-away"
wait_log events.log "RESULT exchange.okx_hedge intent=h-away" 10
check "limit order resting" qeq "SELECT state FROM orders WHERE intent_id='h-away'" live
sim_control fault '{"spec":"ws-mute=1"}'
sim_control price '{"instId":"BTC-USDT-SWAP","px":"84000"}'
wait_until 10 "okx-sim to fill h-away" sim_order_is BTC-USDT-SWAP haway filled hk hedge-secret-1 hp -H "x-simulated-trading: 1"
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=haway" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "filled at okx-sim meanwhile" [ "$(j out.json 'd["data"][0]["state"]')" = filled ]
check "while our feed is silent: the row does not know yet" qeq "SELECT state FROM orders WHERE intent_id='h-away'" live
drops0=$(grep -c "ws private: reconnecting" engine.out)
sim_control fault '{"spec":"ws-drop=1"}'
check "the private feed drops" wait_count engine.out "ws private: reconnecting" $((drops0 + 1))
sim_control fault '{"spec":"none"}'
sim_control price '{"instId":"BTC-USDT-SWAP","px":"90000"}'
wait_log engine.out "private feed back: asking OKX about open orders" 15
check "after the reconnect the order's state is caught up" qeq "SELECT state FROM orders WHERE intent_id='h-away'" filled
wait_log events.log "FILL exchange.okx_hedge BTC-USDT-SWAP cl=haway" 10
check "and its fill published and stored once" qeq "SELECT count(*) FROM fills WHERE cl_ord_id='haway'" 1

# --- a 429 burst: an order is refused, never resent ------------------------------------
sim_control fault '{"spec":"rest-429=1"}'
intent "op=place account=exchange.okx_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 id=burst-1"
wait_log events.log "RESULT exchange.okx_hedge intent=burst-1" 10
sim_control fault '{"spec":"none"}'
check "429: order refused with 50011" contains events.log "intent=burst-1 cl=burst1 ok=0 code=50011"
# A resend would come from a timer of the order path (the HTTP retry backoff,
# 250 ms doubling; the 1 s lookup grace). okx-sim pushes a candle at most every
# 500 ms: 5 more BTC candles through the engine's loop prove over 2 s of its
# time ran after the refusal, every such timer due in it fired.
wait_more events.log "CANDLE BTC-USDT-SWAP" 5 20
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=burst1" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "429: okx-sim has no such order (nothing resent)" [ "$(j out.json 'd["code"]')" = 51603 ]

# --- kill -9 between sending and the answer -----------------------------------------------
# The answer is late and the private feed silent: only the row knows.
sim_control fault '{"spec":"latency=3000"}'
sim_control fault '{"spec":"ws-mute=1"}'
intent "op=place account=exchange.okx_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=2 id=crash-1"
# The row says 'sent' before the request leaves (intents are stored before
# they act); the loop writes it in the turns that follow: 5 more books through
# that loop prove those turns ran, and a written request reaches okx-sim even
# if the engine dies next. okx-sim holds the answer 3 s, so the kill lands
# between the order and its answer.
qeq "SELECT state FROM orders WHERE intent_id='crash-1'" sent || true # a wait; the check below judges
wait_more events.log "BOOK BTC-USDT-SWAP" 5 10
check "the intent was stored as sent before the answer" qeq "SELECT state FROM orders WHERE intent_id='crash-1'" sent
kill -9 "$ENGINE"; wait "$ENGINE" 2>/dev/null || true
sim_control fault '{"spec":"none"}'
engine_start
wait_log engine.out "reconciliation: 1 order(s) of a previous run" 20
wait_log events.log "RESULT exchange.okx_hedge intent=crash-1" 20
check "after restart the order is found at okx-sim, not resent" contains events.log "intent=crash-1 cl=crash1 ok=1 code=0"
check "its row is settled (filled)" qeq "SELECT state FROM orders WHERE intent_id='crash-1'" filled
call GET "/api/v5/trade/orders-history?instType=SWAP&instId=BTC-USDT-SWAP" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "exactly one order at okx-sim for that intent" [ "$(j out.json 'sum(1 for o in d["data"] if o["clOrdId"]=="crash1")')" = 1 ]

# --- an order nobody here placed is reported, not touched -------------------------------------
intent "op=place account=exchange.okx_hedge inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 sl=100 id=own-sl"
wait_log events.log "FILL exchange.okx_hedge BTC-USDT-SWAP cl=ownsl" 10
wait_log events.log "cl=ownsla type=conditional state=1" 10
engine_stop
call POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long","ordType":"limit","px":"1000","sz":"1","clOrdId":"foreign1"}' hk hedge-secret-1 hp -H "x-simulated-trading: 1"
call POST /api/v5/trade/order-algo '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"sell","posSide":"long","ordType":"conditional","sz":"1","slTriggerPx":"100","slOrdPx":"-1","algoClOrdId":"foreignalgo"}' hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "(a foreign algo order placed by hand)" [ "$(j out.json 'd["code"]')" = 0 ]
engine_start
wait_log engine.out "is not ours; left untouched" 20
check "foreign open order reported" contains engine.out "clOrdId 'foreign1') is not ours; left untouched"
wait_log engine.out "algoClOrdId 'foreignalgo') is not ours" 10
check "foreign algo order reported" contains engine.out "algoClOrdId 'foreignalgo') is not ours; left untouched"
call GET "/api/v5/trade/orders-algo-pending?ordType=conditional,oco&instId=BTC-USDT-SWAP" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "(our stop loss is pending at okx-sim with our algoClOrdId)" [ "$(j out.json '[o["algoClOrdId"] for o in d["data"]].count("ownsla")')" = 1 ]
check "our own algo order is not reported" lacks engine.out "algoClOrdId 'ownsla')"
# After the restart the engine learns every pending algo order again.
check "pending algo orders published at start: ours" wait_count events.log "cl=ownsla type=conditional state=1" 2 10
check "and the foreign one" wait_log events.log "cl=foreignalgo type=conditional state=1 side=2 pos=1" 10
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=foreign1" "" hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "foreign order still live" [ "$(j out.json 'd["data"][0]["state"]')" = live ]
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "no secret in the logs" lacks engine.out "hedge-secret-1"
rt_finish
