#!/usr/bin/env bash
# The profit-giveback watchdog in the real engine against okx-sim: a trader's
# entry fills, okx-sim's price is moved up (the position's uPnL peaks and the
# watchdog arms) and back down (the uPnL gives back more than giveback_pct of
# the peak): the trader publishes one close of its own contracts (what
# core.ledger books to it: a reduce-only market sell of the long), which goes
# through the executor and closes the position at okx-sim. okx-sim pushes
# positions on account events, so a leverage call (from outside the engine,
# the position's own leverage) makes it push the uPnL at the new price. The
# bus says what became of the close (source.driver's events.log).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 5 hk:hedge-secret-1:hp:long_short_mode:10000
export HK=hk HS=hedge-secret-1 HP=hp
H=(hk hedge-secret-1 hp -H "x-simulated-trading: 1")

# one answer: a long whose exchange TP/SL are far away (only the watchdog closes it)
cat >ans.txt <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3,
  "take_profit": 500000, "stop_loss": 1000, "reason": "watched by the giveback watchdog"}]}
EOF
{
  ini_core "mode = paper"
  ini_okx okx_hedge demo HK HS HP "instruments = BTC-USDT-SWAP" "candles ="
  cat <<EOF
[ai.alpha]
module = stub
answers_file = $RT_TMP/ans.txt
[trader.alpha]
ai = ai.alpha
account = exchange.okx_hedge
symbols = BTC-USDT-SWAP
long_period = 60m
giveback_pct = 40
giveback_arm_pct = 1
[risk.universe]
module = script
reject_instruments = SOL-USDT-SWAP
[source.driver]
log_file = $RT_TMP/events.log
EOF
} >engine.ini
# push: okx-sim pushes the account and its positions on a leverage call
push() {
  call POST /api/v5/account/set-leverage '{"instId":"BTC-USDT-SWAP","lever":"3","mgnMode":"cross"}' "${H[@]}"
  [ "$(j out.json 'd["code"]')" = 0 ]
}
# price FACTOR: okx-sim's BTC price at the entry's fill price x FACTOR (on the tick)
price() {
  sim_control price "{\"instId\":\"BTC-USDT-SWAP\",\"px\":\"$(python3 -c "print(f'{round(float(\"$FILL_PX\") * $1, 1):.1f}')")\"}"
}

engine_start
wait_log engine.out "core: running" 20
check "the trader decided" wait_eq 20 1 q "SELECT count(*) FROM decisions WHERE valid"
K=$(q "SELECT id FROM decisions")
CL=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions WHERE id='$K'")
check "okx-sim filled the entry" wait_until 10 "order $CL filled" sim_order_is BTC-USDT-SWAP "$CL" filled "${H[@]}"
check "its fill is stored (the trader's thesis for the position)" wait_eq 10 filled q "SELECT state FROM orders WHERE cl_ord_id='$CL'"
FILL_PX=$(q "SELECT avg_px FROM orders WHERE cl_ord_id='$CL'")
check "nothing closes while the uPnL is flat" lacks engine.out "giveback: closing"

# up 2 %: ~60 USDT of uPnL on ~1000 of margin; the watchdog arms (1 % = ~10)
price 1.02
check "okx-sim pushes the position at the new price" push
check "the watchdog arms on the peak" wait_log engine.out "trader.alpha: giveback: watching BTC-USDT-SWAP long" 10
check "and closes nothing yet" lacks engine.out "giveback: closing"

# back to +0.2 %: ~6 of a ~60 peak, more than 40 % given back
price 1.002
check "okx-sim pushes the position again" push
check "the watchdog closes the long" wait_log engine.out "trader.alpha: giveback: closing BTC-USDT-SWAP long (" 10
check "saying why" grep -qE "giveback: closing BTC-USDT-SWAP long \([0-9.]+ contracts, intent alpha/gb/BTC-USDT-SWAP/long/[0-9]+\): uPnL [0-9.]+ gave back [0-9.]+ % of its peak [0-9.]+ \(giveback_pct 40\)" engine.out
GID=$(sed -n 's/.*giveback: closing BTC-USDT-SWAP long ([0-9.]* contracts, intent \([^)]*\)).*/\1/p' engine.out)
check "it went through the risk chain" wait_log events.log "VERDICT intent=$GID rule=risk.universe verdict=0" 10
check "okx-sim took it" wait_log events.log "RESULT exchange.okx_hedge intent=$GID cl=ai" 10
check "as asked" grep -qE "^RESULT exchange.okx_hedge intent=$GID cl=ai[0-9a-f]{28} ok=1 code=0 " events.log
check "a reduce-only place of the trader's own contracts, not a close-position" \
  qeq "SELECT op || ' ' || reduce_only || ' ' || origin || ' ' || sz FROM orders WHERE intent_id='$GID'" \
  "place 1 alpha $(q "SELECT acc_fill_sz FROM orders WHERE cl_ord_id='$CL'")"
GCL=$(sed -n "s#^RESULT exchange.okx_hedge intent=$GID cl=\([a-z0-9]*\) .*#\1#p" events.log)
check "it filled ($GCL)" wait_log events.log "FILL exchange.okx_hedge BTC-USDT-SWAP cl=$GCL " 10
check "the long is gone" wait_log events.log "POSITION exchange.okx_hedge BTC-USDT-SWAP side=1 pos=0 " 10
pos_gone() {
  call GET "/api/v5/account/positions?instId=BTC-USDT-SWAP" "" "${H[@]}" &&
    [ "$(j out.json 'sum(float(p["pos"]) for p in d["data"])')" = "0" ]
}
check "the position is closed at okx-sim" wait_until 10 "the BTC position to close" pos_gone
count_sim() { call GET "/api/v5/trade/orders-history?instType=SWAP" "" "${H[@]}" && j out.json 'len(d["data"])'; }
check "okx-sim saw the entry and one close, nothing else" wait_eq 10 2 count_sim
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=$GCL" "" "${H[@]}"
check "okx-sim has it as a filled reduce-only sell of the long" \
  [ "$(j out.json 'd["data"][0]["state"]+" "+d["data"][0]["side"]+" "+d["data"][0]["posSide"]')" = "filled sell long" ]
# a further push does not close twice
N=$(count_lines events.log "BALANCE exchange.okx_hedge")
check "okx-sim pushes once more" push
check "and the engine hears it" wait_count events.log "BALANCE exchange.okx_hedge" $((N + 1)) 10
check "one close only" [ "$(count_lines events.log "RESULT exchange.okx_hedge intent=alpha/gb/")" = 1 ]
check "logged once" [ "$(count_lines engine.out "giveback: closing")" = 1 ]

engine_stop
rt_finish
