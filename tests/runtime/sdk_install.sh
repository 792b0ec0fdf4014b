#!/usr/bin/env bash
# The SDK contract: `make install`-style install to a prefix, the example
# plugin built out of tree with pkg-config against the installed headers, and
# loaded by the installed engine.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
prefix="$RT_TMP/prefix"
cmake --install "$AT_BUILD_DIR" --prefix "$prefix" >install.log 2>&1 || { cat install.log; exit 1; }
check "engine installed" [ -x "$prefix/bin/aitrader" ]
check "SDK headers installed" [ -f "$prefix/include/aitrader/plugin.h" ]
pcdir=$(dirname "$(find "$prefix" -name aitrader-plugin.pc | head -n1)")
check "pkg-config file installed" [ -f "$pcdir/aitrader-plugin.pc" ]
check "schema installed" [ -f "$prefix/share/aitrader/sql/sqlite/001_init.sql" ]

# The .pc file was generated for the configured prefix; point it at ours.
sed -i "s|^prefix=.*|prefix=$prefix|; s|^includedir=.*|includedir=$prefix/include|" "$pcdir/aitrader-plugin.pc"
work="$RT_TMP/hello"
cp -r "$AT_SOURCE_DIR/examples/plugins/hello" "$work"
( cd "$work" && PKG_CONFIG_PATH="$pcdir" make >build.log 2>&1 ) || { cat "$work/build.log"; exit 1; }
check "example plugin built out of tree" [ -f "$work/source_hello.so" ]
check "example exports only the entry symbol" \
  [ "$(nm -D --defined-only "$work/source_hello.so" | awk '$2 ~ /^[TDB]$/ {print $3}' | grep -v '^_' | tr '\n' ' ')" = "at_plugin_entry " ]

cd "$work"
# A local HTTP server answers the number the example fetches and publishes.
mkdir -p www && printf '42.5\n' >www/index.txt
python3 -m http.server 0 --bind 127.0.0.1 --directory www >http.out 2>&1 &
RT_PIDS+=("$!")
wait_log http.out "Serving HTTP on"
port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' http.out | head -n1)
cat >run.ini <<EOF2
[core]
plugin_dir = .
data_dir = $work/data
[source.hello]
greeting = hello from the test
interval = 200ms
url = http://127.0.0.1:$port/index.txt
[storage.sqlite]
path = $work/data/hello.db
EOF2
"$prefix/bin/aitrader" plugins -c run.ini >plugins.out 2>&1
check "installed engine lists the example" contains plugins.out "source     hello"
check "installed engine lists its own plugins" contains plugins.out "storage    sqlite"
"$prefix/bin/aitrader" run -c run.ini >run.out 2>&1 &
pid=$!; RT_PIDS+=("$pid")
wait_log run.out "hello from the test"
wait_log run.out "reading 1 received: 42.5"
wait_log run.out "events, 1 readings"
kill -TERM "$pid"
wait_exit "$pid"; rc=$RT_RC
check "installed engine ran the example and stopped cleanly" [ "$rc" = 0 ]
check "example said goodbye" contains run.out "goodbye after"
n=$(sqlite3 "$work/data/hello.db" "SELECT count(*) FROM audit_log WHERE kind='hello'")
check "example's reports stored ($n rows)" [ "$n" -ge 1 ]
check "example fetched over HTTP and published the number" contains run.out "published sentiment 42.5"
n=$(sqlite3 "$work/data/hello.db" "SELECT count(*) FROM audit_log WHERE kind='hello' AND message LIKE '%, 1 readings'")
check "a stored report counts the reading ($n rows)" [ "$n" -ge 1 ]

# Its own config check (check_config) refuses at FILE:LINE, as run would.
sed "s|^url = .*|url = ftp://127.0.0.1/x|" run.ini >bad.ini
rc=0; "$prefix/bin/aitrader" check-config -c bad.ini >bad.out 2>&1 || rc=$?
check "check-config refuses the example's bad url (exit 2)" [ "$rc" -eq 2 ]
check "at FILE:LINE with the example's reason" contains bad.out "bad.ini:7: [source.hello] url: 'ftp://127.0.0.1/x' is not an http:// or https:// URL"
rt_finish
