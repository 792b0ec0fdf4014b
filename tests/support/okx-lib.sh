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
