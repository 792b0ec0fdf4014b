#!/usr/bin/env bash
# risk_breaker in the real engine against okx-sim: a demo account's equity
# drops (okx-sim's price moved under an open long) and the breaker trips;
# entries are refused with daily_loss, reductions and closes pass; the CLI's
# kill switch refuses every entry with kill_switch and lets them pass again;
# a restart keeps the tripped breaker and the switch, and says so at start.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 7 dk:demo-secret-1:dp:long_short_mode:10000
export DK=dk DS=demo-secret-1 DP=dp

{
  ini_core "mode = paper"
  ini_okx okx_demo demo DK DS DP "instruments = BTC-USDT-SWAP" "candles =" "leverage = 10"
  cat <<EOF
[risk.breaker]
max_daily_loss_pct = 3
max_drawdown_pct = 20
until = cooldown
cooldown = 1h
EOF
  ini_driver
} >engine.ini
entry() { intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=buy pos=long type=market sz=1 id=$1"; }
H=(-H "x-simulated-trading: 1")

start_engine() {
  engine_start
  wait_log engine.out "core: running" 20
}

start_engine
wait_log engine.out "exchange.okx_demo: state up" 20
check "the breaker is in the chain" grep -q "risk rule 1: risk.breaker" engine.out
check "the start says the kill switch is off" contains engine.out "risk.breaker: kill switch off ($RT_TMP/data/kill-switch absent)"
check "nothing stored yet" contains engine.out "no stored state"
wait_log events.log "BALANCE exchange.okx_demo ccy=USDT eq=10000 total=10000" 10
wait_log engine.out "first equity seen, 10000" 5

# 1. an entry passes and opens a long of 5 contracts (0.05 BTC)
intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=buy pos=long type=market sz=5 id=b-open"
check "an entry passes before the trip" wait_log events.log "RESULT exchange.okx_demo intent=b-open cl=bopen ok=1" 10
check "the breaker approved the entry" grep -q "VERDICT intent=b-open rule=risk.breaker verdict=0" events.log
wait_log events.log "FILL exchange.okx_demo BTC-USDT-SWAP cl=bopen" 10
FILL_PX=$(sed -n 's/^FILL exchange.okx_demo BTC-USDT-SWAP cl=bopen px=\([0-9.]*\) .*/\1/p' events.log | head -1)

# 2. the price falls 12 %: 0.05 BTC lose ~6 % of 10000 USDT. okx-sim pushes
# the account on account events, so a leverage call (from outside the
# engine) makes it push the new equity.
LOW=$(python3 -c "print(f'{round(float(\"$FILL_PX\") * 0.88, 1):.1f}')")
sim_control price "{\"instId\":\"BTC-USDT-SWAP\",\"px\":\"$LOW\"}"
call POST /api/v5/account/set-leverage '{"instId":"BTC-USDT-SWAP","lever":"10","mgnMode":"cross"}' dk demo-secret-1 dp "${H[@]}"
check "okx-sim took the leverage call" [ "$(j out.json 'd["code"]')" = 0 ]
check "the breaker trips on the daily loss" wait_log events.log "ALERT breaker tripped (daily_loss): exchange.okx_demo lost" 10
check "and says until when, and that closes pass" grep -q "no new entries until .*(closes pass)" engine.out
check "the trip is stored" qeq "SELECT count(*) FROM audit_log WHERE instance='risk.breaker' AND kind='breaker.trip'" 1
check "with its state" qeq "SELECT json_extract(data_json, '\$.accounts[0].tripped') FROM audit_log WHERE kind='breaker.trip'" daily_loss

# 3. an entry is refused, with the rule and the numbers
entry b-refused
check "an entry is refused after it" wait_log events.log "RESULT exchange.okx_demo intent=b-refused cl=brefused ok=0 code=risk_rejected" 10
check "refused by risk.breaker/daily_loss" grep -q "intent=b-refused .*msg=risk.breaker/daily_loss: exchange.okx_demo lost .* % today: equity .* below the day's start 10000 (limit 3 %)" events.log
check "the verdict names the rule" grep -q "VERDICT intent=b-refused rule=risk.breaker verdict=2 sz=1 name=daily_loss" events.log
check "stored as rejected" qeq "SELECT state || ' ' || code FROM orders WHERE intent_id='b-refused'" "rejected risk_rejected"
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=brefused" "" dk demo-secret-1 dp "${H[@]}"
check "okx-sim never saw it" [ "$(j out.json 'd["code"]')" = 51603 ]

# 4. a reduction passes while tripped
intent "op=place account=exchange.okx_demo inst=BTC-USDT-SWAP side=sell pos=long type=market sz=2 reduce=1 id=b-reduce"
check "a reduction passes while tripped" wait_log events.log "RESULT exchange.okx_demo intent=b-reduce cl=breduce ok=1" 10
check "a reduction reaches okx-sim" sim_order_is BTC-USDT-SWAP breduce filled dk demo-secret-1 dp "${H[@]}"

# 5. the kill switch from the CLI: every entry refused, then allowed again
"$AITRADER" kill-switch on -c engine.ini "runtime test" >ks-on.out 2>&1
check "the CLI turns it on" grep -q "kill switch ON since .* by .*(aitrader kill-switch, pid [0-9]*): runtime test" ks-on.out
check "and names the file" contains ks-on.out "file: $RT_TMP/data/kill-switch"
check "the engine sees it within a second" wait_log events.log "ALERT kill switch on since" 5
entry b-killed
check "an entry is refused under the kill switch" wait_log events.log "RESULT exchange.okx_demo intent=b-killed cl=bkilled ok=0 code=risk_rejected" 10
check "refused by risk.breaker/kill_switch with who and why" grep -q "intent=b-killed .*msg=risk.breaker/kill_switch: kill switch on since .*: runtime test" events.log
intent "op=close account=exchange.okx_demo inst=BTC-USDT-SWAP pos=long id=b-close"
check "a close passes the kill switch and the trip" wait_log events.log "RESULT exchange.okx_demo intent=b-close cl=bclose ok=1" 10
check "the breaker approved the close" grep -q "VERDICT intent=b-close rule=risk.breaker verdict=0" events.log
check "the status says on" sh -c "'$AITRADER' kill-switch status -c engine.ini | grep -q '^kill switch ON'"
"$AITRADER" kill-switch off -c engine.ini >ks-off.out 2>&1
check "the CLI turns it off" grep -q "^kill switch off since" ks-off.out
check "the engine sees that too" wait_log events.log "ALERT kill switch off since" 5
entry b-after-ks
check "an entry is still refused" wait_log events.log "RESULT exchange.okx_demo intent=b-after-ks cl=bafterks ok=0 code=risk_rejected" 10
check "then the trip is what refuses" grep -q "intent=b-after-ks .*msg=risk.breaker/daily_loss:" events.log
check "switches are stored" qeq "SELECT count(*) FROM audit_log WHERE kind='breaker.kill_switch'" 2

# 6. a restart keeps the tripped breaker and the kill switch, and says so
"$AITRADER" kill-switch on -c engine.ini "over the restart" >/dev/null 2>&1
engine_stop
start_engine
check "the start reports the kill switch" wait_log engine.out "over the restart (${RT_TMP}/data/kill-switch): every new entry is refused, closes pass, until \`aitrader kill-switch off\`" 5
check "and the trip read back" wait_log engine.out "restored: breaker still tripped (daily_loss): exchange.okx_demo lost" 10
entry b-restart-ks
check "an entry is refused after the restart" wait_log events.log "RESULT exchange.okx_demo intent=b-restart-ks cl=brestartks ok=0 code=risk_rejected" 20
check "after the restart: refused by the kill switch" grep -q "intent=b-restart-ks .*msg=risk.breaker/kill_switch: .*over the restart" events.log
"$AITRADER" kill-switch off -c engine.ini >/dev/null 2>&1
check "the switch goes off again" wait_count events.log "ALERT kill switch off since" 2 5
entry b-restart-trip
check "an entry is still refused after the switch" wait_log events.log "RESULT exchange.okx_demo intent=b-restart-trip cl=brestarttrip ok=0 code=risk_rejected" 10
check "and by the trip, still" grep -q "intent=b-restart-trip .*msg=risk.breaker/daily_loss:.*below the day's start 10000" events.log
engine_stop
check "only the entry and the two exits reached okx-sim" [ "$(grep -c 'RESULT .* ok=1' events.log)" = 3 ]
rt_finish
