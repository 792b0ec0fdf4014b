#!/usr/bin/env bash
# risk_limits in the real engine against okx-sim, with tight limits: intents
# from the driver plugin go through the executor and the rule, which prices
# them from okx-sim's own feed (MARK, TICKER, BOOK), equity (BALANCE),
# positions and the instruments table exchange_okx wrote. Each verdict is
# checked on the bus (VERDICT/RESULT lines), in risk_verdicts and orders,
# and at okx-sim: a rejected entry never reaches it, a resized one arrives
# with the size the verdict names, closes pass while entries are blocked.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 11 dk:demo-secret-1:dp:long_short_mode:10000
export DK=dk DS=demo-secret-1 DP=dp
DEMO=(dk demo-secret-1 dp -H "x-simulated-trading: 1")

# Margin per trade 1-10 % of equity at leverage 5; ETH's slippage limit so
# tight that no market entry passes it; two positions, three entries an
# hour; an hour between a close and the next entry on either side.
{
  ini_core "mode = paper"
  ini_okx okx_demo demo DK DS DP \
    "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP, SOL-USDT-SWAP, DOGE-USDT-SWAP" "leverage = 5" \
    "candles ="
  cat <<EOF
[risk.limits]
default_leverage = 5
max_leverage = 5
margin_min_pct = 1
margin_max_pct = 10
max_slippage_bps = 30, ETH-USDT-SWAP:0.001
max_opens_per_hour = 3
max_positions = 2
reentry_cooldown = 1h
flip_window = 1h
EOF
  ini_driver
} >engine.ini
place() { intent "op=place account=exchange.okx_demo type=market $*"; }
# verdict ID: the rule's VERDICT line for intent ID.
verdict() { grep "VERDICT intent=$1 rule=risk.limits " events.log; }
never_at_sim() {
  call GET "/api/v5/trade/order?instId=$1&clOrdId=$2" "" "${DEMO[@]}"
  [ "$(j out.json 'd["code"]')" = 51603 ]
}

check "check-config accepts the limits" "$AITRADER" check-config -c engine.ini
sed 's/^max_leverage = 5$/max_leverage = BTC-USDT-SWAP:20/' engine.ini >bad.ini
RC=0; "$AITRADER" check-config -c bad.ini >bad.out 2>&1 || RC=$?
LINE=$(grep -n '^max_leverage' bad.ini | cut -d: -f1)
check "check-config refuses an override list without a default (exit 2)" [ "$RC" = 2 ]
check "at the key's line" contains bad.out "bad.ini:$LINE: [risk.limits] max_leverage: no default value"
engine_start
wait_log engine.out "exchange.okx_demo: state up" 20
check "the rule is in the chain" contains engine.out "risk rule 1: risk.limits"
check "it read the instruments exchange_okx wrote" wait_log engine.out "risk.limits: 4 instrument rows read" 10
check "equity known" wait_log events.log "BALANCE exchange.okx_demo ccy=USDT" 10
for i in BTC ETH SOL DOGE; do
  wait_log events.log "MARK $i-USDT-SWAP" 10
  wait_log events.log "BOOK $i-USDT-SWAP" 10
done

# 1. under the minimum margin (0.05 BTC contracts: about 9 USDT at leverage 5)
place "inst=BTC-USDT-SWAP side=buy pos=long sz=0.05 id=rl-small"
wait_log events.log "RESULT exchange.okx_demo intent=rl-small cl=rlsmall ok=0 code=risk_rejected" 10
check "rejected by margin_per_trade" grep -q "VERDICT intent=rl-small rule=risk.limits verdict=2 sz=0.05 name=margin_per_trade reason=margin .* under margin_min_pct 1" events.log
check "the result names the rule" grep -q "intent=rl-small .*msg=risk.limits/margin_per_trade: margin" events.log
check "stored as a reject verdict" qeq "SELECT verdict || ' ' || rule_name FROM risk_verdicts WHERE intent_id='rl-small'" "reject margin_per_trade"
check "okx-sim never saw it" never_at_sim BTC-USDT-SWAP rlsmall

# 2. over the maximum margin: resized to the most 10 % of equity buys
place "inst=BTC-USDT-SWAP side=buy pos=long sz=10 id=rl-big"
wait_log events.log "RESULT exchange.okx_demo intent=rl-big cl=rlbig ok=1" 10
check "resized by margin_per_trade" grep -q "VERDICT intent=rl-big rule=risk.limits verdict=1 .*name=margin_per_trade reason=margin .* over margin_max_pct 10: 10 contracts resized to" events.log
SZ=$(verdict rl-big | sed -n 's/.* sz=\([0-9.]*\) name=.*/\1/p')
# The size is the largest lot multiple whose margin (sz x 0.01 x mark / 5) is
# within 10 % of the equity, both read from the reason (margin of 10 contracts).
exact_size() {
  python3 - "$(verdict rl-big)" "$SZ" <<'PY'
import re, sys
from decimal import Decimal as D, ROUND_DOWN
m = re.search(r"reason=margin ([0-9.]+) USDT \(leverage 5\) is [0-9.]+ % of equity ([0-9.]+)", sys.argv[1])
margin10, eq = D(m.group(1)), D(m.group(2))
unit_margin = margin10 / 10                       # one contract's margin
want = (eq * D("0.1") / unit_margin).quantize(D("0.01"), rounding=ROUND_DOWN)
sys.exit(0 if D(sys.argv[2]) == want else print(f"sz {sys.argv[2]}, want {want}") or 1)
PY
}
check "the size is the most the margin allows, in lots" exact_size
check "okx-sim has the resized order" sim_order_is BTC-USDT-SWAP rlbig filled "${DEMO[@]}"
check "of the verdict's size" [ "$(j out.json 'd["data"][0]["sz"]')" = "$SZ" ]
check "the verdict row says resize and the size" qeq "SELECT verdict || ' ' || sz || ' ' || rule_name FROM risk_verdicts WHERE intent_id='rl-big'" "resize $SZ margin_per_trade"
check "the order row has the size sent" qeq "SELECT sz FROM orders WHERE intent_id='rl-big'" "$SZ"
wait_log events.log "POSITION exchange.okx_demo BTC-USDT-SWAP side=1 pos=$SZ" 10

# 3. the expected fill of a market entry against ETH's book is over its limit
place "inst=ETH-USDT-SWAP side=buy pos=long sz=2 id=rl-slip"
wait_log events.log "RESULT exchange.okx_demo intent=rl-slip cl=rlslip ok=0 code=risk_rejected" 10
check "rejected by slippage, walking okx-sim's book" grep -q "VERDICT intent=rl-slip rule=risk.limits verdict=2 sz=2 name=slippage reason=expected fill .* bps from the .* (max 0.001)" events.log
check "okx-sim never saw the slippage reject" never_at_sim ETH-USDT-SWAP rlslip

# 4. not a multiple of SOL's lot: rounded down
place "inst=SOL-USDT-SWAP side=buy pos=long sz=5.005 id=rl-lot"
wait_log events.log "RESULT exchange.okx_demo intent=rl-lot cl=rllot ok=1" 10
check "resized by lot_size" grep -q "VERDICT intent=rl-lot rule=risk.limits verdict=1 sz=5 name=lot_size reason=5.005 contracts is not a multiple of lotSz 0.01" events.log
check "okx-sim has 5 contracts" sim_order_is SOL-USDT-SWAP rllot filled "${DEMO[@]}"
check "exactly 5" [ "$(j out.json 'd["data"][0]["sz"]')" = 5 ]
wait_log events.log "POSITION exchange.okx_demo SOL-USDT-SWAP side=1 pos=5" 10

# 5. a third instrument: max_positions (BTC and SOL are open)
place "inst=DOGE-USDT-SWAP side=buy pos=long sz=1 id=rl-third"
wait_log events.log "RESULT exchange.okx_demo intent=rl-third cl=rlthird ok=0 code=risk_rejected" 10
check "rejected by max_positions" grep -q "VERDICT intent=rl-third rule=risk.limits verdict=2 sz=1 name=max_positions reason=2 instruments already have a position" events.log
check "okx-sim never saw the third position" never_at_sim DOGE-USDT-SWAP rlthird

# 6. a close passes (SOL flat), then no re-entry on the same side and no flip
intent "op=close account=exchange.okx_demo inst=SOL-USDT-SWAP pos=long id=rl-close"
wait_log events.log "RESULT exchange.okx_demo intent=rl-close cl=rlclose ok=1" 10
check "the close approved" grep -q "VERDICT intent=rl-close rule=risk.limits verdict=0" events.log
check "SOL is flat at okx-sim's push" wait_log events.log "POSITION exchange.okx_demo SOL-USDT-SWAP side=1 pos=0" 10
place "inst=SOL-USDT-SWAP side=buy pos=long sz=5 id=rl-again"
wait_log events.log "RESULT exchange.okx_demo intent=rl-again cl=rlagain ok=0 code=risk_rejected" 10
check "rejected by reentry_cooldown" grep -q "VERDICT intent=rl-again rule=risk.limits verdict=2 sz=5 name=reentry_cooldown reason=the long SOL-USDT-SWAP position closed" events.log
place "inst=SOL-USDT-SWAP side=sell pos=short sz=5 id=rl-flip"
wait_log events.log "RESULT exchange.okx_demo intent=rl-flip cl=rlflip ok=0 code=risk_rejected" 10
check "rejected by no_flip" grep -q "VERDICT intent=rl-flip rule=risk.limits verdict=2 sz=5 name=no_flip reason=the long SOL-USDT-SWAP position closed .* no short" events.log

# 7. an entry the venue refuses does not count against the pace: the third
# entry of the hour then passes, the fourth does not
sim_control fault '{"spec":"reject-next=51008"}'
place "inst=BTC-USDT-SWAP side=buy pos=long sz=1 id=rl-venue"
wait_log events.log "RESULT exchange.okx_demo intent=rl-venue cl=rlvenue ok=0 code=51008" 10
check "approved by the rule, refused by the venue" grep -q "VERDICT intent=rl-venue rule=risk.limits verdict=0" events.log
place "inst=BTC-USDT-SWAP side=buy pos=long sz=1 id=rl-third-open"
wait_log events.log "RESULT exchange.okx_demo intent=rl-third-open cl=rlthirdopen ok=1" 10
place "inst=BTC-USDT-SWAP side=buy pos=long sz=1 id=rl-fourth"
wait_log events.log "RESULT exchange.okx_demo intent=rl-fourth cl=rlfourth ok=0 code=risk_rejected" 10
check "rejected by opens_per_hour" grep -q "VERDICT intent=rl-fourth rule=risk.limits verdict=2 sz=1 name=opens_per_hour reason=3 entries on exchange.okx_demo in the last hour" events.log
check "okx-sim never saw the fourth" never_at_sim BTC-USDT-SWAP rlfourth

# 8. with every BTC entry blocked for the hour, a reduction still passes
place "inst=BTC-USDT-SWAP side=sell pos=long sz=1 reduce=1 id=rl-reduce"
wait_log events.log "RESULT exchange.okx_demo intent=rl-reduce cl=rlreduce ok=1" 10
check "the reduction approved" grep -q "VERDICT intent=rl-reduce rule=risk.limits verdict=0 sz=1 name= reason=" events.log
check "and filled at okx-sim" sim_order_is BTC-USDT-SWAP rlreduce filled "${DEMO[@]}"
place "inst=BTC-USDT-SWAP side=sell pos=long sz=0.5 id=rl-reduce2"
wait_log events.log "RESULT exchange.okx_demo intent=rl-reduce2 cl=rlreduce2 ok=1" 10
check "a close of the long without reduce_only too (long/short mode)" grep -q "VERDICT intent=rl-reduce2 rule=risk.limits verdict=0" events.log

engine_stop
check "one verdict row per intent" qeq "SELECT count(*) FROM risk_verdicts WHERE rule='risk.limits'" 13
check "rejected entries stored as rejected orders" qeq "SELECT count(*) FROM orders WHERE state='rejected' AND code='risk_rejected'" 6
call GET "/api/v5/account/positions?instId=BTC-USDT-SWAP" "" "${DEMO[@]}"
BTC_POS=$(python3 -c "from decimal import Decimal as D; print(D('$SZ') + 1 - 1 - D('0.5'))")
check "okx-sim holds the resized BTC long, plus the third entry, less the reductions" [ "$(j out.json 'sum(float(p["pos"]) for p in d["data"] if p["posSide"]=="long")')" = "$(python3 -c "print(float('$BTC_POS'))")" ]
no_error() { ! grep -E '^[^ ]+ error ' engine.out; }
check "no error in the engine log" no_error
rt_finish
