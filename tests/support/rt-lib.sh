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

# pg_up: a throwaway PostgreSQL cluster for this test (pg-cluster.sh; its
# directory $pgdir), destroyed at exit; AT_PG is its conninfo, pq SQL asks it.
pg_up() {
  cluster_sh="$AT_SOURCE_DIR/tests/support/pg-cluster.sh"
  pgdir=$(mktemp -d /tmp/at-pgx.XXXXXX)
  trap 'bash "$cluster_sh" destroy "$pgdir" >/dev/null 2>&1 || true; rt_cleanup' EXIT
  local out
  out=$(bash "$cluster_sh" start "$pgdir")
  AT_PG=$(sed -n 's/^conninfo=//p' <<<"$out")
  export AT_PG
  check "throwaway PostgreSQL cluster up" [ -n "$AT_PG" ]
}
pq() { psql "$AT_PG" -XAtqc "$1"; }

ok() { RT_PASSES=$((RT_PASSES + 1)); echo "ok - $*"; }
not_ok() { RT_FAILS=$((RT_FAILS + 1)); echo "not ok - $*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# contains FILE TEXT / lacks FILE TEXT: FILE must exist and be readable in
# both; a missing file is a failure (with its reason), never a pass.
contains() {
  local rc=0
  grep -qF -- "$2" "$1" 2>/dev/null || rc=$?
  [ "$rc" -eq 2 ] && echo "contains: cannot read $1" >&2
  return "$rc"
}
lacks() {
  local rc=0
  grep -qF -- "$2" "$1" 2>/dev/null || rc=$?
  case $rc in
  1) return 0 ;;
  2) echo "lacks: cannot read $1" >&2 ;;
  esac
  return 1
}

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

# count_lines FILE TEXT: how many lines of FILE hold TEXT (0 when FILE is missing).
count_lines() {
  local c
  c=$(grep -cF -- "$2" "$1" 2>/dev/null) || true
  echo "${c:-0}"
}

# wait_count FILE TEXT N [SECONDS]: wait until TEXT appears on at least N lines.
wait_count() {
  local file=$1 text=$2 n=$3 secs=${4:-20} i=0
  while [ $i -lt $((secs * 10)) ]; do
    [ "$(count_lines "$file" "$text")" -ge "$n" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "timed out waiting for $n lines of '$text' in $file (have $(count_lines "$file" "$text"))" >&2
  return 1
}

# wait_more FILE TEXT N [SECONDS]: wait until N more lines hold TEXT than now
# (events the engine dispatched after this point).
wait_more() {
  local file=$1 text=$2 n=$3 secs=${4:-20}
  wait_count "$file" "$text" $(($(count_lines "$file" "$text") + n)) "$secs"
}

# wait_until SECONDS WHAT COMMAND...: run COMMAND every 0.1 s until it
# succeeds; after SECONDS say what was awaited and fail.
wait_until() {
  local secs=$1 what=$2 i=0; shift 2
  while [ $i -lt $((secs * 10)) ]; do
    "$@" && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "timed out after ${secs}s waiting for $what" >&2
  return 1
}

# wait_eq SECONDS WANT COMMAND...: wait until COMMAND prints WANT (a database
# row written asynchronously, a counter); on a timeout show the last answer.
wait_eq() {
  local secs=$1 want=$2 i=0 got=""; shift 2
  while [ $i -lt $((secs * 10)) ]; do
    got=$("$@" 2>&1) && [ "$got" = "$want" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "timed out after ${secs}s: '$*' gives '$got', want '$want'" >&2
  return 1
}

# wait_handles PID SIGNAL PROGRAM [SECONDS]: wait until PID runs PROGRAM (not
# the shell forked to start it, which has the shell's handlers) and catches
# SIGNAL (/proc/PID/status SigCgt): e.g. before a SIGTERM that must stop the
# engine cleanly rather than kill it.
wait_handles() {
  local pid=$1 sig=$2 prog secs=${4:-20} num
  prog=$(readlink -f "$3") && num=$(kill -l "$sig") || return 1
  _rt_caught() {
    local mask
    [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$prog" ] || return 1
    mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
    [ -n "$mask" ] && (( (16#$mask >> (num - 1)) & 1 ))
  }
  wait_until "$secs" "process $pid ($prog) to handle SIG$sig" _rt_caught
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

# A script that ran no check proves nothing: that is a failure too.
rt_finish() {
  echo "$RT_PASSES passed, $RT_FAILS failed"
  if [ "$RT_PASSES" -eq 0 ] && [ "$RT_FAILS" -eq 0 ]; then
    echo "not ok - no check ran" >&2
    return 1
  fi
  [ "$RT_FAILS" -eq 0 ]
}
