# Shared helpers for runtime test scripts (sourced, not run).
set -euo pipefail
: "${AT_BUILD_DIR:?AT_BUILD_DIR must point at the build tree}"
: "${AT_SOURCE_DIR:?AT_SOURCE_DIR must point at the source tree}"
AITRADER="$AT_BUILD_DIR/aitrader"
TEST_PLUGINS="$AT_BUILD_DIR/test-plugins"
RT_TMP=$(mktemp -d /tmp/at-rt-XXXXXX)
RT_PIDS=()
RT_FAILS=0
RT_PASSES=0

rt_cleanup() {
  for p in "${RT_PIDS[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  [ -n "${AT_TEST_KEEP_TMP:-}" ] || rm -rf "$RT_TMP"
}
trap rt_cleanup EXIT

ok() { RT_PASSES=$((RT_PASSES + 1)); echo "ok - $*"; }
not_ok() { RT_FAILS=$((RT_FAILS + 1)); echo "not ok - $*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
contains() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }

# wait_log FILE TEXT [SECONDS]: wait until TEXT appears in FILE.
wait_log() {
  local file=$1 text=$2 secs=${3:-20} i=0
  while [ $i -lt $((secs * 10)) ]; do
    grep -qF -- "$text" "$file" 2>/dev/null && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "timed out waiting for '$text' in $file; it holds:" >&2
  tail -n 30 "$file" >&2 || true
  return 1
}

# wait_count FILE TEXT N [SECONDS]: wait until TEXT appears on at least N lines.
wait_count() {
  local file=$1 text=$2 n=$3 secs=${4:-20} i=0
  while [ $i -lt $((secs * 10)) ]; do
    [ "$(grep -cF -- "$text" "$file" 2>/dev/null)" -ge "$n" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "timed out waiting for $n lines of '$text' in $file (have $(grep -cF -- "$text" "$file"))" >&2
  return 1
}

# wait_exit PID [SECONDS]: wait for a background process; its exit code is
# left in RT_RC. (Not for $(...): a subshell cannot wait for our children.)
wait_exit() {
  local pid=$1 secs=${2:-20} i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt $((secs * 10)) ]; do
    sleep 0.1; i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "process $pid did not exit" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  RT_RC=0
  wait "$pid" || RT_RC=$?
}

rt_finish() {
  echo "$RT_PASSES passed, $RT_FAILS failed"
  [ "$RT_FAILS" -eq 0 ]
}
