#!/usr/bin/env bash
# Shadow and gray release in the real engine: two traders on an okx-sim demo
# account, both with a paper venue on the same market data as their
# shadow_account:
#  - alpha, shadow = true: its entry and its close are risk-checked, stored
#    and filled on the paper venue only; okx-sim never sees an order of its;
#    the AI is shown the position as a shadow one; GET /api/shadow has its
#    shadow PnL, fees and round trip, nothing live;
#  - beta, live_weight = BTC-USDT-SWAP:0.3 with gray_seed = 7: over 30 manual
#    runs each entry goes live or shadow exactly as the draw recomputed here
#    in python from the decisions table says (SHA-256 of seed|trader|decision
#    id|symbol), okx-sim got exactly the live ones, the paper venue the shadow
#    ones, and /api/shadow and /metrics count them so.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 21 dk:demo-secret-1:dp:long_short_mode:10000
export DK=dk DS=demo-secret-1 DP=dp
SIMAUTH=(dk demo-secret-1 dp -H "x-simulated-trading: 1")
RUNS=30

# alpha: an entry, then (second call) its close, then holds
cat >ans-alpha.txt <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3,
  "take_profit": 500000, "stop_loss": 1000, "reason": "shadow breakout", "invalidation": "none"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "close_long", "size_pct": 1, "reason": "done"}]}
EOF
# beta: an entry per call (its first call at the start, then RUNS manual runs)
for i in $(seq 0 "$RUNS"); do
  [ "$i" -gt 0 ] && echo "%%"
  echo '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.01, "leverage": 3, "take_profit": 500000, "stop_loss": 1000, "reason": "gray"}]}'
done >ans-beta.txt

trader() { # trader NAME [extra lines]
  local name=$1; shift
  cat <<EOF
[ai.$name]
module = stub
cost = 0
answers_file = $RT_TMP/ans-$name.txt
requests_file = $RT_TMP/req-$name.txt
[trader.$name]
ai = ai.$name
account = exchange.okx_demo
symbols = BTC-USDT-SWAP
long_period = 60m
max_calls_hour = 0
max_calls_day = 0
shadow_account = exchange.paper_shadow
EOF
  printf '%s\n' "$@"
}
{
  ini_core "mode = paper"
  ini_okx okx_demo demo DK DS DP "instruments = BTC-USDT-SWAP" "candles ="
  cat <<EOF
[exchange.paper_shadow]
module = paper
market = exchange.okx_demo
rest_url = $URL
instruments = BTC-USDT-SWAP
balance = 10000
[risk.universe]
module = script
reject_instruments = SOL-USDT-SWAP
[ui.dashboard]
port = 0
EOF
  trader alpha "shadow = true"
  trader beta "live_weight = BTC-USDT-SWAP:0.3" "gray_seed = 7"
} >engine.ini

# --- check-config: the keys at their lines ---------------------------------------
sed 's/^live_weight = BTC-USDT-SWAP:0.3$/live_weight = BTC-USDT-SWAP@22:0.3/' engine.ini >bad.ini
RC=0; "$AITRADER" check-config -c bad.ini >check.out 2>&1 || RC=$?
check "check-config refuses a bad live_weight rule (exit 2)" [ "$RC" = 2 ]
check "at its line, naming the key and the rule" \
  grep -qE "^bad.ini:[0-9]+: \[trader.beta\] live_weight: rule 1 'BTC-USDT-SWAP@22:0.3': the window must be @HH-HH" check.out
sed 's/^shadow_account = exchange.paper_shadow$/shadow_account = exchange.okx_demo/' engine.ini >bad.ini
RC=0; "$AITRADER" check-config -c bad.ini >check.out 2>&1 || RC=$?
check "the trader's own account is no shadow account" grep -qE "^bad.ini:[0-9]+: \[trader.alpha\] shadow_account: exchange.okx_demo is the trader's account" check.out
sed 's/^shadow = true$/shadow = true\nlive_weight = 0.5/' engine.ini >both.ini
RC=0; "$AITRADER" check-config -c both.ini >check.out 2>&1 || RC=$?
check "shadow = true with live_weight: valid (exit 0)" [ "$RC" = 0 ]
check "but warned: the weight is ignored" \
  grep -qE "both.ini:[0-9]+: \[trader.alpha\] live_weight is ignored: shadow = true sends every entry to the shadow account" check.out
RC=0; "$AITRADER" check-config -c engine.ini >check.out 2>&1 || RC=$?
check "the test's config is valid" [ "$RC" = 0 ]
check "and warns of nothing of the kind" [ -z "$(grep "live_weight is ignored" check.out)" ]

# --- the engine --------------------------------------------------------------------
"$AITRADER" run -c engine.ini >engine.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log engine.out "ui.dashboard: state up" 20
line=$(grep '^dashboard: http' engine.out | tail -1)
API=$(sed -n 's|^dashboard: \(http://127.0.0.1:[0-9]*\)/#token=.*|\1|p' <<<"$line")
TOKEN=$(sed -n 's|^dashboard: http://127.0.0.1:[0-9]*/#token=\(.*\)|\1|p' <<<"$line")
api() { # api METHOD PATH: the answer in api.json, the status in $status
  status=$(curl -s -o api.json -w '%{http_code}' -X "$1" "$API$2" -H "Authorization: Bearer $TOKEN")
}
jq_() { j api.json "$1"; }
ndec() { q "SELECT count(*) FROM decisions WHERE trader='$1' AND valid"; }
# run NAME: a manual run once the trader has no call in flight, and its decision
run() {
  local n; n=$(ndec "$1")
  wait_until 20 "trader $1 to take a manual run" run_asked "$1" &&
    wait_eq 20 $((n + 1)) ndec "$1"
}
run_asked() { api POST "/api/traders/$1/run"; [ "$status" = 200 ]; }
check "the traders say their shadow route" contains engine.out \
  "trader.beta: trader on (ai ai.beta, account exchange.okx_demo, 1 symbols, shadow account exchange.paper_shadow, live weight BTC-USDT-SWAP:0.3)"
check "alpha: all shadow" contains engine.out "shadow account exchange.paper_shadow, live weight 0 (shadow = true)"

# --- alpha: shadow = true ------------------------------------------------------------
check "alpha decided at the start" wait_eq 30 1 ndec alpha
ACL=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions WHERE trader='alpha'")
check "its entry went shadow, to the paper venue" \
  qeq "SELECT json_extract(intents_json, '\$[0].route') || ' ' || json_extract(intents_json, '\$[0].account') FROM decisions WHERE trader='alpha'" \
  "shadow exchange.paper_shadow"
check "risk-checked like any intent" wait_eq 10 approve q "SELECT v.verdict FROM risk_verdicts v JOIN orders o ON o.intent_id = v.intent_id WHERE o.cl_ord_id='$ACL' AND v.rule='risk.universe'"
check "stored and filled there, flagged shadow" wait_eq 10 "exchange.paper_shadow|1|filled" q "SELECT account, shadow, state FROM orders WHERE cl_ord_id='$ACL'"
check "the paper venue has its fill" wait_eq 10 1 q "SELECT count(*) FROM fills WHERE account='exchange.paper_shadow' AND cl_ord_id='$ACL'"
check "core.ledger books it to alpha on the shadow account" wait_eq 10 1 q "SELECT count(*) FROM ledger WHERE origin='alpha' AND account='exchange.paper_shadow' AND kind='fill'"
check "alpha: its position shown to the AI as shadow" run alpha
check "in the prompt of its second call" grep -qF "SHADOW (hypothetical, not live) BTC-USDT-SWAP long" req-alpha.txt
check "with its fill as a shadow one" grep -qE "open_long BTC-USDT-SWAP 0.1 x3 -> shadow: filled [0-9.]+ @ [0-9.]+" req-alpha.txt
ACL2=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions WHERE trader='alpha' ORDER BY created_ms DESC LIMIT 1")
check "its close went to the shadow book too" \
  qeq "SELECT json_extract(intents_json, '\$[0].route') || ' ' || json_extract(intents_json, '\$[0].account') FROM decisions WHERE trader='alpha' ORDER BY created_ms DESC LIMIT 1" \
  "shadow exchange.paper_shadow"
check "and filled on paper" wait_eq 10 filled q "SELECT state FROM orders WHERE cl_ord_id='$ACL2'"
check "every order of alpha's is on the paper venue" qeq "SELECT count(*) FROM orders WHERE origin='alpha' AND account <> 'exchange.paper_shadow'" 0
sim_has() { call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=$1" "" "${SIMAUTH[@]}" && [ -n "$(j out.json 'd["data"] and d["data"][0]["ordId"] or ""')" ]; }
not() { ! "$@"; }
check "okx-sim never got alpha's entry" not sim_has "$ACL"
check "nor its close" not sim_has "$ACL2"
trips() { api GET "/api/shadow?trader=alpha"; jq_ '[r["shadow"]["round_trips"] for r in d["traders"]][0]'; }
check "GET /api/shadow: alpha's round trip on the shadow book" wait_eq 10 1 trips
check "one row, alpha's BTC" [ "$(jq_ '[(r["trader"], r["symbol"]) for r in d["traders"]]')" = "[('alpha', 'BTC-USDT-SWAP')]" ]
check "shadow: fees paid, flat, entries and decisions counted, a hit rate" \
  [ "$(jq_ '(lambda s: (s["account"], float(s["fees"]) < 0, s["position"], s["entries"], s["decisions"], s["hit_rate"] in (0, 1), s["net"] is not None))(d["traders"][0]["shadow"])')" = "('exchange.paper_shadow', True, '0', 1, 2, True, True)" ]
check "live: nothing booked" [ "$(jq_ '(lambda l: (l["account"], l["booked"], l["entries"], l["round_trips"], l["fees"]))(d["traders"][0]["live"])')" = "('exchange.okx_demo', False, 0, 0, '0')" ]
check "net = realized + fees + funding (flat)" python3 - <<'PY'
import json; from decimal import Decimal as D
s = json.load(open("api.json"))["traders"][0]["shadow"]
assert D(s["net"]) == D(s["realized"]) + D(s["fees"]) + D(s["funding"]), s
PY
FEES=$(q "SELECT printf('%.8f', sum(CAST(fee AS REAL))) FROM fills WHERE account='exchange.paper_shadow' AND cl_ord_id IN ('$ACL', '$ACL2')")
check "the shadow fees are the paper venue's fees" [ "$(jq_ '"%.8f" % float(d["traders"][0]["shadow"]["fees"])')" = "$FEES" ]

# --- beta: live_weight 0.3 -------------------------------------------------------------
check "beta decided at the start" wait_eq 30 1 ndec beta
ok_runs=0
for i in $(seq 1 "$RUNS"); do
  run beta && ok_runs=$((ok_runs + 1))
done
check "beta: $RUNS manual runs decided" [ "$ok_runs" = "$RUNS" ]
check "every decision's route is the draw recomputed independently" \
  python3 - "$DB" <<'PY'
import hashlib, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
live, shadow = [], []
for did, ij in db.execute("SELECT id, intents_json FROM decisions WHERE trader='beta' AND valid ORDER BY created_ms"):
    x = hashlib.sha256(f"7|beta|{did}|BTC-USDT-SWAP".encode()).digest()
    u = (int.from_bytes(x[:8], "big") >> 11) * 2.0 ** -53
    want = "live" if u < 0.3 else "shadow"
    line = json.loads(ij)[0]
    assert line["route"] == want, (did, u, line)
    assert line["account"] == ("exchange.okx_demo" if want == "live" else "exchange.paper_shadow"), line
    assert line["shadow"] == (want == "shadow") and line["live_weight"] == 0.3 and line["draw"] == u, line
    (live if want == "live" else shadow).append(line["cl_ord_id"])
assert len(live) + len(shadow) == 31, (len(live), len(shadow))
assert live and shadow, "both routes over 31 draws"
open("live.txt", "w").write("\n".join(live) + "\n")
open("shadow.txt", "w").write("\n".join(shadow) + "\n")
print(f"{len(live)} live, {len(shadow)} shadow of 31")
PY
NLIVE=$(wc -l <live.txt); NSHADOW=$(wc -l <shadow.txt)
filled_at() { q "SELECT count(*) FROM orders WHERE account='$1' AND state='filled' AND cl_ord_id IN ($(sed "s/.*/'&'/" "$2" | paste -sd,))"; }
check "the live ones filled at okx-sim (orders rows)" wait_eq 20 "$NLIVE" filled_at exchange.okx_demo live.txt
check "the shadow ones filled on paper" wait_eq 20 "$NSHADOW" filled_at exchange.paper_shadow shadow.txt
all_at_sim() { while read -r c; do sim_order_is BTC-USDT-SWAP "$c" filled "${SIMAUTH[@]}" || return 1; done <live.txt; }
check "okx-sim itself has every live one, filled" all_at_sim
none_at_sim() { while read -r c; do ! sim_has "$c" || return 1; done <shadow.txt; }
check "and none of the shadow ones" none_at_sim
sim_orders() { call GET "/api/v5/trade/orders-history?instType=SWAP&limit=100" "" "${SIMAUTH[@]}" >/dev/null; j out.json 'len(d["data"])'; }
check "okx-sim got exactly the live entries, nothing else ($NLIVE)" wait_eq 10 "$NLIVE" sim_orders
entries() { api GET "/api/shadow?trader=trader.beta"; jq_ '(lambda r: (r["live"]["entries"], r["shadow"]["entries"], r["live"]["decisions"], r["shadow"]["decisions"]))(d["traders"][0])'; }
check "GET /api/shadow counts them so" wait_eq 10 "($NLIVE, $NSHADOW, $NLIVE, $NSHADOW)" entries
# orders that never reached a venue are no entries nor decisions (failed,
# unsent, still an intent; the review found them counted)
sqlite3 -cmd ".timeout 5000" "$DB" "INSERT INTO orders (intent_id, cl_ord_id, account, origin,
  decision_id, inst_id, op, state, shadow, created_ms, updated_ms) VALUES
  ('rv/1', 'rvx1', 'exchange.okx_demo', 'beta', 'rvd1', 'BTC-USDT-SWAP', 'place', 'failed', 0, 0, 0),
  ('rv/2', 'rvx2', 'exchange.okx_demo', 'beta', 'rvd2', 'BTC-USDT-SWAP', 'place', 'unsent', 0, 0, 0),
  ('rv/3', 'rvx3', 'exchange.paper_shadow', 'beta', 'rvd3', 'BTC-USDT-SWAP', 'place', 'intent', 1, 0, 0)"
check "nor orders that never reached a venue" [ "$(entries)" = "($NLIVE, $NSHADOW, $NLIVE, $NSHADOW)" ]
api GET "/api/shadow?trader=trader."
check "?trader=trader. is a 400, not every trader" [ "$status" = 400 ]
api GET "/api/shadow?trader=%FF%FE"
check "a trader that is not UTF-8 is a 400" [ "$status" = 400 ]
api GET "/api/shadow?trader=beta"
check "with each side's fees" [ "$(jq_ '(lambda r: (float(r["live"]["fees"]) < 0, float(r["shadow"]["fees"]) < 0, r["live"]["position"] != "0", r["shadow"]["position"] != "0"))(d["traders"][0])')" = "(True, True, True, True)" ]
api GET /api/shadow
check "GET /api/shadow: both traders" [ "$(jq_ 'sorted(r["trader"] for r in d["traders"])')" = "['alpha', 'beta']" ]
api GET "/api/shadow?trader=nobody"
check "an unknown trader is a 404" [ "$status" = 404 ]
api GET /metrics
check "/metrics: beta's shadow entries" grep -qE "^aitrader_shadow_entries_total\{instance=\"trader.beta\"\} $NSHADOW\$" api.json
check "/metrics: beta's live entries" grep -qE "^aitrader_shadow_live_entries_total\{instance=\"trader.beta\"\} $NLIVE\$" api.json
check "/metrics: shadow intents handed to the paper venue" grep -qE "^aitrader_shadow_intents_total\{instance=\"core.executor\"\} $((NSHADOW + 2))\$" api.json
api GET /api/traders
check "GET /api/traders: beta's shadow account and rule" [ "$(jq_ '[(t["shadow_account"], t["live_weight"]) for t in d if t["id"]=="beta"][0]')" = "('exchange.paper_shadow', ['BTC-USDT-SWAP:0.3'])" ]

kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
rt_finish
