#!/usr/bin/env bash
# kill -9 between a trader's decision and its order at OKX: exactly one order
# after the restart. The real engine against okx-sim, one account per case in
# long_short_mode (an entry with two intents, BTC long and DOGE short) or
# net_mode (a BTC short), each entry with its TP/SL. For every failpoint
# (include/aitrader/failpoint.h) the engine is started with it armed and dies
# there by SIGKILL; it is started again without it, and once every intent's
# orders row has left sent/unknown:
#   - okx-sim holds exactly one order per intent clOrdId, and nothing else;
#   - each has its TP/SL attached, once;
#   - the orders row carries okx-sim's ordId, the decision row its intents,
#     and the risk chain's verdicts are stored;
#   - intents the first run left without an orders row were published again
#     by the trader, rows it left "sent" were looked up by clOrdId: one
#     okx-sim has is settled from it; one it never got (killed between the
#     row and the send) is marked unsent, published again by the trader and
#     sent under its row, once.
#
# A kill at exec.before_submit lands in the loop turn that published the
# intents, before storage committed the decision row: that is a kill before
# the decision (nothing can be sent before the row commits, storage keeps
# the queue's order), and the case then checks that nothing is sent and no
# decision appears; with the row stored, the whole contract above.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

POINTS=(trader.decision_stored exec.before_submit okx.order_stored okx.order_sent)
# AT_KILL9_POINTS="a b": only these (while working on one)
[ -z "${AT_KILL9_POINTS:-}" ] || read -ra POINTS <<<"$AT_KILL9_POINTS"
MODES=(hedge net)

# One okx-sim account per case: a clean slate in which "exactly one order"
# also means "and no other".
{
  echo "["
  sep=""
  for i in "${!POINTS[@]}"; do
    for m in "${MODES[@]}"; do
      mode=long_short_mode; [ "$m" = net ] && mode=net_mode
      printf '%s{"apiKey": "k%s%s", "secretKey": "secret-%s-%s", "passphrase": "p%s%s", "demo": true, "posMode": "%s", "balances": {"USDT": "10000"}}\n' \
        "$sep" "$i" "$m" "$i" "$m" "$i" "$m" "$mode"
      sep=","
    done
  done
  echo "]"
} >accounts.json
sim_start sim.out --seed 17 --accounts accounts.json
WS=${URL/http:/ws:}/ws/v5

answer_hedge='{"decisions": [
 {"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3,
  "take_profit": 200000, "stop_loss": 10000, "reason": "breakout", "invalidation": "back in the range"},
 {"symbol": "DOGE-USDT-SWAP", "action": "open_short", "size_pct": 0.05, "leverage": 2,
  "take_profit": 0.01, "stop_loss": 100, "reason": "funding rich"}]}'
answer_net='{"decisions": [
 {"symbol": "BTC-USDT-SWAP", "action": "open_short", "size_pct": 0.02, "leverage": 5,
  "take_profit": 10000, "stop_loss": 200000, "reason": "lower highs"}]}'

# write_ini DIR TRADER: one account (CASE_KEY, CASE_SECRET, CASE_PASS), one
# trader on it, one risk rule (which approves these intents)
write_ini() {
  local dir=$1 name=$2
  cat >"$dir/engine.ini" <<EOF
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $dir/data
mode = paper
[storage.sqlite]
path = $dir/data/engine.db
[exchange.okx]
module = okx
demo = true
api_key = env:CASE_KEY
secret_key = env:CASE_SECRET
passphrase = env:CASE_PASS
rest_url = $URL
ws_public_url = $WS/public
ws_private_url = $WS/private
ws_business_url = $WS/business
instruments = BTC-USDT-SWAP, DOGE-USDT-SWAP
candles =
[risk.universe]
module = script
reject_instruments = SOL-USDT-SWAP
[ai.$name]
module = stub
answers_file = $dir/answers.txt
[trader.$name]
ai = ai.$name
account = exchange.okx
symbols = BTC-USDT-SWAP, DOGE-USDT-SWAP
long_period = 60m
max_leverage = 10
max_size_pct = 0.2
EOF
}

q() { sqlite3 "$DB" "$1"; }

# sim_orders: every order okx-sim has for the case's account (pending and
# history), one line "clOrdId ordId" each
sim_orders() {
  local path
  for path in orders-pending orders-history; do
    call GET "/api/v5/trade/$path?instType=SWAP" "" "${ACCT[@]}" || return 1
    [ "$(j out.json 'd["code"]')" = 0 ] || { echo "okx-sim $path: $(cat out.json)" >&2; return 1; }
    j out.json '"\n".join(o["clOrdId"] + " " + o["ordId"] for o in d["data"])'
  done | sed '/^$/d' | sort -u
}

# settled: every intent of the decision has an orders row that left sent/unknown
settled() {
  [ "$(q "SELECT count(*) FROM orders WHERE decision_id = '$K' AND state NOT IN ('sent', 'unknown')")" = "$NINT" ]
}

same_words() { [ "$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | tr '\n' ' ')" = "$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort | tr '\n' ' ')" ]; }
row_has_ord_id() { [ -n "$2" ] && [ "$(q "SELECT ord_id FROM orders WHERE intent_id = '$1'")" = "$2" ]; }
one_algo() { # one_algo ALGOCLORDID: okx-sim has exactly one TP/SL of that id
  call GET "/api/v5/trade/orders-algo-pending?ordType=oco&instType=SWAP" "" "${ACCT[@]}" &&
    [ "$(j out.json 'sum(1 for g in d["data"] if g["algoClOrdId"] == "'"$1"'")')" = 1 ]
}

run_case() { # run_case INDEX POINT MODE
  local i=$1 fp=$2 m=$3 dir="$RT_TMP/c$1$3" name="t$1$3"
  local what="$fp, $m"
  mkdir -p "$dir"
  ACCT=("k$i$m" "secret-$i-$m" "p$i$m" -H "x-simulated-trading: 1")
  DB="$dir/data/engine.db"
  export CASE_KEY="k$i$m" CASE_SECRET="secret-$i-$m" CASE_PASS="p$i$m"
  write_ini "$dir" "$name"
  if [ "$m" = hedge ]; then
    echo "$answer_hedge" >"$dir/answers.txt"; NINT=2
  else
    echo "$answer_net" >"$dir/answers.txt"; NINT=1
  fi

  # --- the run that dies at the failpoint -----------------------------------
  AITRADER_FAILPOINTS=$fp "$AITRADER" run -c "$dir/engine.ini" >"$dir/run1.out" 2>&1 &
  local pid=$! rc=none
  RT_PIDS+=("$pid")
  if wait_log "$dir/run1.out" "failpoint $fp: hit 1: SIGKILL" 60; then
    rc=0; wait "$pid" 2>/dev/null || rc=$?
  else
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  fi
  check "$what: the engine died by SIGKILL at the failpoint (exit $rc)" [ "$rc" = 137 ]
  check "$what: it warned at start that a failpoint was armed" \
    contains "$dir/run1.out" "AITRADER_FAILPOINTS=$fp: this process kills itself"
  K=$(q "SELECT id FROM decisions WHERE trader = '$name'")
  local cls sent_rows before
  cls=$(q "SELECT json_extract(value, '\$.cl_ord_id') FROM decisions, json_each(decisions.intents_json) WHERE decisions.id = '$K' ORDER BY key")
  sent_rows=$(q "SELECT cl_ord_id FROM orders WHERE state = 'sent'")
  before=$(sim_orders) || before="okx-sim did not answer"
  local lost=""
  [ -n "$K" ] || lost=1
  case $fp in
  exec.before_submit)
    if [ -n "$lost" ]; then
      echo "# $what: killed before storage committed the decision row: a kill before the decision"
    fi
    check "$what: killed before the first intent's orders row" [ "$(q "SELECT count(*) FROM orders")" = 0 ] ;;
  *)
    check "$what: storage had the decision row, with its $NINT intents" [ "$(wc -w <<<"$cls")" = "$NINT" ] ;;
  esac
  case $fp in
  trader.decision_stored | exec.before_submit | okx.order_stored)
    check "$what: okx-sim saw no order yet" [ -z "$before" ] ;;
  okx.order_sent)
    check "$what: okx-sim took the first intent's order" grep -q "^$(head -1 <<<"$cls") " <<<"$before" ;;
  esac
  case $fp in
  okx.order_stored)
    check "$what: killed with the first intent's row stored as sent" [ "$(q "SELECT state FROM orders WHERE intent_id = '$K/0'")" = sent ] ;;
  okx.order_sent) # still sent, unless the private feed told the fill first
    check "$what: killed with the first intent's row stored" [ "$(q "SELECT count(*) FROM orders WHERE intent_id = '$K/0'")" = 1 ] ;;
  esac
  local cl rows_at_kill
  rows_at_kill=$(q "SELECT count(*) FROM orders")

  # --- the restart, without the failpoint ------------------------------------
  # A new decision would trade again: the stub now holds (none is expected:
  # this hour's trigger is stored).
  echo '{"decisions": []}' >"$dir/answers.txt"
  "$AITRADER" run -c "$dir/engine.ini" >"$dir/run2.out" 2>&1 &
  pid=$!; RT_PIDS+=("$pid")
  if [ -n "$lost" ]; then
    # nothing was stored of the decision: nothing may be sent
    check "$what: the restarted trader found no decision" \
      wait_log "$dir/run2.out" "trader.$name: 0 past decisions read back" 20
    check "$what: the restarted account is up" wait_log "$dir/run2.out" "exchange.okx: state up" 20
    check "$what: no decision, no orders row" [ "$(q "SELECT count(*) FROM decisions") $(q "SELECT count(*) FROM orders")" = "0 0" ]
    check "$what: okx-sim has no order" [ -z "$(sim_orders)" ]
    check "$what: nothing was published again" lacks "$dir/run2.out" "published again after the restart"
  else
    check "$what: after the restart every intent's orders row left sent/unknown" \
      wait_until 30 "the orders rows of $K to settle" settled
    local orders n=0
    orders=$(sim_orders) || orders="okx-sim did not answer"
    check "$what: okx-sim has exactly one order per intent and nothing else" \
      same_words "$(cut -d' ' -f1 <<<"$orders")" "$cls"
    for cl in $cls; do
      local ord
      ord=$(awk -v c="$cl" '$1 == c {print $2}' <<<"$orders")
      check "$what: intent $n: its orders row has okx-sim's ordId ($ord)" row_has_ord_id "$K/$n" "$ord"
      check "$what: intent $n: the risk chain's verdict is stored" \
        [ "$(q "SELECT verdict FROM risk_verdicts WHERE intent_id = '$K/$n' AND rule = 'risk.universe'")" = approve ]
      check "$what: intent $n: its TP/SL is attached at okx-sim, once" one_algo "${cl}a"
      n=$((n + 1))
    done
    check "$what: the decision row is valid and lists its intents" \
      [ "$(q "SELECT valid, json_array_length(intents_json) FROM decisions WHERE id = '$K'")" = "1|$NINT" ]
    check "$what: no second decision after the restart" [ "$(q "SELECT count(*) FROM decisions")" = 1 ]
    if [ "$rows_at_kill" = 0 ]; then
      check "$what: each order came from the trader publishing its intent again" \
        [ "$(count_lines "$dir/run2.out" "never reached exchange.okx: published again after the restart")" = "$NINT" ]
      check "$what: reconciliation had nothing to look up" \
        lacks "$dir/run2.out" "order(s) of a previous run without an answer"
    fi
    if [ -n "$sent_rows" ]; then
      check "$what: the rows left sent were looked up at okx-sim by clOrdId" \
        contains "$dir/run2.out" "reconciliation: $(wc -w <<<"$sent_rows") order(s) of a previous run without an answer; asking OKX by clOrdId"
    fi
    for cl in $sent_rows; do
      local iid
      iid=$(q "SELECT intent_id FROM orders WHERE cl_ord_id = '$cl'")
      if grep -q "^$cl " <<<"$before"; then
        check "$what: the row of $cl, left sent, says it was found at OKX after the restart" \
          [ "$(q "SELECT msg FROM orders WHERE cl_ord_id = '$cl'")" = "found at OKX after restart" ]
        check "$what: and its intent was not published again" lacks "$dir/run2.out" "intent $iid (clOrdId"
      else
        check "$what: the row of $cl, left sent and never at okx-sim, was found unsent" \
          contains "$dir/run2.out" "unsent: not at OKX after its expTime: never sent before the restart"
        check "$what: the trader published its intent again" \
          contains "$dir/run2.out" "intent $iid (clOrdId $cl) never reached exchange.okx: published again after the restart"
        check "$what: exchange_okx sent it under its row, once" \
          [ "$(count_lines "$dir/run2.out" "$cl: sent again: its row said unsent")" = 1 ]
      fi
    done
  fi
  kill -TERM "$pid"; wait_exit "$pid" 20
  check "$what: the restarted engine stops cleanly" [ "$RT_RC" = 0 ]
}

for i in "${!POINTS[@]}"; do
  for m in "${MODES[@]}"; do
    run_case "$i" "${POINTS[$i]}" "$m"
  done
done
rt_finish
