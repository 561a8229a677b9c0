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
sim_start() {
    SIM_DIR=$(mktemp -d /tmp/pvback-test.XXXXXX)
    export XENSIM_DIR="$SIM_DIR"
    export XENSTORED_PATH="$SIM_DIR/xenstored.sock"
    trap sim_cleanup EXIT
    "$XENSIM" start --dir "$SIM_DIR" || fail "xensim start"
}

sim_cleanup() {
    local rc=$?
    "$XENSIM" stop --dir "$SIM_DIR" >/dev/null 2>&1 || true
    if [ $rc -ne 0 ] && [ -f "$SIM_DIR/xensim.log" ]; then
        echo "--- xensim.log" >&2
        tail -n 50 "$SIM_DIR/xensim.log" >&2
    fi
    rm -rf "$SIM_DIR"
    exit $rc
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
