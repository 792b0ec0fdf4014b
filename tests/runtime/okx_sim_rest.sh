#!/usr/bin/env bash
# okx-sim over real HTTP with curl and openssl-made signatures: the startup
# line, public endpoints, every authentication error with OKX's HTTP status
# and code, envelopes, per-order errors, and faults (at start and at run time).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"

source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
cat >accounts.json <<'EOF'
[{"apiKey": "live-key", "secretKey": "live-secret", "passphrase": "live-pass", "demo": false,
  "posMode": "long_short_mode", "balances": {"USDT": "10000"}},
 {"apiKey": "demo-key", "secretKey": "demo-secret", "passphrase": "demo-pass", "demo": true,
  "posMode": "net_mode", "balances": {"USDT": "2500.5"}}]
EOF

sim_start sim.out --seed 3 --accounts accounts.json
pid=$SIM_PID
check "prints the listening URL" grep -Eq "^okx-sim listening on http://127\.0\.0\.1:[0-9]+$" sim.out

live() { call "$1" "$2" "${3:-}" live-key live-secret live-pass "${@:4}"; }
demo() { call "$1" "$2" "${3:-}" demo-key demo-secret demo-pass -H "x-simulated-trading: 1" "${@:4}"; }

# --- public ---------------------------------------------------------------------
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/public/instruments?instType=SWAP")
check "instruments 200" [ "$status" = 200 ]
check "instruments code 0 with BTC ctVal 0.01" [ "$(j out.json '[r["ctVal"] for r in d["data"] if r["instId"]=="BTC-USDT-SWAP"][0]')" = "0.01" ]
check "numbers are strings" [ "$(j out.json 'type(d["data"][0]["tickSz"]).__name__')" = str ]
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5")
check "books: 5 levels a side" [ "$(j out.json 'len(d["data"][0]["asks"]), len(d["data"][0]["bids"])')" = "(5, 5)" ]
check "books: not crossed" [ "$(j out.json 'float(d["data"][0]["bids"][0][0]) < float(d["data"][0]["asks"][0][0])')" = True ]
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/market/ticker")
check "ticker without instId: 400 50014" [ "$status:$(j out.json 'd["code"]')" = "400:50014" ]
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/market/ticker?instId=NOPE-USDT-SWAP")
check "unknown instrument: 51001" [ "$(j out.json 'd["code"]')" = 51001 ]
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/nothing/here")
check "unknown path: 404" [ "$status" = 404 ]
status=$(curl -s -o out.json -w '%{http_code}' -X POST "$URL/api/v5/market/ticker")
check "wrong method: 405 50115" [ "$status:$(j out.json 'd["code"]')" = "405:50115" ]

# --- authentication --------------------------------------------------------------
live GET /api/v5/account/balance
check "signed balance 200 code 0" [ "$status:$(j out.json 'd["code"]')" = "200:0" ]
check "balance totalEq 10000" [ "$(j out.json 'd["data"][0]["details"][0]["cashBal"]')" = 10000 ]
demo GET /api/v5/account/balance
check "demo balance with the demo header" [ "$(j out.json 'd["data"][0]["details"][0]["cashBal"]')" = 2500.5 ]
live GET "/api/v5/account/positions?instId=ETH-USDT-SWAP%2CBTC-USDT-SWAP"
check "encoded query verifies as sent" [ "$status:$(j out.json 'd["code"]')" = "200:0" ]
call GET /api/v5/account/balance "" live-key wrong-secret live-pass
check "bad signature: 401 50113" [ "$status:$(j out.json 'd["code"]')" = "401:50113" ]
check "auth failure has no data" [ "$(j out.json '"data" in d')" = False ]
call GET /api/v5/account/balance "" nobody live-secret live-pass
check "unknown key: 401 50111" [ "$status:$(j out.json 'd["code"]')" = "401:50111" ]
call GET /api/v5/account/balance "" live-key live-secret wrong-pass
check "wrong passphrase: 50105" [ "$(j out.json 'd["code"]')" = 50105 ]
call GET /api/v5/account/balance "" demo-key demo-secret demo-pass
check "demo key without demo header: 50101" [ "$(j out.json 'd["code"]')" = 50101 ]
live GET /api/v5/account/balance "" -H "x-simulated-trading: 1"
check "live key with demo header: 50101" [ "$(j out.json 'd["code"]')" = 50101 ]
old=$(date -u -d '-60 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
sign=$(printf '%sGET/api/v5/account/balance' "$old" | openssl dgst -sha256 -hmac live-secret -binary | base64)
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/account/balance" -H "OK-ACCESS-KEY: live-key" \
  -H "OK-ACCESS-SIGN: $sign" -H "OK-ACCESS-TIMESTAMP: $old" -H "OK-ACCESS-PASSPHRASE: live-pass")
check "expired timestamp: 401 50102" [ "$status:$(j out.json 'd["code"]')" = "401:50102" ]
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/account/balance" -H "OK-ACCESS-KEY: live-key")
check "missing passphrase header: 50104" [ "$(j out.json 'd["code"]')" = 50104 ]

# --- orders ------------------------------------------------------------------------
live POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long","ordType":"market","sz":"0.001"}'
check "bad lot size: HTTP 200, code 1, sCode 51121" [ "$status:$(j out.json 'd["code"]'):$(j out.json 'd["data"][0]["sCode"]')" = "200:1:51121" ]
check "trade endpoints carry inTime/outTime" [ "$(j out.json '"inTime" in d and "outTime" in d')" = True ]
live POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"1"}'
check "hedge mode without posSide: 51000" [ "$(j out.json 'd["data"][0]["sCode"]')" = 51000 ]
live POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long","ordType":"market","sz":"1","clOrdId":"rt1"}'
check "market order placed" [ "$(j out.json 'd["code"]'):$(j out.json 'd["data"][0]["clOrdId"]')" = "0:rt1" ]
live GET "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=rt1"
check "order filled" [ "$(j out.json 'd["data"][0]["state"]')" = filled ]
live GET "/api/v5/account/positions?instType=SWAP"
check "position long 1" [ "$(j out.json '[(p["posSide"], p["pos"]) for p in d["data"]]')" = "[('long', '1')]" ]
live POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long"}'
check "missing fields: an error, not a crash" [ "$(j out.json 'd["code"] != "0"')" = True ]
live POST /api/v5/trade/order '{not json'
check "malformed body: 400 50002" [ "$status:$(j out.json 'd["code"]')" = "400:50002" ]

# --- faults --------------------------------------------------------------------------
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"reject-next=51008:Insufficient USDT margin"}'
live POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long","ordType":"market","sz":"1"}'
check "reject-next fault: the next order gets 51008" [ "$(j out.json 'd["data"][0]["sCode"]')" = 51008 ]
live POST /api/v5/trade/order '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","posSide":"long","ordType":"market","sz":"1"}'
check "only the next one" [ "$(j out.json 'd["data"][0]["sCode"]')" = 0 ]
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/public/time")
check "public/time answers the server clock" [ "$(j out.json 'abs(int(d["data"][0]["ts"]) - int(__import__("time").time()*1000)) < 5000')" = True ]
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"rest-429=1"}'
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/market/ticker?instId=BTC-USDT-SWAP")
check "rest-429 fault: 429 50011" [ "$status:$(j out.json 'd["code"]')" = "429:50011" ]
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"none"}'
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"rest-5xx=1"}'
status=$(curl -s -o out.json -w '%{http_code}' "$URL/api/v5/market/ticker?instId=BTC-USDT-SWAP")
check "rest-5xx fault: 503 50001" [ "$status:$(j out.json 'd["code"]')" = "503:50001" ]
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"none"}'
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"clock-skew=-60000"}'
live GET /api/v5/account/balance
check "clock-skew fault: fresh requests look expired" [ "$(j out.json 'd["code"]')" = 50102 ]
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"none"}'
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"latency=400"}'
took=$(curl -s -o out.json -w '%{time_total}' "$URL/api/v5/market/ticker?instId=BTC-USDT-SWAP")
check "latency fault: the answer waits about 400 ms" python3 -c "import sys; sys.exit(0 if float('$took') >= 0.35 else 1)"
check "latency fault: the answer still arrives intact" [ "$(j out.json 'd["code"]')" = 0 ]
curl -s -o out.json -X POST "$URL/sim/fault" --data-raw '{"spec":"none"}'
took=$(curl -s -o out.json -w '%{time_total}' "$URL/api/v5/market/ticker?instId=BTC-USDT-SWAP")
check "latency cleared by none" python3 -c "import sys; sys.exit(0 if float('$took') < 0.3 else 1)"
status=$(curl -s -o out.json -w '%{http_code}' -X POST "$URL/sim/fault" --data-raw '{"spec":"explode=1"}')
check "unknown fault refused with a reason" [ "$status" = 400 ]
kill -TERM "$pid"; wait_exit "$pid"; rc=$RT_RC
check "SIGTERM stops okx-sim with 0" [ "$rc" = 0 ]

rc=0; "$SIM" --fault bogus >bad.out 2>&1 || rc=$?
check "bad --fault exits 2" [ "$rc" = 2 ]
check "bad --fault names the problem" contains bad.out "bogus"
rc=0; "$SIM" --accounts /nonexistent.json >bad.out 2>&1 || rc=$?
check "missing accounts file exits 2" [ "$rc" = 2 ]
rc=0; "$SIM" --data /nonexistent.csv >bad.out 2>&1 || rc=$?
check "missing data file exits 2" [ "$rc" = 2 ]
"$SIM" --port 0 >gen.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log gen.out "listening on"
check "without --accounts a demo account is printed" contains gen.out "okx-sim demo account: apiKey="
kill -TERM "$pid"; wait_exit "$pid"
rt_finish
