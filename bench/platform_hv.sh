#!/usr/bin/env bash
# The sim platform's data path alone (no backend): starts xensim, creates a
# bare guest and runs platform-bench between dom0 and it. Prints
#   PLATFORM evtchn_roundtrip_us <us> ...   notify, wake, answer, wake
#   PLATFORM gntcopy_<batch>x<len> <n> segments/s ...
# Environment: PVBACK_BIN (default build/bin), BENCH_SECONDS (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PVBACK_BIN=${PVBACK_BIN:-$here/../build/bin}
for f in xensim platform-bench; do
    [ -x "$PVBACK_BIN/$f" ] || { echo "bench/platform_hv: $PVBACK_BIN/$f missing" >&2; exit 1; }
done
dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/pvback-pbench.XXXXXX")
cleanup() {
    "$PVBACK_BIN/xensim" stop --dir "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
export XENSIM_DIR=$dir XENSTORED_PATH=$dir/xenstored.sock
"$PVBACK_BIN/xensim" start --dir "$dir"
printf 'name="pbench"\nmemory=64\n' >"$dir/pbench.cfg"
dom=$("$PVBACK_BIN/xensim" --dir "$dir" create "$dir/pbench.cfg")
"$PVBACK_BIN/platform-bench" "$dom" "${BENCH_SECONDS:-2}"
