#!/usr/bin/env bash
# The offline demo (`make demo` builds, then runs this): okx-sim replays real
# OKX BTC-USDT-SWAP 1m candles from the repository at 60x with one demo
# account, the engine trades it with demo/modules.ini (the rules trader on the
# okx-sim account and on the paper venue, the dashboard), the dashboard's URL
# with its token is printed, and Ctrl-C (SIGINT or SIGTERM) stops the engine,
# then okx-sim, each cleanly. Exit 0 when both stopped cleanly, 1 otherwise.
#
#   scripts/demo.sh [BUILD_DIR]        (default: build)
#
# Environment: DEMO_DATA (data dir, default demo/data: wiped at every start,
# kept after the stop for a look at the logs and the database),
# DEMO_PORT (dashboard port, 5621; 0 = any free one), DEMO_SPEED (okx-sim's
# data minutes per wall second, 60), DEMO_CSV (the candles okx-sim replays).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
data=${DEMO_DATA:-demo/data}
port=${DEMO_PORT:-5621}
speed=${DEMO_SPEED:-60}
csv=${DEMO_CSV:-tests/data/okx_BTC-USDT-SWAP_1m_20260109-20260111.csv}

die() {
  echo "demo: $*" >&2
  exit 1
}
for f in "$build/aitrader" "$build/okx-sim"; do
  [ -x "$f" ] || die "$f not built (make demo builds it)"
done
[ -r "$csv" ] || die "cannot read $csv"

# A fresh start: the data dir is emptied (okx-sim keeps nothing either, so a
# kept database would hold orders okx-sim never heard of). Only a dir this
# script made (it holds .aitrader-demo) or an empty one is ever wiped.
marker=.aitrader-demo
if [ -d "$data" ] && [ -n "$(ls -A "$data")" ] && [ ! -e "$data/$marker" ]; then
  die "$data is not empty and not a demo data dir (no $marker): not wiping it; set DEMO_DATA"
fi
rm -rf "$data"
mkdir -p "$data"
chmod 700 "$data"
touch "$data/$marker"
data=$(cd "$data" && pwd)

# okx-sim's demo account; the engine gets its keys from the environment.
export AITRADER_DEMO_KEY=demo-key AITRADER_DEMO_SECRET=demo-secret AITRADER_DEMO_PASSPHRASE=demo-pass
cat >"$data/accounts.json" <<EOF
[{"apiKey": "$AITRADER_DEMO_KEY", "secretKey": "$AITRADER_DEMO_SECRET",
  "passphrase": "$AITRADER_DEMO_PASSPHRASE", "demo": true, "posMode": "long_short_mode",
  "balances": {"USDT": "10000"}}]
EOF

sim_pid="" engine_pid=""
# Job control: each child runs in its own process group, so the terminal's
# Ctrl-C reaches this script alone and each child gets exactly one SIGINT
# from it, in order (a second SIGINT would stop the engine at once, unclean).
set -m

# wait_for FILE TEXT SECONDS PID: until TEXT is in FILE; fails when PID exits
# first or the time is up.
wait_for() {
  local i=0
  while [ "$i" -lt $(($3 * 10)) ]; do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || return 1
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# stop_child PID NAME: SIGINT, then wait (at most 30 s, then SIGKILL); its
# exit status is the return value.
stop_child() {
  local pid=$1 name=$2 i=0 rc=0
  kill -INT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: $name did not stop within 30 s: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

stopping=0 unexpected=0
# shutdown: the engine first (it may have orders on their way to okx-sim),
# then okx-sim; says how each ended.
shutdown() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  local erc=0 src=0 rc=0
  if [ -n "$engine_pid" ]; then
    echo "demo: stopping the engine"
    stop_child "$engine_pid" engine || erc=$?
    echo "demo: engine exited with status $erc"
  fi
  if [ -n "$sim_pid" ]; then
    stop_child "$sim_pid" okx-sim || src=$?
    echo "demo: okx-sim exited with status $src"
  fi
  [ "$erc" = 0 ] && [ "$src" = 0 ] && [ "$unexpected" = 0 ] || rc=1
  echo "demo: logs and database kept in $data"
  exit "$rc"
}
trap shutdown INT TERM

"$build/okx-sim" --port 0 --seed 7 --accounts "$data/accounts.json" --data "$csv" \
  --speed "$speed" >"$data/okx-sim.log" 2>&1 &
sim_pid=$!
echo "$sim_pid" >"$data/okx-sim.pid"
if ! wait_for "$data/okx-sim.log" "okx-sim listening on http://" 20 "$sim_pid"; then
  tail -n 20 "$data/okx-sim.log" >&2 || true
  echo "demo: okx-sim did not start" >&2
  unexpected=1
  shutdown
fi
sim=$(sed -n 's|^okx-sim listening on http://||p' "$data/okx-sim.log")

sed -e "s|demo/data|$data|g" -e "s|127\.0\.0\.1:8443|$sim|g" \
  -e "s|^port *= *5621\$|port   = $port|" demo/modules.ini >"$data/modules.ini"

"$build/aitrader" run -c "$data/modules.ini" >"$data/engine.log" 2>&1 &
engine_pid=$!
echo "$engine_pid" >"$data/engine.pid"
if ! wait_for "$data/engine.log" "dashboard: http://" 30 "$engine_pid"; then
  tail -n 30 "$data/engine.log" >&2 || true
  echo "demo: the engine did not start" >&2
  unexpected=1
  shutdown
fi
url=$(sed -n 's|^dashboard: ||p' "$data/engine.log" | tail -n 1)

cat <<EOF

  aitrader demo: okx-sim at http://$sim replays $(basename "$csv") (${speed}x),
  the rules trader trades it on okx-sim's demo account and on the paper venue.

  Dashboard: $url

  Within a minute: BTC-USDT-SWAP's price moving (Market), the first decisions of
  trader.sim and trader.paper with their reasons (Traders), their orders and
  positions (Account, Overview). Logs: $data/engine.log, $data/okx-sim.log.
  Ctrl-C stops the engine, then okx-sim.

EOF

# Until Ctrl-C, or until one of them exits by itself (then the other is
# stopped too, and the demo fails).
while kill -0 "$engine_pid" 2>/dev/null && kill -0 "$sim_pid" 2>/dev/null; do
  wait -n "$engine_pid" "$sim_pid" 2>/dev/null || true
done
kill -0 "$engine_pid" 2>/dev/null || echo "demo: the engine exited by itself (see $data/engine.log)" >&2
kill -0 "$sim_pid" 2>/dev/null || echo "demo: okx-sim exited by itself (see $data/okx-sim.log)" >&2
unexpected=1
shutdown
