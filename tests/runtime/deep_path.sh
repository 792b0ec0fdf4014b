#!/usr/bin/env bash
# The engine installed under a directory nested 250+ characters deep: its
# plugins, schema, data and config all there, modules.ini naming them by
# absolute path (lines of 500+ characters). check-config passes, run starts
# storage and the paper venue, and a SIGTERM stops it cleanly.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"

DEEP=$RT_TMP
for i in 1 2 3 4 5 6 7 8; do
  DEEP="$DEEP/a-directory-nested-rather-deep-$i"
done
check "the install prefix is over 200 characters (${#DEEP})" [ "${#DEEP}" -gt 200 ]

# An install layout (bin, lib/aitrader/plugins, share/aitrader/sql): a copied
# binary finds nothing of the build tree, so every path below is used.
mkdir -p "$DEEP/bin" "$DEEP/lib/aitrader/plugins" "$DEEP/lib/aitrader/more-plugins" \
  "$DEEP/share/aitrader"
cp "$AITRADER" "$DEEP/bin/aitrader"
cp "$AT_BUILD_DIR"/plugins/*.so "$DEEP/lib/aitrader/plugins/"
cp -r "$AT_SOURCE_DIR/sql" "$DEEP/share/aitrader/sql"
cp "$AT_SOURCE_DIR/tests/data/okx_instruments_swap_sample.json" "$DEEP/instruments.json"

cat >"$DEEP/modules.ini" <<EOF
[core]
plugin_dir = $DEEP/lib/aitrader/more-plugins, $DEEP/lib/aitrader/plugins
data_dir = $DEEP/data
sql_dir = $DEEP/share/aitrader/sql
log_level = info
[storage.sqlite]
path = $DEEP/data/engine.db
[exchange.paper]
instruments_file = $DEEP/instruments.json
instruments = BTC
balance = 1000
EOF
longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n }' "$DEEP/modules.ini")
check "modules.ini has lines longer than inih's 199 characters ($longest)" [ "$longest" -gt 400 ]

cd "$DEEP"
rc=0; "$DEEP/bin/aitrader" check-config -c "$DEEP/modules.ini" >"$RT_TMP/check.out" 2>&1 || rc=$?
check "check-config accepts the deep paths (exit 0)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$RT_TMP/check.out"
check "check-config names the paper venue" contains "$RT_TMP/check.out" "exchange.paper"

"$DEEP/bin/aitrader" run -c "$DEEP/modules.ini" >"$RT_TMP/run.out" 2>&1 &
pid=$!; RT_PIDS+=("$pid")
check "run reports it started" wait_log "$RT_TMP/run.out" "core: running; Ctrl-C or SIGTERM stops" 20
check "the paper venue read the deep instruments_file" \
  wait_log "$RT_TMP/run.out" "exchange.paper: 12 OKX swaps listed; following 1" 20
# (no market data source here: the venue waits for one, degraded)
check "its account came from the deep database (a new one)" \
  wait_log "$RT_TMP/run.out" "exchange.paper: no stored paper account: a new one with 1000 USDT" 20
check "plugins loaded from the deep plugin_dir" \
  contains "$RT_TMP/run.out" "from $DEEP/lib/aitrader/plugins/exchange_paper.so)"
kill -TERM "$pid"
wait_exit "$pid"
check "SIGTERM stops it cleanly (exit 0)" [ "$RT_RC" = 0 ]
check "stop is logged" contains "$RT_TMP/run.out" "core: stopped"
nmig=$(ls "$AT_SOURCE_DIR"/sql/sqlite/[0-9]*.sql | wc -l)
check "the database under the deep data_dir has every migration ($nmig)" \
  [ "$(sqlite3 "$DEEP/data/engine.db" 'SELECT count(*) FROM schema_migrations')" = "$nmig" ]
[ "$RT_FAILS" -eq 0 ] || cat "$RT_TMP/run.out"
cd "$RT_TMP"
rt_finish
