# Helpers for runtime tests that talk to okx-sim (sourced after rt-lib.sh).
SIM="$AT_BUILD_DIR/okx-sim"

# sim_start OUTFILE ARGS...: start okx-sim; sets SIM_PID and URL.
sim_start() {
  local out=$1; shift
  "$SIM" --port 0 "$@" >"$out" 2>"$out.err" &
  SIM_PID=$!; RT_PIDS+=("$SIM_PID")
  wait_log "$out" "okx-sim listening on http://127.0.0.1:"
  URL=$(sed -n 's/^okx-sim listening on //p' "$out")
}

# j FILE EXPR: evaluate a Python expression on the JSON in FILE (as `d`).
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# call METHOD PATH[?QUERY] BODY KEY SECRET PASS [extra curl args...]: a
# request signed as OKX wants it; the body goes to out.json, the HTTP status
# to $status.
call() {
  local method=$1 target=$2 body=$3 key=$4 secret=$5 pass=$6; shift 6
  local ts sign
  ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  sign=$(printf '%s%s%s%s' "$ts" "$method" "$target" "$body" |
         openssl dgst -sha256 -hmac "$secret" -binary | base64)
  local args=(-s -o out.json -w '%{http_code}' -X "$method" "$URL$target"
              -H "OK-ACCESS-KEY: $key" -H "OK-ACCESS-SIGN: $sign" -H "OK-ACCESS-TIMESTAMP: $ts"
              -H "OK-ACCESS-PASSPHRASE: $pass" -H "Content-Type: application/json")
  [ "$method" = POST ] && args+=(--data-raw "$body")
  status=$(curl "${args[@]}" "$@")
}

# sim_control WHAT JSON: POST /sim/WHAT (price, fault). A control okx-sim
# refuses (a typo in a fault spec) fails here, not in a later check.
sim_control() {
  local status
  status=$(curl -s -o "$RT_TMP/sim-control.json" -w '%{http_code}' -X POST "$URL/sim/$1" \
    --data-raw "$2") || status=000
  [ "$status" = 200 ] && return 0
  echo "sim_control $1 $2: HTTP $status $(cat "$RT_TMP/sim-control.json" 2>/dev/null)" >&2
  return 1
}

# sim_order_is INST CLORDID STATE KEY SECRET PASS [curl args...]: okx-sim
# itself (REST, out.json) has the order in STATE.
sim_order_is() {
  local inst=$1 cl=$2 state=$3; shift 3
  call GET "/api/v5/trade/order?instId=$inst&clOrdId=$cl" "" "$@" &&
    [ "$(j out.json 'd["data"][0]["state"] if d.get("data") else d.get("code")')" = "$state" ]
}

# qeq_db DB SQL WANT: poll (5 s) until sqlite3 DB SQL gives WANT (writes are async).
qeq_db() { wait_eq 5 "$3" sqlite3 "$1" "$2"; }

# ---- an engine on okx-sim, with SQLite, in $RT_TMP --------------------------

# sim_up SEED ACCOUNT...: okx-sim started (sim.out) with these accounts, each
# KEY:SECRET:PASSPHRASE:POSMODE:USDT (a demo account; :live appended, a live
# one); sets SIM_PID, URL and WS (its WebSocket base).
sim_up() {
  local seed=$1 sep="" a key secret pass mode usdt live; shift
  {
    echo "["
    for a in "$@"; do
      IFS=: read -r key secret pass mode usdt live <<<"$a"
      printf '%s{"apiKey": "%s", "secretKey": "%s", "passphrase": "%s", "demo": %s, "posMode": "%s", "balances": {"USDT": "%s"}}\n' \
        "$sep" "$key" "$secret" "$pass" "$([ "$live" = live ] && echo false || echo true)" "$mode" "$usdt"
      sep=","
    done
    echo "]"
  } >accounts.json
  sim_start sim.out --seed "$seed" --accounts accounts.json
  WS=${URL/http:/ws:}/ws/v5
}

# ini_core [LINE...]: an engine.ini's [core] (the build's plugins, data in
# $RT_TMP/data, then the LINEs: "mode = paper", ...) and its SQLite storage.
ini_core() {
  printf '[core]\nplugin_dir = %s\ndata_dir = %s/data\n' "$TEST_PLUGINS" "$RT_TMP"
  printf '%s\n' "$@"
  printf '[storage.sqlite]\npath = %s\n' "$DB"
}

# ini_okx NAME demo|live KEYVAR SECRETVAR PASSVAR [LINE...]: an exchange_okx
# section [exchange.NAME] on okx-sim, its keys from those environment
# variables, then the LINEs ("instruments = BTC-USDT-SWAP", "candles =", ...).
ini_okx() {
  local name=$1 kind=$2 k=$3 s=$4 p=$5; shift 5
  printf '[exchange.%s]\nmodule = okx\n' "$name"
  [ "$kind" = live ] || echo "demo = true"
  cat <<EOT
api_key = env:$k
secret_key = env:$s
passphrase = env:$p
rest_url = $URL
ws_public_url = $WS/public
ws_private_url = $WS/private
ws_business_url = $WS/business
EOT
  printf '%s\n' "$@"
}

# ini_driver: the driver plugin's section: the bus written to events.log,
# intents read from intents.txt (created empty here; `intent` adds lines).
ini_driver() {
  printf '[source.driver]\nlog_file = %s/events.log\nintent_file = %s/intents.txt\n' "$RT_TMP" "$RT_TMP"
  touch "$RT_TMP/intents.txt"
}

DB="$RT_TMP/data/engine.db"
q() { sqlite3 "$DB" "$1"; }
# qeq SQL WANT: poll (5 s) until the query gives WANT; the writes are async.
qeq() { qeq_db "$DB" "$1" "$2"; }
# intent "op=place account=... id=...": one intent for the driver to publish.
intent() { echo "$*" >>"$RT_TMP/intents.txt"; }

# engine_start: aitrader run -c engine.ini in the background, its output
# added to engine.out; sets ENGINE.
engine_start() {
  "$AITRADER" run -c engine.ini >>engine.out 2>&1 &
  ENGINE=$!; RT_PIDS+=("$ENGINE")
}

# engine_stop: SIGTERM, and a check that the engine stopped cleanly.
engine_stop() {
  kill -TERM "$ENGINE"; wait_exit "$ENGINE"
  check "clean stop" [ "$RT_RC" = 0 ]
}

# dash_up N: wait for the engine's Nth start (engine.out) to print its
# dashboard line, then PORT and TOKEN are that dashboard's.
dash_up() {
  wait_count engine.out "dashboard: http://127.0.0.1:" "$1" 20
  local line
  line=$(grep '^dashboard: http' engine.out | tail -1)
  PORT=$(sed -n 's|^dashboard: http://127.0.0.1:\([0-9]*\)/#token=.*|\1|p' <<<"$line")
  TOKEN=$(sed -n 's|^dashboard: http://127.0.0.1:[0-9]*/#token=\(.*\)|\1|p' <<<"$line")
}
# run_now [TRADER]: "run now" from the dashboard (alpha by default); the HTTP status
run_now() {
  curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/traders/${1:-alpha}/run"
}
