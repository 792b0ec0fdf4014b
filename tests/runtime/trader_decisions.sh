#!/usr/bin/env bash
# The trading loop's decision half in the real engine against okx-sim (demo
# accounts, one in long_short_mode, one in net_mode), with ai_stub answering
# canned texts: trigger -> prompt -> answer -> validation -> DECISION stored
# with its prompt and raw answer -> intents -> the executor's verdicts -> an
# order with its attached TP/SL at okx-sim. Every malformed answer stores an
# invalid decision saying why and sends nothing; an invalid first answer is
# asked again once and the valid second one trades.
#
# Every trader triggers once, at the start; each has its own stub and answers.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 11 hk:hedge-secret-1:hp:long_short_mode:10000 nk:net-secret-22:np:net_mode:10000
export HK=hk HS=hedge-secret-1 HP=hp NK=nk NS=net-secret-22 NP=np
H=(hk hedge-secret-1 hp -H "x-simulated-trading: 1")
N=(nk net-secret-22 np -H "x-simulated-trading: 1")

# answers: one file per trader (records separated by %%)
ans() { cat >"ans-$1.txt"; }
ans hedge <<'EOF'
{"decisions": [
 {"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3,
  "take_profit": 200000, "stop_loss": 10000, "confidence": 0.7,
  "reason": "breakout above the range", "invalidation": "back inside the range"},
 {"symbol": "DOGE-USDT-SWAP", "action": "open_short", "size_pct": 0.05, "leverage": 2,
  "reason": "funding rich, momentum fading"},
 {"symbol": "ETH-USDT-SWAP", "action": "hold"}]}
EOF
ans net <<'EOF'
{"decisions": [
 {"symbol": "BTC-USDT-SWAP", "action": "open_short", "size_pct": 0.02, "leverage": 5,
  "take_profit": 10000, "stop_loss": 200000, "reason": "lower highs"},
 {"symbol": "ETH-USDT-SWAP", "action": "close_long", "size_pct": 1}]}
EOF
ans fenced <<'EOF'
```json
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.01, "leverage": 1, "reason": "fenced"}]}
```
EOF
ans think <<'EOF'
<think>The trend is up {maybe}. I should buy.</think>
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.01, "leverage": 1, "reason": "after thinking"}]}
EOF
ans around <<'EOF'
Here is my decision: {"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.01, "leverage": 1, "reason": "chatty"}]} Good luck!
EOF
ans refusal <<'EOF'
@refusal I cannot help with trading.
EOF
ans length <<'EOF'
@finish length
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_lo
EOF
ans types <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": "0.1", "leverage": 3, "reason": "x"}]}
EOF
ans symbol <<'EOF'
{"decisions": [{"symbol": "PEPE-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3, "reason": "x"}]}
EOF
ans size <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.5, "leverage": 3, "reason": "x"}]}
EOF
ans leverage <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 50, "reason": "x"}]}
EOF
ans tpside <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3, "take_profit": 1000, "reason": "x"}]}
EOF
ans error <<'EOF'
@error HTTP 402: Insufficient Balance
EOF
ans retry <<'EOF'
{"decisions": [{"symbol": "ETH-USDT-SWAP", "action": "open_long", "size_pct": "lots", "leverage": 2, "reason": "x"}]}
%%
{"decisions": [{"symbol": "ETH-USDT-SWAP", "action": "open_long", "size_pct": 0.02, "leverage": 2, "reason": "second try"}]}
EOF

okx() { # okx NAME KEYVAR SECRETVAR PASSVAR
  ini_okx "$1" demo "$2" "$3" "$4" "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP, DOGE-USDT-SWAP" \
    "candles ="
}
trader() { # trader NAME ACCOUNT [extra lines]
  local name=$1 acct=$2; shift 2
  cat <<EOF
[ai.$name]
module = stub
answers_file = $RT_TMP/ans-$name.txt
requests_file = $RT_TMP/req-$name.txt
[trader.$name]
ai = ai.$name
account = exchange.$acct
symbols = BTC-USDT-SWAP, ETH-USDT-SWAP, DOGE-USDT-SWAP
long_period = 60m
max_leverage = 10
max_size_pct = 0.2
EOF
  for l in "$@"; do echo "$l"; done
}
{
  ini_core "mode = paper"
  okx okx_hedge HK HS HP
  okx okx_net NK NS NP
  printf '[risk.universe]\nmodule = script\nreject_instruments = SOL-USDT-SWAP\n'  # approves ours
  trader hedge okx_hedge
  trader net okx_net
  for v in fenced think around; do trader "$v" okx_hedge; done
  for v in refusal length types symbol size leverage tpside error; do trader "$v" okx_hedge "retry = false"; done
  trader retry okx_net
} >engine.ini

# check-config refuses templates the start would refuse, at the trader's line
mkdir -p badp && cp "$AT_SOURCE_DIR/prompts/system.txt" badp/ && printf 'Hello {{nope}}\n' >badp/user.txt
{ cat engine.ini; printf '[trader.badp]\nai = ai.hedge\naccount = exchange.okx_hedge\nsymbols = BTC-USDT-SWAP\nprompts = %s/badp\n' "$RT_TMP"; } >bad.ini
RC=0; "$AITRADER" check-config -c bad.ini >check.out 2>&1 || RC=$?
check "check-config refuses an unknown placeholder (exit 2)" [ "$RC" = 2 ]
check "naming the template's file and line" grep -qE "^bad.ini:[0-9]+: \[trader.badp\] prompts: $RT_TMP/badp/user.txt:1: unknown placeholder \{\{nope\}\} \(known: time, trigger" check.out

# key NAME: the decision id (= trigger key) of a trader's first decision
key() { q "SELECT id FROM decisions WHERE trader='$1'"; }
ndec() { q "SELECT count(*) FROM decisions"; }

engine_start
wait_log engine.out "core: running" 20
check "every trader decided once" wait_eq 40 14 ndec
check "the trader says it is on" contains engine.out "trader.hedge: trader on (ai ai.hedge, account exchange.okx_hedge, 3 symbols)"

# --- a valid decision in long_short_mode ------------------------------------
K=$(key hedge)
check "the hedge decision is valid, validated ok" qeq "SELECT valid, validation, attempts FROM decisions WHERE id='$K'" "1|ok|1"
check "it answers its trigger" qeq "SELECT count(*) FROM triggers WHERE key='$K' AND decision_id='$K' AND cost_usd = 0.25" 1
check "stored with provider, model, tokens, cost" qeq "SELECT provider, model, tokens_in, tokens_out, cost FROM decisions WHERE id='$K'" "ai.hedge|stub|100|10|0.25"
check "stored with the raw answer as it came" [ "$(q "SELECT raw_response FROM decisions WHERE id='$K'")" = "$(cat ans-hedge.txt)" ]
check "stored with the system and user prompts the AI got" \
  python3 - "$DB" "$K" "$RT_TMP/req-hedge.txt" <<'PY'
import sqlite3, sys
db, k, req = sys.argv[1:]
sysp, user = sqlite3.connect(db).execute("SELECT system_prompt, prompt FROM decisions WHERE id=?", (k,)).fetchone()
text = open(req).read()
assert ("--- system\n%s\n--- user\n%s\n" % (sysp, user)) in text, "prompts differ from the request"
assert "BTC-USDT-SWAP last " in user and "Account: equity 10000" in user, user
PY
check "with the templates' hash and a token estimate" qeq "SELECT length(prompt_hash), prompt_tokens > 100 FROM decisions WHERE id='$K'" "64|1"
check "the parsed actions" qeq "SELECT json_extract(actions_json, '\$.decisions[0].action'), json_extract(actions_json, '\$.decisions[0].size_pct'), json_extract(actions_json, '\$.decisions[2].action') FROM decisions WHERE id='$K'" "open_long|0.1|hold"
check "the intents it produced" qeq "SELECT json_array_length(intents_json), json_extract(intents_json, '\$[0].intent_id'), json_extract(intents_json, '\$[0].pos_side') FROM decisions WHERE id='$K'" "2|$K/0|long"
CL=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions WHERE id='$K'")
SZ=$(q "SELECT json_extract(intents_json, '\$[0].sz') FROM decisions WHERE id='$K'")
check "the BTC entry went through the risk chain" qeq "SELECT verdict FROM risk_verdicts WHERE intent_id='$K/0' AND rule='risk.universe'" approve
check "the order row links the decision" qeq "SELECT origin, decision_id, cl_ord_id FROM orders WHERE intent_id='$K/0'" "hedge|$K|$CL"
check "okx-sim filled the BTC entry" wait_until 10 "order $CL filled" sim_order_is BTC-USDT-SWAP "$CL" filled "${H[@]}"
check "of the size the trader computed ($SZ contracts), long" \
  [ "$(j out.json 'd["data"][0]["sz"]+" "+d["data"][0]["posSide"]+" "+d["data"][0]["side"]')" = "$SZ long buy" ]
check "the ledger books the fill to the trader's decision: $SZ contracts opened, its fee" \
  qeq "SELECT json_extract(outcome_json, '\$.symbols.\"BTC-USDT-SWAP\".opened'), json_extract(outcome_json, '\$.symbols.\"BTC-USDT-SWAP\".open'), CAST(json_extract(outcome_json, '\$.fees') AS REAL) < 0 FROM decisions WHERE id='$K'" "$SZ|$SZ|1"
# One market order may fill at several levels of okx-sim's book: its fills
# together are the order (a fill booked twice would sum past it).
check "journaled under the trader with the clOrdId, its fills summing to $SZ" \
  qeq "SELECT count(*) >= 1, abs(sum(CAST(sz AS REAL)) - $SZ) < 1e-9 FROM ledger WHERE kind='fill' AND origin='hedge' AND decision_id='$K' AND cl_ord_id='$CL'" "1|1"
check "a PnL row for the trader on its account" qeq "SELECT count(*) > 0 FROM pnl_snapshots WHERE origin='hedge' AND account='exchange.okx_hedge'" 1
call GET "/api/v5/trade/orders-algo-pending?ordType=oco&instId=BTC-USDT-SWAP" "" "${H[@]}"
check "its TP/SL is attached at okx-sim as asked" \
  [ "$(j out.json '[(g["tpTriggerPx"], g["slTriggerPx"]) for g in d["data"] if g["algoClOrdId"] == "'"$CL"'a"]')" = "[('200000', '10000')]" ]
CLD=$(q "SELECT json_extract(intents_json, '\$[1].cl_ord_id') FROM decisions WHERE id='$K'")
check "okx-sim filled the DOGE short" wait_until 10 "order $CLD filled" sim_order_is DOGE-USDT-SWAP "$CLD" filled "${H[@]}"
check "short, in long_short_mode" [ "$(j out.json 'd["data"][0]["posSide"]+" "+d["data"][0]["side"]')" = "short sell" ]
TPD=$(q "SELECT json_extract(intents_json, '\$[1].tp') || ' ' || json_extract(intents_json, '\$[1].sl') FROM decisions WHERE id='$K'")
call GET "/api/v5/trade/orders-algo-pending?ordType=oco&instId=DOGE-USDT-SWAP" "" "${H[@]}"
check "the default TP/SL (4 % and 2 % from the price) is attached ($TPD)" \
  [ "$(j out.json '[g["tpTriggerPx"]+" "+g["slTriggerPx"] for g in d["data"] if g["algoClOrdId"] == "'"$CLD"'a"]')" = "['$TPD']" ]
check "below the price for a short's TP, above for its SL" \
  python3 -c "import sys; tp, sl = map(float, sys.argv[1].split()); px = float(sys.argv[2]); sys.exit(0 if tp < px < sl else 1)" "$TPD" \
  "$(q "SELECT avg_px FROM orders WHERE cl_ord_id='$CLD'")"

# --- net_mode ----------------------------------------------------------------
K=$(key net)
CL=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions WHERE id='$K'")
check "the net decision's short is sent with posSide net" qeq "SELECT json_extract(intents_json, '\$[0].pos_side') FROM decisions WHERE id='$K'" net
check "okx-sim filled it on the net account" wait_until 10 "order $CL filled" sim_order_is BTC-USDT-SWAP "$CL" filled "${N[@]}"
check "a sell in net mode" [ "$(j out.json 'd["data"][0]["posSide"]+" "+d["data"][0]["side"]')" = "net sell" ]
check "a close without a position is noted, not sent" qeq "SELECT json_extract(intents_json, '\$[1].note') FROM decisions WHERE id='$K'" "no long position to close"

# --- tolerated wrappings: each trades ---------------------------------------
for v in fenced think around; do
  K=$(key $v)
  check "$v: valid" qeq "SELECT valid, count(*) FROM decisions d JOIN orders o ON o.decision_id = d.id WHERE d.id='$K'" "1|1"
done
check "the fence is noted as stripped" qeq "SELECT validation FROM decisions WHERE trader='fenced'" "ok (stripped: code fence)"
check "the think block is noted as stripped" qeq "SELECT validation FROM decisions WHERE trader='think'" "ok (stripped: <think> block)"
check "text around the JSON is noted as stripped" qeq "SELECT validation FROM decisions WHERE trader='around'" "ok (stripped: text around the JSON)"

# --- malformed: stored invalid with the reason, nothing sent ----------------
invalid() { # invalid TRADER REASON
  local k; k=$(key "$1")
  check "$1: invalid: $2" qeq "SELECT valid, invalid_reason FROM decisions WHERE id='$k'" "0|$2"
  check "$1: nothing sent" qeq "SELECT count(*) FROM orders WHERE decision_id='$k'" 0
  check "$1: its DECISION freed the trigger" qeq "SELECT decision_id FROM triggers WHERE key='$k'" "$k"
}
invalid refusal "the model refused: I cannot help with trading."
invalid length "the answer was cut off (finish_reason length)"
invalid types "decisions[0].size_pct must be a number, got a string"
invalid symbol "decisions[0].symbol 'PEPE-USDT-SWAP' is not one of this trader's symbols (BTC-USDT-SWAP, ETH-USDT-SWAP, DOGE-USDT-SWAP)"
invalid size "decisions[0].size_pct 0.5 is over this trader's max_size_pct 0.2"
invalid leverage "decisions[0].leverage 50 is over this trader's max_leverage 10"
PX=$(q "SELECT invalid_reason FROM decisions WHERE trader='tpside'")
check "tpside: names the price it judged by" grep -qE '^decisions\[0\]\.take_profit 1000 is not above the price [0-9.]+ for a long$' <<<"$PX"
check "tpside: nothing sent" qeq "SELECT count(*) FROM orders o JOIN decisions d ON o.decision_id = d.id WHERE d.trader='tpside'" 0
invalid error "provider error: HTTP 402: Insufficient Balance"
check "the provider's error is stored apart" qeq "SELECT provider_error FROM decisions WHERE trader='error'" "HTTP 402: Insufficient Balance"
check "the refusal is stored apart" qeq "SELECT refusal FROM decisions WHERE trader='refusal'" "I cannot help with trading."
check "no malformed answer was asked again" qeq "SELECT count(*) FROM decisions WHERE trader IN ('refusal','length','types','symbol','size','leverage','tpside','error') AND attempts = 1" 8

# --- retry: invalid, then valid -> one order --------------------------------
K=$(key retry)
check "retry: asked twice, valid the second time" qeq "SELECT valid, attempts, first_error FROM decisions WHERE id='$K'" "1|2|decisions[0].size_pct must be a number, got a string"
check "retry: the first answer is kept" [ "$(q "SELECT first_response FROM decisions WHERE id='$K'")" = "$(head -1 ans-retry.txt)" ]
check "retry: the second request carries the error" grep -q "Your previous answer was invalid: decisions\[0\].size_pct must be a number, got a string." req-retry.txt
check "retry: the second request is marked as the retry" grep -q "=== request 2 trader retry id $K retry 1" req-retry.txt
check "retry: exactly one order" qeq "SELECT count(*) FROM orders WHERE decision_id='$K'" 1
CL=$(q "SELECT cl_ord_id FROM orders WHERE decision_id='$K'")
check "retry: okx-sim filled it" wait_until 10 "order $CL filled" sim_order_is ETH-USDT-SWAP "$CL" filled "${N[@]}"

# --- okx-sim saw exactly the valid intents -----------------------------------
count_sim() { call GET "/api/v5/trade/orders-history?instType=SWAP" "" "$@" && j out.json 'len(d["data"])'; }
check "the hedge account has the 5 entries of valid decisions, nothing else" wait_eq 10 5 count_sim "${H[@]}"
check "the net account has 2 (the short and the retried entry)" wait_eq 10 2 count_sim "${N[@]}"

engine_stop
rt_finish
