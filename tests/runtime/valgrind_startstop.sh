#!/usr/bin/env bash
# valgrind over a full start/stop cycle of the real engine with storage and
# test plugins: no invalid access, no leak. (Not run in the ASan build.)
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
cat >vg.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/vg.db
[source.p1]
module = probe
publish = 20
EOF2
# AT_NO_DLCLOSE keeps plugin code mapped so a leak report can name it.
AT_NO_DLCLOSE=1 valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no \
  "$AITRADER" run -c vg.ini >vg.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log vg.out "running; Ctrl-C or SIGTERM stops" 60
sleep 0.5
kill -INT "$pid"
wait_exit "$pid" 60; rc=$RT_RC
check "engine under valgrind exits 0 (no errors, no leaks)" [ "$rc" = 0 ]
check "stopped cleanly" contains vg.out "core: stopped"
[ "$rc" = 0 ] || cat vg.out
rt_finish
