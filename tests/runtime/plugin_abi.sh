#!/usr/bin/env bash
# The ABI promises of a minor version, seen from the real binary: a plugin
# built against the previous minor's headers (tests/abi/v1.2) loads and runs;
# a plugin's own config check (ABI 1.3 check_config) refuses at FILE:LINE in
# check-config and in run alike; late timer cancels (in destroy, after the
# one-shot fired) are harmless.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"

# --- a 1.2 plugin in a newer engine -----------------------------------------
cat >old.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/old.db
[source.legacy]
module = oldminor
label = seasoned
count = 3
items = alpha, beta
period = 20ms
[source.probe]
EOF2
rc=0; "$AITRADER" check-config -c old.ini >old-check.out 2>&1 || rc=$?
check "check-config accepts the 1.2 plugin" [ "$rc" -eq 0 ]
"$AITRADER" plugins -c old.ini >plugins.out 2>&1
check "plugins lists it with its ABI" grep -qE "source +oldminor +1.2.0 +1.2 " plugins.out
"$AITRADER" run -c old.ini >old.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log old.out "old_minor: tick"
wait_log old.out "probe source.probe: one-shot fired"
kill -TERM "$pid"
wait_exit "$pid"
check "engine with the 1.2 plugin stops cleanly" [ "$RT_RC" -eq 0 ]
abimin=$(sed -n 's/^#define AT_ABI_MINOR \([0-9]*\).*/\1/p' "$AT_SOURCE_DIR/include/aitrader/version.h")
check "its schema was read: values and list" contains old.out "old_minor: init label=seasoned count=3 items=2:alpha,beta host=1.$abimin"
evver=$(sed -n 's/^#define AT_EV_VERSION \([0-9]*\).*/\1/p' "$AT_SOURCE_DIR/include/aitrader/events.h")
check "its own events were delivered to it, stamped with the engine's payload version $evver" \
  contains old.out "old_minor: got alert 3 version $evver"
check "it used a 1.1 host function" contains old.out "old_minor: tick 1.25*3=3.7 seen=3"
check "it stopped after seeing its 3 alerts" contains old.out "old_minor: stop seen=3"
check "late timer cancels in destroy did no harm" contains old.out "probe source.probe: destroy"

# --- a plugin written in C++20 against the same headers ---------------------
mkdir -p cxx
rc=0; c++ -std=c++20 -Wall -Wextra -Wno-missing-field-initializers -Wpedantic -Werror -fPIC -shared -fvisibility=hidden \
  -I"$AT_SOURCE_DIR/include" -o cxx/source_cxx.so "$AT_SOURCE_DIR/tests/plugins/cxx_plugin.cpp" \
  >cxx.out 2>&1 || rc=$?
check "the SDK headers compile as C++20 with AT_PLUGIN_HEADER" [ "$rc" -eq 0 ]
cat >cxx.ini <<EOF2
[core]
plugin_dir = $RT_TMP/cxx
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/cxx.db
[source.cxx]
word = bonjour
EOF2
"$AITRADER" run -c cxx.ini >cxx-run.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log cxx-run.out "cxx plugin says bonjour"
kill -TERM "$pid"
wait_exit "$pid"
check "the C++ plugin loaded, read its config and ran" [ "$RT_RC" -eq 0 ]

# --- check_config: FILE:LINE in check-config and in run ---------------------
cat >refuse.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/refuse.db
[source.probe]
count = 4
label = refuse-me
EOF2
want="refuse.ini:8: [source.probe] label: label 'refuse-me' is refused by the probe's own check"
rc=0; "$AITRADER" check-config -c refuse.ini >refuse-check.out 2>&1 || rc=$?
check "check-config refuses what the plugin refuses (exit 2)" [ "$rc" -eq 2 ]
check "check-config names FILE:LINE, key and reason" contains refuse-check.out "$want"
rc=0; "$AITRADER" run -c refuse.ini >refuse-run.out 2>&1 || rc=$?
check "run refuses it the same way (exit 2)" [ "$rc" -eq 2 ]
check "run names the same FILE:LINE" contains refuse-run.out "$want"
check "run started nothing" lacks refuse-run.out "probe source.probe: init"

# --- the engine's own plugins check what run would refuse ---------------------
export AT_BAD_PG="host=127.0.0.1 password=pw-s3cret-xyz dbname"
cat >pg.ini <<EOF2
[core]
data_dir = $RT_TMP/data
[storage.postgres]
conninfo = env:AT_BAD_PG
[storage.pg2]
module = postgres
conninfo = env:AT_BAD_PG2
reconnect_min = 5s
reconnect_max = 1s
EOF2
export AT_BAD_PG2="postgresql://u@127.0.0.1:1/db"
rc=0; "$AITRADER" check-config -c pg.ini >pg.out 2>&1 || rc=$?
check "check-config refuses a malformed conninfo (exit 2)" [ "$rc" -eq 2 ]
check "conninfo refused at its line" contains pg.out "pg.ini:4: [storage.postgres] conninfo: not a valid libpq connection string"
check "the conninfo's password is not repeated" lacks pg.out "pw-s3cret-xyz"
check "reconnect_max below reconnect_min at its line" contains pg.out "pg.ini:9: [storage.pg2] reconnect_max: 1000 ms is below reconnect_min (5000 ms)"

rt_finish
