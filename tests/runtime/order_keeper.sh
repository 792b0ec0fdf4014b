#!/usr/bin/env bash
# The order keeper (core.keeper) in the real engine against okx-sim, in both
# position modes:
#  - a limit far from the market with ttl 2s is cancelled at okx-sim by an
#    intent of the keeper that went through the gate and the risk chain (the
#    kill switch on: cancels pass entry rules), and its orders row says
#    canceled; a limit that filled at once is never cancelled;
#  - with okx-sim's keep-algos fault (attached TP/SL survive their position's
#    close), an entry with TP/SL then a close leaves the algo live at okx-sim
#    until the keeper cancels it after [core] orphan_grace; okx-sim's
#    orders-algo-pending is empty afterwards.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 7 hk:hedge-secret-1:hp:long_short_mode:100000 nk:net-secret-22:np:net_mode:100000
export HK=hk HS=hedge-secret-1 HP=hp NK=nk NS=net-secret-22 NP=np
H=(-H "x-simulated-trading: 1")

account() { # account NAME KEYVAR SECRETVAR PASSVAR
  ini_okx "$1" demo "$2" "$3" "$4" "instruments = BTC-USDT-SWAP" "candles ="
}
{
  ini_core "mode = paper" "orphan_grace = 2s"
  account okx_hedge HK HS HP
  account okx_net NK NS NP
  cat <<EOF
[risk.breaker]
max_daily_loss_pct = 50
[risk.sizes]
module = script
reject_over = 5
EOF
  ini_driver
} >engine.ini
# pending_algos KEY SECRET PASS: how many algo orders okx-sim holds live.
pending_algos() {
  call GET "/api/v5/trade/orders-algo-pending?ordType=conditional,oco&instId=BTC-USDT-SWAP" "" \
    "$@" "${H[@]}" && j out.json 'len(d["data"])'
}

engine_start
wait_log engine.out "exchange.okx_hedge: state up" 20
wait_log engine.out "exchange.okx_net: state up" 20
check "the keeper starts with the gate" contains engine.out "core.keeper: order keeper on"
wait_log events.log "TICKER BTC-USDT-SWAP" 20
LAST=$(grep -m1 "^TICKER BTC-USDT-SWAP" events.log | sed 's/.* last=\([0-9.]*\).*/\1/')
px() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) * float(sys.argv[2])))" "$LAST" "$1"; }

# 1. limit TTL: a buy 8 % under the market rests, then is cancelled 2 s after it was sent
intent "op=place account=exchange.okx_net inst=BTC-USDT-SWAP side=buy type=limit px=$(px 0.92) sz=1 ttl=2000 id=k-ttl"
intent "op=place account=exchange.okx_net inst=BTC-USDT-SWAP side=buy type=limit px=$(px 1.02) sz=1 ttl=2000 id=k-fill"
wait_log events.log "RESULT exchange.okx_net intent=k-ttl cl=kttl ok=1" 10
check "the limit rests at okx-sim" sim_order_is BTC-USDT-SWAP kttl live nk net-secret-22 np "${H[@]}"
check "its deadline is stored" qeq "SELECT expire_ms - created_ms FROM orders WHERE cl_ord_id='kttl'" 2000
"$AITRADER" kill-switch on -c engine.ini "keeper test" >ks.out 2>&1
check "the kill switch is on (entries refused)" wait_log events.log "ALERT kill switch on since" 5
# each cancel attempt has an id of its own: clOrdId, deadline, attempt
KID="keeper/ttl/kttl/$(q "SELECT expire_ms FROM orders WHERE cl_ord_id='kttl'")/1"
check "the keeper cancels it" wait_log events.log "RESULT exchange.okx_net intent=$KID cl=kttl ok=1" 10
check "cancelled at okx-sim" sim_order_is BTC-USDT-SWAP kttl canceled nk net-secret-22 np "${H[@]}"
check "its orders row says canceled" qeq "SELECT state FROM orders WHERE cl_ord_id='kttl'" canceled
check "the cancel went through every rule, approved (the kill switch blocks entries only)" \
  qeq "SELECT group_concat(rule || '=' || verdict, ' ') FROM (SELECT rule, verdict FROM risk_verdicts WHERE intent_id='$KID' ORDER BY rule)" \
  "risk.breaker=approve risk.sizes=approve"
check "the keeper says why" grep -q "core.keeper: exchange.okx_net limit BTC-USDT-SWAP 1 @ [0-9.]* kttl unfilled after 2s: cancelling (intent $KID)" engine.out
"$AITRADER" kill-switch off -c engine.ini >>ks.out 2>&1
wait_log events.log "ALERT kill switch off since" 5
check "the limit that filled at once" sim_order_is BTC-USDT-SWAP kfill filled nk net-secret-22 np "${H[@]}"
check "is never cancelled" lacks events.log "intent=keeper/ttl/kfill"

# 2. orphan TP/SL: okx-sim keeps a closed position's attached TP/SL live
sim_control fault '{"spec":"keep-algos=1"}'
orphan_case() { # orphan_case ACCOUNT POS ID KEY SECRET PASS
  local acct=$1 pos=$2 id=$3 cl=${3//-/}; shift 3
  local posw=${pos:-net}
  intent "op=place account=exchange.$acct inst=BTC-USDT-SWAP side=buy pos=$pos type=market sz=1 tp=$(px 1.04) sl=$(px 0.96) id=$id"
  wait_log events.log "RESULT exchange.$acct intent=$id cl=$cl ok=1" 10
  check "$acct: the entry's TP/SL is live at okx-sim" wait_eq 10 1 pending_algos "$@"
  wait_log events.log "ALGO exchange.$acct BTC-USDT-SWAP id=" 10
  local algo
  algo=$(grep -m1 "^ALGO exchange.$acct BTC-USDT-SWAP id=.* cl=${cl}a .*state=1" events.log | sed 's/.* id=\([^ ]*\) .*/\1/')
  check "$acct: the engine sees it as ours (${cl}a)" [ -n "$algo" ]
  intent "op=close account=exchange.$acct inst=BTC-USDT-SWAP pos=$pos id=$id-close"
  wait_log events.log "RESULT exchange.$acct intent=$id-close" 10
  check "$acct: the position is closed" wait_log events.log "POSITION exchange.$acct BTC-USDT-SWAP side=$([ "$posw" = long ] && echo 1 || echo 0) pos=0" 10
  check "$acct: okx-sim leaves the TP/SL live after the close (the fault)" [ "$(pending_algos "$@")" = 1 ]
  check "$acct: the keeper cancels it after the grace" \
    wait_log events.log "RESULT exchange.$acct intent=keeper/orphan/$algo/1" 10
  check "$acct: the cancel succeeded" grep -q "RESULT exchange.$acct intent=keeper/orphan/$algo/1 .*ok=1" events.log
  check "$acct: nothing pending at okx-sim any more" wait_eq 5 0 pending_algos "$@"
  check "$acct: the keeper says why" grep -q "core.keeper: exchange.$acct take-profit/stop-loss algo $algo orphaned: BTC-USDT-SWAP long closed 2\(\.[0-9]\)\?s ago: cancelling" engine.out
  check "$acct: the cancel has its verdicts" \
    qeq "SELECT count(*) FROM risk_verdicts WHERE intent_id='keeper/orphan/$algo/1' AND allowed" 2
}
orphan_case okx_hedge long k-hedge hk hedge-secret-1 hp
orphan_case okx_net "" k-net nk net-secret-22 np

engine_stop
check "the keeper cancelled nothing else" [ "$(grep -c '^RESULT .*intent=keeper/' events.log)" = 3 ]
rt_finish
