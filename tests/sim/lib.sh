# Shared helpers for the sim-level shell tests. Source it; it starts nothing
# by itself. PVBACK_BIN (set by ctest) is the folder of the built programs.
set -euo pipefail

: "${PVBACK_BIN:?PVBACK_BIN must point at the built programs}"
XENSIM="$PVBACK_BIN/xensim"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Starts a private xensim in a fresh directory, exports XENSIM_DIR and
# XENSTORED_PATH, and stops it when the test exits, whatever the outcome.
# With PVBACK_VALGRIND=1 the daemon runs under valgrind (in the foreground,
# in the background of this shell) and the test fails on any valgrind error
# or leak it reports when it exits.
SIM_VG_PID=
sim_start() {
    SIM_DIR=$(mktemp -d /tmp/pvback-test.XXXXXX)
    export XENSIM_DIR="$SIM_DIR"
    export XENSTORED_PATH="$SIM_DIR/xenstored.sock"
    trap sim_cleanup EXIT
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        valgrind --quiet --error-exitcode=97 --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
            --track-fds=no --log-file="$SIM_DIR/valgrind.%p.log" \
            "$XENSIM" start --foreground --dir "$SIM_DIR" >>"$SIM_DIR/xensim.log" 2>&1 &
        SIM_VG_PID=$!
        local i
        for i in $(seq 600); do
            [ -f "$SIM_DIR/xensim.pid" ] && return 0
            kill -0 "$SIM_VG_PID" 2>/dev/null || fail "xensim start (under valgrind) exited"
            sleep 0.1
        done
        fail "xensim start (under valgrind): not ready after 60 s"
    else
        "$XENSIM" start --dir "$SIM_DIR" || fail "xensim start"
    fi
}

# sim_cleanup [RC]: stops xensim; exits with RC (default: the status the
# EXIT trap saw). Callers hand RC on as an argument: '(exit $rc)' before the
# call would end a shell running under set -e.
sim_cleanup() {
    local rc=${1:-$?} vrc=0
    set +e
    "$XENSIM" stop --dir "$SIM_DIR" >/dev/null 2>&1 || true
    if [ -n "$SIM_VG_PID" ]; then
        wait "$SIM_VG_PID" || vrc=$?
        if [ $vrc -ne 0 ]; then
            echo "FAIL: xensim under valgrind exited with $vrc" >&2
            cat "$SIM_DIR"/valgrind.*.log >&2 2>/dev/null || true
            [ $rc -ne 0 ] || rc=1
        fi
    fi
    # In sanitizer builds the daemon reports into its log: a report fails the test.
    if grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" \
        "$SIM_DIR/xensim.log" 2>/dev/null; then
        echo "FAIL: sanitizer report in xensim.log" >&2
        [ $rc -ne 0 ] || rc=1
    fi
    if [ $rc -ne 0 ] && [ -f "$SIM_DIR/xensim.log" ]; then
        echo "--- xensim.log" >&2
        tail -n 50 "$SIM_DIR/xensim.log" >&2
    fi
    rm -rf "$SIM_DIR"
    exit $rc
}

# proc_gone PID: true once PID has exited (within 5 s). A zombie waiting to
# be reaped by its parent counts as gone: it holds nothing any more.
proc_gone() {
    local i state
    for i in $(seq 50); do
        state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
        [ -z "$state" ] || [ "$state" = Z ] && return 0
        sleep 0.1
    done
    return 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_fail WHAT CMD...: the command must fail.
expect_fail() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        fail "$what: succeeded but must fail"
    fi
}

# median N...: the middle value of integers (the lower middle for an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# backend_served LOG: how many times a backend logging to LOG reported that
# it serves (its "serving backend/..." line, info level).
backend_served() {
    if [ -f "$1" ]; then grep -c 'info: serving backend/' "$1" || true; else echo 0; fi
}

# wait_backend_up PID LOG BEFORE: until the backend PID, started when LOG
# held BEFORE such lines, logged that it serves (or exited; 30 s at most).
# It catches SIGTERM from then on: a SIGTERM during its start-up (slow under
# valgrind) kills it outright, exit status 143, where a test asks for its
# orderly exit. Without info-level logs there is no line to wait for.
wait_backend_up() {
    local pid=$1 log=$2 before=${3:-0} i
    case "${PVBACK_LOG:-info}" in info | debug) ;; *) return 0 ;; esac
    for i in $(seq 1 300); do
        [ "$(backend_served "$log")" -gt "$before" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

# wait_for SECONDS WHAT CMD...: runs CMD every 0.1 s (its output dropped)
# until it succeeds; fails the test after SECONDS.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    for i in $(seq 1 $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "$what: not within $secs s"
}
