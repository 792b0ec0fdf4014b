#!/usr/bin/env bash
# ui_dashboard's API in the real engine against okx-sim: the token printed
# at start (and kept in data_dir/dashboard.token, 0600, reused after a
# restart); changes refused without it or from a foreign page (and nothing
# changed); malformed bodies, unknown routes, a 10 MB body (answered before
# it is read, no memory growth) refused with JSON; a manual market order in
# the positions and at okx-sim, a limit order cancelled, a risk rejection
# with its rule, the kill switch stopping entries; live events on /ws.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
WSC=(python3 "$AT_SOURCE_DIR/tests/support/ws_client.py")

cat >accounts.json <<'EOF'
[{"apiKey": "dk", "secretKey": "demo-secret-1", "passphrase": "dp", "demo": true,
  "posMode": "long_short_mode", "balances": {"USDT": "10000"}}]
EOF
sim_start sim.out --seed 5 --accounts accounts.json
export DK=dk DS=demo-secret-1 DP=dp
SIMAUTH=(dk demo-secret-1 dp -H "x-simulated-trading: 1")
WS=${URL/http:/ws:}/ws/v5
echo '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "hold"}]}' >answers.txt

cat >engine.ini <<EOF
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
mode = paper
[storage.sqlite]
path = $RT_TMP/data/engine.db
[exchange.okx_demo]
module = okx
demo = true
api_key = env:DK
secret_key = env:DS
passphrase = env:DP
rest_url = $URL
ws_public_url = $WS/public
ws_private_url = $WS/private
ws_business_url = $WS/business
instruments = BTC-USDT-SWAP
candles =
[risk.sizes]
module = script
reject_over = 5
[risk.breaker]
[ai.alpha]
module = stub
answers_file = $RT_TMP/answers.txt
[trader.alpha]
ai = ai.alpha
account = exchange.okx_demo
symbols = BTC-USDT-SWAP
long_period = 60m
[source.driver]
log_file = $RT_TMP/events.log
intent_file = $RT_TMP/intents.txt
[ui.dashboard]
port = 0
origins = http://localhost:5173
EOF
touch intents.txt
DB="$RT_TMP/data/engine.db"
q() { sqlite3 "$DB" "$1"; }

# start_engine: one more engine run (its output added to engine.out); its
# dashboard's port and token from the URL it printed.
start_engine() {
  local ups
  ups=$(count_lines engine.out "ui.dashboard: state up")
  "$AITRADER" run -c engine.ini >>engine.out 2>&1 &
  ENGINE=$!; RT_PIDS+=("$ENGINE")
  wait_count engine.out "ui.dashboard: state up" $((ups + 1)) 20
  local line
  line=$(grep '^dashboard: http' engine.out | tail -1)
  PORT=$(sed -n 's|^dashboard: http://127.0.0.1:\([0-9]*\)/#token=.*|\1|p' <<<"$line")
  TOKEN=$(sed -n 's|^dashboard: http://127.0.0.1:[0-9]*/#token=\(.*\)|\1|p' <<<"$line")
  API=http://127.0.0.1:$PORT
}

# api METHOD PATH [BODY [curl args...]]: with the token; the answer in
# api.json, the status in $status.
api() {
  local method=$1 path=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
  local args=(-s -o api.json -w '%{http_code}' -X "$method" "$API$path"
              -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
  [ -n "$body" ] && args+=(--data-raw "$body")
  status=$(curl "${args[@]}" "$@")
}
# raw METHOD PATH BODY [curl args...]: no token unless given.
raw() {
  local method=$1 path=$2 body=$3; shift 3
  status=$(curl -s -o api.json -w '%{http_code}' -X "$method" "$API$path" --data-raw "$body" "$@")
}
jq_() { j api.json "$1"; }
err_is() { [ "$status" = "$1" ] && [ "$(jq_ 'd["error"]["code"]')" = "$2" ]; }
# err_field STATUS CODE FIELD / err_has STATUS CODE TEXT: the error names the
# field, or says TEXT.
err_field() { err_is "$1" "$2" && [ "$(jq_ 'd["error"].get("field")')" = "$3" ]; }
err_has() { err_is "$1" "$2" && grep -qF -- "$3" api.json; }
# answered STATUS STATE: a 2xx with the order's state.
answered() { [ "$status" = "$1" ] && [ "$(jq_ 'd["state"]')" = "$2" ]; }
wait_exit_ok() { wait_exit "$1" 30; [ "$RT_RC" = 0 ]; }
manual_rows() { q "SELECT count(*) FROM orders WHERE origin='manual'"; }
sim_orders() {
  call GET "/api/v5/trade/orders-history?instType=SWAP" "" "${SIMAUTH[@]}" >/dev/null
  j out.json 'len(d["data"])'
}

# --- check-config refuses what start would, at the key's line ------------------
bad_ini() { sed '/^\[ui.dashboard\]/,$d' engine.ini; printf '[ui.dashboard]\n%s\n' "$1"; }
bad_ini "origins = localhost:5173" >bad.ini
RC=0; "$AITRADER" check-config -c bad.ini >check.out 2>&1 || RC=$?
check "check-config refuses an origin without its scheme (exit 2)" [ "$RC" = 2 ]
check "at its line" grep -qE "^bad.ini:[0-9]+: \[ui.dashboard\] origins: 'localhost:5173' is not an origin" check.out
bad_ini "token = env:DASH_SHORT" >bad.ini
RC=0; DASH_SHORT=sh0rt-t0ken "$AITRADER" check-config -c bad.ini >check.out 2>&1 || RC=$?
check "and a token too short to be safe" [ "$RC" = 2 ]
check "saying why" grep -qE "^bad.ini:[0-9]+: \[ui.dashboard\] token: the token has 11 characters; it needs 16" check.out
check "without quoting it" lacks check.out sh0rt-t0ken

start_engine
wait_log engine.out "exchange.okx_demo: state up" 20
wait_log events.log "BALANCE exchange.okx_demo ccy=USDT" 10
wait_log events.log "TICKER BTC-USDT-SWAP" 10

# --- the token ---------------------------------------------------------------
check "the URL with the token is printed once" [ "$(grep -c '^dashboard: http' engine.out)" = 1 ]
check "the token is 64 hex digits" grep -qE '^[0-9a-f]{64}$' <<<"$TOKEN"
check "it is in data_dir/dashboard.token" [ "$(cat data/dashboard.token)" = "$TOKEN" ]
check "which only the owner can read" [ "$(stat -c %a data/dashboard.token)" = 600 ]
check "the log gives the URL without the token" contains engine.out "ui.dashboard: dashboard at http://127.0.0.1:$PORT/"
check "and never the token itself" [ "$(grep -v '^dashboard: http' engine.out | grep -c "$TOKEN")" = 0 ]

# --- reads --------------------------------------------------------------------
api GET /api/health
check "health answers" [ "$status" = 200 ]
check "with the dashboard among the plugins" [ "$(jq_ '[p["state"] for p in d["plugins"] if p["instance"]=="ui.dashboard"][0]')" = up ]
check "health never shows the token" lacks api.json "$TOKEN"
api GET /api/instruments
check "instruments from storage, with their lot and tick" [ "$(jq_ '[(i["instId"], i["lotSz"], i["tickSz"]) for i in d][0][0]')" = BTC-USDT-SWAP ]
api GET "/api/market/tickers?instId=BTC-USDT-SWAP"
check "the latest ticker, price as an exact string" [ "$(jq_ 'type(d[0]["last"]).__name__')" = str ]
LAST=$(jq_ 'd[0]["last"]')
api GET /api/accounts
check "the account with its equity" [ "$(jq_ '[(a["id"], a["equity"]) for a in d if a["id"]=="exchange.okx_demo"][0][1]')" = 10000 ]
check "and its position mode" [ "$(jq_ '[a["posMode"] for a in d][0]')" = long_short_mode ]
api GET /api/accounts/exchange.nope/positions
check "an unknown account is a 404" err_is 404 unknown_account
api GET /api/nothing/here
check "an unknown route is a 404 in JSON" err_is 404 not_found
api PUT /api/orders
check "a known route with another method is a 405" err_is 405 method_not_allowed
api GET "/api/decisions?limit=x"
check "a bad query parameter is a 400 naming it" err_field 400 bad_query limit
status=$(curl -s -o api.json -w '%{http_code}' -H "Host: attacker.example:$PORT" "$API/api/accounts")
check "a DNS name that is not ours (rebinding) is refused" err_is 403 bad_host
api GET /metrics
check "/metrics in Prometheus text" grep -q '^aitrader_dashboard_requests_total{instance="ui.dashboard"}' api.json
# no answer carries an account's secret (the API key and passphrase are two
# letters here: the secret key stands for them)
for route in /api/health /api/accounts /api/traders /api/instruments /metrics; do
  api GET "$route"
  check "$route never shows the account's secret key" lacks api.json demo-secret-1
done

# --- the live feed: connected before the trading below --------------------------
"${WSC[@]}" "ws://127.0.0.1:$PORT/ws" --origin "http://127.0.0.1:$PORT" --want decision \
  --timeout 120 --ready ws.ready --out ws.log >ws.out 2>&1 &
WSPID=$!; RT_PIDS+=("$WSPID")
check "the dashboard's own page opens /ws" wait_until 10 "the WebSocket to open" test -e ws.ready
RC=0; "${WSC[@]}" "ws://127.0.0.1:$PORT/ws" --origin "http://evil.example" --timeout 5 >ws-evil.out 2>&1 || RC=$?
check "a foreign page's WebSocket is refused" [ "$RC" = 3 ]
check "with a 403" grep -q "status 403" ws-evil.out
RC=0; "${WSC[@]}" "ws://127.0.0.1:$PORT/ws" --origin "http://localhost:5173" --timeout 1 >ws-dev.out 2>&1 || RC=$?
check "an origin listed in origins may open it" grep -q "status 101" ws-dev.out

# --- changes need the token, from an allowed page --------------------------------
ORDER='{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","side":"buy","posSide":"long","ordType":"market","sz":"1"}'
raw POST /api/orders "$ORDER" -H "Content-Type: application/json"
check "an order without a token is a 401" err_is 401 unauthorized
WRONG=${TOKEN:0:63}$([ "${TOKEN:63:1}" = 0 ] && echo 1 || echo 0) # its last digit changed
raw POST /api/orders "$ORDER" -H "Authorization: Bearer $WRONG"
check "with a wrong token too" err_is 401 unauthorized
raw POST /api/kill-switch '{"on": true}' -H "Authorization: Bearer nope"
check "the kill switch without the token: 401" err_is 401 unauthorized
raw POST /api/traders/alpha/pause '{}'
check "a trader's pause without the token: 401" err_is 401 unauthorized
api GET /api/traders
check "and the trader is still running" [ "$(jq_ '[t["state"] for t in d if t["id"]=="alpha"][0]')" = running ]
api POST /api/orders "$ORDER" -H "Origin: http://evil.example"
check "an order from a foreign page is a 403, token or not" err_is 403 forbidden_origin
check "the kill switch is still off" [ ! -e data/kill-switch ]
check "nothing reached the order gate" lacks events.log "intent=manual"
check "no manual order stored" [ "$(manual_rows)" = 0 ]
check "and okx-sim has no order" [ "$(sim_orders)" = 0 ]

# --- malformed bodies -----------------------------------------------------------------
api POST /api/orders '{"account": "exchange.okx_demo", '
check "malformed JSON is a 400 saying where" err_has 400 bad_json "line 1"
api POST /api/orders '[1, 2]'
check "a body that is not an object: 400" err_is 400 bad_json
api POST /api/orders '{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","side":"buy","posSide":"long","ordType":"market","sz":"1","szz":"2"}'
check "an unknown key: 400" err_is 400 unknown_key
api POST /api/orders '{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","side":"buy","posSide":"long","ordType":"market","sz":0.1}'
check "a size as a JSON fraction: 400 (not exact)" err_is 400 bad_value
api POST /api/orders '{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","side":"buy","posSide":"long","ordType":"market","sz":"0.001"}'
check "a size off the lot: 400 naming the lot" err_has 400 bad_value "lot size 0.01"
api POST /api/orders '{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","side":"buy","ordType":"market","sz":"1"}'
check "no posSide in long/short mode: 400" err_field 400 missing posSide
api POST /api/orders '{"account":"exchange.okx_demo","instId":"DOGE-USDT-SWAP","side":"buy","posSide":"long","ordType":"market","sz":"1"}'
check "an instrument the account does not trade: 400" err_is 400 unknown_instrument
api POST /api/orders "{\"account\":\"exchange.okx_demo\",\"instId\":\"BTC-USDT-SWAP\",\"side\":\"buy\",\"posSide\":\"long\",\"ordType\":\"market\",\"sz\":\"1\",\"tpTriggerPx\":\"1000\"}"
check "a take-profit below a buy's price: 400" err_field 400 bad_value tpTriggerPx
api POST /api/kill-switch '{"on": "yes"}'
check "the kill switch wants true or false" err_is 400 bad_value
check "still nothing at the gate" [ "$(manual_rows)" = 0 ]

# --- a 10 MB body: refused from its headers, nothing kept -------------------------------
head -c 10485760 /dev/zero | tr '\0' 'x' >big.json
RSS0=$(awk '/^VmRSS/ {print $2}' "/proc/$ENGINE/status")
for i in 1 2 3; do
  status=$(curl -s -o api.json -w '%{http_code}' -X POST "$API/api/orders" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" --data-binary @big.json)
done
check "a 10 MB body is a 413 in JSON" err_is 413 too_large
RSS1=$(awk '/^VmRSS/ {print $2}' "/proc/$ENGINE/status")
check "and the engine did not grow with it ($RSS0 -> $RSS1 kB)" [ $((RSS1 - RSS0)) -lt 4096 ]
cat >early.py <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10485760\r\n\r\n")
print(s.recv(200).split(b"\r\n")[0].decode())
PY
check "answered before any of the body is sent" [ "$(python3 early.py "$PORT")" = "HTTP/1.1 413 Request Entity Too Large" ]

# --- a manual market order --------------------------------------------------------------------
api POST /api/orders "$ORDER"
check "a new position without lever: 400 (okx-sim would open at its own 10x)" err_field 400 missing lever
api POST /api/orders "${ORDER%\}},\"lever\":\"0.5\"}"
check "a lever below 1: 400" err_field 400 bad_value lever
check "still no manual order at the gate" [ "$(manual_rows)" = 0 ]
api POST /api/orders "${ORDER%\}},\"lever\":\"3\"}"
check "a manual market order is a 201" [ "$status" = 201 ]
MID=$(jq_ 'd["intent_id"]'); MCL=$(jq_ 'd["clOrdId"]'); MORD=$(jq_ 'd["ordId"]')
check "with its intent id" grep -qE '^manual/[0-9]+-[0-9]+$' <<<"$MID"
check "its clOrdId and okx-sim's ordId" test -n "$MCL" -a -n "$MORD"
check "its state" grep -qE '^(filled|live|partially_filled)$' <<<"$(jq_ 'd["state"]')"
check "it went through the risk chain" grep -q "VERDICT intent=$MID rule=risk.sizes verdict=0" events.log
check "okx-sim filled it" sim_order_is BTC-USDT-SWAP "$MCL" filled "${SIMAUTH[@]}"
check "stored with origin manual" qeq_db "$DB" "SELECT origin FROM orders WHERE intent_id='$MID'" manual
pos_is() { api GET /api/accounts/exchange.okx_demo/positions; [ "$(jq_ '[p["pos"] for p in d if p["instId"]=="BTC-USDT-SWAP" and p["posSide"]=="long"]')" = "['1']" ]; }
check "the position shows in the API" wait_until 10 "the long in /positions" pos_is
check "opened at the 3x the order named" [ "$(jq_ '[p["lever"] for p in d if p["instId"]=="BTC-USDT-SWAP"]')" = "['3']" ]

# --- a limit order, cancelled --------------------------------------------------------------
LOW=$(python3 -c "print(int(float('$LAST') * 0.8))")
api POST /api/orders "{\"account\":\"exchange.okx_demo\",\"instId\":\"BTC-USDT-SWAP\",\"side\":\"buy\",\"posSide\":\"long\",\"ordType\":\"limit\",\"px\":\"$LOW\",\"sz\":\"2\",\"ttl\":\"10m\"}"
check "a limit order far below the price is a 201, live (lever from the open long)" answered 201 live
LORD=$(jq_ 'd["ordId"]'); LCL=$(jq_ 'd["clOrdId"]')
open_has() { api GET "/api/accounts/exchange.okx_demo/orders?state=open"; [ "$(jq_ "[o['state'] for o in d if o['ordId']=='$LORD']")" = "$1" ]; }
check "it is among the open orders" wait_until 10 "the limit order in /orders" open_has "['live']"
check "with its TTL stored for the keeper" qeq_db "$DB" "SELECT expire_ms > 0 FROM orders WHERE cl_ord_id='$LCL'" 1
api DELETE "/api/orders/exchange.okx_demo/$LORD"
check "DELETE cancels it: 200" answered 200 canceled
check "okx-sim has it canceled" sim_order_is BTC-USDT-SWAP "$LCL" canceled "${SIMAUTH[@]}"
check "and it left the open orders" wait_until 10 "the order to leave /orders" open_has "[]"
api DELETE "/api/orders/exchange.okx_demo/123456789"
check "cancelling an unknown order: 404" err_is 404 unknown_order

# --- a risk rejection ---------------------------------------------------------------------------
api POST /api/orders '{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","side":"buy","posSide":"long","ordType":"market","sz":"10"}'
check "a rejected order is a 422 risk_rejected" err_is 422 risk_rejected
check "naming the rule" [ "$(jq_ 'd["error"]["rule"]')" = risk.sizes/max_size ]
check "and why" grep -q "10 contracts is over 5" api.json
RID=$(jq_ 'd["error"]["intent_id"]')
call GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=$(tr -cd 'a-zA-Z0-9' <<<"$RID")" "" "${SIMAUTH[@]}"
check "okx-sim never saw it" [ "$(j out.json 'd["code"]')" = 51603 ]
api GET /api/risk
check "GET /api/risk lists it among the last rejections" [ "$(jq_ 'd["rejections"][0]["intentId"]')" = "$RID" ]

# --- the kill switch ------------------------------------------------------------------------------
api POST /api/kill-switch '{"on": true, "reason": "dashboard test"}'
check "the kill switch goes on through the API" [ "$status" = 200 ]
check "written to data_dir/kill-switch" wait_until 5 "the kill switch file" grep -q "^on" data/kill-switch
check "by the dashboard" grep -q "^by=dashboard" data/kill-switch
api GET /api/risk
check "GET /api/risk shows it on" [ "$(jq_ 'd["killSwitch"]["on"]')" = True ]
api POST /api/orders "$ORDER"
check "an entry is then refused by the kill switch" err_is 422 risk_rejected
check "naming it" [ "$(jq_ 'd["error"]["rule"]')" = risk.breaker/kill_switch ]
api POST /api/positions/close '{"account":"exchange.okx_demo","instId":"BTC-USDT-SWAP","posSide":"long"}'
check "a close still passes" [ "$status" = 200 ]
flat() { api GET /api/accounts/exchange.okx_demo/positions; [ "$(jq_ 'len(d)')" = 0 ]; }
check "the position is closed" wait_until 10 "no position" flat
api POST /api/kill-switch '{"on": false}'
check "and off again" [ "$(jq_ 'd["on"]')" = False ]

# --- history and PnL from storage ----------------------------------------------------------------------
api GET "/api/accounts/exchange.okx_demo/orders?state=history"
check "the order history holds the manual orders" [ "$(jq_ "len([o for o in d if o['origin']=='manual'])")" -ge 3 ]
check "the refused one with its code" [ "$(jq_ "[o['code'] for o in d if o['intentId']=='$RID'][0]")" = risk_rejected ]
fills_in() { api GET /api/accounts/exchange.okx_demo/fills; [ "$(jq_ "len([f for f in d if f['clOrdId']=='$MCL'])")" = 1 ]; }
check "the fill of the market order" wait_until 5 "its fill in /fills" fills_in
api GET /api/accounts/exchange.okx_demo/balance
check "the balance with its USDT" [ "$(jq_ "[b['ccy'] for b in d['details']]")" = "['USDT']" ]
api GET "/api/accounts/exchange.okx_demo/equity?limit=10"
check "the equity curve answers, oldest first" [ "$(jq_ 'd == sorted(d, key=lambda r: r["ts"])')" = True ]
pnl_in() { api GET "/api/pnl?origin=manual"; [ "$(jq_ "[r['account'] for r in d['latest']]")" = "['exchange.okx_demo']" ]; }
check "the manual origin's PnL" wait_until 5 "manual in /api/pnl" pnl_in
check "with its series" [ "$(jq_ 'len(d["series"]) >= 1')" = True ]

# --- traders and a decision on /ws --------------------------------------------------------------------
api GET /api/traders
check "the traders" grep -q '"alpha"' api.json
api POST /api/traders/nobody/run '{}'
check "an unknown trader is a 404" [ "$status" = 404 ]
api POST /api/traders/alpha/run '{}'
check "run now" [ "$status" = 200 ]
check "the new decision arrives on /ws" wait_exit_ok "$WSPID"
check "as a decision of alpha" grep -q '"type": *"decision".*"trader": *"alpha"' ws.out
check "orders, positions and fills came over /ws too" python3 - ws.log <<'PY'
import json, sys
types = {json.loads(l.split(" ", 1)[1])["type"] for l in open(sys.argv[1])}
sys.exit(0 if {"order", "position", "fill", "balance"} <= types else 1)
PY
# by the engine's own send times: a client's arrival times also carry the
# network's and the scheduler's jitter
check "tickers at most 4 a second per instrument" python3 - ws.log <<'PY'
import json, sys
last = {}
for l in open(sys.argv[1]):
    t, m = l.split(" ", 1)
    m = json.loads(m)
    if m["type"] != "ticker":
        continue
    k = (m["data"]["instId"], m["data"]["source"])
    if k in last and m["sent"] - last[k] < 250:
        sys.exit(1)
    last[k] = m["sent"]
PY
api GET "/api/decisions?trader=alpha"
check "the decision log lists them" [ "$(jq_ 'len(d) >= 2')" = True ]
DID=$(jq_ 'd[0]["id"]')
api GET "/api/decisions/$DID"
check "one decision adds its prompt and raw answer" [ "$(jq_ '"prompt" in d and "rawResponse" in d')" = True ]
api GET "/api/decisions?trader=alpha%26limit%3D0"
check "an escaped '&' and '=' stay in the value (trader 'alpha&limit=0': none)" [ "$status:$(jq_ 'len(d)')" = 200:0 ]
api GET "/api/decisions/%FF"
check "a path byte that is not ASCII (no UTF-8) is a 400, not a 500" err_is 400 bad_path

# --- /metrics after the trading round: every family, in valid Prometheus text -------------------
api GET /metrics
m() { grep -qE "^$1" api.json; }
check "metrics: the engine (info and each instance's state)" m 'aitrader_engine_info\{instance="core",version="[^"]+",abi="[0-9.]+",mode="paper"\} 1$'
check "metrics: the bus" m 'aitrader_bus_published_total\{type="order_intent",instance="ui.dashboard"\} [1-9]'
check "metrics: the exchange's state" m 'aitrader_instance_state\{instance="exchange.okx_demo",kind="exchange"\} 2$'
check "metrics: the exchange's order latency" m 'aitrader_order_latency_us_count\{instance="exchange.okx_demo",op="place"\} [1-9]'
check "metrics: AI calls by trader, provider and model" m 'aitrader_ai_calls_total\{instance="trader.alpha",provider="ai.alpha",model="[^"]*",valid="true"\} [1-9]'
check "metrics: AI latency" m 'aitrader_ai_call_latency_us_count\{instance="trader.alpha",provider="ai.alpha",model="[^"]*"\} [1-9]'
check "metrics: AI tokens" m 'aitrader_ai_call_tokens_total\{instance="trader.alpha",provider="ai.alpha",model="[^"]*",kind="prompt"\} '
check "metrics: AI cost" m 'aitrader_ai_call_cost_usd_total\{instance="trader.alpha",provider="ai.alpha",model="[^"]*"\} '
check "metrics: the trader's own counts" m 'aitrader_trader_decisions_total\{instance="trader.alpha"\} [1-9]'
check "metrics: risk verdicts by rule and verdict" m 'aitrader_risk_verdicts_total\{instance="core.executor",rule="risk.sizes",check="max_size",verdict="reject"\} 1$'
check "metrics: the kill switch's refusal" m 'aitrader_risk_verdicts_total\{instance="core.executor",rule="risk.breaker",check="kill_switch",verdict="reject"\} [1-9]'
check "metrics: approvals too" m 'aitrader_risk_verdicts_total\{instance="core.executor",rule="risk.sizes",check="[^"]*",verdict="approve"\} [1-9]'
check "metrics: orders by result" m 'aitrader_order_results_total\{instance="exchange.okx_demo",op="place",result="ok"\} [1-9]'
check "metrics: refused ones with the code" m 'aitrader_order_results_total\{instance="exchange.okx_demo",op="place",result="risk_rejected"\} [1-9]'
check "metrics: orders by state" m 'aitrader_order_updates_total\{instance="exchange.okx_demo",state="filled"\} [1-9]'
check "metrics: the executor's, keeper's and ledger's counts" m 'aitrader_executor_rejected_total\{instance="core.executor"\} [1-9]'
check "metrics: the keeper's" m 'aitrader_keeper_ttl_tracked_total\{instance="core.keeper"\} [1-9]'
check "metrics: the ledger's" m 'aitrader_ledger_fills_total\{instance="core.ledger"\} [1-9]'
check "metrics: exchange_okx's REST calls answered ok" m 'aitrader_okx_rest_ok_total\{instance="exchange.okx_demo"\} [1-9]'
check "metrics: exchange_okx's REST latency" m 'aitrader_okx_rest_latency_us_count\{instance="exchange.okx_demo"\} [1-9]'
check "metrics: the venue's refusal counted" m 'aitrader_okx_rest_venue_errors_total\{instance="exchange.okx_demo"\} [0-9]'
for f in http_errors timeouts; do
    check "metrics: no REST $f against okx-sim" m "aitrader_okx_rest_${f}_total\\{instance=\"exchange.okx_demo\"\\} 0\$"
done
check "metrics: exchange_okx's limiter" m 'aitrader_okx_rest_rate_limited_total\{instance="exchange.okx_demo"\} [0-9]'
for k in public private business; do
    check "metrics: $k WebSocket reconnects (none)" m "aitrader_okx_ws_${k}_reconnects_total\\{instance=\"exchange.okx_demo\"\\} 0\$"
done
check "metrics: exchange_okx's book resyncs" m 'aitrader_okx_book_resyncs_total\{instance="exchange.okx_demo"\} [0-9]'
check "metrics: each family once, its samples together" python3 - api.json <<'PY'
import re, sys
seen, current, types = set(), None, {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        name = line.split()[2]
        if name in types:
            sys.exit(f"TYPE twice: {name}")
        types[name] = True
        continue
    if not line or line.startswith("#"):
        continue
    name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
    if name not in types:
        name = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in types:
        sys.exit(f"no TYPE before {line}")
    if name != current:
        if name in seen:
            sys.exit(f"{name} split: {line}")
        seen.add(name)
        current = name
PY

# --- restart: the same token --------------------------------------------------------------------
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
OLD=$TOKEN
start_engine
check "a restart prints the URL again" [ "$(grep -c '^dashboard: http' engine.out)" = 2 ]
check "with the same token" [ "$TOKEN" = "$OLD" ]
api GET /api/health
check "the restarted dashboard answers" [ "$status" = 200 ]
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop again" [ "$RT_RC" = 0 ]
rt_finish
