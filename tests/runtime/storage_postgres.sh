#!/usr/bin/env bash
# PostgreSQL storage tests on a throwaway cluster (tests/support/pg-cluster.sh):
#  1. the backend-neutral storage contract (rt_storage_contract) with
#     AT_TEST_STORAGE=postgres;
#  2. the fault test (tool_pg_fault): the server is stopped and restarted under
#     a running engine, and an engine stops while the server is down.
# The cluster is always stopped and deleted, also on failure.
# Env: AT_SOURCE_DIR, AT_BUILD_DIR (set by ctest); AT_TEST_WRAPPER, e.g.
# "valgrind --error-exitcode=99 --leak-check=full", runs the test programs under it.
set -euo pipefail

src=${AT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${AT_BUILD_DIR:?AT_BUILD_DIR is not set (run through ctest)}
cluster_sh="$src/tests/support/pg-cluster.sh"
read -r -a wrapper <<<"${AT_TEST_WRAPPER:-}"

find_bin() {
    local name=$1 f
    for f in "$build/tests/$name" "$build/$name" "$build/tests/runtime/$name"; do
        if [ -x "$f" ]; then
            echo "$f"
            return
        fi
    done
    f=$(find "$build" -type f -name "$name" -perm -u+x 2>/dev/null | head -n 1)
    [ -n "$f" ] || {
        echo "storage_postgres: $name not built under $build" >&2
        exit 1
    }
    echo "$f"
}

contract=$(find_bin rt_storage_contract)
fault=$(find_bin tool_pg_fault)
[ -f "$build/plugins/storage_postgres.so" ] || {
    echo "storage_postgres: $build/plugins/storage_postgres.so not built" >&2
    exit 1
}

dir=$(mktemp -d /tmp/at-pg.XXXXXX)
cleanup() {
    local rc=$?
    echo "== destroying the cluster in $dir"
    bash "$cluster_sh" destroy "$dir" || rc=1
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a throwaway PostgreSQL cluster in $dir"
out=$(bash "$cluster_sh" start "$dir")
echo "$out"
conninfo=$(sed -n 's/^conninfo=//p' <<<"$out")
[ -n "$conninfo" ] || {
    echo "storage_postgres: pg-cluster.sh printed no conninfo" >&2
    exit 1
}

echo "== storage contract on PostgreSQL: $contract"
AT_TEST_STORAGE=postgres AT_TEST_PG_CONNINFO="$conninfo" "${wrapper[@]}" "$contract"

echo "== fault test: $fault"
AT_TEST_PG_CONNINFO="$conninfo" \
    AT_TEST_PG_STOP_CMD="bash '$cluster_sh' stop '$dir' immediate" \
    AT_TEST_PG_START_CMD="bash '$cluster_sh' restart-server '$dir' >/dev/null" \
    "${wrapper[@]}" "$fault"

echo "== storage_postgres: all passed"
