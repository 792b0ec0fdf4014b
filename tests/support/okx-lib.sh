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

# sim_control WHAT JSON: POST /sim/WHAT (price, fault).
sim_control() { curl -s -o /dev/null -X POST "$URL/sim/$1" --data-raw "$2"; }

# qeq DB SQL WANT: poll (5 s) until sqlite3 DB SQL gives WANT (writes are async).
qeq_db() {
  local db=$1 sql=$2 want=$3 i=0
  while [ $i -lt 50 ]; do
    [ "$(sqlite3 "$db" "$sql")" = "$want" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "query: $sql -> $(sqlite3 "$db" "$sql") (want $want)" >&2
  return 1
}
